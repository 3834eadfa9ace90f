//! One GEMM on whole accelerators (arch files): both fidelities agree with the memory system
//! in the loop (stalls included), the numbers equal the reference loops, explicit transposes
//! cost what they should, and traffic follows the chunk planes actually read.

mod common;
use common::{arch, data};

use fastbfp::accel::{simulate_gemm, spec_for, GemmRequest};
use fastbfp::arch::{Arch, Transpose};
use fastbfp::array::Fidelity;
use fastbfp::gemm::baseline::{baseline_gemm, ElementCell};
use fastbfp::gemm::{quantize_operands, reference_gemm, Pass};
use fastbfp::sim::StallReason;
use proptest::prelude::*;

/// Operand shapes of `pass` for output `rows x cols` and reduction `red`.
fn shapes(pass: Pass, rows: usize, cols: usize, red: usize) -> ((usize, usize), (usize, usize)) {
    match pass {
        Pass::Forward => ((rows, red), (red, cols)),
        Pass::BackwardData => ((red, rows), (red, cols)),
        Pass::BackwardWeight => ((rows, red), (cols, red)),
    }
}

fn run(a: &Arch, pass: Pass, dims: (usize, usize, usize), fidelity: Fidelity) -> fastbfp::accel::GemmSim {
    let (xs, ys) = shapes(pass, dims.0, dims.1, dims.2);
    let (x, y) = (data(xs.0 * xs.1, 1), data(ys.0 * ys.1, 7));
    let req = GemmRequest {
        spec: spec_for(a, pass),
        x: (&x, xs.0, xs.1),
        y: (&y, ys.0, ys.1),
        names: ("X", "Y"),
        fidelity,
        numerics: true,
        first_job: 0,
        conv: None,
        mapping: None,
    };
    simulate_gemm(a, &req).unwrap()
}

#[test]
fn every_arch_every_pass_fidelities_agree_and_bits_match_the_references() {
    for name in [
        "fast-4x4.ron",
        "fast-32x32.ron",
        "fast-e4-32x32.ron",
        "fast-32x32-transpose.ron",
        "msfp12-32x32.ron",
        "fp32-32x32.ron",
        "bf16-32x32.ron",
        "int8-32x32.ron",
    ] {
        let a = arch(name);
        for pass in Pass::ALL {
            let dims = (37, 21, 70);
            let tick = run(&a, pass, dims, Fidelity::Cycle);
            let fold = run(&a, pass, dims, Fidelity::Fold);
            assert_eq!(tick.cycles, fold.cycles, "{name} {pass}");
            assert_eq!(tick.folds, fold.folds, "{name} {pass}");
            assert_eq!(tick.busy, fold.busy, "{name} {pass}");
            assert_eq!(tick.traffic, fold.traffic, "{name} {pass}");
            let (xs, ys) = shapes(pass, dims.0, dims.1, dims.2);
            let (x, y) = (data(xs.0 * xs.1, 1), data(ys.0 * ys.1, 7));
            let want = if a.array.cell.is_bfp() {
                let ops = quantize_operands(&spec_for(&a, pass), (&x, xs.0, xs.1), (&y, ys.0, ys.1), 0).unwrap();
                reference_gemm(&ops)
            } else {
                let cell = match a.array.cell.name() {
                    "fp32" => ElementCell::Fp32,
                    "bf16" => ElementCell::Bf16,
                    _ => ElementCell::Int8,
                };
                baseline_gemm(cell, pass, &x, xs, &y, ys).unwrap()
            };
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(tick.out.as_ref().unwrap()), bits(&want), "{name} {pass} tick bits");
            assert_eq!(bits(fold.out.as_ref().unwrap()), bits(&want), "{name} {pass} fold bits");
            assert!(tick.cycles > 0 && tick.utilization > 0.0 && tick.utilization <= 1.0);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    /// Memory settings that force stalls (thin DRAM, narrow SRAM ports, small buffers, one slow
    /// converter, single buffering): both fidelities still agree on every figure.
    #[test]
    fn fidelities_agree_under_memory_stalls(
        rows in 1usize..=6, cols in 1usize..=6,
        dims in (1usize..=20, 1usize..=20, 1usize..=50),
        dram in 1u64..=64, lat in 0u64..=200, sram in 1u64..=512, kib in 1u64..=4,
        dbuf in any::<bool>(), shadow in any::<bool>(), conv_in in any::<bool>(),
        pass in prop::sample::select(Pass::ALL.to_vec()),
        (sacc, overlap) in (any::<bool>(), any::<bool>()),
    ) {
        let mut a = arch("fast-4x4.ron");
        a.array.rows = rows;
        a.array.cols = cols;
        a.array.shadow_stationary = shadow;
        a.array.shadow_accumulators = sacc;
        a.array.overlap_folds = overlap;
        a.memory.dram.bytes_per_cycle = dram;
        a.memory.dram.latency_cycles = lat;
        a.memory.mantissa_sram.bits_per_cycle = sram;
        a.memory.exponent_sram.bits_per_cycle = (sram / 4).max(1);
        a.memory.mantissa_sram.capacity_kib = kib;
        a.memory.double_buffering = dbuf;
        a.converters.placement = if conv_in {
            fastbfp::arch::ConverterPlacement::MemoryToArray
        } else {
            fastbfp::arch::ConverterPlacement::ArrayOutputs
        };
        let tick = run(&a, pass, dims, Fidelity::Cycle);
        let fold = run(&a, pass, dims, Fidelity::Fold);
        prop_assert_eq!(tick.cycles, fold.cycles);
        prop_assert_eq!(&tick.breakdown, &fold.breakdown);
        prop_assert_eq!(&tick.folds, &fold.folds);
        prop_assert_eq!(tick.traffic, fold.traffic);
        prop_assert_eq!(tick.out.as_ref().map(|v| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>()),
                        fold.out.as_ref().map(|v| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>()));
        // Every cycle is streaming, exposed load, exposed drain or a stall, counted once.
        let b = &tick.breakdown;
        prop_assert_eq!(b.stream_cycles + b.load_cycles + b.drain_cycles + b.stalls.total(), tick.cycles);
    }
}

#[test]
fn thin_dram_stalls_with_its_reason() {
    let mut a = arch("fast-4x4.ron");
    a.memory.dram.bytes_per_cycle = 1;
    let s = run(&a, Pass::Forward, (16, 16, 64), Fidelity::Fold);
    assert!(s.breakdown.stalls.get(StallReason::Dram) > 0, "{:?}", s.breakdown);
    a.memory.dram.bytes_per_cycle = 1 << 16;
    a.memory.dram.latency_cycles = 0;
    let fast = run(&a, Pass::Forward, (16, 16, 64), Fidelity::Fold);
    assert!(fast.cycles < s.cycles);
}

#[test]
fn explicit_transpose_costs_cycles_and_traffic_on_the_backward_passes_only() {
    let free = arch("fast-32x32.ron");
    let mut explicit = free.clone();
    explicit.array.transpose = Transpose::Explicit;
    for pass in Pass::ALL {
        let a = run(&free, pass, (64, 48, 96), Fidelity::Fold);
        let b = run(&explicit, pass, (64, 48, 96), Fidelity::Fold);
        if pass == Pass::Forward {
            assert_eq!((a.cycles, a.traffic), (b.cycles, b.traffic));
        } else {
            assert!(b.cycles > a.cycles, "{pass}: {} vs {}", b.cycles, a.cycles);
            assert!(b.traffic.dram_transpose_bits > 0 && a.traffic.dram_transpose_bits == 0);
            assert!(b.breakdown.stalls.get(StallReason::Transpose) > 0);
        }
    }
    // The bundled explicit-transpose arch is the default with transposes switched on.
    assert_eq!(arch("fast-32x32-transpose.ron").array.transpose, Transpose::Explicit);
}

#[test]
fn two_bit_mantissas_stream_four_times_faster_and_move_fewer_bits() {
    // Fold by fold, so both widths run the same folds (the mapper may tile them differently).
    let mut a = arch("fast-32x32.ron");
    a.mapping.mapper = fastbfp::arch::MapperKind::Folds;
    let s4 = run(&a, Pass::Forward, (64, 256, 512), Fidelity::Fold);
    for c in fastbfp::arch::TensorClass::ALL {
        match c {
            fastbfp::arch::TensorClass::Weights => a.precision.weights.mantissa_bits = 2,
            fastbfp::arch::TensorClass::Activations => a.precision.activations.mantissa_bits = 2,
            fastbfp::arch::TensorClass::Gradients => a.precision.gradients.mantissa_bits = 2,
        }
    }
    let s2 = run(&a, Pass::Forward, (64, 256, 512), Fidelity::Fold);
    assert_eq!(s4.breakdown.stream_cycles, 4 * s2.breakdown.stream_cycles);
    assert_eq!(s4.traffic.dram_read_mant_bits, 2 * s2.traffic.dram_read_mant_bits);
    assert_eq!(s4.traffic.dram_read_exp_bits, s2.traffic.dram_read_exp_bits);
}

#[test]
fn a_gemm_with_too_many_folds_is_refused_before_planning() {
    let mut a = arch("fast-4x4.ron");
    a.array.rows = 1;
    a.array.cols = 1;
    let (n, k) = (5000, 5000);
    let req = GemmRequest {
        spec: spec_for(&a, Pass::BackwardWeight),
        x: (&[], n, 1),
        y: (&[], k, 1),
        names: ("X", "Y"),
        fidelity: Fidelity::Fold,
        numerics: false,
        first_job: 0,
        conv: None,
        mapping: None,
    };
    let err = simulate_gemm(&a, &req).unwrap_err().to_string();
    assert!(err.contains("25000000 folds") && err.contains("1 x 1"), "{err}");
}
