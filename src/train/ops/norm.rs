//! Batch normalisation per channel (images: over samples and pixels; tokens: per feature over
//! rows). Training uses the batch's statistics (biased variance) and updates the running
//! statistics (momentum [`BN_MOMENTUM`], unbiased variance, as PyTorch); evaluation uses the
//! running statistics. `y = γ (x − μ) / sqrt(σ² + ε) + β` with `ε` = [`BN_EPS`]. Per-channel
//! sums run over the channel's elements in memory order; channels are independent.

use rayon::prelude::*;

use super::Scalar;

/// `ε` added to the variance.
pub const BN_EPS: f64 = 1e-5;
/// Weight of the batch's statistics in the running statistics.
pub const BN_MOMENTUM: f64 = 0.1;

/// A tensor seen as `[outer, channels, inner]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormGeom {
    /// Samples (images) or rows (tokens).
    pub outer: usize,
    /// Channels or features.
    pub channels: usize,
    /// Pixels per channel (1 for tokens).
    pub inner: usize,
}

/// What the backward pass needs from a training forward.
#[derive(Debug, Clone, PartialEq)]
pub struct NormCache<T> {
    /// The normalised input `x̂`.
    pub xhat: Vec<T>,
    /// `1 / sqrt(σ² + ε)` per channel.
    pub inv_std: Vec<T>,
}

fn channel_sum<T: Scalar>(v: &[T], g: &NormGeom, c: usize, f: impl Fn(usize, T) -> T) -> T {
    let mut acc = T::zero();
    for n in 0..g.outer {
        let base = (n * g.channels + c) * g.inner;
        for (i, &x) in v[base..base + g.inner].iter().enumerate() {
            acc = acc + f(base + i, x);
        }
    }
    acc
}

fn per_element<T: Scalar>(out: &mut [T], g: &NormGeom, f: impl Fn(usize, usize) -> T + Sync) {
    let per = g.channels * g.inner;
    out.par_chunks_mut(per.max(1)).enumerate().for_each(|(n, row)| {
        for (j, o) in row.iter_mut().enumerate() {
            *o = f(n * per + j, j / g.inner.max(1));
        }
    });
}

/// Training forward: returns `y` and the cache; updates `running_mean` / `running_var`.
pub fn batch_norm_train<T: Scalar>(
    x: &[T],
    g: &NormGeom,
    gamma: &[T],
    beta: &[T],
    running_mean: &mut [T],
    running_var: &mut [T],
) -> (Vec<T>, NormCache<T>) {
    let m = g.outer * g.inner;
    let mt = T::from_usize(m.max(1)).unwrap_or_else(T::one);
    let eps = T::from_f64(BN_EPS).unwrap_or_else(T::zero);
    let mom = T::from_f64(BN_MOMENTUM).unwrap_or_else(T::zero);
    let stats: Vec<(T, T)> = (0..g.channels)
        .into_par_iter()
        .map(|c| {
            let mean = channel_sum(x, g, c, |_, v| v) / mt;
            let var = channel_sum(x, g, c, |_, v| (v - mean) * (v - mean)) / mt;
            (mean, var)
        })
        .collect();
    let inv_std: Vec<T> = stats.iter().map(|&(_, var)| T::one() / (var + eps).sqrt()).collect();
    let mut xhat = vec![T::zero(); x.len()];
    per_element(&mut xhat, g, |i, c| (x[i] - stats[c].0) * inv_std[c]);
    let mut y = vec![T::zero(); x.len()];
    per_element(&mut y, g, |i, c| gamma[c] * xhat[i] + beta[c]);
    let unbias = if m > 1 { mt / (mt - T::one()) } else { T::one() };
    for (c, &(mean, var)) in stats.iter().enumerate() {
        running_mean[c] = (T::one() - mom) * running_mean[c] + mom * mean;
        running_var[c] = (T::one() - mom) * running_var[c] + mom * var * unbias;
    }
    (y, NormCache { xhat, inv_std })
}

/// Evaluation forward with the running statistics.
pub fn batch_norm_eval<T: Scalar>(
    x: &[T],
    g: &NormGeom,
    gamma: &[T],
    beta: &[T],
    running_mean: &[T],
    running_var: &[T],
) -> Vec<T> {
    let eps = T::from_f64(BN_EPS).unwrap_or_else(T::zero);
    let scale: Vec<T> = (0..g.channels).map(|c| gamma[c] / (running_var[c] + eps).sqrt()).collect();
    let mut y = vec![T::zero(); x.len()];
    per_element(&mut y, g, |i, c| (x[i] - running_mean[c]) * scale[c] + beta[c]);
    y
}

/// Backward: `(dx, dγ, dβ)` from `dy`.
pub fn batch_norm_backward<T: Scalar>(
    dy: &[T],
    g: &NormGeom,
    gamma: &[T],
    cache: &NormCache<T>,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let mt = T::from_usize((g.outer * g.inner).max(1)).unwrap_or_else(T::one);
    let sums: Vec<(T, T)> = (0..g.channels)
        .into_par_iter()
        .map(|c| {
            let db = channel_sum(dy, g, c, |_, d| d);
            let dg = channel_sum(dy, g, c, |i, d| d * cache.xhat[i]);
            (dg, db)
        })
        .collect();
    let mut dx = vec![T::zero(); dy.len()];
    per_element(&mut dx, g, |i, c| {
        let (dg, db) = sums[c];
        gamma[c] * cache.inv_std[c] / mt * (mt * dy[i] - db - cache.xhat[i] * dg)
    });
    (dx, sums.iter().map(|s| s.0).collect(), sums.iter().map(|s| s.1).collect())
}
