//! Wall time of training iterations through the simulated accelerator, without the
//! evaluation passes `fastbfp train` runs before the first and after the last iteration.
//!
//! Usage: `cargo run --release --example bench_train -- WORKLOAD.ron --data PATH
//! [--policy fixed|fast|fp32|...] [--iterations N] [--batch B] [--seed S] [--lr LR]`.
//!
//! Builds the network, engine and precision plan as `fastbfp train` does (default arch,
//! the workload's training section), then times iteration 0 (which also simulates the
//! timing of every GEMM once and makes FAST's first decisions) and iterations 1..N
//! separately: forward, loss, backward, SGD step, on the first `N` batches of the training
//! split in order. Prints seconds per iteration, the simulated MACs per iteration, GMAC/s,
//! and a checksum of the weights after the last step (bits: same seed, same checksum). The
//! last output line is `json: {...}`.

use std::process::ExitCode;
use std::time::Instant;

use fastbfp::arch::default_arch;
use fastbfp::train::data::{load_dataset, DataSpec};
use fastbfp::train::engine::Engine;
use fastbfp::train::net::{LayerParams, Network};
use fastbfp::train::ops::softmax_cross_entropy;
use fastbfp::train::optim::SgdState;
use fastbfp::train::policy::PrecisionPlan;
use fastbfp::train::trainer::policy_arch;
use fastbfp::workload::{load_workload, TrainPolicy};

struct Args {
    workload: String,
    data: String,
    policy: Option<String>,
    iterations: usize,
    batch: Option<usize>,
    seed: u64,
    lr: Option<f64>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        workload: String::new(),
        data: String::new(),
        policy: None,
        iterations: 1,
        batch: None,
        seed: 1,
        lr: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--data" => a.data = value("--data")?,
            "--policy" => a.policy = Some(value("--policy")?),
            "--iterations" => {
                a.iterations = value("--iterations")?.parse().map_err(|e| format!("--iterations: {e}"))?
            }
            "--batch" => a.batch = Some(value("--batch")?.parse().map_err(|e| format!("--batch: {e}"))?),
            "--seed" => a.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--lr" => a.lr = Some(value("--lr")?.parse().map_err(|e| format!("--lr: {e}"))?),
            "-h" | "--help" => {
                return Err("usage: bench_train WORKLOAD.ron --data PATH [--policy P] [--iterations N] [--batch B] [--seed S] [--lr LR]".into())
            }
            s if s.starts_with('-') => return Err(format!("unknown flag '{s}'")),
            s if a.workload.is_empty() => a.workload = s.to_string(),
            s => return Err(format!("unexpected argument '{s}'")),
        }
    }
    if a.workload.is_empty() || a.data.is_empty() {
        return Err("a workload and --data are required".into());
    }
    if a.iterations == 0 {
        return Err("--iterations must be positive".into());
    }
    Ok(a)
}

/// FNV-1a over the bits of every parameter, layer by layer.
fn checksum(params: &[Option<LayerParams<f32>>]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |v: &[f32]| {
        for x in v {
            for byte in x.to_bits().to_le_bytes() {
                h = (h ^ byte as u64).wrapping_mul(0x100_0000_01b3);
            }
        }
    };
    for p in params.iter().flatten() {
        match p {
            LayerParams::Gemm { w, b } => {
                eat(w);
                eat(b.as_deref().unwrap_or(&[]));
            }
            LayerParams::Norm { gamma, beta, mean, var } => [gamma, beta, mean, var].iter().for_each(|v| eat(v)),
        }
    }
    h
}

fn run(a: &Args) -> Result<(), String> {
    let wl = load_workload(std::path::Path::new(&a.workload)).map_err(|e| e.to_string())?;
    let mut cfg = wl.training.clone().unwrap_or_default();
    if let Some(lr) = a.lr {
        cfg.optimizer.lr = lr;
    }
    let policy: TrainPolicy = a.policy.as_deref().map_or(Ok(cfg.policy), str::parse)?;
    let spec: DataSpec = a.data.parse()?;
    let data = load_dataset(&spec).map_err(|e| e.to_string())?;
    let batch = a.batch.or(cfg.batch).unwrap_or(wl.batch);
    let net = Network::new(&wl).map_err(|e| e.to_string())?;
    let arch = policy_arch(policy, &default_arch()).map_err(|e| e.to_string())?;
    let per_epoch = data.train.n / batch;
    if per_epoch < a.iterations {
        return Err(format!("{} iterations need {} training samples", a.iterations, a.iterations * batch));
    }
    let planned = per_epoch * cfg.epochs;
    let names: Vec<String> = net.gemm_layers.iter().map(|&i| net.layers()[i].name.clone()).collect();
    let plan = PrecisionPlan::new(policy, cfg.fast.clone(), arch.precision, wl.precision.clone(), names, planned);
    let mut engine = Engine::new(arch, &wl, batch, plan);
    let mut params = net.init::<f32>(cfg.init, a.seed);
    let mut sgd = SgdState::default();
    let len = data.sample_len();
    let mut times = Vec::new();
    let mut macs = 0u64;
    let mut last_loss = 0f32;
    for it in 0..a.iterations {
        let xb = &data.train.x[it * batch * len..(it + 1) * batch * len];
        let yb = &data.train.y[it * batch..(it + 1) * batch];
        let t = Instant::now();
        engine.begin_iteration(it);
        let tr = net.forward(&mut params, xb, batch, true, &mut engine).map_err(|e| e.to_string())?;
        let logits = tr.outputs.last().map(Vec::as_slice).unwrap_or(&[]);
        let out = softmax_cross_entropy(logits, yb, net.classes);
        let grads = net.backward(&params, &tr, xb, out.grad, &mut engine).map_err(|e| e.to_string())?;
        let lr = cfg.lr_schedule.rate(cfg.optimizer.lr, it, planned, per_epoch);
        sgd.step(&mut params, &grads, &cfg.optimizer, lr);
        drop((tr, grads));
        times.push(t.elapsed().as_secs_f64());
        macs = engine.take_cost().macs;
        last_loss = out.loss;
    }
    let first = times[0];
    let warm = if times.len() > 1 { times[1..].iter().sum::<f64>() / (times.len() - 1) as f64 } else { first };
    let sum = checksum(&params);
    println!("workload {} policy {policy} batch {batch} threads {}", wl.name, rayon::current_num_threads());
    println!("  MACs per iteration: {macs} ({:.2} G)", macs as f64 / 1e9);
    println!("  iteration 0: {first:.3} s  {:.2} GMAC/s", macs as f64 / first / 1e9);
    if times.len() > 1 {
        println!("  iterations 1..{}: {warm:.3} s each  {:.2} GMAC/s", times.len(), macs as f64 / warm / 1e9);
    }
    println!("  loss of the last iteration {last_loss}; weights checksum {sum:016x}");
    println!(
        "json: {{\"workload\":\"{}\",\"policy\":\"{policy}\",\"batch\":{batch},\"macs\":{macs},\"first_s\":{first},\"warm_s\":{warm},\"iterations\":{},\"checksum\":\"{sum:016x}\"}}",
        wl.name,
        times.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(|a| run(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_train: {e}");
            ExitCode::FAILURE
        }
    }
}
