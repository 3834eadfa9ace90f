//! The GEMM-bearing layers: conv2d lowered by im2col (DESIGN §6: `W[N,K]` with
//! `N` = out_channels and `K` = in_channels x kh x kw, `A[K,B]` with `B` = batch x out_h x
//! out_w) and linear (`K` = in_features, `B` = batch x tokens), each with its three GEMMs and an
//! optional bias. im2col row `k = (c * kh + dy) * kw + dx`, column `(n * out_h + oy) * out_w + ox`.

use rayon::prelude::*;

use super::{transpose, GemmSite, Matmul, Scalar};
use crate::gemm::Pass;

/// The sizes of one conv2d over a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeom {
    /// Samples.
    pub batch: usize,
    /// Input channels.
    pub cin: usize,
    /// Input height and width.
    pub hw: (usize, usize),
    /// Output channels.
    pub cout: usize,
    /// Kernel height and width.
    pub kernel: (usize, usize),
    /// Stride.
    pub stride: (usize, usize),
    /// Zero padding on each side.
    pub padding: (usize, usize),
}

impl ConvGeom {
    /// Output height and width.
    pub fn out_hw(&self) -> (usize, usize) {
        let o = |i: usize, p: usize, k: usize, s: usize| (i + 2 * p - k) / s + 1;
        (
            o(self.hw.0, self.padding.0, self.kernel.0, self.stride.0),
            o(self.hw.1, self.padding.1, self.kernel.1, self.stride.1),
        )
    }
    /// The reduction `K`.
    pub fn k(&self) -> usize {
        self.cin * self.kernel.0 * self.kernel.1
    }
    /// The GEMM's `B`: batch x output pixels.
    pub fn b(&self) -> usize {
        let (oh, ow) = self.out_hw();
        self.batch * oh * ow
    }
}

/// The outputs `lo..hi` (of `out`) whose input `o * stride + d - pad` lies in `0..len`
/// (`lo == hi` when none: callers index only when `lo < hi`).
fn in_range(out: usize, stride: usize, d: usize, pad: usize, len: usize) -> (usize, usize) {
    let lo = pad.saturating_sub(d).div_ceil(stride);
    let hi = (len + pad).saturating_sub(d).div_ceil(stride).min(out);
    (lo.min(hi), hi)
}

/// The im2col matrix `A[K, B]` of an image batch `x[batch, cin, h, w]`.
pub fn im2col<T: Scalar>(x: &[T], g: &ConvGeom) -> Vec<T> {
    let mut a = vec![T::zero(); g.k() * g.b()];
    im2col_into(x, g, &mut a);
    a
}

/// [`im2col`] into `a`, `K * B` zeros.
fn im2col_into<T: Scalar>(x: &[T], g: &ConvGeom, a: &mut [T]) {
    let (oh, ow) = g.out_hw();
    let (h, w) = g.hw;
    let (kh, kw) = g.kernel;
    let b = g.b();
    a.par_chunks_mut(b.max(1)).enumerate().for_each(|(k, row)| {
        let (c, dy, dx) = (k / (kh * kw), (k / kw) % kh, k % kw);
        for n in 0..g.batch {
            let plane = &x[(n * g.cin + c) * h * w..][..h * w];
            for oy in 0..oh {
                let iy = (oy * g.stride.0 + dy) as isize - g.padding.0 as isize;
                let out = &mut row[(n * oh + oy) * ow..][..ow];
                if iy < 0 || iy >= h as isize {
                    continue; // zero padding (the row was zeroed)
                }
                let src = &plane[iy as usize * w..][..w];
                let (lo, hi) = in_range(ow, g.stride.1, dx, g.padding.1, w);
                if lo == hi {
                    continue;
                }
                if g.stride.1 == 1 {
                    out[lo..hi].copy_from_slice(&src[lo + dx - g.padding.1..hi + dx - g.padding.1]);
                } else {
                    for (ox, o) in out.iter_mut().enumerate().take(hi).skip(lo) {
                        *o = src[ox * g.stride.1 + dx - g.padding.1];
                    }
                }
            }
        }
    });
}

/// Accumulates `dA[K, B]` back onto the image gradient `dx[batch, cin, h, w]` (the adjoint of
/// [`im2col`]). Each input element receives its terms in increasing `k`, then `n, oy, ox`.
fn col2im<T: Scalar>(da: &[T], g: &ConvGeom) -> Vec<T> {
    let (oh, ow) = g.out_hw();
    let (h, w) = g.hw;
    let (kh, kw) = g.kernel;
    let b = g.b();
    let mut dx = vec![T::zero(); g.batch * g.cin * h * w];
    // Split by (n, c) planes: every term of a plane comes from that plane's own rows of dA.
    dx.par_chunks_mut((h * w).max(1)).enumerate().for_each(|(nc, plane)| {
        let (n, c) = (nc / g.cin, nc % g.cin);
        for dy in 0..kh {
            for dxk in 0..kw {
                let k = (c * kh + dy) * kw + dxk;
                let row = &da[k * b..][..b];
                for oy in 0..oh {
                    let iy = (oy * g.stride.0 + dy) as isize - g.padding.0 as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let src = &row[(n * oh + oy) * ow..][..ow];
                    let dst = &mut plane[iy as usize * w..][..w];
                    let (lo, hi) = in_range(ow, g.stride.1, dxk, g.padding.1, w);
                    if lo == hi {
                        continue;
                    }
                    if g.stride.1 == 1 {
                        let d = &mut dst[lo + dxk - g.padding.1..hi + dxk - g.padding.1];
                        d.iter_mut().zip(&src[lo..hi]).for_each(|(o, &v)| *o = *o + v);
                    } else {
                        for (ox, &v) in src.iter().enumerate().take(hi).skip(lo) {
                            let ix = ox * g.stride.1 + dxk - g.padding.1;
                            dst[ix] = dst[ix] + v;
                        }
                    }
                }
            }
        }
    });
    dx
}

/// Gradients of a GEMM-bearing layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerGrads<T> {
    /// Gradient of the input (`None` when nobody needs it).
    pub dx: Option<Vec<T>>,
    /// Gradient of `W[N, K]`.
    pub dw: Vec<T>,
    /// Gradient of the bias.
    pub db: Option<Vec<T>>,
}

/// `[cout, B]` (GEMM layout) <-> `[batch, cout, pixels]` (image layout).
fn gemm_to_image<T: Scalar>(o: &[T], batch: usize, cout: usize, pixels: usize, bias: Option<&[T]>) -> Vec<T> {
    let mut out = vec![T::zero(); batch * cout * pixels];
    out.par_chunks_mut(pixels.max(1)).enumerate().for_each(|(nc, dst)| {
        let (n, c) = (nc / cout, nc % cout);
        let src = &o[c * batch * pixels + n * pixels..][..pixels];
        let b = bias.map_or(T::zero(), |b| b[c]);
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = if bias.is_some() { s + b } else { s };
        }
    });
    out
}

fn image_to_gemm<T: Scalar>(d: &[T], batch: usize, cout: usize, pixels: usize, mut out: Vec<T>) -> Vec<T> {
    out.par_chunks_mut((batch * pixels).max(1)).enumerate().for_each(|(c, row)| {
        for n in 0..batch {
            row[n * pixels..][..pixels].copy_from_slice(&d[(n * cout + c) * pixels..][..pixels]);
        }
    });
    out
}

/// Bias gradient of an image layer: per channel, the sum over samples then pixels, in order.
fn bias_grad_image<T: Scalar>(dout: &[T], batch: usize, cout: usize, pixels: usize) -> Vec<T> {
    (0..cout)
        .into_par_iter()
        .map(|c| {
            let mut acc = T::zero();
            for n in 0..batch {
                for &v in &dout[(n * cout + c) * pixels..][..pixels] {
                    acc = acc + v;
                }
            }
            acc
        })
        .collect()
}

/// Forward of a conv2d: `x[batch, cin, h, w]` -> `[batch, cout, out_h, out_w]`.
pub fn conv2d_forward<T: Scalar, M: Matmul<T>>(
    mm: &mut M,
    layer: usize,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    g: &ConvGeom,
) -> Result<Vec<T>, M::Error> {
    let (k, b) = (g.k(), g.b());
    let mut a = mm.zeroed(k * b);
    im2col_into(x, g, &mut a);
    let o = mm.matmul(GemmSite { layer, pass: Pass::Forward }, w, (g.cout, k), &a, (k, b))?;
    let (oh, ow) = g.out_hw();
    let out = gemm_to_image(&o, g.batch, g.cout, oh * ow, bias);
    mm.recycle(o);
    mm.recycle(a);
    Ok(out)
}

/// Backward of a conv2d: backward-data (when `need_dx`) then backward-weight, as the
/// accelerator runs them.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_backward<T: Scalar, M: Matmul<T>>(
    mm: &mut M,
    layer: usize,
    x: &[T],
    w: &[T],
    has_bias: bool,
    dout: &[T],
    g: &ConvGeom,
    need_dx: bool,
) -> Result<LayerGrads<T>, M::Error> {
    let (k, b) = (g.k(), g.b());
    let (oh, ow) = g.out_hw();
    let d_o = mm.zeroed(g.cout * b);
    let d_o = image_to_gemm(dout, g.batch, g.cout, oh * ow, d_o);
    let dx = if need_dx {
        let da = mm.matmul(GemmSite { layer, pass: Pass::BackwardData }, w, (g.cout, k), &d_o, (g.cout, b))?;
        let dx = col2im(&da, g);
        mm.recycle(da);
        Some(dx)
    } else {
        None
    };
    let mut a = mm.zeroed(k * b);
    im2col_into(x, g, &mut a);
    let dw = mm.matmul(GemmSite { layer, pass: Pass::BackwardWeight }, &d_o, (g.cout, b), &a, (k, b))?;
    mm.recycle(a);
    mm.recycle(d_o);
    let db = has_bias.then(|| bias_grad_image(dout, g.batch, g.cout, oh * ow));
    Ok(LayerGrads { dx, dw, db })
}

/// Forward of a linear layer: `x[rows, inf]` -> `[rows, outf]` (`rows` = batch x tokens).
pub fn linear_forward<T: Scalar, M: Matmul<T>>(
    mm: &mut M,
    layer: usize,
    x: &[T],
    rows: usize,
    w: &[T],
    (outf, inf): (usize, usize),
    bias: Option<&[T]>,
) -> Result<Vec<T>, M::Error> {
    let a = transpose(x, rows, inf);
    let o = mm.matmul(GemmSite { layer, pass: Pass::Forward }, w, (outf, inf), &a, (inf, rows))?;
    let mut out = transpose(&o, outf, rows);
    if let Some(b) = bias {
        out.par_chunks_mut(outf.max(1)).for_each(|r| r.iter_mut().zip(b).for_each(|(v, &bb)| *v = *v + bb));
    }
    Ok(out)
}

/// Backward of a linear layer: backward-data (when `need_dx`) then backward-weight.
#[allow(clippy::too_many_arguments)]
pub fn linear_backward<T: Scalar, M: Matmul<T>>(
    mm: &mut M,
    layer: usize,
    x: &[T],
    rows: usize,
    w: &[T],
    (outf, inf): (usize, usize),
    has_bias: bool,
    dout: &[T],
    need_dx: bool,
) -> Result<LayerGrads<T>, M::Error> {
    let d_o = transpose(dout, rows, outf);
    let dx = if need_dx {
        let da = mm.matmul(GemmSite { layer, pass: Pass::BackwardData }, w, (outf, inf), &d_o, (outf, rows))?;
        Some(transpose(&da, inf, rows))
    } else {
        None
    };
    let a = transpose(x, rows, inf);
    let dw = mm.matmul(GemmSite { layer, pass: Pass::BackwardWeight }, &d_o, (outf, rows), &a, (inf, rows))?;
    let db = has_bias.then(|| {
        (0..outf)
            .into_par_iter()
            .map(|o| {
                let mut acc = T::zero();
                for r in 0..rows {
                    acc = acc + dout[r * outf + o];
                }
                acc
            })
            .collect()
    });
    Ok(LayerGrads { dx, dw, db })
}

#[cfg(test)]
mod im2col_tests {
    use super::*;

    /// im2col and col2im element by element, with the bounds checked per element.
    fn naive(x: &[f32], da: &[f32], g: &ConvGeom) -> (Vec<f32>, Vec<f32>) {
        let (oh, ow) = g.out_hw();
        let (h, w) = g.hw;
        let (kh, kw) = g.kernel;
        let b = g.b();
        let mut a = vec![0f32; g.k() * b];
        let mut dx = vec![0f32; x.len()];
        for k in 0..g.k() {
            let (c, dy, dxk) = (k / (kh * kw), (k / kw) % kh, k % kw);
            for n in 0..g.batch {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let iy = (oy * g.stride.0 + dy) as isize - g.padding.0 as isize;
                        let ix = (ox * g.stride.1 + dxk) as isize - g.padding.1 as isize;
                        if iy < 0 || iy >= h as isize || ix < 0 || ix >= w as isize {
                            continue;
                        }
                        let at = ((n * g.cin + c) * h + iy as usize) * w + ix as usize;
                        let col = (n * oh + oy) * ow + ox;
                        a[k * b + col] = x[at];
                        dx[at] += da[k * b + col];
                    }
                }
            }
        }
        (a, dx)
    }

    #[test]
    fn im2col_and_col2im_equal_the_element_loops() {
        let val = |i: usize, s: f32| ((i as f32 * s).sin() * 3.0).powi(3);
        for (hw, kernel, stride, padding) in [
            ((5, 7), (3, 3), (1, 1), (1, 1)),
            ((8, 8), (3, 3), (2, 2), (1, 1)),
            ((8, 8), (1, 1), (2, 2), (0, 0)),
            ((6, 9), (5, 3), (3, 2), (2, 3)),
            ((2, 2), (1, 1), (1, 1), (3, 3)),
            ((4, 3), (3, 5), (1, 3), (0, 2)),
        ] {
            let g = ConvGeom { batch: 2, cin: 3, hw, cout: 1, kernel, stride, padding };
            let x: Vec<f32> = (0..2 * 3 * hw.0 * hw.1).map(|i| val(i, 0.618)).collect();
            let da: Vec<f32> = (0..g.k() * g.b()).map(|i| val(i, 0.377)).collect();
            let (a, dx) = naive(&x, &da, &g);
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&im2col(&x, &g)), bits(&a), "{g:?}");
            assert_eq!(bits(&col2im(&da, &g)), bits(&dx), "{g:?}");
        }
    }
}
