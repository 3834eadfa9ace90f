//! Element-wise baseline cells (DESIGN §5.1): the three training matmuls of §6 in plain
//! binary32, in bfloat16 with binary32 accumulation, and in per-tensor symmetric int8 with
//! exact integer sums, so that the BFP archs can be compared with them like for like.
//!
//! Every output element of the `fp32` and `bf16` cells is the sequential binary32 sum of its
//! products in increasing reduction index, `acc = fl(acc + fl(x * y))` starting from `+0`: the
//! product is rounded to binary32 before the addition (no fused multiply-add; Rust never
//! contracts `a * b + c` on `f32` unless `mul_add` is called, and this module never calls it).
//! The `int8` cell sums exact integers, so its order is immaterial, and rescales once.
//!
//! The kernel loops output row `u`, reduction index `r`, output column `v` (innermost, over a
//! contiguous row of Y laid out `[r][v]`), so each output still receives its products one at a
//! time in increasing `r` while the inner loop runs over independent outputs. On AVX-512 CPUs
//! blocks of 8 x 32 outputs keep their accumulators in registers over the whole reduction
//! instead (`baseline_simd.rs`: same order, same bits). Rows are spread over threads with
//! rayon; the bits never depend on the thread count.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{output_shape, GemmError, Pass};
use crate::bfp::BfpError;

/// An element-wise baseline cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElementCell {
    /// Products and sums in IEEE binary32, round to nearest even.
    Fp32,
    /// Inputs rounded to bfloat16 (nearest even), products and sums in binary32.
    Bf16,
    /// Per-tensor symmetric int8 inputs, exact integer sums, one binary32 rescale.
    Int8,
}

impl ElementCell {
    /// All baseline cells.
    pub const ALL: [ElementCell; 3] = [ElementCell::Fp32, ElementCell::Bf16, ElementCell::Int8];
    /// The name used on the command line and in files (the serde name).
    pub fn name(self) -> &'static str {
        match self {
            ElementCell::Fp32 => "fp32",
            ElementCell::Bf16 => "bf16",
            ElementCell::Int8 => "int8",
        }
    }
}

impl std::fmt::Display for ElementCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ElementCell {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ElementCell::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("unknown baseline cell '{s}': allowed fp32, bf16, int8"))
    }
}

/// Rounds `x` to the nearest bfloat16 (8 significant bits, binary32's exponent range, ties to
/// even) and returns it as an `f32`. Subnormals round on bfloat16's subnormal grid (multiples
/// of 2^-133), `-0` stays `-0`, values at or beyond the midpoint between the largest finite
/// bfloat16 and 2^128 become infinities, infinities stay, and a NaN stays a (quiet) NaN with
/// its sign.
pub fn bf16_round(x: f32) -> f32 {
    let bits = x.to_bits();
    if x.is_nan() {
        // Truncating could clear every payload bit and make an infinity: force the quiet bit.
        return f32::from_bits((bits & 0xFFFF_0000) | 0x0040_0000);
    }
    // Adding 0x7FFF plus the kept LSB rounds the low 16 bits to nearest even; a carry into the
    // exponent is exactly the rounding up to the next binade (or to infinity).
    let lsb = (bits >> 16) & 1;
    f32::from_bits(bits.wrapping_add(0x7FFF + lsb) & 0xFFFF_0000)
}

/// A tensor quantised to int8 with one symmetric per-tensor scale: element `i` stands for
/// `scale * q[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Int8Tensor {
    /// The scale `s = fl(max|x| / 127)` (1 for an all-zero or empty tensor).
    pub scale: f32,
    /// The quantised values, in `-127..=127`, in the input's order.
    pub q: Vec<i8>,
}

/// Quantises `x` as DESIGN §5.1 says: `s = fl(max|x| / 127)` (1 when every element is zero),
/// `q = clamp(round_half_even(fl(x / s)), -127, 127)`, all in binary32.
///
/// Inputs must be finite ([`baseline_gemm`] checks this first). When `max|x|` is so small that
/// `s` underflows to 0, `x / s` is an infinity for a non-zero `x` (so `q = ±127`) and NaN for a
/// zero one, which is taken as `q = 0`; any product with such a scale is 0 anyway.
pub fn int8_quantize(x: &[f32]) -> Int8Tensor {
    let max = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    let scale = if max == 0.0 { 1.0 } else { max / 127.0 };
    let q = x
        .iter()
        .map(|&v| {
            let t = (v / scale).round_ties_even();
            if t.is_nan() {
                0
            } else {
                t.clamp(-127.0, 127.0) as i8
            }
        })
        .collect();
    Int8Tensor { scale, q }
}

/// Row-major output of `pass` on row-major X `[xr, xc]` and Y `[yr, yc]` for an element-wise
/// baseline cell (DESIGN §5.1, operand roles and reduction order of §6).
///
/// Errors: shapes that do not fit the pass ([`GemmError::Shape`]), an empty operand or one whose
/// length does not match its shape ([`BfpError::Empty`], [`BfpError::ShapeData`], as the BFP
/// converter reports them), and a NaN or infinite input ([`BfpError::NonFinite`]), naming the
/// operand by its role (`W[N,K]`, ...). Overflow inside the computation is not an error: it
/// gives infinities or NaNs as binary32 arithmetic does (e.g. a finite input that rounds to a
/// bfloat16 infinity, or an int8 scale product that overflows).
pub fn baseline_gemm(
    cell: ElementCell,
    pass: Pass,
    x: &[f32],
    xs: (usize, usize),
    y: &[f32],
    ys: (usize, usize),
) -> Result<Vec<f32>, GemmError> {
    let (rows, cols) = output_shape(pass, xs, ys)?;
    let [xn, yn, _] = pass.operand_names();
    check_operand(xn, x, xs)?;
    check_operand(yn, y, ys)?;
    let red = match pass {
        Pass::Forward | Pass::BackwardWeight => xs.1,
        Pass::BackwardData => xs.0,
    };
    // X as [u][r] (lane-major over the reduction), Y as [r][v].
    let x_lanes = |data: Vec<f32>| match pass {
        Pass::Forward | Pass::BackwardWeight => data,
        Pass::BackwardData => transpose(&data, xs.0, xs.1),
    };
    let y_rows = |data: Vec<f32>| match pass {
        Pass::Forward | Pass::BackwardData => data,
        Pass::BackwardWeight => transpose(&data, ys.0, ys.1),
    };
    let out = match cell {
        ElementCell::Fp32 => float_kernel(&x_lanes(x.to_vec()), &y_rows(y.to_vec()), rows, red, cols),
        ElementCell::Bf16 => {
            let round = |d: &[f32]| d.iter().map(|&v| bf16_round(v)).collect::<Vec<_>>();
            float_kernel(&x_lanes(round(x)), &y_rows(round(y)), rows, red, cols)
        }
        ElementCell::Int8 => {
            let (qx, qy) = (int8_quantize(x), int8_quantize(y));
            let xl = match pass {
                Pass::Forward | Pass::BackwardWeight => qx.q,
                Pass::BackwardData => transpose(&qx.q, xs.0, xs.1),
            };
            let yl = match pass {
                Pass::Forward | Pass::BackwardData => qy.q,
                Pass::BackwardWeight => transpose(&qy.q, ys.0, ys.1),
            };
            let s = qx.scale * qy.scale;
            // `i64 as f32` rounds to the nearest binary32, ties to even.
            int_kernel(&xl, &yl, rows, red, cols).into_iter().map(|sum| s * sum as f32).collect()
        }
    };
    Ok(out)
}

/// Refuses a length that does not match the shape, an empty shape and non-finite values.
fn check_operand(name: &str, data: &[f32], (rows, cols): (usize, usize)) -> Result<(), BfpError> {
    if rows == 0 || cols == 0 {
        return Err(BfpError::Empty { tensor: name.to_string(), rows, cols });
    }
    if rows.checked_mul(cols) != Some(data.len()) {
        return Err(BfpError::ShapeData { tensor: name.to_string(), rows, cols, len: data.len() });
    }
    if let Some((index, &v)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        let what = if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "+inf"
        } else {
            "-inf"
        };
        return Err(BfpError::NonFinite {
            tensor: name.to_string(),
            index,
            row: index / cols,
            col: index % cols,
            what,
        });
    }
    Ok(())
}

fn transpose<T: Copy + Default>(a: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut t = vec![T::default(); rows * cols];
    for (r, row) in a.chunks_exact(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            t[c * rows + r] = v;
        }
    }
    t
}

/// Output columns per tile: a tile of accumulators stays in L1 while the reduction runs.
const TILE: usize = 512;

/// `out[u][v] = fl(...fl(fl(0 + fl(x[u][0] y[0][v])) + fl(x[u][1] y[1][v])) ...)`, unfused.
/// Blocks of `RU` rows go through the AVX-512 register tile ([`super::baseline_simd`], same
/// bits) when the CPU has it; the rest of each row through the loop below.
fn float_kernel(xl: &[f32], yr: &[f32], rows: usize, red: usize, cols: usize) -> Vec<f32> {
    use super::baseline_simd::{available, block, RU};
    let mut out = vec![0f32; rows * cols];
    let simd = available() && cols > 0;
    out.par_chunks_mut(RU * cols.max(1)).enumerate().for_each(|(b, chunk)| {
        let u0 = b * RU;
        let done = if simd && chunk.len() == RU * cols {
            // SAFETY: `available()` checked the CPU; the block's rows are inside `xl`, `yr` is
            // `red x cols`, `chunk` is `RU` output rows.
            unsafe { block(xl, yr, u0, red, cols, chunk) }
        } else {
            0
        };
        for (t, orow) in chunk.chunks_mut(cols).enumerate() {
            float_row(&xl[(u0 + t) * red..(u0 + t + 1) * red], yr, cols, done, orow);
        }
    });
    out
}

/// Columns `from..` of one output row.
fn float_row(xrow: &[f32], yr: &[f32], cols: usize, from: usize, orow: &mut [f32]) {
    for (t, acc) in orow[from..].chunks_mut(TILE).enumerate() {
        let v0 = from + t * TILE;
        for (r, &a) in xrow.iter().enumerate() {
            let yrow = &yr[r * cols + v0..r * cols + v0 + acc.len()];
            for (o, &b) in acc.iter_mut().zip(yrow) {
                // Two roundings: the product, then the sum. Never `mul_add`.
                let p = a * b;
                *o += p;
            }
        }
    }
}

/// Exact integer dot products `sum_r x[u][r] y[r][v]`.
fn int_kernel(xl: &[i8], yr: &[i8], rows: usize, red: usize, cols: usize) -> Vec<i64> {
    let mut out = vec![0i64; rows * cols];
    out.par_chunks_mut(cols).enumerate().for_each(|(u, orow)| {
        let xrow = &xl[u * red..(u + 1) * red];
        for (t, acc) in orow.chunks_mut(TILE).enumerate() {
            let v0 = t * TILE;
            for (r, &a) in xrow.iter().enumerate() {
                let yrow = &yr[r * cols + v0..r * cols + v0 + acc.len()];
                for (o, &b) in acc.iter_mut().zip(yrow) {
                    *o += i64::from(i16::from(a) * i16::from(b));
                }
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bf16_round_edges() {
        let b = |x: f32| bf16_round(x).to_bits();
        assert_eq!(b(1.0), 1f32.to_bits());
        // 1 + 2^-8 is the midpoint between 1 and 1 + 2^-7: ties to even (1).
        assert_eq!(b(1.0 + 2f32.powi(-8)), 1f32.to_bits());
        // 1 + 3 * 2^-8 is the midpoint between 1 + 2^-7 and 1 + 2^-6: ties to even (1 + 2^-6).
        assert_eq!(b(1.0 + 3.0 * 2f32.powi(-8)), (1.0 + 2f32.powi(-6)).to_bits());
        // Just above a tie rounds up.
        assert_eq!(b(f32::from_bits(0x3F80_8001)), 0x3F81_0000);
        assert_eq!(b(-0.0), 0x8000_0000);
        assert_eq!(b(f32::MAX), f32::INFINITY.to_bits());
        assert_eq!(b(-f32::MAX), f32::NEG_INFINITY.to_bits());
        // The largest finite bfloat16, and the largest value that still rounds to it.
        assert_eq!(b(f32::from_bits(0x7F7F_7FFF)), 0x7F7F_0000);
        assert_eq!(b(f32::from_bits(0x7F7F_8000)), 0x7F80_0000);
        assert_eq!(b(f32::INFINITY), f32::INFINITY.to_bits());
        // Subnormals: the smallest one rounds to 0, a tie at 2^-134 to even (0), 3 * 2^-134 up.
        assert_eq!(b(f32::from_bits(1)), 0);
        assert_eq!(b(f32::from_bits(0x8000)), 0);
        assert_eq!(b(f32::from_bits(0x1_8000)), 0x2_0000);
        // The largest subnormal rounds to the smallest normal.
        assert_eq!(b(f32::from_bits(0x007F_FFFF)), 0x0080_0000);
        for nan in [f32::NAN, -f32::NAN, f32::from_bits(0x7F80_0001), f32::from_bits(0xFF80_0001)] {
            let r = bf16_round(nan);
            assert!(r.is_nan());
            assert_eq!(r.is_sign_negative(), nan.is_sign_negative());
        }
    }

    #[test]
    fn int8_quantize_small() {
        let t = int8_quantize(&[0.0, -0.0, 0.0]);
        assert_eq!(t, Int8Tensor { scale: 1.0, q: vec![0, 0, 0] });
        let t = int8_quantize(&[127.0, 2.5, -2.5, 3.5, 0.5, -0.5, 1.5, -126.5]);
        assert_eq!(t.scale, 1.0);
        assert_eq!(t.q, vec![127, 2, -2, 4, 0, 0, 2, -126]);
        // Clamping: a subnormal maximum whose scale rounds down to 2^-149.
        let tiny = f32::from_bits(1);
        let t = int8_quantize(&[190.0 * tiny, -190.0 * tiny, tiny]);
        assert_eq!(t.scale, tiny);
        assert_eq!(t.q, vec![127, -127, 1]);
        // A scale that underflows to 0.
        let t = int8_quantize(&[tiny, 0.0, -tiny]);
        assert_eq!(t.scale, 0.0);
        assert_eq!(t.q, vec![127, 0, -127]);
        assert_eq!(int8_quantize(&[]), Int8Tensor { scale: 1.0, q: vec![] });
    }

    #[test]
    fn names_round_trip() {
        for c in ElementCell::ALL {
            assert_eq!(c.name().parse::<ElementCell>().unwrap(), c);
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
        assert!("fp16".parse::<ElementCell>().is_err());
    }

    #[test]
    fn errors() {
        let e = baseline_gemm(ElementCell::Fp32, Pass::Forward, &[1.0; 6], (2, 3), &[1.0; 8], (4, 2)).unwrap_err();
        assert!(matches!(e, GemmError::Shape { a: 3, b: 4, .. }), "{e}");
        let e = baseline_gemm(ElementCell::Bf16, Pass::Forward, &[1.0; 5], (2, 3), &[1.0; 6], (3, 2)).unwrap_err();
        assert!(matches!(e, GemmError::Bfp(BfpError::ShapeData { len: 5, .. })), "{e}");
        let e = baseline_gemm(ElementCell::Int8, Pass::Forward, &[], (0, 3), &[1.0; 6], (3, 2)).unwrap_err();
        assert!(matches!(e, GemmError::Bfp(BfpError::Empty { .. })), "{e}");
        let mut y = vec![1.0; 6];
        y[5] = f32::NEG_INFINITY;
        let e = baseline_gemm(ElementCell::Int8, Pass::BackwardData, &[1.0; 6], (3, 2), &y, (3, 2)).unwrap_err();
        let want = BfpError::NonFinite { tensor: "dO[N,B]".into(), index: 5, row: 2, col: 1, what: "-inf" };
        assert_eq!(e, GemmError::Bfp(want));
        let mut x = vec![1.0; 6];
        x[1] = f32::NAN;
        let e = baseline_gemm(ElementCell::Fp32, Pass::BackwardWeight, &x, (2, 3), &[1.0; 3], (1, 3)).unwrap_err();
        assert!(e.to_string().contains("dO[N,B]: element 1 (row 0, column 1) is NaN"), "{e}");
    }

    #[test]
    fn register_tiles_keep_each_outputs_order() {
        // Shapes around the 8 x 32 tile; values over a wide range so any reordering shows.
        let mut s = 0x2545_F491u32;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            f32::from_bits((s & 0x807F_FFFF) | ((100 + s % 56) << 23))
        };
        for (rows, red, cols) in [(8, 5, 32), (17, 40, 70), (3, 9, 31), (24, 130, 96)] {
            let x: Vec<f32> = (0..rows * red).map(|_| next()).collect();
            let y: Vec<f32> = (0..red * cols).map(|_| next()).collect();
            let got = float_kernel(&x, &y, rows, red, cols);
            for u in 0..rows {
                for v in 0..cols {
                    let mut acc = 0f32;
                    for r in 0..red {
                        let p = x[u * red + r] * y[r * cols + v];
                        acc += p;
                    }
                    assert_eq!(got[u * cols + v].to_bits(), acc.to_bits(), "{rows}x{red}x{cols} at ({u}, {v})");
                }
            }
        }
    }

    #[test]
    fn fp32_is_unfused() {
        // -(1 + 2^-11) + fl((1 + 2^-12)^2) = 0, while the fused sum keeps the 2^-24 tail.
        let (a, c) = (1.0 + 2f32.powi(-12), -(1.0 + 2f32.powi(-11)));
        let got = baseline_gemm(ElementCell::Fp32, Pass::Forward, &[c, a], (1, 2), &[1.0, a], (2, 1)).unwrap();
        assert_eq!(got[0].to_bits(), 0);
        assert_eq!(a.mul_add(a, c), 2f32.powi(-24));
    }
}
