//! Throughput and memory of the BFP forward matmul: conversion, fast kernel, and the
//! reference loop on a smaller cube (with a bit-identity check between the two kernels).
//!
//! Usage: `cargo run --release --example bench_gemm -- [N K B] [--mx 4] [--my 4]
//! [--acc fp32|exact] [--reference-size S]`. The last output line is `json: {...}`.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use fastbfp::bfp::{ExpBase, LfsrParams, Rounding};
use fastbfp::fmac::AccumulatorKind;
use fastbfp::gemm::{fast_gemm, quantize_operands, reference_gemm, GemmOperands, GemmSpec, OperandSpec, Pass};

/// Timed runs after the warm-up.
const RUNS: usize = 5;
const MIB: f64 = 1024.0 * 1024.0;

struct Args {
    n: usize,
    k: usize,
    b: usize,
    mx: u32,
    my: u32,
    acc: AccumulatorKind,
    reference_size: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut dims = Vec::new();
    let mut a = Args { n: 1024, k: 1024, b: 1024, mx: 4, my: 4, acc: AccumulatorKind::Fp32, reference_size: 512 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--mx" => a.mx = value("--mx")?.parse().map_err(|e| format!("--mx: {e}"))?,
            "--my" => a.my = value("--my")?.parse().map_err(|e| format!("--my: {e}"))?,
            "--acc" => a.acc = value("--acc")?.parse()?,
            "--reference-size" => {
                a.reference_size = value("--reference-size")?.parse().map_err(|e| format!("--reference-size: {e}"))?
            }
            "-h" | "--help" => {
                return Err("usage: bench_gemm [N K B] [--mx M] [--my M] [--acc fp32|exact] [--reference-size S]".into())
            }
            s if s.starts_with('-') => return Err(format!("unknown flag '{s}'")),
            s => dims.push(s.parse::<usize>().map_err(|e| format!("dimension '{s}': {e}"))?),
        }
    }
    match dims.as_slice() {
        [] => {}
        [n, k, b] => (a.n, a.k, a.b) = (*n, *k, *b),
        _ => return Err(format!("expected 0 or 3 positional dimensions N K B, got {}", dims.len())),
    }
    if a.n == 0 || a.k == 0 || a.b == 0 || a.reference_size == 0 {
        return Err("dimensions must be positive".into());
    }
    Ok(a)
}

/// Seeded xorshift64* with Box-Muller: deterministic standard-normal f32 values.
struct Normal {
    state: u64,
    spare: Option<f32>,
}

impl Normal {
    fn new(seed: u64) -> Self {
        Self { state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1, spare: None }
    }
    fn next_u64(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
    fn sample(&mut self) -> f32 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let (u1, u2) = (self.uniform(), self.uniform());
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        self.spare = Some((r * t.sin()) as f32);
        (r * t.cos()) as f32
    }
    fn matrix(&mut self, len: usize) -> Vec<f32> {
        (0..len).map(|_| self.sample()).collect()
    }
}

/// Best wall time in seconds of `RUNS` calls after one warm-up; also returns the warm-up result.
fn best_of<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let first = f();
    let mut best = f64::INFINITY;
    for _ in 0..RUNS {
        let t = Instant::now();
        black_box(f());
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, first)
}

/// Peak resident set size of this process in bytes (`VmHWM`), if readable.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn spec(a: &Args) -> GemmSpec {
    GemmSpec {
        pass: Pass::Forward,
        group: 16,
        exp_bits: 8,
        exp_base: ExpBase::PerTensor,
        x: OperandSpec { mantissa_bits: a.mx, rounding: Rounding::Nearest },
        y: OperandSpec { mantissa_bits: a.my, rounding: Rounding::Nearest },
        accumulator: a.acc,
        lfsr: LfsrParams::default(),
    }
}

fn quantize(spec: &GemmSpec, w: &[f32], a: &[f32], (n, k, b): (usize, usize, usize)) -> GemmOperands {
    quantize_operands(spec, (w, n, k), (a, k, b), 0).expect("quantize_operands failed")
}

fn gmacs(macs: f64, secs: f64) -> f64 {
    macs / secs / 1e9
}

fn simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_gemm: {e}");
            return ExitCode::from(2);
        }
    };
    let spec = spec(&args);
    let (n, k, b) = (args.n, args.k, args.b);
    let macs = (n * k * b) as f64;
    let threads = rayon::current_num_threads();
    let vnni = simd_available();
    println!(
        "fastbfp bench_gemm: forward {n}x{k}x{b}, g=16 e=8, mx={} my={}, acc={}, {threads} rayon threads, AVX-512 VNNI: {}",
        args.mx,
        args.my,
        args.acc.name(),
        if vnni { "yes" } else { "no" }
    );

    // Big cube.
    let mut rng = Normal::new(0x5EED);
    let w = rng.matrix(n * k);
    let a = rng.matrix(k * b);
    // Peak memory of one quantise + multiply, measured before the timing loops keep extra
    // copies alive: inputs, both converted operands, the kernel's packed copy, the output.
    let first_out = fast_gemm(&quantize(&spec, &w, &a, (n, k, b)));
    let peak_one_call = peak_rss_bytes();
    drop(first_out);
    let (t_quant, ops) = best_of(|| quantize(&spec, &w, &a, (n, k, b)));
    let (t_fast, out) = best_of(|| fast_gemm(&ops));
    let (t_total, _) = best_of(|| fast_gemm(&quantize(&spec, &w, &a, (n, k, b))));
    let io_bytes = ((w.len() + a.len() + out.len()) * std::mem::size_of::<f32>()) as f64;
    drop(ops);
    let peak_big = peak_one_call;
    println!("  quantize_operands   {:>10.3} ms", t_quant * 1e3);
    println!("  fast_gemm           {:>10.3} ms   {:>8.2} GMAC/s", t_fast * 1e3, gmacs(macs, t_fast));
    println!("  quantize + fast     {:>10.3} ms   {:>8.2} GMAC/s", t_total * 1e3, gmacs(macs, t_total));

    // Small cube: reference loop vs fast kernel, bit for bit.
    let s = args.reference_size;
    let smacs = (s * s * s) as f64;
    let ws = rng.matrix(s * s);
    let as_ = rng.matrix(s * s);
    let ops_s = quantize(&spec, &ws, &as_, (s, s, s));
    let (t_ref, out_ref) = best_of(|| reference_gemm(&ops_s));
    let (t_fast_s, out_fast) = best_of(|| fast_gemm(&ops_s));
    let mismatches = out_ref.iter().zip(&out_fast).filter(|(r, f)| r.to_bits() != f.to_bits()).count();
    let identical = out_ref.len() == out_fast.len() && mismatches == 0;
    let (ref_g, fast_s_g, fast_g) = (gmacs(smacs, t_ref), gmacs(smacs, t_fast_s), gmacs(macs, t_fast));
    println!("  reference_gemm {s}^3 {:>10.3} ms   {:>8.4} GMAC/s", t_ref * 1e3, ref_g);
    println!("  fast_gemm {s}^3      {:>10.3} ms   {:>8.2} GMAC/s", t_fast_s * 1e3, fast_s_g);
    println!(
        "  fast / reference: {:.1}x on the {s}^3 cube, {:.1}x with fast on the {n}x{k}x{b} cube",
        fast_s_g / ref_g,
        fast_g / ref_g
    );
    println!(
        "  bit-identical fast vs reference on {s}^3: {}",
        if identical { "yes".to_string() } else { format!("NO ({mismatches} of {} differ)", out_ref.len()) }
    );

    // The memory figure is the one-call peak (inputs, converted operands, packed copy,
    // output); the timing loops above hold several results at once and are not representative.
    let peak = peak_big;
    let mib = |x: Option<u64>| x.map(|v| v as f64 / MIB);
    let io_mib = io_bytes / MIB;
    let ratio = mib(peak).map(|p| p / io_mib);
    match (mib(peak), ratio) {
        (Some(p), Some(r)) => {
            println!("  peak RSS (VmHWM) {p:.1} MiB; inputs+output {io_mib:.1} MiB (f32); ratio {r:.2}")
        }
        _ => println!("  peak RSS unavailable; inputs+output {io_mib:.1} MiB (f32)"),
    }

    let json = serde_json::json!({
        "n": n, "k": k, "b": b, "mx": args.mx, "my": args.my, "acc": args.acc.name(),
        "threads": threads, "avx512_vnni": vnni,
        "quantize_s": t_quant, "fast_s": t_fast, "total_s": t_total,
        "quantize_gmacs": gmacs(macs, t_quant),
        "fast_gmacs": fast_g, "total_gmacs": gmacs(macs, t_total),
        "reference_size": s, "reference_s": t_ref, "reference_gmacs": ref_g,
        "fast_small_s": t_fast_s, "fast_small_gmacs": fast_s_g,
        "speedup_small": fast_s_g / ref_g, "speedup_big": fast_g / ref_g,
        "bit_identical": identical, "mismatches": mismatches,
        "peak_rss_mib": mib(peak), "peak_rss_end_mib": mib(peak_rss_bytes()),
        "io_mib": io_mib, "rss_ratio": ratio,
    });
    println!("json: {json}");
    if identical {
        ExitCode::SUCCESS
    } else {
        eprintln!("bench_gemm: fast_gemm and reference_gemm disagree on the {s}^3 cube");
        ExitCode::FAILURE
    }
}
