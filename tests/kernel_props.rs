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
        kernel_equals_reference(&c)?;
    }

    #[test]
    fn reference_fp32_equals_sequential_sum(c in case().prop_filter("fp32, per-tensor base", |c| {
        c.spec.accumulator == AccumulatorKind::Fp32 && c.spec.exp_base == ExpBase::PerTensor
    })) {
        reference_equals_sequential(&c)?;
    }
}

/// The property of `fast_kernel_equals_reference_loop` for one case.
fn kernel_equals_reference(c: &Case) -> Result<(), TestCaseError> {
    let o = ops(c);
    let want = bits(&reference_gemm(&o));
    prop_assert_eq!(bits(&fast_gemm(&o)), want.clone());
    prop_assert_eq!(bits(&fast_gemm_with(&o, KernelIsa::Portable)), want);
    Ok(())
}

/// The property of `reference_fp32_equals_sequential_sum` for one case.
fn reference_equals_sequential(c: &Case) -> Result<(), TestCaseError> {
    let o = ops(c);
    prop_assert_eq!(bits(&reference_gemm(&o)), bits(&sequential_fp32(&o)));
    Ok(())
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

/// The case the proptest regression file used to pin (as a seed, which regenerates another case
/// once the strategy changes), replayed by value: backward-data, g = 4, X with 11-bit mantissas
/// (nearest) and Y with 8 (truncate), 10 noise bits, fp32 accumulation over 19 rows, Y spanning
/// subnormals to 4e28, X mostly zeros).
#[test]
fn regression_backward_data_wide_range_fp32_truncated_y() {
    #[rustfmt::skip]
    let x = vec![
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        1507.6688, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.394296,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.26005366, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    #[rustfmt::skip]
    let y = vec![
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -9.871e-42, 0.0,
        -0.2303758, -0.067818075, 6.66554e-17, -0.96826905, 0.0, 0.063568145, 0.37154692, 0.8196951, 5.44338e-39,
        -0.6087184, -153225580.0, 0.8718386, 0.31841788, 0.7626848, -0.24381328, 9.482316e-7, -0.7070849,
        -4.61781e-39, 0.27956262, -0.5633067, 0.8148753, 0.0, 0.8330673, 0.60643697, 5.312933e-39, -1.353208e-12,
        0.0, 0.0, 0.36251265, -0.28651944, 3.9113682e27, -0.9649335, -0.77298373, 304573740000.0, 0.35448626,
        6.436982e-39, -6.436824e-39, -0.1861954, -567.8042, -0.3292863, 5.928728e-24, 2.2689608e-6, -0.8833406,
        -0.6704195, -0.9185528, 0.0, 0.14139116, -0.9278393, -0.39848268, -0.12556753, 0.38128167, -0.8967272,
        -0.80362403, 0.36233285, 0.561243, -0.72927874, 0.4143128, -0.12560466, 0.0, 0.0, 0.6232303, 0.65075284,
        -0.81547874, -4.1178173e-5, -0.01272826, -1.1012543e-38, -0.0075947116, 0.0, 0.5461323, 0.9333014,
        -0.39955273, -974.28876, 1.027e-38, 0.0, 0.0, -0.542777, -0.49964738, 56415824.0, -197.74095, 1.652525e-39,
        0.15712754, 2.248543e-9, -5.052763e-39, 0.41259316, -716524860.0, -192173.64, 0.30588508, -0.4678732,
        0.9783561, 0.8571689, 0.8758408, 7.766681e-39, -0.22658044, -0.18252097, -0.62972915, -1.188778e-14,
        0.47246626, 0.7753943, -0.8656266, -3.583704e-10, 0.21798411, -0.016314758, -0.81729853, -94541000.0,
        0.27179268, 0.17113528, -0.9975982, 0.083891235, 0.0, -0.1998128, -0.78439856, 0.0, 12940.408, -0.13923958,
        0.8114522, -0.71877474, -0.32684952, -6.98447e-39, 0.0, -0.8147167, 18.407333, 0.109004684, -0.8856992,
        -0.50883996, -0.59341013, -1.0961845e-11, 0.2672014, -156.36662, -0.21204883, 0.4685276, -0.43003687,
        -0.15294343, 0.0, 0.0, 0.68318367, 1897082200.0, 0.0, -0.7704852, 0.30690616, 0.63785714, 0.6709345,
        0.26910126, -0.6131056, 12.829385, -0.45259, 0.48306766, 0.57589823, -0.43887913, -0.12071667, 0.14080231,
        -0.8347102, -3.5107343e22, -0.006140067, -0.7346196, 0.0, -0.22048607, 0.80578285, -5.306924e-11,
        0.8765315, -0.59205985, -3.380868e-39, -0.7014203, -38873424.0, -0.8006691, -54655463000.0, -8.262421e-39,
        -0.3647034, 0.0, -0.8764593, 0.9006606, 0.0, -0.5445972, -0.3358597, -0.1600397, 0.8917681, -0.43109593,
        -0.19532464, 0.0, 395944330000.0, -0.6389319, 428773870000.0, -0.0673438, 46.48534, 0.1920135,
        -2.295802e-39, -9.562255e-39, 2.13533e-12, -4.6874807e22, 0.18649921, -0.864485, -0.6124908, 0.04297502,
        0.0, 0.7591817, 0.0, -0.7756259, 0.41431808, -0.03891827, -0.8598877, 1.5185829e-12, 0.96609384,
        7.866542e-39, -2.3385569e21, 7.861891e-39, 0.24346282, 0.7174978, -0.6722978, -0.7668458, -0.15278563,
        0.09460223, -0.53015757, -1767094.6, 1.3452755e-27, 0.027839644, -0.9310782, 0.45694983, -0.14395463,
        -216500850.0, 0.20662408, 0.0, 622.86005, -0.4560649, 0.008233828, -0.18232875, 0.0, -0.3954933, 3329.4631,
        -0.18733887, -0.3394684, 65160796.0, 0.0, -5.4423286e18, -0.50380224, 3.520177e-13, -4.205335e-39,
        -3.7841144e-9, -3.5053625, -0.53520024, -834417660.0, 0.9107396, 0.68840146, 8.999781e-30, 0.5081534,
        0.3310289, 0.0, 0.25312543, 0.16465382, 0.0, 0.5821047, -0.06608124, -2.948316e-21, 0.21817787, -1546.5466,
        3.705128e-39, 0.9325071, 0.23871605, -2.1230603e-16, 1017.31757, -0.3574826, 2.845072e-39, -2.3504547e-6,
        3.889541e28, 1.0516505e-11, 1.1008377e-38, -0.90960085, -0.71677864, -23357238.0, 0.53789204, 0.005899012,
        35806252.0, 3.006745e-39, -0.5188466, -1007972.25, 0.0, 0.7119586, 0.413656, 0.4417248, 0.8664155,
        -0.116567835, -0.5444749, 0.16025057, 0.8003607, 0.44918352, -18084634.0, -0.32658216, -0.7029368,
        85.18644, -0.14092126, 0.05454195, 0.0002343579, 0.8530246, 0.42829198, -0.51757723, 0.0, 0.45945057,
        0.1443559, -1.9522633e34, -9.938919e-27, -2.230822e-39, -0.109269276, 0.17134573, 0.14350525, -0.2200756,
        -0.67343706, -62.796185, -2.1090317e-8, 0.0, -0.4372782, -0.77892625, -1.7114689e-6, 1.0095599e-38,
        4.4860153e-12, 0.06824192, 1.1460005e-38, 0.0, 0.32534832, -9.14848e-39, 0.00019390175, 0.0, -5.691587e-39,
        -3.840994e-39, 0.43579724, -0.8582997, 0.43114203,
    ];
    let spec = GemmSpec {
        pass: Pass::BackwardData,
        group: 4,
        exp_bits: 8,
        exp_base: ExpBase::PerTensor,
        x: OperandSpec { mantissa_bits: 11, rounding: Rounding::Nearest },
        y: OperandSpec { mantissa_bits: 8, rounding: Rounding::Truncate },
        accumulator: AccumulatorKind::Fp32,
        lfsr: LfsrParams::new(0xB400, 2706, 10).unwrap(),
    };
    let c = Case { spec, x: (x, 19, 9), y: (y, 19, 18) };
    kernel_equals_reference(&c).unwrap();
    reference_equals_sequential(&c).unwrap();
}
