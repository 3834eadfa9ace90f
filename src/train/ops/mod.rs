//! The network's operations with their backward passes, generic over the scalar type (binary32
//! when training, binary64 in the finite-difference checks). The three GEMMs of a conv2d or
//! linear layer go through a [`Matmul`] backend (the simulated accelerator when training, a
//! plain loop in the checks); everything else is element-wise and computed here, in the
//! scalar type, in a fixed order (parallel only across independent outputs, so the bits never
//! depend on the thread count).
//!
//! Layouts: an image batch is `[batch, channels, height, width]` row-major; a token batch is
//! `[batch * tokens, features]`. Weights are `W[N, K]` as DESIGN §6 names them (`N` output
//! channels or features, `K` the reduction).
//!
//! | file | owns |
//! |---|---|
//! | `gemm_layers.rs` | conv2d (im2col / col2im) and linear: forward, backward-data, backward-weight, bias |
//! | `pool.rs` | max and average pooling |
//! | `norm.rs` | batch normalisation (batch statistics in training, running statistics at test) |
//! | `elementwise.rs` | relu, residual add |
//! | `loss.rs` | softmax cross-entropy |

mod elementwise;
mod gemm_layers;
mod loss;
mod norm;
mod pool;

pub use elementwise::{add_into, relu_backward, relu_forward};
pub use gemm_layers::{conv2d_backward, conv2d_forward, im2col, linear_backward, linear_forward, ConvGeom, LayerGrads};
pub use loss::{softmax_cross_entropy, LossOutput};
pub use norm::{batch_norm_backward, batch_norm_eval, batch_norm_train, NormCache, NormGeom, BN_EPS, BN_MOMENTUM};
pub use pool::{pool_backward, pool_forward, PoolGeom};

use crate::gemm::Pass;

/// The scalar type of a network: `f32` when training, `f64` in the gradient checks.
pub trait Scalar:
    num_traits::Float + num_traits::FromPrimitive + Default + Send + Sync + std::fmt::Debug + std::iter::Sum + 'static
{
}
impl Scalar for f32 {}
impl Scalar for f64 {}

/// Which GEMM of the network: the workload layer it belongs to and its pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GemmSite {
    /// Index of the layer in `Workload::layers`.
    pub layer: usize,
    /// The pass.
    pub pass: Pass,
}

/// Computes the GEMMs of DESIGN §6 for the network: `forward` `O[N,B] = W[N,K] A[K,B]`,
/// `backward-data` `dA[K,B] = W^T dO` with X = `W[N,K]`, Y = `dO[N,B]`, `backward-weight`
/// `dW[N,K] = dO A^T` with X = `dO[N,B]`, Y = `A[K,B]`; row-major operands and output.
pub trait Matmul<T> {
    /// The error a backend may return.
    type Error;
    /// One GEMM.
    fn matmul(
        &mut self,
        site: GemmSite,
        x: &[T],
        xs: (usize, usize),
        y: &[T],
        ys: (usize, usize),
    ) -> Result<Vec<T>, Self::Error>;

    /// `len` zeros for a layer's large temporaries (im2col matrices, relayouts): a buffer
    /// handed back by [`Matmul::recycle`] when the backend keeps them, else a new one.
    fn zeroed(&mut self, len: usize) -> Vec<T>
    where
        T: num_traits::Zero + Clone,
    {
        vec![T::zero(); len]
    }

    /// Hands back a buffer the layer no longer needs (a GEMM output or a temporary), for
    /// [`Matmul::zeroed`] and the next GEMM outputs. The default drops it.
    fn recycle(&mut self, buf: Vec<T>) {
        drop(buf);
    }
}

/// The plain triple loop in the scalar type (no conversion, no hardware): the reference of the
/// gradient checks.
#[derive(Debug, Default, Clone, Copy)]
pub struct PlainMatmul;

impl<T: Scalar> Matmul<T> for PlainMatmul {
    type Error = std::convert::Infallible;
    fn matmul(
        &mut self,
        site: GemmSite,
        x: &[T],
        xs: (usize, usize),
        y: &[T],
        ys: (usize, usize),
    ) -> Result<Vec<T>, Self::Error> {
        Ok(plain_matmul(site.pass, x, xs, y, ys))
    }
}

/// `pass` on row-major X and Y in the scalar type, each output summed in increasing reduction
/// index.
pub fn plain_matmul<T: Scalar>(pass: Pass, x: &[T], xs: (usize, usize), y: &[T], ys: (usize, usize)) -> Vec<T> {
    let (rows, cols, red) = match pass {
        Pass::Forward => (xs.0, ys.1, xs.1),
        Pass::BackwardData => (xs.1, ys.1, xs.0),
        Pass::BackwardWeight => (xs.0, ys.0, xs.1),
    };
    let mut out = vec![T::zero(); rows * cols];
    for u in 0..rows {
        for v in 0..cols {
            let mut acc = T::zero();
            for r in 0..red {
                let (a, b) = match pass {
                    Pass::Forward => (x[u * xs.1 + r], y[r * ys.1 + v]),
                    Pass::BackwardData => (x[r * xs.1 + u], y[r * ys.1 + v]),
                    Pass::BackwardWeight => (x[u * xs.1 + r], y[v * ys.1 + r]),
                };
                acc = acc + a * b;
            }
            out[u * cols + v] = acc;
        }
    }
    out
}

/// Transposes a row-major `[rows, cols]` matrix.
pub fn transpose<T: Copy + Send + Sync + Default>(a: &[T], rows: usize, cols: usize) -> Vec<T> {
    use rayon::prelude::*;
    const TILE: usize = 32;
    let mut out = vec![T::default(); rows * cols];
    if rows == 0 || cols == 0 {
        return out;
    }
    // Each task writes TILE output rows (input columns c0..c0+TILE), each `rows` long.
    out.par_chunks_mut(rows * TILE).enumerate().for_each(|(t, block)| {
        let c0 = t * TILE;
        let nc = block.len() / rows;
        for r0 in (0..rows).step_by(TILE) {
            for c in c0..c0 + nc {
                for r in r0..(r0 + TILE).min(rows) {
                    block[(c - c0) * rows + r] = a[r * cols + c];
                }
            }
        }
    });
    out
}

#[cfg(test)]
mod tests;
