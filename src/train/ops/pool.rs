//! Max and average pooling over `[batch, channels, h, w]`. Max pooling ignores padding (a
//! padded position is never the maximum) and sends each output's gradient to the first
//! maximal input of its window (row-major); average pooling counts padding as zeros (divides
//! by kh x kw), as PyTorch's `count_include_pad = True`.

use rayon::prelude::*;

use super::Scalar;
use crate::workload::PoolKind;

/// The sizes of one pooling layer over a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGeom {
    /// Max or average.
    pub kind: PoolKind,
    /// Samples x channels (planes).
    pub planes: usize,
    /// Input height and width.
    pub hw: (usize, usize),
    /// Window.
    pub kernel: (usize, usize),
    /// Stride.
    pub stride: (usize, usize),
    /// Padding.
    pub padding: (usize, usize),
}

impl PoolGeom {
    /// Output height and width.
    pub fn out_hw(&self) -> (usize, usize) {
        let o = |i: usize, p: usize, k: usize, s: usize| (i + 2 * p - k) / s + 1;
        (
            o(self.hw.0, self.padding.0, self.kernel.0, self.stride.0),
            o(self.hw.1, self.padding.1, self.kernel.1, self.stride.1),
        )
    }

    /// The in-bounds input positions of output `(oy, ox)`'s window, row-major.
    fn window(&self, oy: usize, ox: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let y0 = (oy * self.stride.0) as isize - self.padding.0 as isize;
        let x0 = (ox * self.stride.1) as isize - self.padding.1 as isize;
        (0..self.kernel.0 as isize).flat_map(move |dy| {
            (0..self.kernel.1 as isize).filter_map(move |dx| {
                let (y, x) = (y0 + dy, x0 + dx);
                (y >= 0 && x >= 0 && y < self.hw.0 as isize && x < self.hw.1 as isize)
                    .then_some((y as usize, x as usize))
            })
        })
    }
}

/// Forward; also returns, for max pooling, the input index (within its plane) each output
/// took (empty for average pooling).
pub fn pool_forward<T: Scalar>(x: &[T], g: &PoolGeom) -> (Vec<T>, Vec<u32>) {
    let (oh, ow) = g.out_hw();
    let (h, w) = g.hw;
    let per = oh * ow;
    let mut out = vec![T::zero(); g.planes * per];
    let max = g.kind == PoolKind::Max;
    let mut arg = vec![0u32; if max { g.planes * per } else { 0 }];
    let area = T::from_usize(g.kernel.0 * g.kernel.1).unwrap_or_else(T::one);
    let work = |(p, (o, a)): (usize, (&mut [T], &mut [u32]))| {
        let plane = &x[p * h * w..][..h * w];
        for oy in 0..oh {
            for ox in 0..ow {
                if max {
                    let mut best: Option<(T, usize)> = None;
                    for (y, xx) in g.window(oy, ox) {
                        let v = plane[y * w + xx];
                        if best.is_none_or(|(b, _)| v > b) {
                            best = Some((v, y * w + xx));
                        }
                    }
                    let (v, i) = best.unwrap_or((T::zero(), 0));
                    o[oy * ow + ox] = v;
                    a[oy * ow + ox] = i as u32;
                } else {
                    let mut acc = T::zero();
                    for (y, xx) in g.window(oy, ox) {
                        acc = acc + plane[y * w + xx];
                    }
                    o[oy * ow + ox] = acc / area;
                }
            }
        }
    };
    if max {
        out.par_chunks_mut(per.max(1)).zip(arg.par_chunks_mut(per.max(1))).enumerate().for_each(work);
    } else {
        out.par_chunks_mut(per.max(1)).enumerate().for_each(|(p, o)| work((p, (o, &mut []))));
    }
    (out, arg)
}

/// Backward: the input gradient from the output gradient (and the forward's argmax).
pub fn pool_backward<T: Scalar>(dout: &[T], arg: &[u32], g: &PoolGeom) -> Vec<T> {
    let (oh, ow) = g.out_hw();
    let (h, w) = g.hw;
    let per = oh * ow;
    let area = T::from_usize(g.kernel.0 * g.kernel.1).unwrap_or_else(T::one);
    let mut dx = vec![T::zero(); g.planes * h * w];
    dx.par_chunks_mut((h * w).max(1)).enumerate().for_each(|(p, plane)| {
        let d = &dout[p * per..][..per];
        for oy in 0..oh {
            for ox in 0..ow {
                let v = d[oy * ow + ox];
                if g.kind == PoolKind::Max {
                    let i = arg[p * per + oy * ow + ox] as usize;
                    plane[i] = plane[i] + v;
                } else {
                    let share = v / area;
                    for (y, xx) in g.window(oy, ox) {
                        plane[y * w + xx] = plane[y * w + xx] + share;
                    }
                }
            }
        }
    });
    dx
}
