//! Numerical quality of a BFP matmul against the same matmul on the unconverted binary32
//! inputs: max absolute error, max relative error, signal-to-noise ratio.

use rayon::prelude::*;
use serde::Serialize;

use super::Pass;

/// The binary32 reference of `pass` on row-major X `[xr, xc]` and Y `[yr, yc]`: products and
/// sums in f64 (so the reference itself carries no accumulation error), rounded once to
/// binary32. Shapes must already have been checked.
pub fn binary32_matmul(pass: Pass, x: &[f32], xs: (usize, usize), y: &[f32], ys: (usize, usize)) -> Vec<f32> {
    // Bring both operands to lane-major form over the reduction: xl[u][r], yl[v][r].
    let (xl, rows, red) = match pass {
        Pass::Forward | Pass::BackwardWeight => (x.iter().map(|&v| v as f64).collect::<Vec<_>>(), xs.0, xs.1),
        Pass::BackwardData => (transpose(x, xs.0, xs.1), xs.1, xs.0),
    };
    let (yl, cols) = match pass {
        Pass::Forward | Pass::BackwardData => (transpose(y, ys.0, ys.1), ys.1),
        Pass::BackwardWeight => (y.iter().map(|&v| v as f64).collect::<Vec<_>>(), ys.0),
    };
    let mut out = vec![0f32; rows * cols];
    out.par_chunks_mut(cols).enumerate().for_each(|(u, row)| {
        let xr = &xl[u * red..(u + 1) * red];
        for (v, o) in row.iter_mut().enumerate() {
            let yr = &yl[v * red..(v + 1) * red];
            *o = xr.iter().zip(yr).map(|(a, b)| a * b).sum::<f64>() as f32;
        }
    });
    out
}

fn transpose(a: &[f32], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0f64; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = a[r * cols + c] as f64;
        }
    }
    t
}

/// Error of a result against its reference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    /// Largest |got - want|.
    pub max_abs_error: f64,
    /// Largest |got - want| / |want| over elements with a non-zero reference.
    pub max_rel_error: f64,
    /// 10 log10(sum want^2 / sum (got - want)^2), in dB (infinite when exact).
    pub snr_db: f64,
}

impl Quality {
    /// Compares `got` with `want` element by element.
    pub fn measure(got: &[f32], want: &[f32]) -> Self {
        let (mut max_abs, mut max_rel, mut sig, mut noise) = (0f64, 0f64, 0f64, 0f64);
        for (&g, &w) in got.iter().zip(want) {
            let (g, w) = (g as f64, w as f64);
            let d = (g - w).abs();
            max_abs = max_abs.max(d);
            if w != 0.0 {
                max_rel = max_rel.max(d / w.abs());
            }
            sig += w * w;
            noise += d * d;
        }
        let snr_db = if noise == 0.0 { f64::INFINITY } else { 10.0 * (sig / noise).log10() };
        Self { max_abs_error: max_abs, max_rel_error: max_rel, snr_db }
    }
    /// [`Quality::measure`] over the pairs where both `got` and `want` are finite, with the
    /// outputs that overflowed to ±inf counted apart (their error would be NaN or infinite).
    pub fn measure_finite(got: &[f32], want: &[f32]) -> FiniteQuality {
        let (mut g, mut w) = (Vec::with_capacity(got.len()), Vec::with_capacity(want.len()));
        let (mut overflowed, mut reference_overflowed) = (0, 0);
        for (&a, &b) in got.iter().zip(want) {
            overflowed += usize::from(!a.is_finite());
            reference_overflowed += usize::from(!b.is_finite());
            if a.is_finite() && b.is_finite() {
                g.push(a);
                w.push(b);
            }
        }
        let quality = (!g.is_empty()).then(|| Self::measure(&g, &w));
        FiniteQuality { quality, compared: g.len(), overflowed, reference_overflowed }
    }
}

/// Quality over the finite outputs, and how many overflowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiniteQuality {
    /// The figures over the pairs where both are finite; `None` when there is no such pair.
    pub quality: Option<Quality>,
    /// Pairs compared.
    pub compared: usize,
    /// Outputs that are ±inf (or NaN).
    pub overflowed: usize,
    /// Reference outputs that are ±inf (or NaN).
    pub reference_overflowed: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary32_matmul_per_pass() {
        // W = [[1,2],[3,4]] (N=2,K=2); A = [[1],[1]] (K=2,B=1); dO = [[1],[2]] (N=2,B=1).
        let w = [1.0, 2.0, 3.0, 4.0];
        let a = [1.0, 1.0];
        let d = [1.0, 2.0];
        assert_eq!(binary32_matmul(Pass::Forward, &w, (2, 2), &a, (2, 1)), vec![3.0, 7.0]);
        assert_eq!(binary32_matmul(Pass::BackwardData, &w, (2, 2), &d, (2, 1)), vec![7.0, 10.0]);
        assert_eq!(binary32_matmul(Pass::BackwardWeight, &d, (2, 1), &a, (2, 1)), vec![1.0, 1.0, 2.0, 2.0]);
    }

    #[test]
    fn quality_figures() {
        let q = Quality::measure(&[1.0, 2.0], &[1.0, 2.0]);
        assert_eq!((q.max_abs_error, q.snr_db), (0.0, f64::INFINITY));
        let q = Quality::measure(&[1.1, 2.0], &[1.0, 2.0]);
        assert!((q.max_rel_error - 0.1).abs() < 1e-6);
        assert!((q.snr_db - 10.0 * (5.0f64 / 0.01).log10()).abs() < 1e-3);
    }

    #[test]
    fn overflowed_outputs_are_counted_apart() {
        let inf = f32::INFINITY;
        let f = Quality::measure_finite(&[inf, -inf, 2.0], &[inf, 3.0, 2.0]);
        assert_eq!((f.overflowed, f.reference_overflowed, f.compared), (2, 1, 1));
        assert_eq!(f.quality.unwrap().snr_db, f64::INFINITY);
        let f = Quality::measure_finite(&[inf], &[inf]);
        assert_eq!((f.quality, f.overflowed, f.compared), (None, 1, 0));
    }
}
