//! Tick-level and fold-level array speed: `cargo run --release --example bench_array`
//! (`-- --overlap` with `overlap_folds` on). Prints cell-cycles per second of the tick model
//! on a 32x32 array streaming 512 groups (one fold per pass, m = 4/4, numerics on and off) and
//! on a forward GEMM of 2 x 4 folds streaming 128, and the fold model's time for a 4096^3 GEMM
//! without numerics.

use std::time::Instant;

use fastbfp::array::{run_array, ArrayConfig, Fidelity, GemmGeometry};
use fastbfp::bfp::{ExpBase, LfsrParams, Rounding};
use fastbfp::fmac::AccumulatorKind;
use fastbfp::gemm::{quantize_operands, GemmSpec, OperandSpec, Pass};

fn main() {
    let cfg = ArrayConfig {
        rows: 32,
        cols: 32,
        shadow_stationary: true,
        double_buffered_accumulators: true,
        full_width: false,
        overlap_folds: std::env::args().any(|a| a == "--overlap"),
    };
    println!("overlap_folds: {}", cfg.overlap_folds);
    // (pass, N, K, B): one full fold of 512 stream elements per pass, then 2 x 4 forward folds.
    let shapes = [
        (Pass::BackwardData, 32usize, 32 * 16, 512usize),
        (Pass::Forward, 32, 32 * 16, 512),
        (Pass::BackwardWeight, 32, 32 * 16, 512),
        (Pass::Forward, 32, 32 * 16, 512),
        (Pass::Forward, 64, 4 * 32 * 16, 128),
    ];
    for (pass, n, k, b) in shapes {
        let spec = GemmSpec {
            pass,
            group: 16,
            exp_bits: 8,
            exp_base: ExpBase::PerTensor,
            x: OperandSpec { mantissa_bits: 4, rounding: Rounding::Nearest },
            y: OperandSpec { mantissa_bits: 4, rounding: Rounding::Nearest },
            accumulator: AccumulatorKind::Fp32,
            lfsr: LfsrParams::default(),
        };
        let ((xr, xc), (yr, yc)) = match pass {
            Pass::Forward => ((n, k), (k, b)),
            Pass::BackwardData => ((k, n), (k, b)),
            Pass::BackwardWeight => ((n, b * 16), (32, b * 16)),
        };
        let x: Vec<f32> = (0..xr * xc).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 100.0).collect();
        let y: Vec<f32> = (0..yr * yc).map(|i| ((i * 104729 % 1000) as f32 - 500.0) / 100.0).collect();
        let ops = quantize_operands(&spec, (&x, xr, xc), (&y, yr, yc), 0).unwrap();
        let geo = GemmGeometry::of(&ops);
        for numerics in [true, false] {
            // Best of three runs.
            let mut s = f64::INFINITY;
            let mut run = None;
            for _ in 0..3 {
                let t = Instant::now();
                run = Some(run_array(&geo, numerics.then_some(&ops), &cfg, Fidelity::Cycle));
                s = s.min(t.elapsed().as_secs_f64());
            }
            let run = run.unwrap();
            let cell_cycles = run.cycles as f64 * 1024.0;
            println!(
                "tick {:<16} {} folds numerics {:<5} cycles {:>8}  {:>8.3} s  {:>7.1} M cell-cycles/s",
                pass.name(),
                run.folds.len(),
                numerics,
                run.cycles,
                s,
                cell_cycles / s / 1e6
            );
        }
    }
    let geo = GemmGeometry {
        pass: Pass::Forward,
        out_rows: 4096,
        out_cols: 4096,
        reduction_groups: 4096 / 16,
        x_chunks: 2,
        y_chunks: 2,
    };
    let t = Instant::now();
    let run = run_array(&geo, None, &cfg, Fidelity::Fold);
    println!(
        "fold forward 4096^3 no numerics (array only): {} cycles, {} folds, {:.2} ms",
        run.cycles,
        run.folds.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    // The whole accelerator: default arch, memory system in the loop, timing only.
    let arch = fastbfp::arch::default_arch();
    let n = 4096usize;
    let zeros = vec![0f32; n * n];
    for pass in Pass::ALL {
        let req = fastbfp::accel::GemmRequest {
            spec: fastbfp::accel::spec_for(&arch, pass),
            x: (&zeros, n, n),
            y: (&zeros, n, n),
            names: ("X", "Y"),
            fidelity: Fidelity::Fold,
            numerics: false,
            first_job: 0,
            conv: None,
            mapping: None,
        };
        let t = Instant::now();
        let sim = fastbfp::accel::simulate_gemm(&arch, &req).unwrap();
        println!(
            "accel {} 4096^3 fold, no numerics: {} cycles, {} folds, stalls {}, {:.2} ms",
            pass.name(),
            sim.cycles,
            sim.folds.len(),
            sim.breakdown.stalls.total(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}
