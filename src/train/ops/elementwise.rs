//! Element-wise ops: relu and the residual add (and its gradient fan-out).

use rayon::prelude::*;

use super::Scalar;

const CHUNK: usize = 1 << 14;

/// `max(x, 0)` (a NaN stays NaN, so divergence is seen).
pub fn relu_forward<T: Scalar>(x: &[T]) -> Vec<T> {
    x.par_iter().with_min_len(CHUNK).map(|&v| if v < T::zero() { T::zero() } else { v }).collect()
}

/// The gradient through relu, from its output `y`: `dy` where `y > 0`, else 0.
pub fn relu_backward<T: Scalar>(y: &[T], dy: &[T]) -> Vec<T> {
    y.par_iter().zip(dy).with_min_len(CHUNK).map(|(&o, &d)| if o > T::zero() { d } else { T::zero() }).collect()
}

/// `acc += x`, element by element (sums of residual branches and of gradients reaching one
/// tensor from several consumers, in the order the caller adds them).
pub fn add_into<T: Scalar>(acc: &mut [T], x: &[T]) {
    acc.par_iter_mut().zip(x).with_min_len(CHUNK).for_each(|(a, &b)| *a = *a + b);
}
