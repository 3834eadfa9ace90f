//! Baseline cells of DESIGN §5.1 against independent loops written here from the design text:
//! every cell and pass bit for bit on random shapes and wide-range values (indexing the
//! untransposed operands directly), `bf16_round` against an f64 formulation, int8 quantisation
//! and rescale on hand-computed examples, and cases where the fp32 order and rounding matter.

use fastbfp::bfp::BfpError;
use fastbfp::gemm::baseline::{baseline_gemm, bf16_round, int8_quantize, ElementCell};
use fastbfp::gemm::{GemmError, Pass};
use proptest::prelude::*;

// ---------------------------------------------------------------- independent references

/// Operand shapes and output shape of `pass` for output `rows x cols` and reduction `red`.
fn shapes(pass: Pass, rows: usize, red: usize, cols: usize) -> ((usize, usize), (usize, usize)) {
    match pass {
        Pass::Forward => ((rows, red), (red, cols)),
        Pass::BackwardData => ((red, rows), (red, cols)),
        Pass::BackwardWeight => ((rows, red), (cols, red)),
    }
}

/// Row-major indices into X and Y of reduction step `r` of output `(i, j)`.
fn operand_index(pass: Pass, xs: (usize, usize), ys: (usize, usize), i: usize, j: usize, r: usize) -> (usize, usize) {
    match pass {
        // O[n,b] += W[n,k] A[k,b]
        Pass::Forward => (i * xs.1 + r, r * ys.1 + j),
        // dA[k,b] += W[n,k] dO[n,b]
        Pass::BackwardData => (r * xs.1 + i, r * ys.1 + j),
        // dW[n,k] += dO[n,b] A[k,b]
        Pass::BackwardWeight => (i * xs.1 + r, j * ys.1 + r),
    }
}

fn out_dims(pass: Pass, xs: (usize, usize), ys: (usize, usize)) -> (usize, usize, usize) {
    match pass {
        Pass::Forward => (xs.0, xs.1, ys.1),
        Pass::BackwardData => (xs.1, xs.0, ys.1),
        Pass::BackwardWeight => (xs.0, xs.1, ys.0),
    }
}

/// bfloat16 rounding through f64: round |x| to 8 significant bits (never finer than bfloat16's
/// subnormal quantum 2^-133), ties to even, then let the cast to f32 overflow to infinity.
fn bf16_ref(x: f32) -> f32 {
    if x.is_nan() || x.is_infinite() || x == 0.0 {
        return x;
    }
    let d = x as f64; // every f32, subnormals included, is a normal f64
    let e = ((d.to_bits() >> 52) & 0x7FF) as i32 - 1023;
    let qe = e.max(-126) - 7;
    let quantum = f64::from_bits(((qe + 1023) as u64) << 52);
    let n = d.abs() / quantum; // exact: a power-of-two scaling
    let (f, frac) = (n.floor(), n - n.floor());
    let m = if frac > 0.5 || (frac == 0.5 && f % 2.0 != 0.0) { f + 1.0 } else { f };
    ((m * quantum) as f32).copysign(x)
}

/// Round half to even on an f64, written out.
fn round_half_even(v: f64) -> f64 {
    let f = v.floor();
    let d = v - f;
    if d > 0.5 || (d == 0.5 && f % 2.0 != 0.0) {
        f + 1.0
    } else {
        f
    }
}

fn quantize_ref(x: &[f32]) -> (f32, Vec<i64>) {
    let mut m = 0f32;
    for &v in x {
        if v.abs() > m {
            m = v.abs();
        }
    }
    let s = if m == 0.0 { 1.0 } else { m / 127.0 };
    let q = x
        .iter()
        .map(|&v| {
            let t = (v / s) as f64;
            if t.is_nan() {
                0
            } else {
                round_half_even(t.clamp(-127.0, 127.0)) as i64
            }
        })
        .collect();
    (s, q)
}

/// The ten-line loop of DESIGN §5.1/§6, on the untransposed operands.
fn reference(cell: ElementCell, pass: Pass, x: &[f32], xs: (usize, usize), y: &[f32], ys: (usize, usize)) -> Vec<f32> {
    let (rows, red, cols) = out_dims(pass, xs, ys);
    let mut out = Vec::with_capacity(rows * cols);
    match cell {
        ElementCell::Fp32 | ElementCell::Bf16 => {
            let conv = |v: f32| if cell == ElementCell::Bf16 { bf16_ref(v) } else { v };
            for i in 0..rows {
                for j in 0..cols {
                    let mut acc = 0f32;
                    for r in 0..red {
                        let (a, b) = operand_index(pass, xs, ys, i, j, r);
                        let p: f32 = conv(x[a]) * conv(y[b]);
                        acc += p; // fl(acc + p), after fl(x * y) above
                    }
                    out.push(acc);
                }
            }
        }
        ElementCell::Int8 => {
            let ((sx, qx), (sy, qy)) = (quantize_ref(x), quantize_ref(y));
            let s: f32 = sx * sy;
            for i in 0..rows {
                for j in 0..cols {
                    let mut sum = 0i128;
                    for r in 0..red {
                        let (a, b) = operand_index(pass, xs, ys, i, j, r);
                        sum += (qx[a] * qy[b]) as i128;
                    }
                    assert!(sum.abs() < 1 << 53);
                    let fsum = sum as f64 as f32; // exact in f64, then rounded once
                    out.push(s * fsum);
                }
            }
        }
    }
    out
}

fn same_bits(got: &[f32], want: &[f32]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("length {} != {}", got.len(), want.len()));
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if g.to_bits() != w.to_bits() && !(g.is_nan() && w.is_nan()) {
            return Err(format!("element {i}: got {g:e} ({:#010x}), want {w:e} ({:#010x})", g.to_bits(), w.to_bits()));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- random matmuls

fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        6 => -1.0f32..1.0f32,
        3 => (-1.0f32..1.0f32, -40i32..40).prop_map(|(m, e)| m * 2f32.powi(e)),
        1 => Just(0.0f32),
        1 => Just(-0.0f32),
        1 => (1u32..0x7F_FFFF, any::<bool>()).prop_map(|(b, s)| f32::from_bits(b | ((s as u32) << 31))),
        1 => (-1.0f32..1.0f32, -126i32..127).prop_map(|(m, e)| m * 2f32.powi(e)),
        1 => (-8i32..8).prop_map(|i| i as f32 * 0.5),
    ]
}

fn cell() -> impl Strategy<Value = ElementCell> {
    prop::sample::select(ElementCell::ALL.to_vec())
}

fn pass() -> impl Strategy<Value = Pass> {
    prop::sample::select(Pass::ALL.to_vec())
}

#[derive(Debug, Clone)]
struct Case {
    cell: ElementCell,
    pass: Pass,
    x: Vec<f32>,
    xs: (usize, usize),
    y: Vec<f32>,
    ys: (usize, usize),
}

fn case() -> impl Strategy<Value = Case> {
    let dims = prop_oneof![
        1 => Just((1usize, 1usize, 1usize)),
        2 => (1usize..=6, Just(1usize), 1usize..=6),
        8 => (1usize..=9, 1usize..=60, 1usize..=11),
    ];
    (cell(), pass(), dims).prop_flat_map(|(cell, pass, (rows, red, cols))| {
        let (xs, ys) = shapes(pass, rows, red, cols);
        (prop::collection::vec(value(), xs.0 * xs.1), prop::collection::vec(value(), ys.0 * ys.1))
            .prop_map(move |(x, y)| Case { cell, pass, x, xs, y, ys })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn matches_reference_loop(c in case()) {
        let got = baseline_gemm(c.cell, c.pass, &c.x, c.xs, &c.y, c.ys).unwrap();
        let want = reference(c.cell, c.pass, &c.x, c.xs, &c.y, c.ys);
        prop_assert_eq!(same_bits(&got, &want), Ok(()));
    }

    /// Small integers only: every product and partial sum is exact, so all cells agree with
    /// the plain f64 matmul (catches a wrong operand role even where rounding hides it).
    #[test]
    fn exact_on_small_integers(
        cell in cell(), pass in pass(), dims in (1usize..=5, 1usize..=8, 1usize..=5),
        seed in any::<u64>(),
    ) {
        let (rows, red, cols) = dims;
        let (xs, ys) = shapes(pass, rows, red, cols);
        let mut s = seed;
        let mut gen = |n: usize| (0..n).map(|_| (splitmix(&mut s) % 7) as f32 - 3.0).collect::<Vec<_>>();
        let (mut x, mut y) = (gen(xs.0 * xs.1), gen(ys.0 * ys.1));
        // int8 is exact only when both tensors have max |v| = 127 * scale with integer q: use 127.
        if cell == ElementCell::Int8 {
            x.iter_mut().for_each(|v| *v *= 127.0 / 3.0);
            y.iter_mut().for_each(|v| *v *= 127.0 / 3.0);
            x[0] = 127.0;
            y[0] = 127.0;
            x.iter_mut().chain(y.iter_mut()).for_each(|v| *v = v.round());
        }
        let got = baseline_gemm(cell, pass, &x, xs, &y, ys).unwrap();
        for i in 0..rows {
            for j in 0..cols {
                let mut want = 0f64;
                for r in 0..red {
                    let (a, b) = operand_index(pass, xs, ys, i, j, r);
                    want += x[a] as f64 * y[b] as f64;
                }
                prop_assert_eq!(got[i * cols + j] as f64, want, "({}, {})", i, j);
            }
        }
    }

    #[test]
    fn mismatched_reduction_is_a_shape_error(cell in cell(), pass in pass(), d in (1usize..6, 1usize..6, 1usize..6, 1usize..4)) {
        let (rows, red, cols, extra) = d;
        let (xs, mut ys) = shapes(pass, rows, red, cols);
        match pass {
            Pass::BackwardWeight => ys.1 += extra,
            _ => ys.0 += extra,
        }
        let e = baseline_gemm(cell, pass, &vec![1.0; xs.0 * xs.1], xs, &vec![1.0; ys.0 * ys.1], ys).unwrap_err();
        prop_assert!(matches!(e, GemmError::Shape { a, b, .. } if a == red && b == red + extra), "{}", e);
    }
}

fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Wide output rows (several column tiles) and many rows (several threads), every cell and pass.
#[test]
fn large_shapes_match_reference_loop() {
    let mut s = 7u64;
    for (rows, red, cols) in [(13, 37, 1100), (70, 3, 513), (2, 300, 9)] {
        for pass in Pass::ALL {
            let (xs, ys) = shapes(pass, rows, red, cols);
            let mut gen = |n: usize| {
                (0..n)
                    .map(|_| {
                        let r = splitmix(&mut s);
                        let m = (r >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                        m * 2f32.powi((r % 41) as i32 - 20)
                    })
                    .collect::<Vec<_>>()
            };
            let (x, y) = (gen(xs.0 * xs.1), gen(ys.0 * ys.1));
            for cell in ElementCell::ALL {
                let got = baseline_gemm(cell, pass, &x, xs, &y, ys).unwrap();
                let want = reference(cell, pass, &x, xs, &y, ys);
                same_bits(&got, &want).unwrap_or_else(|e| panic!("{cell} {pass} {rows}x{red}x{cols}: {e}"));
            }
        }
    }
}

// ---------------------------------------------------------------- fp32: order and rounding

/// Runs `cell` on a 1 x R x 1 matmul with the given reduction vectors, in every pass.
fn dot(cell: ElementCell, a: &[f32], b: &[f32]) -> f32 {
    let n = a.len();
    let mut got = Pass::ALL.into_iter().map(|pass| {
        let (xs, ys) = shapes(pass, 1, n, 1);
        let out = baseline_gemm(cell, pass, a, xs, b, ys).unwrap();
        assert_eq!(out.len(), 1);
        out[0]
    });
    let first = got.next().unwrap();
    for other in got {
        assert_eq!(other.to_bits(), first.to_bits(), "passes disagree");
    }
    first
}

#[test]
fn fp32_rounds_each_sum_in_increasing_order() {
    let h = 2f32.powi(-24); // half an ulp of 1
                            // Increasing order: 1 + h rounds to 1 (tie to even), twice.
    assert_eq!(dot(ElementCell::Fp32, &[1.0, h, h], &[1.0; 3]), 1.0);
    // Reversed: h + h = 2^-23 is exact, then 1 + 2^-23 is representable.
    assert_eq!(dot(ElementCell::Fp32, &[h, h, 1.0], &[1.0; 3]), 1.0 + 2.0 * h);
    // An f64 (or exact) reference differs.
    let exact = (1.0f64 + 2.0 * h as f64) as f32;
    assert_ne!(exact, 1.0);
    // Cancellation: the -0 from 0 + -0 is +0, so the sign of zero follows fl(0 + v_0).
    assert_eq!(dot(ElementCell::Fp32, &[-0.0], &[1.0]).to_bits(), 0);
    assert_eq!(dot(ElementCell::Fp32, &[-1.0, 1.0], &[1.0, 1.0]).to_bits(), 0);
}

#[test]
fn fp32_rounds_the_product_before_adding() {
    let a = 1.0 + 2f32.powi(-12);
    let c = -(1.0 + 2f32.powi(-11));
    // a * a = 1 + 2^-11 + 2^-24 rounds to 1 + 2^-11 (tie to even), which cancels c exactly.
    let got = dot(ElementCell::Fp32, &[c, a], &[1.0, a]);
    assert_eq!(got.to_bits(), 0);
    // A fused multiply-add, or an f64 dot product, keeps the 2^-24.
    assert_eq!(a.mul_add(a, c), 2f32.powi(-24));
    assert_eq!((c as f64 + a as f64 * a as f64) as f32, 2f32.powi(-24));
}

#[test]
fn fp32_keeps_subnormals_and_overflows() {
    let tiny = f32::from_bits(1);
    assert_eq!(dot(ElementCell::Fp32, &[tiny, tiny], &[1.0, 1.0]).to_bits(), 2);
    // inf + -inf: overflow is not an error, it propagates as binary32 does.
    assert!(dot(ElementCell::Fp32, &[f32::MAX, -f32::MAX], &[2.0, 2.0]).is_nan());
    assert_eq!(dot(ElementCell::Fp32, &[f32::MAX, 1.0], &[2.0, 1.0]), f32::INFINITY);
}

// ---------------------------------------------------------------- bf16

fn check_bf16(bits: u32) {
    let x = f32::from_bits(bits);
    let (got, want) = (bf16_round(x), bf16_ref(x));
    if x.is_nan() {
        assert!(got.is_nan() && got.is_sign_negative() == x.is_sign_negative(), "{bits:#010x}");
    } else {
        assert_eq!(got.to_bits(), want.to_bits(), "{bits:#010x}: got {got:e}, want {want:e}");
        assert_eq!(got.to_bits() & 0xFFFF, 0, "{bits:#010x}: not a bfloat16");
    }
}

#[test]
fn bf16_round_matches_f64_formulation() {
    let mut s = 1u64;
    let n = if cfg!(debug_assertions) { 300_000 } else { 4_000_000 };
    for _ in 0..n {
        check_bf16(splitmix(&mut s) as u32);
    }
    // Every sign and exponent, both parities of the kept LSB, and the low 16 bits at and
    // around the tie.
    for sign_exp in 0..512u32 {
        for high in [0u32, 1, 2, 3, 0x7E, 0x7F] {
            for low in [0u32, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF] {
                check_bf16((sign_exp << 23) | (high << 16) | low);
            }
        }
    }
}

#[test]
fn bf16_round_edges() {
    let cases: [(u32, u32); 12] = [
        (0x3F80_8000, 0x3F80_0000), // 1 + 2^-8: tie, to even (down)
        (0x3F81_8000, 0x3F82_0000), // tie, to even (up)
        (0x3F80_8001, 0x3F81_0000), // just above a tie
        (0x3F80_7FFF, 0x3F80_0000), // just below a tie
        (0x8000_0000, 0x8000_0000), // -0
        (0x7F7F_FFFF, 0x7F80_0000), // max finite f32 -> +inf
        (0xFF7F_FFFF, 0xFF80_0000), // -max -> -inf
        (0x7F7F_7FFF, 0x7F7F_0000), // largest value rounding to the largest finite bfloat16
        (0x0000_0001, 0x0000_0000), // smallest subnormal -> +0
        (0x8001_8000, 0x8002_0000), // subnormal tie, to even (up)
        (0x007F_FFFF, 0x0080_0000), // largest subnormal -> smallest normal
        (0x7F80_0000, 0x7F80_0000), // +inf
    ];
    for (x, want) in cases {
        assert_eq!(bf16_round(f32::from_bits(x)).to_bits(), want, "{x:#010x}");
        assert_eq!(bf16_ref(f32::from_bits(x)).to_bits(), want, "reference, {x:#010x}");
    }
    for nan in [0x7FC0_0000u32, 0xFFC0_0000, 0x7F80_0001, 0x7F80_FFFF, 0xFF80_0001] {
        let r = bf16_round(f32::from_bits(nan));
        assert!(r.is_nan() && r.is_sign_negative() == (nan >> 31 == 1), "{nan:#010x}");
    }
}

/// All 2^32 patterns (about a minute in release): `cargo test --release -- --ignored`.
#[test]
#[ignore]
fn bf16_round_exhaustive() {
    for hi in 0..=0xFFFFu32 {
        for lo in 0..=0xFFFFu32 {
            check_bf16((hi << 16) | lo);
        }
    }
}

#[test]
fn bf16_cell_rounds_inputs_then_sums_in_fp32() {
    // 1 + 2^-8 rounds to 1 in bfloat16; 3 * (1 + 2^-7) is exact in binary32.
    let e = 2f32.powi(-8);
    assert_eq!(dot(ElementCell::Bf16, &[1.0 + e], &[1.0 + e]), 1.0);
    assert_eq!(dot(ElementCell::Fp32, &[1.0 + e], &[1.0 + e]), 1.0 + 2.0 * e + e * e);
    assert_eq!(dot(ElementCell::Bf16, &[1.0 + 2.0 * e; 3], &[1.0; 3]), 3.0 * (1.0 + 2.0 * e));
    // Products of two bfloat16 are exact: (1 + 2^-7)^2 = 1 + 2^-6 + 2^-14 needs 15 bits.
    let b = 1.0 + 2.0 * e;
    assert_eq!(dot(ElementCell::Bf16, &[b], &[b]), 1.0 + 4.0 * e + 4.0 * e * e);
    // The sums are binary32: 256 + (1 + 2^-7) is not a bfloat16 but is kept.
    assert_eq!(dot(ElementCell::Bf16, &[256.0, b], &[1.0, 1.0]), 257.0 + 2.0 * e);
    // A finite input that rounds to a bfloat16 infinity is not an error.
    assert_eq!(dot(ElementCell::Bf16, &[f32::MAX], &[1.0]), f32::INFINITY);
}

// ---------------------------------------------------------------- int8

#[test]
fn int8_quantize_hand_examples() {
    // All zeros: scale 1.
    let t = int8_quantize(&[0.0, -0.0]);
    assert_eq!((t.scale, t.q), (1.0, vec![0, 0]));
    // Scale 1: ties to even, both signs.
    let t = int8_quantize(&[-127.0, 2.5, 3.5, -2.5, -3.5, 0.5, 1.5, 126.5, 0.49]);
    assert_eq!((t.scale, t.q), (1.0, vec![-127, 2, 4, -2, -4, 0, 2, 126, 0]));
    // Scale 2: x / s = 2.5 -> 2, 7.5 -> 8.
    let t = int8_quantize(&[254.0, 5.0, 15.0, -5.0]);
    assert_eq!((t.scale, t.q), (2.0, vec![127, 2, 8, -2]));
    // The scale is fl(max / 127) in binary32, and x / s is rounded to binary32 before the
    // integer rounding.
    let t = int8_quantize(&[1.0, 0.5, -0.25]);
    assert_eq!(t.scale, 1.0f32 / 127.0);
    assert_eq!(t.q, vec![127, 64, -32]); // 0.5 / s = 63.5 (in binary32): tie to even 64
    assert_eq!(0.5f32 / (1.0f32 / 127.0), 63.5);
    // Clamping: with a subnormal maximum the scale rounds down to 2^-149 and 190 * 2^-149 / s = 190.
    let tiny = f32::from_bits(1);
    let t = int8_quantize(&[190.0 * tiny, -190.0 * tiny, 60.0 * tiny]);
    assert_eq!((t.scale, t.q), (tiny, vec![127, -127, 60]));
}

#[test]
fn int8_sum_is_exact_then_rounded_once_to_binary32() {
    // All q = 127: the integer sum 16129 R exceeds 2^24, where a binary32 sum could not hold it.
    let r = 1041;
    let x = vec![1.0f32; r];
    let y = vec![1.0f32; r];
    let s = 1.0f32 / 127.0;
    let sum = 16129 * r as i64; // odd and above 2^24: fl(sum) rounds
    assert!(sum > 1 << 24 && sum % 2 == 1);
    let want = (s * s) * (sum as f32);
    assert_eq!(dot(ElementCell::Int8, &x, &y).to_bits(), want.to_bits());
}

#[test]
fn int8_rescale_order() {
    // fl(fl(s_x * s_y) * fl(sum)), with s_x = fl(0.37 / 127), s_y = fl(10.17 / 127), sum = 16129 R.
    let (a, b, r) = (0.37f32, 10.17f32, 1041usize);
    let (sx, sy) = (a / 127.0, b / 127.0);
    let sum = 16129 * r as i64;
    let want = (sx * sy) * (sum as f32);
    let got = dot(ElementCell::Int8, &vec![a; r], &vec![b; r]);
    assert_eq!(got.to_bits(), want.to_bits());
    // Each other order or precision gives different bits here.
    assert_ne!(got, sx * (sy * (sum as f32)), "s_y applied first");
    assert_ne!(got, ((sx as f64) * (sy as f64) * (sum as f64)) as f32, "rescale in f64");
    assert_ne!(got, ((sx * sy) as f64 * sum as f64) as f32, "fl(sum) skipped");
    // And with a one-element reduction (sum exact), the order of the two scales still shows.
    let (a, b) = (0.37f32, 5.0f32 * 1.13);
    let (sx, sy) = (a / 127.0, b / 127.0);
    let got = dot(ElementCell::Int8, &[a], &[b]);
    assert_eq!(got, (sx * sy) * 16129.0);
    assert_ne!(got, sx * (sy * 16129.0));
    assert_ne!(got, (sx as f64 * sy as f64 * 16129.0) as f32);
}

/// `i64 as f32` (used for fl(sum)) rounds to the nearest binary32, ties to even: checked with
/// exact i128 arithmetic against both neighbours.
#[test]
fn i64_to_f32_is_round_to_nearest_even() {
    let check = |n: i64| {
        let f = n as f32;
        let d = |g: f32| ((g as i128) - n as i128).abs();
        let (up, down) = (f.next_up(), f.next_down());
        let e = d(f);
        assert!(e <= d(up) && e <= d(down), "{n}: {f:e} not nearest");
        if e == d(up) || e == d(down) {
            assert_eq!(f.to_bits() & 1, 0, "{n}: tie not to even");
        }
    };
    let two24 = 1i64 << 24;
    for n in [0, 1, -1, two24 + 1, two24 + 3, -(two24 + 1), -(two24 + 3), (1 << 40) + (1 << 16), (1 << 40) + (3 << 16)]
    {
        check(n);
    }
    assert_eq!((two24 + 1) as f32, two24 as f32);
    assert_eq!((two24 + 3) as f32, (two24 + 4) as f32);
    let mut s = 3u64;
    for _ in 0..200_000 {
        let v = splitmix(&mut s);
        check((v as i64) >> (v % 40)); // a range of magnitudes
    }
}

#[test]
fn non_finite_inputs_are_errors() {
    for cell in ElementCell::ALL {
        for pass in Pass::ALL {
            let (xs, ys) = shapes(pass, 2, 3, 2);
            let mut x = vec![1.0; 6];
            x[4] = f32::INFINITY;
            let e = baseline_gemm(cell, pass, &x, xs, &[1.0; 6], ys).unwrap_err();
            let [xn, yn, _] = pass.operand_names();
            let want = BfpError::NonFinite { tensor: xn.into(), index: 4, row: 4 / xs.1, col: 4 % xs.1, what: "+inf" };
            assert_eq!(e, GemmError::Bfp(want));
            let mut y = vec![1.0; 6];
            y[0] = f32::NAN;
            let e = baseline_gemm(cell, pass, &[1.0; 6], xs, &y, ys).unwrap_err();
            let want = BfpError::NonFinite { tensor: yn.into(), index: 0, row: 0, col: 0, what: "NaN" };
            assert_eq!(e, GemmError::Bfp(want));
        }
    }
}
