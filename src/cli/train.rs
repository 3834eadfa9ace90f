//! `fastbfp train`: trains a workload's network on real data through the simulated
//! accelerator, under one precision policy or several side by side (`--compare`), and writes
//! the run's files. With no arguments: the embedded default (`traces/train/mlp-digits.ron`,
//! digits, policy fast, on the default arch).

use super::out::{out, outln};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use fastbfp::arch::{default_arch, load_arch, Arch};
use fastbfp::report::{compare_rows, compare_summary, train_summary, write_train, write_train_compare};
use fastbfp::train::data::{load_dataset, DataSpec, Dataset};
use fastbfp::train::trainer::{train, Progress, TrainOptions, TrainReport};
use fastbfp::workload::{load_workload, parse_workload, TrainPolicy, TrainingConfig, Workload, POLICY_NAMES};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

/// The default training workload, compiled in.
const DEFAULT_TRAIN_RON: &str = include_str!("../../traces/train/mlp-digits.ron");
const DEFAULT_TRAIN_ORIGIN: &str = "traces/train/mlp-digits.ron";

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Workload (RON) with a `training` section [default: the embedded
    /// traces/train/mlp-digits.ron: a 3-layer MLP on the 8x8 digits].
    pub workload: Option<PathBuf>,
    /// Hardware description (RON) [default: the embedded arch/fast-32x32.ron]. The fp32, bf16
    /// and msfp12 policies put their own cells on this arch's array, clock and technology.
    #[arg(long, value_name = "ARCH.ron")]
    pub arch: Option<PathBuf>,
    /// Data set: digits, mnist1d (both embedded), or a path: a .npz (x_train, y_train, x_test,
    /// y_test, or x, y), or a folder of .npy, MNIST IDX or CIFAR-10 binary files
    /// [default: the workload's training.data].
    #[arg(long, value_name = "PATH|digits|mnist1d")]
    pub data: Option<String>,
    /// Precision policy: fp32, bf16, msfp12, fixed (the arch's), fixed:M (M bits for every
    /// class), schedule (the workload's precision), fast (DESIGN §11) [default: the workload's
    /// training.policy].
    #[arg(long, value_name = "POLICY")]
    pub policy: Option<String>,
    /// Train under several policies side by side (in parallel) and compare them, e.g.
    /// fp32,bf16,msfp12,fixed:2,fixed:4,fast. Writes one sub-folder per policy and compare.csv.
    #[arg(long, value_name = "P1,P2,...", conflicts_with = "policy")]
    pub compare: Option<String>,
    /// Target test accuracy for --compare, in percent [default: the fp32 run's final accuracy
    /// minus 1 point, or the first policy's without fp32].
    #[arg(long, value_name = "PERCENT", requires = "compare")]
    pub target: Option<f64>,
    /// Epochs [default: the workload's].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub epochs: Option<u64>,
    /// Mini-batch size [default: the workload's].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub batch: Option<u64>,
    /// Base learning rate [default: the workload's].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Seed of the initial weights and the data order.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Stop after N iterations (the learning-rate schedule and FAST's I keep the planned total).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub iterations: Option<u64>,
    /// Evaluate on the test split every N iterations [default: the workload's, or once per epoch].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub eval_every: Option<u64>,
    /// FAST's α [default: the workload's training.fast.alpha].
    #[arg(long)]
    pub alpha: Option<f64>,
    /// FAST's β [default: the workload's training.fast.beta].
    #[arg(long)]
    pub beta: Option<f64>,
    /// The denominator of FAST's r: l1 (Σ|BFP(X,m)|) or abs_sum (|Σ BFP(X,m)|, the rule as first
    /// transcribed) [default: the workload's training.fast.r_norm, else l1].
    #[arg(long, value_name = "NORM", value_parser = clap::value_parser!(fastbfp::bfp::RNorm))]
    pub r_norm: Option<fastbfp::bfp::RNorm>,
    /// Iterations between FAST's evaluations of r (the last choice holds between them)
    /// [default: the workload's training.fast.interval, else 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub interval: Option<u64>,
    /// Output folder (created if missing).
    #[arg(short, long, default_value = "out-train")]
    pub out: PathBuf,
    /// Worker threads [default: all cores]. The bits do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub jobs: Option<u64>,
    /// No progress bar and no summary (files only).
    #[arg(long, short)]
    pub quiet: bool,
}

fn load(a: &TrainArgs) -> Result<(Arch, Workload)> {
    let arch = match &a.arch {
        Some(p) => load_arch(p)?,
        None => default_arch(),
    };
    let wl = match &a.workload {
        Some(p) => load_workload(p)?,
        None => parse_workload(DEFAULT_TRAIN_RON, std::path::Path::new(DEFAULT_TRAIN_ORIGIN))?,
    };
    Ok((arch, wl))
}

/// The training section with the command line's overrides.
fn config(a: &TrainArgs, wl: &Workload) -> Result<TrainingConfig> {
    let mut c = wl.training.clone().unwrap_or_default();
    if let Some(e) = a.epochs {
        c.epochs = e as usize;
    }
    if let Some(lr) = a.lr {
        if !(lr.is_finite() && lr > 0.0 && lr <= 100.0) {
            bail!("--lr {lr}: allowed a finite number in (0, 100]");
        }
        c.optimizer.lr = lr;
    }
    if let Some(n) = a.eval_every {
        c.eval_every = Some(n as usize);
    }
    if let Some(n) = a.r_norm {
        c.fast.r_norm = n;
    }
    if let Some(n) = a.interval {
        c.fast.interval = n as usize;
    }
    for (flag, v, slot) in [("--alpha", a.alpha, &mut c.fast.alpha), ("--beta", a.beta, &mut c.fast.beta)] {
        if let Some(v) = v {
            if !(v.is_finite() && v.abs() <= 1000.0) {
                bail!("{flag} {v}: allowed a finite number in [-1000, 1000]");
            }
            *slot = v;
        }
    }
    Ok(c)
}

/// Resolves the data set: the flag, else the workload's (relative paths against its folder).
fn dataset(a: &TrainArgs, wl: &Workload, c: &TrainingConfig) -> Result<Dataset> {
    let spec: DataSpec = match &a.data {
        Some(d) => d.parse().map_err(anyhow::Error::msg)?,
        None => match c.data.parse::<DataSpec>().map_err(anyhow::Error::msg)? {
            DataSpec::Path(p) if p.is_relative() => {
                DataSpec::Path(wl.origin.parent().unwrap_or(std::path::Path::new("")).join(p))
            }
            s => s,
        },
    };
    Ok(load_dataset(&spec)?)
}

fn bar(mp: &MultiProgress, quiet: bool, len: u64, label: String) -> ProgressBar {
    let b = if quiet { ProgressBar::hidden() } else { mp.add(ProgressBar::new(len)) };
    b.set_style(
        ProgressStyle::with_template("{spinner} {msg:<12} [{bar:30}] {pos}/{len} iterations, {elapsed}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b.set_message(label);
    b
}

pub fn run(a: &TrainArgs) -> Result<()> {
    if let Some(j) = a.jobs {
        // A second call (tests running several commands in one process) keeps the first pool.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(j as usize).build_global();
    }
    let (arch, wl) = load(a)?;
    let cfg = config(a, &wl)?;
    let policies: Vec<TrainPolicy> = match (&a.compare, &a.policy) {
        (Some(list), _) => {
            let mut v = Vec::new();
            for p in list.split(',').filter(|s| !s.trim().is_empty()) {
                let p: TrainPolicy = p.parse().map_err(|e: String| anyhow::anyhow!("--compare: {e}"))?;
                if v.contains(&p) {
                    bail!("--compare: policy {p} is given twice");
                }
                v.push(p);
            }
            if v.is_empty() {
                bail!("--compare: no policy given; allowed a comma-separated list of {POLICY_NAMES}");
            }
            v
        }
        (None, Some(p)) => vec![p.parse().map_err(|e: String| anyhow::anyhow!("--policy: {e}"))?],
        (None, None) => vec![cfg.policy],
    };
    if let Some(t) = a.target {
        if !(t.is_finite() && (0.0..=100.0).contains(&t)) {
            bail!("--target {t}: allowed a percentage in [0, 100]");
        }
    }
    let data = dataset(a, &wl, &cfg)?;
    let batch = a.batch.map(|b| b as usize).or(cfg.batch).unwrap_or(wl.batch);
    let options = |policy: TrainPolicy| TrainOptions {
        policy,
        config: cfg.clone(),
        batch,
        seed: a.seed,
        max_iterations: a.iterations.map(|n| n as usize),
    };
    let planned = (data.train.n / batch.max(1)).saturating_mul(cfg.epochs);
    let len = a.iterations.map_or(planned as u64, |n| n.min(planned as u64));
    let mp = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let t0 = Instant::now();
    let results: Vec<Result<TrainReport>> = policies
        .par_iter()
        .map(|&p| {
            let b = bar(&mp, a.quiet, len, p.name());
            let r = train(&arch, &wl, &data, &options(p), &|pr: Progress| b.set_position(pr.iteration as u64))
                .with_context(|| format!("policy {p}"));
            b.finish_and_clear();
            r
        })
        .collect();
    let reports = results.into_iter().collect::<Result<Vec<_>>>()?;
    let secs = t0.elapsed().as_secs_f64();
    if a.compare.is_none() {
        let r = &reports[0];
        let (w, notes) = write_train(&a.out, r).with_context(|| format!("writing into {}", a.out.display()))?;
        if !a.quiet {
            out!("{}", train_summary(r));
            for n in notes {
                outln!("  note: {n}");
            }
            outln!("\n  wrote {} files into {} in {secs:.2} s", w.files.len(), a.out.display());
        }
        return Ok(());
    }
    let target = match a.target {
        Some(t) => t / 100.0,
        None => {
            let base = reports.iter().find(|r| r.policy == "fp32").unwrap_or(&reports[0]);
            (base.final_test_accuracy.unwrap_or(0.0) - 0.01).max(0.0)
        }
    };
    let named: Vec<(String, TrainReport)> = policies.iter().zip(reports).map(|(p, r)| (p.folder(), r)).collect();
    let (w, notes) =
        write_train_compare(&a.out, &named, target).with_context(|| format!("writing into {}", a.out.display()))?;
    if !a.quiet {
        let only: Vec<TrainReport> = named.iter().map(|(_, r)| r.clone()).collect();
        let first = &only[0];
        // Each policy runs on its own cell (fp32, bf16, msfp12) on the given arch's array,
        // clock and technology: name the given arch, then every policy's.
        let each: Vec<String> = only.iter().map(|r| format!("{} on {}", r.policy, r.arch.name)).collect();
        outln!(
            "fastbfp train --compare: {} on the array of {} ({} x {}, {} MHz), data {}, {} epochs, batch {}, seed {}",
            first.workload,
            arch.name,
            arch.array.rows,
            arch.array.cols,
            arch.clock_mhz,
            fastbfp::report::data_label(&first.data.name),
            cfg.epochs,
            batch,
            a.seed
        );
        outln!("  policies: {}", each.join(", "));
        out!("{}", compare_summary(&compare_rows(&only, target), target));
        for n in notes {
            outln!("  note: {n}");
        }
        outln!("\n  wrote {} files into {} in {secs:.2} s", w.files.len(), a.out.display());
    }
    Ok(())
}
