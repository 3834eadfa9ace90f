//! The training loop: epochs of shuffled mini-batches (the last incomplete batch of an epoch is
//! dropped, so every iteration runs the same GEMM shapes), forward, softmax cross-entropy,
//! backward, SGD; evaluation on the test split every `eval_every` iterations (and before the
//! first and after the last); the simulated cycles, time and energy of every iteration, summed
//! per evaluation and per epoch. Writes nothing: `report::train` writes the files.

use serde::Serialize;

use crate::arch::{Arch, CellKind};
use crate::cost::EnergyBreakdown;
use crate::workload::{TrainPolicy, TrainingConfig, Workload};

use super::data::Dataset;
use super::engine::{Cost, Engine, EngineError};
use super::net::{LayerParams, NetError, Network};
use super::ops::softmax_cross_entropy;
use super::optim::SgdState;
use super::policy::{BitsChange, Decision, PrecisionPlan};
use super::rng::{SplitMix64, PURPOSE_ORDER};

/// Version of `train.json`'s layout.
pub const TRAIN_SCHEMA_VERSION: u32 = 1;

/// Most iterations one run may have.
pub const MAX_ITERATIONS: usize = 10_000_000;

/// Why training could not run (divergence is not an error: it is a result).
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The workload cannot be trained.
    #[error("{}: {error}", workload.display())]
    Net {
        /// The workload file.
        workload: std::path::PathBuf,
        /// Why (its text is part of this message, so it is not a `source()`).
        error: NetError,
    },
    /// The data set does not fit the network.
    #[error("{data}: {message}")]
    DataMismatch {
        /// The data set's name or path.
        data: String,
        /// What does not fit.
        message: String,
    },
    /// The policy cannot run on the arch.
    #[error("policy {policy}: {message}")]
    Policy {
        /// The policy.
        policy: String,
        /// Why.
        message: String,
    },
    /// The accelerator refused a GEMM.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Everything a training run needs besides the arch, workload and data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainOptions {
    /// The precision policy.
    pub policy: TrainPolicy,
    /// The training section (overrides from the command line applied).
    pub config: TrainingConfig,
    /// Mini-batch size.
    pub batch: usize,
    /// Seed of the initial weights and the data order.
    pub seed: u64,
    /// Stop after this many iterations (the schedule and FAST's `I` still use the planned total).
    pub max_iterations: Option<usize>,
}

/// One evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Training iterations done before it.
    pub iteration: usize,
    /// Epochs done (fractional).
    pub epoch: f64,
    /// Mean training loss over the iterations since the previous evaluation (`None` at 0).
    pub train_loss: Option<f64>,
    /// Training accuracy over those iterations' batches, in [0, 1].
    pub train_accuracy: Option<f64>,
    /// Mean loss on the test split.
    pub test_loss: f64,
    /// Accuracy on the test split, in [0, 1].
    pub test_accuracy: f64,
    /// Simulated training cycles so far.
    pub cycles: u64,
    /// Simulated training time so far at the arch's clock, seconds.
    pub time_s: f64,
    /// Simulated training energy so far, joules.
    pub energy_j: f64,
}

/// One epoch's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochRecord {
    /// Epoch number, 1-based (the first epoch is 1, as in the summary table, `epochs.csv` and
    /// the plots; an evaluation's `epoch` counts epochs done, so it equals this at an epoch's end).
    pub epoch: usize,
    /// Iterations run in it.
    pub iterations: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy over its batches.
    pub train_accuracy: f64,
    /// Test accuracy at its end (the evaluation at or before its last iteration).
    pub test_accuracy: Option<f64>,
    /// Its simulated cost.
    pub cost: Cost,
    /// Its simulated time, seconds.
    pub time_s: f64,
    /// Its energy, joules.
    pub energy_j: f64,
}

/// Where training stopped early.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Divergence {
    /// The iteration that failed.
    pub iteration: usize,
    /// What was seen.
    pub message: String,
}

/// The arch in a training report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchSummary {
    /// Its name.
    pub name: String,
    /// Cell kind.
    pub cell: &'static str,
    /// Rows x columns.
    pub array: (usize, usize),
    /// Clock, MHz.
    pub clock_mhz: f64,
    /// Group size (BFP cells).
    pub group: usize,
    /// Shared-exponent bits (BFP cells).
    pub exp_bits: u32,
}

/// The data set in a training report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSummary {
    /// Name or path.
    pub name: String,
    /// Per-sample shape.
    pub sample_shape: Vec<usize>,
    /// Classes.
    pub classes: usize,
    /// Training samples.
    pub train: usize,
    /// Test samples.
    pub test: usize,
}

/// A finished training run.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// [`TRAIN_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The arch the GEMMs ran on.
    pub arch: ArchSummary,
    /// Workload name.
    pub workload: String,
    /// The data set.
    pub data: DataSummary,
    /// Policy name.
    pub policy: String,
    /// Options.
    pub options: TrainOptions,
    /// Iterations per epoch.
    pub iterations_per_epoch: usize,
    /// Iterations planned (epochs x iterations per epoch).
    pub iterations_planned: usize,
    /// Iterations run.
    pub iterations: usize,
    /// GEMM layers in forward order (`l = 1..`).
    pub gemm_layers: Vec<String>,
    /// Every evaluation.
    pub evaluations: Vec<Evaluation>,
    /// Every epoch.
    pub epochs: Vec<EpochRecord>,
    /// FAST's decisions.
    pub decisions: Vec<Decision>,
    /// Every change of a (layer, class) width.
    pub precision_changes: Vec<BitsChange>,
    /// Conversion jobs of training.
    pub conversion_jobs: u64,
    /// The whole run's simulated cost.
    pub total: Cost,
    /// Its time, seconds.
    pub total_time_s: f64,
    /// Its energy, joules.
    pub total_energy_j: f64,
    /// Test accuracy after the last iteration (`None` if training diverged).
    pub final_test_accuracy: Option<f64>,
    /// Set when training stopped on a NaN or infinity.
    pub diverged: Option<Divergence>,
    /// Final parameters: name, shape, values (not in `train.json`; `weights.npz`).
    #[serde(skip)]
    pub weights: Vec<(String, Vec<usize>, Vec<f32>)>,
}

/// Progress of a run, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Iterations done.
    pub iteration: usize,
    /// Iterations to run.
    pub total: usize,
    /// Last training loss.
    pub loss: f64,
}

/// The arch a policy runs on: the bundled baseline cell on `arch`'s array, clock and technology
/// (`fp32`, `bf16`, `msfp12`), or `arch` itself.
pub fn policy_arch(policy: TrainPolicy, arch: &Arch) -> Result<Arch, TrainError> {
    let stem = match policy {
        TrainPolicy::Fp32 => "fp32-32x32",
        TrainPolicy::Bf16 => "bf16-32x32",
        TrainPolicy::Msfp12 => "msfp12-32x32",
        TrainPolicy::Fixed | TrainPolicy::Schedule => return Ok(arch.clone()),
        TrainPolicy::FixedBits(_) | TrainPolicy::Fast => {
            if !arch.array.cell.is_bfp() {
                return Err(TrainError::Policy {
                    policy: policy.name(),
                    message: format!(
                        "needs a BFP arch (fmac or bfp_full cells); {} has {} cells",
                        arch.name,
                        arch.array.cell.name()
                    ),
                });
            }
            return Ok(arch.clone());
        }
    };
    let mut b = crate::arch::bundled_arch(stem).ok_or_else(|| TrainError::Policy {
        policy: policy.name(),
        message: format!("the bundled arch {stem} is missing"),
    })?;
    b.array.rows = arch.array.rows;
    b.array.cols = arch.array.cols;
    b.clock_mhz = arch.clock_mhz;
    b.tech = arch.tech.clone();
    b.name = format!("{}-{}x{}", policy.name(), b.array.rows, b.array.cols);
    Ok(b)
}

/// Whether the data's per-sample shape fits the network input: equal after dropping axes of
/// size 1 (`[8, 8]` fits `1 x 8 x 8`, `[40]` fits `1 x 1 x 40`, `[64]` does not fit `1 x 8 x 8`).
fn shape_fits(sample: &[usize], input: crate::workload::Shape) -> bool {
    let want: Vec<usize> = match input {
        crate::workload::Shape::Image { channels, height, width } => vec![channels, height, width],
        crate::workload::Shape::Tokens { tokens, features } => vec![tokens, features],
    };
    let squeeze = |v: &[usize]| v.iter().copied().filter(|&d| d != 1).collect::<Vec<_>>();
    squeeze(sample) == squeeze(&want)
}

fn check_data(net: &Network, data: &Dataset) -> Result<(), TrainError> {
    let bad = |message: String| TrainError::DataMismatch { data: data.name.clone(), message };
    if !shape_fits(&data.sample_shape, net.input) {
        return Err(bad(format!(
            "samples are {:?}, but the workload's input is {} (shapes must agree up to axes of size 1)",
            data.sample_shape, net.input
        )));
    }
    if data.classes > net.classes {
        return Err(bad(format!(
            "labels go up to {} ({} classes), but the last layer has {} outputs",
            data.classes - 1,
            data.classes,
            net.classes
        )));
    }
    Ok(())
}

fn evaluate(
    net: &Network,
    params: &mut [Option<LayerParams<f32>>],
    data: &Dataset,
    batch: usize,
    engine: &mut Engine,
) -> Result<(f64, f64), EngineError> {
    engine.begin_eval();
    let len = data.sample_len();
    let (mut loss, mut correct) = (0f64, 0usize);
    let mut start = 0;
    while start < data.test.n {
        let n = batch.min(data.test.n - start);
        let x = &data.test.x[start * len..(start + n) * len];
        let y = &data.test.y[start..start + n];
        let tr = net.forward(params, x, n, false, engine)?;
        let logits = tr.outputs.last().map(Vec::as_slice).unwrap_or(&[]);
        let out = softmax_cross_entropy(logits, y, net.classes);
        loss += out.loss as f64 * n as f64;
        correct += out.correct;
        start += n;
    }
    let n = data.test.n.max(1) as f64;
    Ok((loss / n, correct as f64 / n))
}

/// Trains `wl` on `data` under `options.policy`. The arch is the policy's ([`policy_arch`]).
pub fn train(
    arch: &Arch,
    wl: &Workload,
    data: &Dataset,
    options: &TrainOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<TrainReport, TrainError> {
    let net = Network::new(wl).map_err(|source| TrainError::Net { workload: wl.origin.clone(), error: source })?;
    check_data(&net, data)?;
    let arch = policy_arch(options.policy, arch)?;
    let cfg = &options.config;
    let batch = options.batch;
    if data.train.n < batch {
        return Err(TrainError::DataMismatch {
            data: data.name.clone(),
            message: format!("the training split has {} samples, fewer than one batch of {batch}", data.train.n),
        });
    }
    let per_epoch = data.train.n / batch;
    let planned = per_epoch.saturating_mul(cfg.epochs);
    if planned > MAX_ITERATIONS {
        return Err(TrainError::DataMismatch {
            data: data.name.clone(),
            message: format!(
                "{} epochs of {per_epoch} iterations is more than {MAX_ITERATIONS} iterations",
                cfg.epochs
            ),
        });
    }
    let run_iters = options.max_iterations.map_or(planned, |m| m.min(planned));
    let names: Vec<String> = net.gemm_layers.iter().map(|&i| net.layers()[i].name.clone()).collect();
    let plan = PrecisionPlan::new(
        options.policy,
        cfg.fast.clone(),
        arch.precision,
        wl.precision.clone(),
        names.clone(),
        planned,
    );
    let mut engine = Engine::new(arch.clone(), wl, batch, plan);
    train_with(&net, &mut engine, data, options, per_epoch, planned, run_iters, progress, names)
}

/// The loop itself, on a prepared engine (tests install probes on it).
#[allow(clippy::too_many_arguments)]
pub fn train_with(
    net: &Network,
    engine: &mut Engine,
    data: &Dataset,
    options: &TrainOptions,
    per_epoch: usize,
    planned: usize,
    run_iters: usize,
    progress: &(dyn Fn(Progress) + Sync),
    names: Vec<String>,
) -> Result<TrainReport, TrainError> {
    let cfg = &options.config;
    let batch = options.batch;
    let arch = engine.arch().clone();
    let mut params = net.init::<f32>(cfg.init, options.seed);
    let mut sgd = SgdState::default();
    let len = data.sample_len();
    let seconds = |cycles: u64| cycles as f64 / (arch.clock_mhz * 1e6);
    let joules = |e: &EnergyBreakdown| e.total_pj() * 1e-12;
    let eval_every = cfg.eval_every.unwrap_or(per_epoch).max(1);

    let mut total = Cost::default();
    let mut evaluations = Vec::new();
    let mut epochs: Vec<EpochRecord> = Vec::new();
    let mut diverged = None;
    let (mut window_loss, mut window_correct, mut window_n, mut window_iters) = (0f64, 0usize, 0usize, 0usize);
    let (test_loss, test_accuracy) = evaluate(net, &mut params, data, batch, engine)?;
    evaluations.push(Evaluation {
        iteration: 0,
        epoch: 0.0,
        train_loss: None,
        train_accuracy: None,
        test_loss,
        test_accuracy,
        cycles: 0,
        time_s: 0.0,
        energy_j: 0.0,
    });
    let mut xb = vec![0f32; batch * len];
    let mut yb = vec![0u32; batch];
    let mut it = 0;
    'epochs: for epoch in 0..cfg.epochs {
        if it >= run_iters {
            break;
        }
        let order = SplitMix64::stream(options.seed, PURPOSE_ORDER, epoch as u64).permutation(data.train.n);
        let mut rec = EpochRecord {
            epoch: epoch + 1,
            iterations: 0,
            train_loss: 0.0,
            train_accuracy: 0.0,
            test_accuracy: None,
            cost: Cost::default(),
            time_s: 0.0,
            energy_j: 0.0,
        };
        let mut correct = 0usize;
        for b in 0..per_epoch {
            if it >= run_iters {
                break;
            }
            for (k, &s) in order[b * batch..(b + 1) * batch].iter().enumerate() {
                let s = s as usize;
                xb[k * len..(k + 1) * len].copy_from_slice(&data.train.x[s * len..(s + 1) * len]);
                yb[k] = data.train.y[s];
            }
            engine.begin_iteration(it);
            let step = (|| -> Result<Option<(f64, usize)>, EngineError> {
                let tr = net.forward(&mut params, &xb, batch, true, engine)?;
                let logits = tr.outputs.last().map(Vec::as_slice).unwrap_or(&[]);
                let out = softmax_cross_entropy(logits, &yb, net.classes);
                if !out.loss.is_finite() {
                    return Ok(None);
                }
                let grads = net.backward(&params, &tr, &xb, out.grad, engine)?;
                let lr = cfg.lr_schedule.rate(cfg.optimizer.lr, it, planned, per_epoch);
                sgd.step(&mut params, &grads, &cfg.optimizer, lr);
                Ok(Some((out.loss as f64, out.correct)))
            })();
            let cost = engine.take_cost();
            rec.cost.add(&cost);
            total.add(&cost);
            match step {
                Ok(Some((loss, c))) => {
                    rec.train_loss += loss;
                    correct += c;
                    window_loss += loss;
                    window_correct += c;
                    window_n += batch;
                    window_iters += 1;
                    progress(Progress { iteration: it + 1, total: run_iters, loss });
                }
                Ok(None) => {
                    diverged = Some(Divergence { iteration: it, message: "the training loss is not finite".into() });
                }
                Err(EngineError::NonFinite { layer, pass, what }) => {
                    diverged = Some(Divergence { iteration: it, message: format!("layer `{layer}` {pass}: {what}") });
                }
                Err(e) => return Err(e.into()),
            }
            rec.iterations += 1;
            it += 1;
            if diverged.is_some() {
                epochs.push(finish_epoch(rec, correct, batch, &seconds, &joules));
                break 'epochs;
            }
            if it % eval_every == 0 || it == run_iters {
                let (test_loss, test_accuracy) = match evaluate(net, &mut params, data, batch, engine) {
                    Ok(v) => v,
                    Err(EngineError::NonFinite { layer, pass, what }) => {
                        let message = format!("evaluation after it: layer `{layer}` {pass}: {what}");
                        diverged = Some(Divergence { iteration: it - 1, message });
                        epochs.push(finish_epoch(rec, correct, batch, &seconds, &joules));
                        break 'epochs;
                    }
                    Err(e) => return Err(e.into()),
                };
                evaluations.push(Evaluation {
                    iteration: it,
                    epoch: it as f64 / per_epoch as f64,
                    train_loss: Some(window_loss / window_iters.max(1) as f64),
                    train_accuracy: Some(window_correct as f64 / window_n.max(1) as f64),
                    test_loss,
                    test_accuracy,
                    cycles: total.cycles,
                    time_s: seconds(total.cycles),
                    energy_j: joules(&total.energy),
                });
                rec.test_accuracy = Some(test_accuracy);
                (window_loss, window_correct, window_n, window_iters) = (0.0, 0, 0, 0);
            }
        }
        epochs.push(finish_epoch(rec, correct, batch, &seconds, &joules));
    }
    let final_test_accuracy = if diverged.is_some() { None } else { evaluations.last().map(|e| e.test_accuracy) };
    let weights = export_weights(net, &params);
    Ok(TrainReport {
        schema_version: TRAIN_SCHEMA_VERSION,
        arch: ArchSummary {
            name: arch.name.clone(),
            cell: arch.array.cell.name(),
            array: (arch.array.rows, arch.array.cols),
            clock_mhz: arch.clock_mhz,
            group: if matches!(arch.array.cell, CellKind::Fmac { .. } | CellKind::BfpFull) {
                arch.bfp.group
            } else {
                1
            },
            exp_bits: arch.bfp.exp_bits,
        },
        workload: net.name.clone(),
        data: DataSummary {
            name: data.name.clone(),
            sample_shape: data.sample_shape.clone(),
            classes: data.classes,
            train: data.train.n,
            test: data.test.n,
        },
        policy: options.policy.name(),
        options: options.clone(),
        iterations_per_epoch: per_epoch,
        iterations_planned: planned,
        iterations: it,
        gemm_layers: names,
        evaluations,
        epochs,
        decisions: engine.plan.log.clone(),
        precision_changes: engine.plan.changes.clone(),
        conversion_jobs: engine.jobs(),
        total_time_s: seconds(total.cycles),
        total_energy_j: joules(&total.energy),
        total,
        final_test_accuracy,
        diverged,
        weights,
    })
}

fn finish_epoch(
    mut rec: EpochRecord,
    correct: usize,
    batch: usize,
    seconds: &dyn Fn(u64) -> f64,
    joules: &dyn Fn(&EnergyBreakdown) -> f64,
) -> EpochRecord {
    let n = rec.iterations.max(1);
    rec.train_loss /= n as f64;
    rec.train_accuracy = correct as f64 / (n * batch) as f64;
    rec.time_s = seconds(rec.cost.cycles);
    rec.energy_j = joules(&rec.cost.energy);
    rec
}

/// The parameters as named arrays: `<layer>.weight` (`[N, K]`, or `[out, in, kh, kw]` for a
/// conv), `<layer>.bias`, and for batch norm `.gamma`, `.beta`, `.running_mean`, `.running_var`.
fn export_weights(net: &Network, params: &[Option<LayerParams<f32>>]) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let mut out = Vec::new();
    for (l, p) in net.layers().iter().zip(params) {
        match p {
            Some(LayerParams::Gemm { w, b }) => {
                let shape = match l.op {
                    crate::workload::Op::Conv2d(c) => vec![c.out_channels, c.in_channels, c.kernel.0, c.kernel.1],
                    crate::workload::Op::Linear(lin) => vec![lin.out_features, lin.in_features],
                    _ => vec![w.len()],
                };
                out.push((format!("{}.weight", l.name), shape, w.clone()));
                if let Some(b) = b {
                    out.push((format!("{}.bias", l.name), vec![b.len()], b.clone()));
                }
            }
            Some(LayerParams::Norm { gamma, beta, mean, var }) => {
                for (k, v) in [("gamma", gamma), ("beta", beta), ("running_mean", mean), ("running_var", var)] {
                    out.push((format!("{}.{k}", l.name), vec![v.len()], v.clone()));
                }
            }
            None => {}
        }
    }
    out
}
