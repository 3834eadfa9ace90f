//! Criterion benchmarks of the array model: the tick-level model on a 32 x 32 array streaming
//! 512 groups (numerics on and off) and the fold-level model on a 4096^3 GEMM.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fastbfp::array::{run_array, ArrayConfig, Fidelity, GemmGeometry};
use fastbfp::bfp::{ExpBase, LfsrParams, Rounding};
use fastbfp::fmac::AccumulatorKind;
use fastbfp::gemm::{quantize_operands, GemmSpec, OperandSpec, Pass};

fn bench(c: &mut Criterion) {
    let cfg = ArrayConfig {
        rows: 32,
        cols: 32,
        shadow_stationary: true,
        double_buffered_accumulators: true,
        full_width: false,
        overlap_folds: false,
    };
    let spec = GemmSpec {
        pass: Pass::Forward,
        group: 16,
        exp_bits: 8,
        exp_base: ExpBase::PerTensor,
        x: OperandSpec { mantissa_bits: 4, rounding: Rounding::Nearest },
        y: OperandSpec { mantissa_bits: 4, rounding: Rounding::Nearest },
        accumulator: AccumulatorKind::Fp32,
        lfsr: LfsrParams::default(),
    };
    let (n, k, b) = (32usize, 512usize, 512usize);
    let x: Vec<f32> = (0..n * k).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 100.0).collect();
    let y: Vec<f32> = (0..k * b).map(|i| ((i * 104729 % 1000) as f32 - 500.0) / 100.0).collect();
    let ops = quantize_operands(&spec, (&x, n, k), (&y, k, b), 0).unwrap();
    let geo = GemmGeometry::of(&ops);
    let cycles = run_array(&geo, None, &cfg, Fidelity::Fold).cycles;
    let mut g = c.benchmark_group("tick_32x32_stream512");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(cycles * 1024)); // cell-cycles
    g.bench_function("numerics", |bch| bch.iter(|| run_array(&geo, Some(&ops), &cfg, Fidelity::Cycle)));
    g.bench_function("timing_only", |bch| bch.iter(|| run_array(&geo, None, &cfg, Fidelity::Cycle)));
    g.finish();
    let big = GemmGeometry {
        pass: Pass::Forward,
        out_rows: 4096,
        out_cols: 4096,
        reduction_groups: 256,
        x_chunks: 2,
        y_chunks: 2,
    };
    let mut g = c.benchmark_group("fold_4096_cubed");
    g.sample_size(10).measurement_time(Duration::from_secs(2));
    g.bench_function("forward_no_numerics", |bch| bch.iter(|| run_array(&big, None, &cfg, Fidelity::Fold)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
