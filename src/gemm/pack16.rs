//! AVX-512 conversion of whole tasks of groups of 16 straight into the fast kernel's packed
//! 16-bit layout: the converter's per-element arithmetic ([`crate::bfp::mantissas16`], the
//! same integer steps as the scalar converter), contiguous vector loads, and the 16 LFSR
//! lanes stepped as one vector. Same groups, exponents, noise and bits as
//! [`super::fused`]'s group-at-a-time path (tested against it below, and through it against
//! the scalar converter).
//!
//! - Groups along rows (`Dim1`) into X's layout: one group per 16-element load, packed to 16
//!   bits with one instruction.
//! - Groups down columns (`Dim0`) into Y's layout: 16 adjacent lanes at once, "vertically":
//!   element `i` of the 16 groups is one row load, the group exponents are lane-wise maxima,
//!   and pairs of rows interleave into the kernel's `[pair][lane][2]` order. Stochastic
//!   noise (one LFSR step per group, in job order) is transposed from group-major to
//!   element-major.
//! - Groups along rows (`Dim1`) into Y's layout, deterministic roundings only: 16 lanes'
//!   groups converted one by one, then transposed into the `[pair][lane][2]` order.
//!
//! Other cases (groups of another size, `Dim0` into X's layout, stochastic `Dim1` into Y's,
//! CPUs without AVX-512) keep the group-at-a-time path.

use super::fused::{Job, Role};
use crate::bfp::{GroupAxis, Rounding};

/// Whether [`x_task`] / [`y_task`] convert `job` in `role`'s layout on this CPU.
pub(super) fn usable(job: &Job, role: Role) -> bool {
    if job.g != 16 || !crate::bfp::simd16_available() {
        return false;
    }
    match (job.axis, role) {
        (GroupAxis::Dim1, Role::X) | (GroupAxis::Dim0, Role::Y) => true,
        (GroupAxis::Dim1, Role::Y) => job.spec.rounding != Rounding::Stochastic,
        (GroupAxis::Dim0, Role::X) => false,
    }
}

/// Converts X lanes `l0..l1` into `mc` (`[lane][q][16]`) and `ec` (`[lane][q]`), relative to
/// `l0`; returns the smallest and largest `E`. Requires [`usable`] for [`Role::X`].
pub(super) fn x_task(job: &Job, l0: usize, l1: usize, mc: &mut [i16], ec: &mut [i32]) -> (i32, i32) {
    assert!(usable(job, Role::X) && job.axis == GroupAxis::Dim1);
    assert!(l1 <= job.lanes && mc.len() >= (l1 - l0) * job.groups * 16 && ec.len() >= (l1 - l0) * job.groups);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `usable` checked the CPU features; the asserts above bound every store, and
    // loads stay inside rows `l0..l1` of `job.data` (masked at the row's end).
    unsafe {
        x86::x_dim1(job, l0, l1, mc, ec)
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("usable() is false off x86_64")
}

/// Converts the Y lane blocks covering lanes `v0..v1` (`v0` a multiple of 16) into `mc`
/// (`[block][q][8][16][2]`) and `ec` (`[block][q][16]`), padding lanes zero; returns the
/// smallest and largest `E` of the real groups. Requires [`usable`] for [`Role::Y`].
pub(super) fn y_task(job: &Job, v0: usize, v1: usize, mc: &mut [i16], ec: &mut [i32]) -> (i32, i32) {
    assert!(usable(job, Role::Y) && v0.is_multiple_of(16) && v0 < v1 && v1 <= job.lanes);
    let blocks = (v1 - v0).div_ceil(16);
    assert!(mc.len() >= blocks * job.groups * 256 && ec.len() >= blocks * job.groups * 16);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `usable` checked the CPU features; the asserts above bound every store, and
    // loads stay inside lanes `v0..v1` (masked) of `job.data`'s rows.
    unsafe {
        match job.axis {
            GroupAxis::Dim0 => x86::y_dim0(job, v0, v1, mc, ec),
            GroupAxis::Dim1 => x86::y_dim1(job, v0, v1, mc, ec),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("usable() is false off x86_64")
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::super::fused::Job;
    use crate::bfp::{mantissas16, GroupCtx, LfsrJump, NoiseBank, Rounding};

    /// The job's 16 LFSR lanes as one vector, `first` groups into the job.
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn lanes_at(job: &Job, first: usize) -> __m512i {
        let l = job.spec.lfsr;
        let mut bank = NoiseBank::for_job(16, l.mask, l.seed, job.job, l.noise_bits);
        if job.spec.rounding == Rounding::Stochastic {
            bank.jump(&LfsrJump::steps(l.mask, first as u64));
        }
        let mut s = [0u32; 16];
        s.iter_mut().zip(bank.states()).for_each(|(d, v)| *d = v as u32);
        _mm512_loadu_si512(s.as_ptr() as *const _)
    }

    /// One LFSR step of every lane: `lsb = s & 1; s >>= 1; if lsb { s ^= mask }`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn step(s: __m512i, mask: __m512i) -> __m512i {
        let lsb = _mm512_and_si512(s, _mm512_set1_epi32(1));
        let fb = _mm512_and_si512(mask, _mm512_sub_epi32(_mm512_setzero_si512(), lsb));
        _mm512_xor_si512(_mm512_srli_epi32::<1>(s), fb)
    }

    /// `j` applied to every lane.
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn jump(s: __m512i, j: &LfsrJump) -> __m512i {
        let mut a = [0u32; 16];
        _mm512_storeu_si512(a.as_mut_ptr() as *mut _, s);
        a.iter_mut().for_each(|v| *v = j.apply(*v as u16) as u32);
        _mm512_loadu_si512(a.as_ptr() as *const _)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn field_of(x: __m512i) -> __m512i {
        _mm512_and_si512(_mm512_srli_epi32::<23>(x), _mm512_set1_epi32(0xFF))
    }

    /// One group of 16 elements in the lanes of `x`: its signed mantissas and `E` (DESIGN
    /// §2.1 steps 3-6; an all-zero or underflowing group is `E_base` with zero mantissas).
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn group(ctx: &GroupCtx, x: __m512i, noise: __m512i) -> (__m512i, i32) {
        let field = field_of(x);
        let max_field = _mm512_reduce_max_epu32(field) as i32;
        if max_field == 0 || max_field - 127 < ctx.e_base {
            return (_mm512_setzero_si512(), ctx.e_base);
        }
        let e = (max_field - 127).min(ctx.e_top);
        let normal = _mm512_cmpneq_epi32_mask(field, _mm512_setzero_si512());
        (mantissas16(ctx, x, field, _mm512_set1_epi32(e), normal, noise).0, e)
    }

    /// Loads group `q` of row `lane` (groups along the row), padding zero.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn load_row_group(job: &Job, lane: usize, q: usize) -> __m512i {
        let c = q * 16;
        let n = (job.cols - c).min(16);
        let p = job.data.as_ptr().add(lane * job.cols + c);
        _mm512_maskz_loadu_epi32(((1u32 << n) - 1) as __mmask16, p as *const _)
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn x_dim1(job: &Job, l0: usize, l1: usize, mc: &mut [i16], ec: &mut [i32]) -> (i32, i32) {
        let (ctx, groups) = (&job.ctx, job.groups);
        let stochastic = ctx.rounding == Rounding::Stochastic;
        let mask = _mm512_set1_epi32(job.spec.lfsr.mask as i32);
        let shift = _mm_cvtsi32_si128(16 - ctx.noise_bits as i32);
        let mut lanes = lanes_at(job, l0 * groups);
        let (mut lo, mut hi) = (i32::MAX, i32::MIN);
        for lane in l0..l1 {
            for q in 0..groups {
                let noise = if stochastic {
                    lanes = step(lanes, mask);
                    _mm512_srl_epi32(lanes, shift)
                } else {
                    _mm512_setzero_si512()
                };
                let (m, e) = group(ctx, load_row_group(job, lane, q), noise);
                let at = (lane - l0) * groups + q;
                *ec.get_unchecked_mut(at) = e;
                _mm256_storeu_si256(mc.as_mut_ptr().add(at * 16) as *mut _, _mm512_cvtepi32_epi16(m));
                (lo, hi) = (lo.min(e), hi.max(e));
            }
        }
        (lo, hi)
    }

    /// 16 x 16 transpose of 32-bit elements through memory: `out[i][j] = a[j][i]`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn transpose16(a: &[u32; 256], i: usize) -> __m512i {
        let idx = _mm512_add_epi32(
            _mm512_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240),
            _mm512_set1_epi32(i as i32),
        );
        _mm512_i32gather_epi32::<4>(idx, a.as_ptr() as *const _)
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn y_dim0(job: &Job, v0: usize, v1: usize, mc: &mut [i16], ec: &mut [i32]) -> (i32, i32) {
        let (ctx, groups, rows, cols) = (&job.ctx, job.groups, job.rows, job.cols);
        let stochastic = ctx.rounding == Rounding::Stochastic;
        let mask = _mm512_set1_epi32(job.spec.lfsr.mask as i32);
        let shift = _mm_cvtsi32_si128(16 - ctx.noise_bits as i32);
        let gap_jump = LfsrJump::steps(job.spec.lfsr.mask, (job.lanes - (v1 - v0)) as u64);
        let mut lanes = lanes_at(job, v0);
        let zero = _mm512_setzero_si512();
        let (e_base, e_top) = (_mm512_set1_epi32(ctx.e_base), _mm512_set1_epi32(ctx.e_top));
        let bias = _mm512_set1_epi32(127);
        let low16 = _mm512_set1_epi32(0xFFFF);
        // Noise of the block's 16 groups, group-major ([j][i]); gathered element-major.
        let mut noise = [0u32; 256];
        let (mut lo, mut hi) = (i32::MAX, i32::MIN);
        let blocks = (v1 - v0).div_ceil(16);
        for q in 0..groups {
            let nrows = (rows - q * 16).min(16);
            for b in 0..blocks {
                let c0 = v0 + b * 16;
                let nl = (v1 - c0).min(16);
                let lmask = ((1u32 << nl) - 1) as __mmask16;
                let base = job.data.as_ptr().add(q * 16 * cols + c0);
                let mut xs = [zero; 16];
                let mut max_field = zero;
                for (i, x) in xs.iter_mut().enumerate().take(nrows) {
                    *x = _mm512_maskz_loadu_epi32(lmask, base.add(i * cols) as *const _);
                    max_field = _mm512_max_epu32(max_field, field_of(*x));
                }
                let group_e = _mm512_sub_epi32(max_field, bias);
                let alive = _mm512_cmpneq_epi32_mask(max_field, zero) & _mm512_cmpge_epi32_mask(group_e, e_base);
                let e = _mm512_mask_blend_epi32(alive, e_base, _mm512_min_epi32(group_e, e_top));
                let e = _mm512_maskz_mov_epi32(lmask, e);
                if stochastic {
                    for j in 0..nl {
                        lanes = step(lanes, mask);
                        _mm512_storeu_si512(noise.as_mut_ptr().add(j * 16) as *mut _, _mm512_srl_epi32(lanes, shift));
                    }
                }
                let blk = (b * groups + q) * 256;
                for pp in 0..8 {
                    let mut half = [zero; 2];
                    for (k, h) in half.iter_mut().enumerate() {
                        let x = xs[2 * pp + k];
                        let field = field_of(x);
                        let live = _mm512_cmpneq_epi32_mask(field, zero) & alive;
                        let nz = if stochastic { transpose16(&noise, 2 * pp + k) } else { zero };
                        *h = mantissas16(ctx, x, field, e, live, nz).0;
                    }
                    let pair = _mm512_or_si512(_mm512_and_si512(half[0], low16), _mm512_slli_epi32::<16>(half[1]));
                    _mm512_storeu_si512(mc.as_mut_ptr().add(blk + pp * 32) as *mut _, pair);
                }
                _mm512_storeu_si512(ec.as_mut_ptr().add((b * groups + q) * 16) as *mut _, e);
                lo = lo.min(_mm512_mask_reduce_min_epi32(lmask, e));
                hi = hi.max(_mm512_mask_reduce_max_epi32(lmask, e));
            }
            if stochastic && v1 - v0 < job.lanes {
                lanes = jump(lanes, &gap_jump);
            }
        }
        (lo, hi)
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn y_dim1(job: &Job, v0: usize, v1: usize, mc: &mut [i16], ec: &mut [i32]) -> (i32, i32) {
        let (ctx, groups) = (&job.ctx, job.groups);
        let zero = _mm512_setzero_si512();
        let (mut lo, mut hi) = (i32::MAX, i32::MIN);
        // The block's mantissas lane-major as pairs ([lane][pair]); gathered pair-major.
        let mut pairs = [0u32; 128];
        let idx = _mm512_setr_epi32(0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120);
        for b in 0..(v1 - v0).div_ceil(16) {
            let c0 = v0 + b * 16;
            let nl = (v1 - c0).min(16);
            pairs[nl * 8..].iter_mut().for_each(|p| *p = 0);
            for q in 0..groups {
                let mut es = [0i32; 16];
                for (l, e_out) in es.iter_mut().enumerate().take(nl) {
                    let (m, e) = group(ctx, load_row_group(job, c0 + l, q), zero);
                    *e_out = e;
                    (lo, hi) = (lo.min(e), hi.max(e));
                    _mm256_storeu_si256(pairs.as_mut_ptr().add(l * 8) as *mut _, _mm512_cvtepi32_epi16(m));
                }
                let blk = (b * groups + q) * 256;
                for pp in 0..8 {
                    let v = _mm512_i32gather_epi32::<4>(
                        _mm512_add_epi32(idx, _mm512_set1_epi32(pp as i32)),
                        pairs.as_ptr() as *const _,
                    );
                    _mm512_storeu_si512(mc.as_mut_ptr().add(blk + pp * 32) as *mut _, v);
                }
                _mm512_storeu_si512(
                    ec.as_mut_ptr().add((b * groups + q) * 16) as *mut _,
                    _mm512_loadu_si512(es.as_ptr() as *const _),
                );
            }
        }
        (lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fused::{convert_packed, make_job, Role};
    use crate::bfp::{BfpFormat, ConvertSpec, ExpBase, GroupAxis, LfsrParams, Rounding};

    use crate::test_rng::Rng;

    /// Zeros, subnormals, both signs, and exponents spread over ~50 binades.
    fn value(rng: &mut Rng) -> f32 {
        let v = rng.next();
        match v % 13 {
            0 => 0.0,
            1 => -0.0,
            2 => f32::from_bits((v >> 8) as u32 & 0x807F_FFFF),
            _ => {
                let exp = 100 + (v >> 20) as u32 % 50;
                f32::from_bits(((v >> 40) as u32 & 0x8000_0000) | (exp << 23) | (v as u32 & 0x7F_FFFF))
            }
        }
    }

    #[test]
    fn whole_task_simd_equals_group_at_a_time() {
        if !crate::bfp::simd16_available() {
            return;
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        // Shapes with and without tails in both directions, and some large enough for several
        // tasks (LFSR start states and gaps between tasks).
        let shapes = [(1, 1), (16, 16), (17, 33), (5, 300), (300, 5), (40, 700), (700, 40), (2100, 37)];
        let modes = [Rounding::Truncate, Rounding::Nearest, Rounding::Even, Rounding::Stochastic];
        let mut cases = 0;
        for (si, &(rows, cols)) in shapes.iter().enumerate() {
            let data: Vec<f32> = (0..rows * cols).map(|_| value(&mut rng)).collect();
            for m in [1u32, 2, 4, 7, 8, 15] {
                for (e_bits, base) in [(8, ExpBase::PerTensor), (4, ExpBase::PerTensor), (3, ExpBase::Pinned(-12))] {
                    for rounding in modes {
                        for noise_bits in [1u32, 8, 16] {
                            if !(m + e_bits + noise_bits + si as u32).is_multiple_of(3) && rows * cols > 5000 {
                                continue; // the large shapes on a subset of the formats
                            }
                            let spec = ConvertSpec {
                                format: BfpFormat::new(16, m, e_bits).unwrap(),
                                rounding,
                                exp_base: base,
                                lfsr: LfsrParams::new(0xB400, 0x1234 + si as u16, noise_bits).unwrap(),
                            };
                            for axis in [GroupAxis::Dim0, GroupAxis::Dim1] {
                                for role in [Role::X, Role::Y] {
                                    let job = make_job((&data, rows, cols), spec, axis, 7, "t").unwrap();
                                    if !super::usable(&job, role) {
                                        continue;
                                    }
                                    let (mut ma, mut ea) = (Vec::new(), Vec::new());
                                    let (mut mb, mut eb) = (vec![7i16; 3], vec![7i32; 5]);
                                    let ra = convert_packed(&job, role, &mut ma, &mut ea, false);
                                    let rb = convert_packed(&job, role, &mut mb, &mut eb, true);
                                    let what = format!("{rows}x{cols} m {m} e {e_bits} {base:?} {rounding} n {noise_bits} {axis:?} {role:?}");
                                    assert_eq!(ra, rb, "{what}");
                                    assert_eq!(ea, eb, "{what}");
                                    assert!(ma == mb, "{what}");
                                    cases += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(cases > 500, "{cases}");
    }
}
