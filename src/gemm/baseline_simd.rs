//! The `fp32` and `bf16` baseline cells' kernel on AVX-512: 8 output rows x 32 columns of
//! binary32 accumulators stay in registers while the whole reduction runs. Each output still
//! receives `acc = fl(acc + fl(x * y))` from `+0` in increasing reduction index (a separate
//! `vmulps` and `vaddps` per term, never a fused multiply-add), so the bits are those of the
//! scalar loop in `baseline.rs`; only independent outputs are computed side by side.

/// Output rows per register tile.
pub(super) const RU: usize = 8;
/// Output columns per register tile (two vectors).
pub(super) const CV: usize = 32;

/// Whether this CPU runs [`block`].
pub(super) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Rows `u0..u0 + RU` of the output (`orows`, `RU * cols` values), columns
/// `0..cols / CV * CV`; returns the first column it did not compute.
///
/// # Safety
/// The CPU must support avx512f; `xl` holds `(u0 + RU) * red` values or more, `yr` holds
/// `red * cols`, `orows` holds `RU * cols`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn block(xl: &[f32], yr: &[f32], u0: usize, red: usize, cols: usize, orows: &mut [f32]) -> usize {
    use std::arch::x86_64::*;
    debug_assert!(xl.len() >= (u0 + RU) * red && yr.len() >= red * cols && orows.len() >= RU * cols);
    let tiles = cols / CV;
    for vt in 0..tiles {
        let v0 = vt * CV;
        let mut acc = [[_mm512_setzero_ps(); 2]; RU];
        let xp = xl.as_ptr().add(u0 * red);
        for r in 0..red {
            let yp = yr.as_ptr().add(r * cols + v0);
            let (y0, y1) = (_mm512_loadu_ps(yp), _mm512_loadu_ps(yp.add(16)));
            for (t, a) in acc.iter_mut().enumerate() {
                let xb = _mm512_set1_ps(*xp.add(t * red + r));
                a[0] = _mm512_add_ps(a[0], _mm512_mul_ps(xb, y0));
                a[1] = _mm512_add_ps(a[1], _mm512_mul_ps(xb, y1));
            }
        }
        for (t, a) in acc.iter().enumerate() {
            let op = orows.as_mut_ptr().add(t * cols + v0);
            _mm512_storeu_ps(op, a[0]);
            _mm512_storeu_ps(op.add(16), a[1]);
        }
    }
    tiles * CV
}

/// Non-x86 builds never call it ([`available`] is false).
#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn block(_: &[f32], _: &[f32], _: usize, _: usize, _: usize, _: &mut [f32]) -> usize {
    0
}
