//! The fast exact kernel: the same bits as the reference loop, at matmul speed.
//!
//! Operands are converted once, then repacked as 16-bit mantissas: X row-major per group,
//! Y interleaved in pairs across a block of 16 output columns, so one instruction computes
//! two multiply-adds for 16 outputs at once (AVX-512 VNNI `vpdpwssd` when the machine has
//! it, a portable loop otherwise). Group products are scaled by an exact power of two in f64,
//! rounded once to binary32 and added in binary32 in increasing group order, per output
//! (`fp32`); or summed exactly in i128 with a Kulisch fallback (`exact`). Rayon splits the
//! output rows into tiles. Formats that do not fit 16-bit lanes use a scalar exact path.

use rayon::prelude::*;

use super::GemmOperands;
use crate::bfp::softfloat::{pow2_f64, round_scaled_to_f32};
use crate::fmac::{Accumulator, AccumulatorKind, Kulisch};

/// Output columns per block (one 512-bit vector of i32).
pub(super) const VB: usize = 16;
/// Output rows per register tile.
const TU: usize = 4;
/// Output rows per parallel task.
const ROWS_PER_TASK: usize = 32;

/// Which instruction set the fast kernel may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelIsa {
    /// The widest this CPU supports (AVX-512 VNNI, else portable).
    Auto,
    /// Portable Rust only (what a machine without AVX-512 runs; used to test that path).
    Portable,
}

/// Row-major output `[rows, cols]`, bit-identical to [`super::reference_gemm`].
pub fn fast_gemm(ops: &GemmOperands) -> Vec<f32> {
    fast_gemm_with(ops, KernelIsa::Auto)
}

/// [`fast_gemm`] restricted to an instruction set.
pub fn fast_gemm_with(ops: &GemmOperands, isa: KernelIsa) -> Vec<f32> {
    match Packed::new(ops) {
        Some(p) => p.run(ops.spec.accumulator, isa),
        None => scalar_gemm(ops),
    }
}

/// Operands repacked for the 16-bit kernel.
pub(super) struct Packed {
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) groups: usize,
    /// Group size rounded up to even (pairs of lanes).
    pub(super) g2: usize,
    pub(super) vblocks: usize,
    /// X mantissas `[u][q][g2]`.
    pub(super) xm: Vec<i16>,
    /// X exponents `[u][q]`.
    pub(super) ex: Vec<i32>,
    /// Y mantissas `[vb][q][g2/2][VB][2]`.
    pub(super) ym: Vec<i16>,
    /// Y exponents `[vb][q][VB]`.
    pub(super) ey: Vec<i32>,
    /// `(m'_x - 1) + (m'_y - 1)`.
    pub(super) off: i32,
    /// `g * max|M_x| * max|M_y| < 2^24`: every group product is exact in binary32.
    pub(super) small_products: bool,
}

impl Packed {
    /// `None` when the formats do not fit the 16-bit path: a magnitude above 15 bits, a group
    /// sum that could leave i32, or a product exponent outside f64's exact range.
    fn new(ops: &GemmOperands) -> Option<Self> {
        let (fx, fy) = (ops.x.format, ops.y.format);
        let g = fx.group();
        if fx.mantissa_bits() > 15 || fy.mantissa_bits() > 15 {
            return None;
        }
        let bound = g as u64 * fx.max_magnitude() as u64 * fy.max_magnitude() as u64;
        if bound >= 1 << 31 {
            return None;
        }
        let range = |v: &[i32]| (v.iter().copied().min().unwrap_or(0), v.iter().copied().max().unwrap_or(0));
        let ((xlo, xhi), (ylo, yhi)) = (range(&ops.x.exps), range(&ops.y.exps));
        // Unscaled values: odd widths are not padded here, so P and `off` use plain m.
        let off_plain = fx.mantissa_bits() as i32 - 1 + fy.mantissa_bits() as i32 - 1;
        if xlo + ylo - off_plain < -1000 || xhi + yhi > 900 {
            return None;
        }
        let (rows, cols) = ops.out_shape();
        let groups = ops.reduction_groups();
        let g2 = g + (g & 1);
        let vblocks = cols.div_ceil(VB);
        let mut xm = vec![0i16; rows * groups * g2];
        let mut ex = vec![0i32; rows * groups];
        xm.par_chunks_mut(groups * g2).zip(ex.par_chunks_mut(groups)).enumerate().for_each(|(u, (xrow, erow))| {
            for q in 0..groups {
                let (e, ms) = ops.x.group(u, q);
                erow[q] = e;
                for (i, &m) in ms.iter().enumerate() {
                    xrow[q * g2 + i] = m as i16;
                }
            }
        });
        let mut ym = vec![0i16; vblocks * groups * g2 * VB];
        let mut ey = vec![0i32; vblocks * groups * VB];
        ym.par_chunks_mut(groups * g2 * VB).zip(ey.par_chunks_mut(groups * VB)).enumerate().for_each(
            |(vb, (yblk, eblk))| {
                for lane in 0..VB.min(cols - vb * VB) {
                    for q in 0..groups {
                        let (e, ms) = ops.y.group(vb * VB + lane, q);
                        eblk[q * VB + lane] = e;
                        for (i, &m) in ms.iter().enumerate() {
                            yblk[q * g2 * VB + (i / 2) * 2 * VB + lane * 2 + (i & 1)] = m as i16;
                        }
                    }
                }
            },
        );
        let small_products = bound < 1 << 24;
        Some(Self { rows, cols, groups, g2, vblocks, xm, ex, ym, ey, off: off_plain, small_products })
    }

    /// Whether `fl32(P * 2^k)` may be computed as `fl32(P) * 2^k` in binary32 for every group
    /// pair: `P` exact in binary32 and, for every pair whose groups both hold a non-zero
    /// mantissa, `k = E_x + E_y - off` in `[-126, 127]`, so `2^k` is a normal binary32 and the
    /// one multiplication rounds the exact product (the f64 route rounds the same exact value
    /// once). Returns the exponent ranges `[x_lo, x_hi, y_lo, y_hi]` of those groups: clamping
    /// `E_x`, `E_y` into them keeps every such `k` and gives the other pairs (`P = 0`, so
    /// `+0` either way) a finite scale.
    fn scale32(&self) -> Option<[i32; 4]> {
        if !self.small_products {
            return None;
        }
        let merge = |a: (i32, i32), b: (i32, i32)| (a.0.min(b.0), a.1.max(b.1));
        let none = || (i32::MAX, i32::MIN);
        let g2 = self.g2;
        let (xlo, xhi) = self
            .xm
            .par_chunks(g2 * 1024)
            .zip(self.ex.par_chunks(1024))
            .map(|(m, e)| {
                let live = m.chunks_exact(g2).zip(e).filter(|(m, _)| m.iter().fold(0, |a, &v| a | v) != 0);
                live.fold(none(), |r, (_, &e)| merge(r, (e, e)))
            })
            .reduce(none, merge);
        let (ylo, yhi) = self
            .ym
            .par_chunks(g2 * VB)
            .zip(self.ey.par_chunks(VB))
            .map(|(m, e)| {
                // [pair][lane][2]: lane l is live when any of its pairs is non-zero.
                let mut any = [0i16; 2 * VB];
                for p in m.chunks_exact(2 * VB) {
                    any.iter_mut().zip(p).for_each(|(a, &v)| *a |= v);
                }
                let live = (0..VB).filter(|&l| any[2 * l] | any[2 * l + 1] != 0);
                live.fold(none(), |r, l| merge(r, (e[l], e[l])))
            })
            .reduce(none, merge);
        if xlo > xhi || ylo > yhi {
            return Some([0; 4]); // every product is zero
        }
        (xlo + ylo - self.off >= -126 && xhi + yhi - self.off <= 127).then_some([xlo, xhi, ylo, yhi])
    }

    pub(super) fn run(&self, acc: AccumulatorKind, isa: KernelIsa) -> Vec<f32> {
        let mut out = Vec::new();
        self.run_into(acc, isa, &mut out);
        out
    }

    /// [`Self::run`] into `out` (resized; its old contents do not matter).
    pub(super) fn run_into(&self, acc: AccumulatorKind, isa: KernelIsa, out: &mut Vec<f32>) {
        let scale32 = if acc == AccumulatorKind::Fp32 { self.scale32() } else { None };
        out.clear();
        out.resize(self.rows * self.cols, 0.0);
        out.par_chunks_mut(ROWS_PER_TASK * self.cols).enumerate().for_each(|(task, tile)| {
            let u0 = task * ROWS_PER_TASK;
            let nrows = tile.len() / self.cols;
            for vb in 0..self.vblocks {
                let v0 = vb * VB;
                let nv = VB.min(self.cols - v0);
                let mut u = 0;
                while u < nrows {
                    let nu = TU.min(nrows - u);
                    let mut res = [[0f32; VB]; TU];
                    match acc {
                        AccumulatorKind::Fp32 => self.tile_fp32(u0 + u, nu, vb, isa, scale32, &mut res),
                        AccumulatorKind::Exact => self.tile_exact(u0 + u, nu, vb, &mut res),
                    }
                    for (t, r) in res.iter().enumerate().take(nu) {
                        let o = (u + t) * self.cols + v0;
                        tile[o..o + nv].copy_from_slice(&r[..nv]);
                    }
                    u += nu;
                }
            }
        });
    }

    #[inline]
    fn y_block(&self, vb: usize, q: usize) -> &[i16] {
        let base = (vb * self.groups + q) * self.g2 * VB;
        &self.ym[base..base + self.g2 * VB]
    }

    #[inline]
    fn x_group(&self, u: usize, q: usize) -> &[i16] {
        let base = (u * self.groups + q) * self.g2;
        &self.xm[base..base + self.g2]
    }

    /// Group products of X row `u` with the 16 Y lanes of block `vb`, group `q`.
    #[inline(always)]
    fn dot_block(&self, u: usize, vb: usize, q: usize) -> [i32; VB] {
        let xg = self.x_group(u, q);
        let mut d = [0i32; VB];
        for (pp, ypair) in self.y_block(vb, q).chunks_exact(2 * VB).enumerate() {
            let (a0, a1) = (xg[2 * pp] as i32, xg[2 * pp + 1] as i32);
            for (v, dv) in d.iter_mut().enumerate() {
                *dv += a0 * ypair[2 * v] as i32 + a1 * ypair[2 * v + 1] as i32;
            }
        }
        d
    }

    fn tile_fp32(
        &self,
        u0: usize,
        nu: usize,
        vb: usize,
        isa: KernelIsa,
        scale32: Option<[i32; 4]>,
        res: &mut [[f32; VB]; TU],
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            if nu == TU && isa == KernelIsa::Auto && simd::available() {
                // SAFETY: the CPU supports the features the tiles are compiled for, and every
                // index they read is inside the packed buffers (same bounds as below);
                // `scale32` was checked by `Self::scale32`.
                unsafe {
                    match scale32 {
                        Some(clamp) => simd::tile_fp32_avx512::<true>(self, u0, vb, clamp, res),
                        None => simd::tile_fp32_avx512::<false>(self, u0, vb, [0; 4], res),
                    }
                };
                return;
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = scale32;
        for (t, r) in res.iter_mut().enumerate().take(nu) {
            let u = u0 + t;
            for q in 0..self.groups {
                let d = self.dot_block(u, vb, q);
                let ex = self.ex[u * self.groups + q] - self.off;
                let ey = &self.ey[(vb * self.groups + q) * VB..][..VB];
                for v in 0..VB {
                    // Exact in f64 (|P| < 2^31, exponent range checked), one rounding to f32.
                    r[v] += (d[v] as f64 * pow2_f64(ex + ey[v])) as f32;
                }
            }
        }
    }

    fn tile_exact(&self, u0: usize, nu: usize, vb: usize, res: &mut [[f32; VB]; TU]) {
        let mut prods = vec![[0i32; VB]; self.groups];
        for (t, r) in res.iter_mut().enumerate().take(nu) {
            let u = u0 + t;
            for (q, p) in prods.iter_mut().enumerate() {
                *p = self.dot_block(u, vb, q);
            }
            for (v, rv) in r.iter_mut().enumerate() {
                let k = |q: usize| self.ex[u * self.groups + q] + self.ey[(vb * self.groups + q) * VB + v] - self.off;
                let (kmin, kmax) = (0..self.groups).fold((i32::MAX, i32::MIN), |(a, b), q| (a.min(k(q)), b.max(k(q))));
                // |P| < 2^31 and at most 2^26 groups: i128 holds any spread up to 64 bits.
                *rv = if kmax - kmin <= 64 {
                    let s: i128 = (0..self.groups).map(|q| (prods[q][v] as i128) << (k(q) - kmin)).sum();
                    round_scaled_to_f32(s < 0, s.unsigned_abs(), kmin)
                } else {
                    let mut kl = Kulisch::default();
                    (0..self.groups).for_each(|q| kl.add(prods[q][v] as i64, k(q)));
                    kl.to_f32()
                };
            }
        }
    }
}

/// Formats too wide for 16-bit lanes: integer dot products in i64, the cell's accumulator.
fn scalar_gemm(ops: &GemmOperands) -> Vec<f32> {
    let (rows, cols) = ops.out_shape();
    let (fx, fy) = (ops.x.format, ops.y.format);
    let off = fx.mantissa_bits() as i32 - 1 + fy.mantissa_bits() as i32 - 1;
    let mut out = vec![0f32; rows * cols];
    out.par_chunks_mut(cols).enumerate().for_each(|(u, row)| {
        for (v, o) in row.iter_mut().enumerate() {
            let mut acc = Accumulator::new(ops.spec.accumulator);
            for q in 0..ops.reduction_groups() {
                let (ex, mx) = ops.x.group(u, q);
                let (ey, my) = ops.y.group(v, q);
                let p: i64 = mx.iter().zip(my).map(|(&a, &b)| a as i64 * b as i64).sum();
                acc.add_product(p, ex + ey - off);
            }
            *o = acc.result();
        }
    });
    out
}

#[cfg(target_arch = "x86_64")]
mod simd {
    //! AVX-512 VNNI tile for the `fp32` accumulator.
    use std::arch::x86_64::*;

    use super::{Packed, TU, VB};

    /// Whether this CPU runs [`tile_fp32_avx512`] (detected once, cached by std).
    pub fn available() -> bool {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vnni")
    }

    /// `TU` rows x 16 columns: `vpdpwssd` for the group products, then per group
    /// `fl32(P * 2^k)` and a binary32 add, in group order. `fl32(P * 2^k)` is computed via
    /// exact f64, or with `SCALE32` as `fl32(P) * 2^k` in binary32 (the same bits when `P` is
    /// exact in binary32 and `2^k` normal: one rounding of the same exact product).
    ///
    /// # Safety
    /// The CPU must support avx512f/bw/dq/vnni; `u0 + TU <= rows`, `vb < vblocks`; with
    /// `SCALE32`, `clamp` must be what [`Packed::scale32`] returned.
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vnni")]
    pub unsafe fn tile_fp32_avx512<const SCALE32: bool>(
        p: &Packed,
        u0: usize,
        vb: usize,
        clamp: [i32; 4],
        res: &mut [[f32; VB]; TU],
    ) {
        let mut acc = [_mm512_setzero_ps(); TU];
        let pairs = p.g2 / 2;
        for q in 0..p.groups {
            let yb = p.y_block(vb, q).as_ptr();
            let mut dot = [_mm512_setzero_si512(); TU];
            let xs: [*const i16; TU] = std::array::from_fn(|t| p.x_group(u0 + t, q).as_ptr());
            for pp in 0..pairs {
                let yv = _mm512_loadu_si512(yb.add(pp * 2 * VB) as *const _);
                for t in 0..TU {
                    let pair = (xs[t].add(2 * pp) as *const i32).read_unaligned();
                    dot[t] = _mm512_dpwssd_epi32(dot[t], _mm512_set1_epi32(pair), yv);
                }
            }
            let eyv = _mm512_loadu_si512(p.ey.as_ptr().add((vb * p.groups + q) * VB) as *const _);
            if SCALE32 {
                // 2^k as binary32 bits: (k + 127) << 23, k in [-126, 127] after clamping.
                let eyc =
                    _mm512_min_epi32(_mm512_max_epi32(eyv, _mm512_set1_epi32(clamp[2])), _mm512_set1_epi32(clamp[3]));
                let eys = _mm512_slli_epi32::<23>(eyc);
                for t in 0..TU {
                    let bias = (p.ex[(u0 + t) * p.groups + q].clamp(clamp[0], clamp[1]) - p.off + 127) << 23;
                    let scale = _mm512_castsi512_ps(_mm512_add_epi32(eys, _mm512_set1_epi32(bias)));
                    acc[t] = _mm512_add_ps(acc[t], _mm512_mul_ps(_mm512_cvtepi32_ps(dot[t]), scale));
                }
                continue;
            }
            for t in 0..TU {
                let bias = p.ex[(u0 + t) * p.groups + q] - p.off + 1023;
                let kv = _mm512_add_epi32(eyv, _mm512_set1_epi32(bias));
                let k_lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(kv));
                let k_hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64::<1>(kv));
                let s_lo = _mm512_castsi512_pd(_mm512_slli_epi64::<52>(k_lo));
                let s_hi = _mm512_castsi512_pd(_mm512_slli_epi64::<52>(k_hi));
                let p_lo = _mm512_cvtepi32_pd(_mm512_castsi512_si256(dot[t]));
                let p_hi = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64::<1>(dot[t]));
                let v_lo = _mm512_cvtpd_ps(_mm512_mul_pd(p_lo, s_lo));
                let v_hi = _mm512_cvtpd_ps(_mm512_mul_pd(p_hi, s_hi));
                let v = _mm512_insertf32x8::<1>(_mm512_castps256_ps512(v_lo), v_hi);
                acc[t] = _mm512_add_ps(acc[t], v);
            }
        }
        for t in 0..TU {
            _mm512_storeu_ps(res[t].as_mut_ptr(), acc[t]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packed operands with mantissas up to `mag` and exponents in `lo..=hi` (X) and
    /// `lo2..=hi2` (Y), from a deterministic generator.
    fn packed(rows: usize, cols: usize, groups: usize, mag: i32, ex: (i32, i32), ey: (i32, i32)) -> Packed {
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let vblocks = cols.div_ceil(VB);
        let mut m = |n: usize| (0..n).map(|_| (next() % (2 * mag as u64 + 1)) as i32 - mag).collect::<Vec<_>>();
        let mut xm: Vec<i16> = m(rows * groups * 16).into_iter().map(|v| v as i16).collect();
        let mut ym: Vec<i16> = m(vblocks * groups * 16 * VB).into_iter().map(|v| v as i16).collect();
        let span = |r: (i32, i32), v: i32| r.0 + v.rem_euclid(r.1 - r.0 + 1);
        let (exr, eyr) = (ex, ey);
        let mut ex: Vec<i32> = m(rows * groups).into_iter().map(|v| span(exr, v)).collect();
        let mut ey: Vec<i32> = m(vblocks * groups * VB).into_iter().map(|v| span(eyr, v)).collect();
        // Both ends of each range occur.
        (ex[0], ey[0], ey[1]) = (exr.0, eyr.0, eyr.1);
        ex[rows * groups - 1] = exr.1;
        // Zero groups (as the converter makes for all-zero and underflowing groups) with
        // exponents far outside binary32's range, some whose unclamped scale bits would be an
        // infinity or NaN with E = 0 on the other side: their products are +0 whatever `k`.
        let dead = [-300, 250, -122, 134, 133];
        for (i, g) in (2..rows * groups - 1).step_by(5).enumerate() {
            xm[g * 16..][..16].iter_mut().for_each(|m| *m = 0);
            ex[g] = dead[i % dead.len()];
        }
        for (i, b) in (2..vblocks * groups).step_by(3).enumerate() {
            let l = b % VB;
            (0..8).for_each(|p| ym[b * 16 * VB + p * 2 * VB + 2 * l..][..2].iter_mut().for_each(|m| *m = 0));
            ey[b * VB + l] = dead[(i + 2) % dead.len()];
        }
        if rows * groups > 8 {
            ey[3] = 0; // meets X's dead groups
        }
        Packed { rows, cols, groups, g2: 16, vblocks, xm, ex, ym, ey, off: 6, small_products: 16 * mag * mag < 1 << 24 }
    }

    #[test]
    fn binary32_scaling_equals_f64_scaling() {
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        let mut seen = [false; 2];
        // k = ex + ey - 6: inside [-126, 127] up to both ends, and past them (f64 route).
        for (ex, ey) in [((-60, 60), (-60, 67)), ((-63, 0), (-57, 0)), ((0, 70), (0, 63)), ((-70, 5), (-70, 5))] {
            for mag in [7, 255, 1023] {
                for (rows, cols, groups) in [(8, 16, 3), (13, 40, 20), (4, 5, 1)] {
                    let p = packed(rows, cols, groups, mag, ex, ey);
                    seen[p.scale32().is_some() as usize] = true;
                    let want = bits(p.run(AccumulatorKind::Fp32, KernelIsa::Portable));
                    assert_eq!(bits(p.run(AccumulatorKind::Fp32, KernelIsa::Auto)), want, "{ex:?} {ey:?} {mag}");
                }
            }
        }
        assert_eq!(seen, [true, true]);
    }
}
