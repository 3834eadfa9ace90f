//! Criterion benchmarks of the BFP matmuls: conversion, the fast kernel per pass and
//! accumulator, and the reference loop. Throughput is in multiply-accumulates (elements
//! converted, for `quantize_operands`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fastbfp::bfp::{ExpBase, LfsrParams, Rounding};
use fastbfp::fmac::AccumulatorKind;
use fastbfp::gemm::{fast_gemm, quantize_operands, reference_gemm, GemmOperands, GemmSpec, OperandSpec, Pass};

/// Seeded xorshift64*, uniform in [-1, 1) summed four times: a bell-shaped, deterministic input.
fn matrix(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u32 << 23) as f32 - 1.0
    };
    (0..len).map(|_| uniform() + uniform() + uniform() + uniform()).collect()
}

fn spec(pass: Pass, m: u32, accumulator: AccumulatorKind) -> GemmSpec {
    GemmSpec {
        pass,
        group: 16,
        exp_bits: 8,
        exp_base: ExpBase::PerTensor,
        x: OperandSpec { mantissa_bits: m, rounding: Rounding::Nearest },
        y: OperandSpec { mantissa_bits: m, rounding: Rounding::Nearest },
        accumulator,
        lfsr: LfsrParams::default(),
    }
}

/// Operand shapes `(x_rows, x_cols), (y_rows, y_cols)` of `pass` for output-and-reduction
/// extents `N`, `K`, `B`.
fn shapes(pass: Pass, n: usize, k: usize, b: usize) -> ((usize, usize), (usize, usize)) {
    match pass {
        Pass::Forward => ((n, k), (k, b)),
        Pass::BackwardData => ((n, k), (n, b)),
        Pass::BackwardWeight => ((n, b), (k, b)),
    }
}

/// Operands of `pass` on an `n` x `n` x `n` cube.
fn operands(spec: &GemmSpec, n: usize) -> GemmOperands {
    let ((xr, xc), (yr, yc)) = shapes(spec.pass, n, n, n);
    let (x, y) = (matrix(xr * xc, 1), matrix(yr * yc, 2));
    quantize_operands(spec, (&x, xr, xc), (&y, yr, yc), 0).expect("quantize_operands")
}

fn configure<'a>(c: &'a mut Criterion, name: &str) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    g
}

fn bench_quantize(c: &mut Criterion) {
    let n = 256;
    let mut g = configure(c, "quantize_operands");
    let s = spec(Pass::Forward, 4, AccumulatorKind::Fp32);
    let (w, a) = (matrix(n * n, 1), matrix(n * n, 2));
    g.throughput(Throughput::Elements((2 * n * n) as u64));
    g.bench_function(BenchmarkId::new("forward-m4", format!("{n}x{n}")), |bch| {
        bch.iter(|| quantize_operands(&s, (black_box(&w), n, n), (black_box(&a), n, n), 0).unwrap())
    });
    g.finish();
}

fn bench_fast_forward(c: &mut Criterion) {
    let n = 256;
    let mut g = configure(c, "fast_gemm_forward");
    g.throughput(Throughput::Elements((n * n * n) as u64));
    for acc in [AccumulatorKind::Fp32, AccumulatorKind::Exact] {
        for m in [4, 2] {
            let ops = operands(&spec(Pass::Forward, m, acc), n);
            g.bench_function(BenchmarkId::new(format!("{}-m{m}", acc.name()), format!("{n}^3")), |bch| {
                bch.iter(|| fast_gemm(black_box(&ops)))
            });
        }
    }
    g.finish();
}

fn bench_fast_backward(c: &mut Criterion) {
    let n = 256;
    let mut g = configure(c, "fast_gemm_backward");
    g.throughput(Throughput::Elements((n * n * n) as u64));
    for pass in [Pass::BackwardData, Pass::BackwardWeight] {
        let ops = operands(&spec(pass, 4, AccumulatorKind::Fp32), n);
        g.bench_function(BenchmarkId::new(format!("{}-fp32-m4", pass.name()), format!("{n}^3")), |bch| {
            bch.iter(|| fast_gemm(black_box(&ops)))
        });
    }
    g.finish();
}

fn bench_reference(c: &mut Criterion) {
    let n = 32;
    let mut g = configure(c, "reference_gemm");
    g.throughput(Throughput::Elements((n * n * n) as u64));
    let ops = operands(&spec(Pass::Forward, 4, AccumulatorKind::Fp32), n);
    g.bench_function(BenchmarkId::new("forward-fp32-m4", format!("{n}^3")), |bch| {
        bch.iter(|| reference_gemm(black_box(&ops)))
    });
    g.finish();
}

criterion_group!(benches, bench_quantize, bench_fast_forward, bench_fast_backward, bench_reference);
criterion_main!(benches);
