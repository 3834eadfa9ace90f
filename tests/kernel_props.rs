//! Property tests: the fast kernel gives the same bits as the reference loop (DESIGN §6) on
//! random shapes, group sizes, precisions, roundings, exponent bases and both accumulators;
//! and the reference loop's fp32 accumulation equals an independent sequential-sum loop
//! written here from the design text with f64 scaling.

use fastbfp::bfp::{ExpBase, LfsrParams, Rounding};
use fastbfp::fmac::AccumulatorKind;
use fastbfp::gemm::{
    fast_gemm, fast_gemm_with, quantize_operands, reference_gemm, GemmOperands, GemmSpec, KernelIsa, OperandSpec, Pass,
};
use proptest::prelude::*;

fn rounding() -> impl Strategy<Value = Rounding> {
    prop::sample::select(Rounding::ALL.to_vec())
}

/// Values with a wide dynamic range, zeros and subnormals mixed in.
fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        6 => -1.0f32..1.0f32,
        2 => (-1.0f32..1.0f32, -40i32..40).prop_map(|(m, e)| m * 2f32.powi(e)),
        1 => Just(0.0f32),
        1 => (1u32..0x7F_FFFF, any::<bool>()).prop_map(|(b, s)| f32::from_bits(b | ((s as u32) << 31))),
        1 => (-1.0f32..1.0f32, -120i32..120).prop_map(|(m, e)| m * 2f32.powi(e)),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    spec: GemmSpec,
    x: (Vec<f32>, usize, usize),
    y: (Vec<f32>, usize, usize),
}

fn case() -> impl Strategy<Value = Case> {
    let dims = (1usize..=9, 1usize..=70, 1usize..=20); // rows, reduction, cols
    let fmt = (
        prop::sample::select(vec![1usize, 2, 3, 4, 7, 8, 16, 32, 64]),
        1u32..=8,
        prop_oneof![8 => 1u32..=9, 1 => 10u32..=16],
        prop_oneof![8 => 1u32..=9, 1 => 10u32..=16],
    );
    let modes = (
        rounding(),
        rounding(),
        prop::sample::select(vec![AccumulatorKind::Fp32, AccumulatorKind::Exact]),
        prop::sample::select(Pass::ALL.to_vec()),
        any::<u16>(),
        1u32..=16,
        prop_oneof![6 => Just(ExpBase::PerTensor), 1 => (-60i32..10).prop_map(ExpBase::Pinned)],
    );
    (dims, fmt, modes).prop_flat_map(|((r, k, c), (g, e, mx, my), (rx, ry, acc, pass, seed, n, base))| {
        let spec = GemmSpec {
            pass,
            group: g,
            exp_bits: e,
            exp_base: base,
            x: OperandSpec { mantissa_bits: mx.min(16), rounding: rx },
            y: OperandSpec { mantissa_bits: my.min(16), rounding: ry },
            accumulator: acc,
            lfsr: LfsrParams::new(0xB400, seed, n).unwrap(),
        };
        // Operand shapes per pass (X, Y) for output r x c and reduction k.
        let ((xr, xc), (yr, yc)) = match pass {
            Pass::Forward => ((r, k), (k, c)),
            Pass::BackwardData => ((k, r), (k, c)),
            Pass::BackwardWeight => ((r, k), (c, k)),
        };
        (prop::collection::vec(value(), xr * xc), prop::collection::vec(value(), yr * yc))
            .prop_map(move |(xv, yv)| Case { spec, x: (xv, xr, xc), y: (yv, yr, yc) })
    })
}

fn ops(c: &Case) -> GemmOperands {
    quantize_operands(&c.spec, (&c.x.0, c.x.1, c.x.2), (&c.y.0, c.y.1, c.y.2), 0).unwrap()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// DESIGN §6 written out directly: y = fl(...fl(fl(0 + v_0) + v_1)... + v_last) with
/// v_q = fl32(P_q * 2^k_q) computed through f64 (exact for these ranges), P_q by a plain
/// integer dot product of the dequantised mantissas.
fn sequential_fp32(o: &GemmOperands) -> Vec<f32> {
    let (rows, cols) = o.out_shape();
    let off = o.x.format.mantissa_bits() as i32 - 1 + o.y.format.mantissa_bits() as i32 - 1;
    let mut out = vec![0f32; rows * cols];
    for u in 0..rows {
        for v in 0..cols {
            let mut acc = 0f32;
            for q in 0..o.reduction_groups() {
                let (ex, mx) = o.x.group(u, q);
                let (ey, my) = o.y.group(v, q);
                let p: i64 = mx.iter().zip(my).map(|(&a, &b)| a as i64 * b as i64).sum();
                let vq = (p as f64 * 2f64.powi(ex + ey - off)) as f32;
                acc += vq;
            }
            out[u * cols + v] = acc;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn fast_kernel_equals_reference_loop(c in case()) {
        let o = ops(&c);
        let want = bits(&reference_gemm(&o));
        prop_assert_eq!(bits(&fast_gemm(&o)), want.clone());
        prop_assert_eq!(bits(&fast_gemm_with(&o, KernelIsa::Portable)), want);
    }

    #[test]
    fn reference_fp32_equals_sequential_sum(c in case().prop_filter("fp32, per-tensor base", |c| {
        c.spec.accumulator == AccumulatorKind::Fp32 && c.spec.exp_base == ExpBase::PerTensor
    })) {
        let o = ops(&c);
        prop_assert_eq!(bits(&reference_gemm(&o)), bits(&sequential_fp32(&o)));
    }
}

#[test]
fn edge_shapes() {
    // 1 x 1 outputs, K = 1, and reductions that are not multiples of g, every pass.
    for pass in Pass::ALL {
        for (r, k, c) in [(1, 1, 1), (1, 17, 1), (3, 1, 5), (2, 33, 3), (40, 3, 17)] {
            let spec = GemmSpec {
                pass,
                group: 16,
                exp_bits: 8,
                exp_base: ExpBase::PerTensor,
                x: OperandSpec { mantissa_bits: 4, rounding: Rounding::Stochastic },
                y: OperandSpec { mantissa_bits: 6, rounding: Rounding::Even },
                accumulator: AccumulatorKind::Fp32,
                lfsr: LfsrParams::default(),
            };
            let ((xr, xc), (yr, yc)) = match pass {
                Pass::Forward => ((r, k), (k, c)),
                Pass::BackwardData => ((k, r), (k, c)),
                Pass::BackwardWeight => ((r, k), (c, k)),
            };
            let gen = |n: usize, s: f32| (0..n).map(|i| (i as f32 * 0.7 + s).sin() * 3.0).collect::<Vec<_>>();
            let (x, y) = (gen(xr * xc, 0.1), gen(yr * yc, 1.3));
            let o = quantize_operands(&spec, (&x, xr, xc), (&y, yr, yc), 0).unwrap();
            assert_eq!(o.out_shape(), (r, c));
            let want = sequential_fp32(&o);
            assert_eq!(bits(&reference_gemm(&o)), bits(&want), "{pass} {r}x{k}x{c}");
            assert_eq!(bits(&fast_gemm(&o)), bits(&want), "{pass} {r}x{k}x{c}");
        }
    }
}
