//! The converter's group step for groups of 16 in AVX-512: the same integer arithmetic as
//! [`super::convert`]'s scalar step (DESIGN §2.1 steps 1-5, [`super::round_mantissa`]), one
//! element per vector lane, so the bits and flag counts are identical (tested against the
//! scalar step over every rounding mode, width and edge case below).
//!
//! Per element: `r = 24 - m + E - e_x` bits are discarded from the 24-bit significand.
//! Deterministic modes work in 32-bit lanes with `r` clamped to 32 (every mode gives 0 from
//! `r = 25` on, and a 32-bit variable shift by 32 gives 0); stochastic rounding works in 64-bit
//! lanes as the scalar code does (`(sig + N·2^(r-n)) >> r`, 0 from `r = 40`). `r <= 0` (a group
//! above a pinned range) saturates, as the scalar code's left shift always exceeds `2^m - 1`.

use super::ConvertFlags;

/// Whether this CPU runs [`convert16`].
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{convert16, mantissas16};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::super::convert::GroupCtx;
    use super::super::Rounding;
    use super::ConvertFlags;

    /// `(sig + add) >> r` in 64-bit lanes for the 16 elements, narrowed back to 32 bits.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn stochastic(sig: __m512i, r: __m512i, noise: __m512i, n: i32) -> __m512i {
        let half = |v: __m512i, hi: bool| {
            if hi {
                _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64::<1>(v))
            } else {
                _mm512_cvtepu32_epi64(_mm512_castsi512_si256(v))
            }
        };
        let nv = _mm512_set1_epi64(n as i64);
        let mut parts = [_mm256_setzero_si256(); 2];
        for (k, p) in parts.iter_mut().enumerate() {
            let hi = k == 1;
            let (s, rr, nz) = (half(sig, hi), half(r, hi), half(noise, hi));
            // r >= n: noise << (r - n); else noise >> (n - r). Counts out of range give 0 and
            // are not selected.
            let up = _mm512_sllv_epi64(nz, _mm512_sub_epi64(rr, nv));
            let down = _mm512_srlv_epi64(nz, _mm512_sub_epi64(nv, rr));
            let ge = _mm512_cmpge_epi64_mask(rr, nv);
            let add = _mm512_mask_blend_epi64(ge, down, up);
            let q = _mm512_srlv_epi64(_mm512_add_epi64(s, add), rr);
            // r >= 40 gives 0 (the scalar code's early return).
            let big = _mm512_cmpge_epi64_mask(rr, _mm512_set1_epi64(40));
            *p = _mm512_cvtepi64_epi32(_mm512_maskz_mov_epi64(!big, q));
        }
        _mm512_inserti64x4::<1>(_mm512_castsi256_si512(parts[0]), parts[1])
    }

    /// One group of 16: writes the signed mantissas, returns `E`, counts the flags.
    ///
    /// # Safety
    /// The CPU must support avx512f and avx512bw.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(crate) unsafe fn convert16(
        ctx: &GroupCtx,
        vals: &[f32; 16],
        noise: &[u32; 16],
        out: &mut [i32; 16],
        flags: &mut ConvertFlags,
    ) -> i32 {
        let x = _mm512_loadu_si512(vals.as_ptr() as *const _);
        let zero = _mm512_setzero_si512();
        let field = _mm512_and_si512(_mm512_srli_epi32::<23>(x), _mm512_set1_epi32(0xFF));
        let normal = _mm512_cmpneq_epi32_mask(field, zero);
        let nonzero = _mm512_test_epi32_mask(x, _mm512_set1_epi32(0x7FFF_FFFF));
        flags.flushed += (!normal & nonzero).count_ones() as u64;
        let max_field = _mm512_reduce_max_epu32(field);
        if max_field == 0 {
            _mm512_storeu_si512(out.as_mut_ptr() as *mut _, zero);
            return ctx.e_base;
        }
        let group_e = max_field as i32 - 127;
        if group_e < ctx.e_base {
            flags.underflow += normal.count_ones() as u64;
            _mm512_storeu_si512(out.as_mut_ptr() as *mut _, zero);
            return ctx.e_base;
        }
        let e = group_e.min(ctx.e_top);
        let nz = match ctx.rounding {
            Rounding::Stochastic => _mm512_loadu_si512(noise.as_ptr() as *const _),
            _ => zero,
        };
        let (signed, over) = mantissas16(ctx, x, field, _mm512_set1_epi32(e), normal, nz);
        flags.saturated += over.count_ones() as u64;
        _mm512_storeu_si512(out.as_mut_ptr() as *mut _, signed);
        e
    }

    /// Steps 4-6 of DESIGN §2.1 for 16 elements, one per lane: `x` their binary32 bits,
    /// `field` their biased exponent fields, `e` each lane's group exponent `E` (already
    /// clamped to `e_top`), `live` the lanes converted (normal elements of groups that are
    /// neither all zero nor below `E_base`; the others give 0), `noise` each lane's noise
    /// (stochastic rounding only). Returns the signed mantissas and the saturated lanes.
    ///
    /// # Safety
    /// The CPU must support avx512f and avx512bw.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(crate) unsafe fn mantissas16(
        ctx: &GroupCtx,
        x: __m512i,
        field: __m512i,
        e: __m512i,
        live: __mmask16,
        noise: __m512i,
    ) -> (__m512i, __mmask16) {
        let zero = _mm512_setzero_si512();
        let sig = _mm512_or_si512(_mm512_and_si512(x, _mm512_set1_epi32(0x7F_FFFF)), _mm512_set1_epi32(0x80_0000));
        // r = 24 - m + e - (field - 127); |r| stays far inside i32.
        let base = _mm512_add_epi32(_mm512_set1_epi32(24 - ctx.mantissa_bits as i32 + 127), e);
        let r = _mm512_sub_epi32(base, field);
        let low = _mm512_cmple_epi32_mask(r, zero);
        let rc = _mm512_min_epi32(r, _mm512_set1_epi32(32));
        let one = _mm512_set1_epi32(1);
        let rm1 = _mm512_sub_epi32(rc, one);
        let mag = match ctx.rounding {
            Rounding::Truncate => _mm512_srlv_epi32(sig, rc),
            Rounding::Nearest => _mm512_srlv_epi32(_mm512_add_epi32(sig, _mm512_sllv_epi32(one, rm1)), rc),
            Rounding::Even => {
                let q = _mm512_srlv_epi32(sig, rc);
                let rem = _mm512_and_si512(sig, _mm512_sub_epi32(_mm512_sllv_epi32(one, rc), one));
                let half = _mm512_sllv_epi32(one, rm1);
                let odd = _mm512_test_epi32_mask(q, one);
                let up = _mm512_cmpgt_epu32_mask(rem, half) | (_mm512_cmpeq_epi32_mask(rem, half) & odd);
                _mm512_mask_add_epi32(q, up, q, one)
            }
            Rounding::Stochastic => {
                // 64-bit lanes take the unclamped r (>= 40 handled there); r <= 0 is masked.
                let r64 = _mm512_max_epi32(_mm512_min_epi32(r, _mm512_set1_epi32(63)), one);
                stochastic(sig, r64, noise, ctx.noise_bits as i32)
            }
        };
        let maxv = _mm512_set1_epi32(ctx.max_mag as i32);
        let over = (_mm512_cmpgt_epu32_mask(mag, maxv) | low) & live;
        let mag = _mm512_maskz_mov_epi32(live, _mm512_mask_mov_epi32(mag, over, maxv));
        let neg = _mm512_cmplt_epi32_mask(x, zero);
        (_mm512_mask_sub_epi32(mag, neg, zero, mag), over)
    }
}

#[cfg(test)]
mod tests {
    use super::super::convert::prepare;
    use super::super::{BfpFormat, ConvertJob, ConvertSpec, ExpBase, GroupAxis, Rounding};
    use super::*;

    use crate::test_rng::Rng;

    #[test]
    fn simd_step_equals_the_scalar_step() {
        if !available() {
            return;
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let modes = [Rounding::Truncate, Rounding::Nearest, Rounding::Even, Rounding::Stochastic];
        for m in 1..=16u32 {
            for e_bits in [1u32, 3, 8] {
                for base in [ExpBase::PerTensor, ExpBase::Pinned(-3), ExpBase::Pinned(-20), ExpBase::Pinned(-140)] {
                    for &rounding in &modes {
                        for noise_bits in [1u32, 8, 16] {
                            let mut spec = ConvertSpec::new(BfpFormat::new(16, m, e_bits).unwrap(), rounding);
                            spec.exp_base = base;
                            spec.lfsr.noise_bits = noise_bits;
                            // Exponent base from a tensor whose largest element is near 2^3.
                            let probe = [8.5f32; 16];
                            let job = ConvertJob { tensor: "t", job: 0, spec, axis: GroupAxis::Dim1 };
                            let ctx = prepare(&probe, 1, 16, &job).unwrap().ctx;
                            for _ in 0..40 {
                                let spread = (rng.next() % 40) as u32;
                                let vals: [f32; 16] = std::array::from_fn(|_| {
                                    let v = rng.next();
                                    match v % 11 {
                                        0 => 0.0,
                                        1 => f32::from_bits((v >> 8) as u32 & 0x807F_FFFF), // subnormal
                                        2 => -0.0,
                                        _ => {
                                            let exp = 130 - (v >> 20) as u32 % (spread + 1);
                                            f32::from_bits(
                                                ((v >> 40) as u32 & 0x8000_0000) | (exp << 23) | (v as u32 & 0x7F_FFFF),
                                            )
                                        }
                                    }
                                });
                                let noise: [u32; 16] =
                                    std::array::from_fn(|_| (rng.next() >> 40) as u32 & ((1 << noise_bits) - 1));
                                let (mut a, mut b) = ([0i32; 16], [7i32; 16]);
                                let (mut fa, mut fb) = (ConvertFlags::default(), ConvertFlags::default());
                                let ea = ctx.convert_group(&vals, &noise, &mut a, &mut fa);
                                // SAFETY: `available()` checked above.
                                let eb = unsafe { convert16(&ctx, &vals, &noise, &mut b, &mut fb) };
                                assert_eq!(
                                    (ea, a, fa),
                                    (eb, b, fb),
                                    "m {m} e {e_bits} {base:?} {rounding} n {noise_bits} {vals:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
