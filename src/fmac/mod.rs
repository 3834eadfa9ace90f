//! The fMAC cell's datapath (DESIGN §5): the dot product of a stationary BFP group with a
//! streaming one, one 2-bit x 2-bit chunk pass per cycle, the exponent adder once per group
//! pair, and the partial-sum accumulators (`fp32` and `exact`).
//!
//! No arrays and no time here: the array model calls these per cycle.

mod accum;

pub use accum::{Accumulator, AccumulatorKind, Kulisch};

use crate::bfp::BfpFormat;

/// One operand group as the cell sees it.
#[derive(Debug, Clone, Copy)]
pub struct GroupOperand<'a> {
    /// Shared exponent `E`.
    pub exp: i32,
    /// Signed mantissas `(-1)^s M`, `g` of them.
    pub mants: &'a [i32],
    /// The operand's format (gives `m` and the chunk count).
    pub format: BfpFormat,
}

impl GroupOperand<'_> {
    /// Chunk planes `c = ceil(m / 2)`.
    pub fn chunks(&self) -> u32 {
        self.format.chunks()
    }
    /// Signed 2-bit chunk of plane `j` (0 = most significant) of element `i`: the sign bit
    /// travels with every chunk, as in the 3-bit storage field.
    #[inline]
    pub fn signed_chunk(&self, i: usize, j: u32) -> i32 {
        let m = self.mants[i];
        let pad = self.format.padded_mantissa_bits() - self.format.mantissa_bits();
        let mag = m.unsigned_abs() << pad;
        let c = (mag >> (2 * (self.chunks() - 1 - j))) & 3;
        if m < 0 {
            -(c as i32)
        } else {
            c as i32
        }
    }
}

/// One cycle's work: `g` lanes multiply signed 2-bit chunks (sign = `s_S xor s_T`, carried
/// by the signed chunk values) and the adder tree sums the products.
#[inline]
pub fn chunk_pass(s: &GroupOperand, j: u32, t: &GroupOperand, k: u32) -> i64 {
    (0..s.mants.len()).map(|i| (s.signed_chunk(i, j) * t.signed_chunk(i, k)) as i64).sum()
}

/// The adder tree of one chunk pass on pre-split planes: `sum_i s_i * t_i` over the `g`
/// lanes, each operand a signed 2-bit chunk (`-3..=3`, the sign bit applied).
#[inline]
pub fn chunk_dot(s_plane: &[i8], t_plane: &[i8]) -> i32 {
    s_plane.iter().zip(t_plane).map(|(&a, &b)| a as i32 * b as i32).sum()
}

/// Left shift applied to chunk pass `(j, k)` of a `c_s x c_t` group pair:
/// `2 ((c_s - 1 - j) + (c_t - 1 - k))`.
#[inline]
pub fn pass_shift(cs: u32, ct: u32, j: u32, k: u32) -> u32 {
    2 * ((cs - 1 - j) + (ct - 1 - k))
}

/// Splits a group's signed mantissas into `c` planes of signed 2-bit chunks (plane 0 most
/// significant), laid out plane-major: `out[j * g + i]`.
pub fn split_planes(op: &GroupOperand, out: &mut [i8]) {
    let g = op.mants.len();
    for j in 0..op.chunks() {
        for i in 0..g {
            out[j as usize * g + i] = op.signed_chunk(i, j) as i8;
        }
    }
}

/// The exponent adder: weight of a group product's unit,
/// `E_S + E_T - (m'_s - 1) - (m'_t - 1)`.
#[inline]
pub fn product_exp(s_exp: i32, s_fmt: BfpFormat, t_exp: i32, t_fmt: BfpFormat) -> i32 {
    s_exp + t_exp - (s_fmt.padded_mantissa_bits() as i32 - 1) - (t_fmt.padded_mantissa_bits() as i32 - 1)
}

/// The result of one group pair: `P * 2^exp`, and the chunk passes (cycles) it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupProduct {
    /// Exact signed integer dot product of the mantissas.
    pub p: i64,
    /// Weight of `P`'s unit: `E_S + E_T - (m'_s - 1) - (m'_t - 1)`.
    pub exp: i32,
    /// Chunk passes spent, `c_s * c_t`.
    pub passes: u32,
}

/// The group product register after all chunk passes, in the normative order: streaming
/// plane outer, stationary plane inner, both most significant first. Each pass's sum is
/// shifted left by `2 ((c_s - 1 - j) + (c_t - 1 - k))`.
pub fn group_product(stationary: &GroupOperand, streaming: &GroupOperand) -> GroupProduct {
    debug_assert_eq!(stationary.mants.len(), streaming.mants.len());
    let (cs, ct) = (stationary.chunks(), streaming.chunks());
    let mut product_reg: i64 = 0;
    for k in 0..ct {
        for j in 0..cs {
            let sum = chunk_pass(stationary, j, streaming, k);
            product_reg += sum << pass_shift(cs, ct, j, k);
        }
    }
    // The exponent adder, once per group pair.
    let exp = product_exp(stationary.exp, stationary.format, streaming.exp, streaming.format);
    GroupProduct { p: product_reg, exp, passes: cs * ct }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(a: &[i32], b: &[i32]) -> i64 {
        a.iter().zip(b).map(|(&x, &y)| x as i64 * y as i64).sum()
    }

    #[test]
    fn chunk_passes_equal_integer_dot_product_exhaustively() {
        // g = 1 and g = 2, every signed magnitude pair for m_s, m_t in 1..=8 (g = 2 on a
        // stride so the sweep stays quick; g = 1 covers every single pair exhaustively).
        for ms in 1..=8u32 {
            for mt in 1..=8u32 {
                let fs = BfpFormat::new(1, ms, 8).unwrap();
                let ft = BfpFormat::new(1, mt, 8).unwrap();
                let (hs, ht) = ((1i32 << ms) - 1, (1i32 << mt) - 1);
                for a in -hs..=hs {
                    for b in -ht..=ht {
                        let s = GroupOperand { exp: 0, mants: &[a], format: fs };
                        let t = GroupOperand { exp: 0, mants: &[b], format: ft };
                        let gp = group_product(&s, &t);
                        let scale = (ms & 1) + (mt & 1); // odd widths are padded by one bit
                        assert_eq!(gp.p, (a as i64 * b as i64) << scale, "ms {ms} mt {mt} a {a} b {b}");
                        assert_eq!(gp.passes, fs.chunks() * ft.chunks());
                    }
                }
            }
        }
    }

    #[test]
    fn chunk_passes_equal_dot_product_for_every_pair_of_two_lane_groups() {
        // g = 2, every sign/magnitude combination of both lanes of both operands, m in 1..=3.
        for ms in 1..=3u32 {
            for mt in 1..=3u32 {
                let fs = BfpFormat::new(2, ms, 8).unwrap();
                let ft = BfpFormat::new(2, mt, 8).unwrap();
                let (hs, ht) = ((1i32 << ms) - 1, (1i32 << mt) - 1);
                for a0 in -hs..=hs {
                    for a1 in -hs..=hs {
                        for b0 in -ht..=ht {
                            for b1 in -ht..=ht {
                                let (sa, tb) = ([a0, a1], [b0, b1]);
                                let s = GroupOperand { exp: 0, mants: &sa, format: fs };
                                let t = GroupOperand { exp: 0, mants: &tb, format: ft };
                                assert_eq!(group_product(&s, &t).p, dot(&sa, &tb) << ((ms & 1) + (mt & 1)));
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn chunk_passes_equal_dot_product_for_pairs_of_lanes() {
        for ms in 1..=8u32 {
            for mt in [ms, 9 - ms] {
                let fs = BfpFormat::new(2, ms, 8).unwrap();
                let ft = BfpFormat::new(2, mt, 8).unwrap();
                let (hs, ht) = ((1i32 << ms) - 1, (1i32 << mt) - 1);
                let step_s = (hs / 7).max(1) as usize;
                let step_t = (ht / 7).max(1) as usize;
                for a0 in (-hs..=hs).step_by(step_s) {
                    for a1 in (-hs..=hs).step_by(step_s) {
                        for b0 in (-ht..=ht).step_by(step_t) {
                            for b1 in (-ht..=ht).step_by(step_t) {
                                let (sa, tb) = ([a0, a1], [b0, b1]);
                                let s = GroupOperand { exp: 3, mants: &sa, format: fs };
                                let t = GroupOperand { exp: -2, mants: &tb, format: ft };
                                let gp = group_product(&s, &t);
                                let scale = (ms & 1) + (mt & 1);
                                assert_eq!(gp.p, dot(&sa, &tb) << scale);
                                // value P * 2^exp equals sum of element values
                                let want: f64 = sa
                                    .iter()
                                    .zip(&tb)
                                    .map(|(&x, &y)| {
                                        x as f64
                                            * 2f64.powi(3 - (ms as i32 - 1))
                                            * y as f64
                                            * 2f64.powi(-2 - (mt as i32 - 1))
                                    })
                                    .sum();
                                assert_eq!(gp.p as f64 * 2f64.powi(gp.exp), want);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn variable_precision_pass_counts() {
        let f2 = BfpFormat::new(16, 2, 8).unwrap();
        let f4 = BfpFormat::new(16, 4, 8).unwrap();
        let z = [0i32; 16];
        let a = GroupOperand { exp: 0, mants: &z, format: f2 };
        let b = GroupOperand { exp: 0, mants: &z, format: f4 };
        assert_eq!(group_product(&a, &a).passes, 1);
        assert_eq!(group_product(&a, &b).passes, 2);
        assert_eq!(group_product(&b, &b).passes, 4);
    }
}
