//! Softmax cross-entropy over a batch of logits `[batch, classes]`: the mean loss, the
//! number of correct argmax predictions, and the gradient `(softmax - onehot) / batch`.
//! Per sample: `lse = max + ln Σ exp(z - max)` (sum in class order), loss `lse - z_y`; the
//! batch mean sums the samples in order.

use super::Scalar;

/// What the loss computed.
#[derive(Debug, Clone, PartialEq)]
pub struct LossOutput<T> {
    /// Mean cross-entropy over the batch.
    pub loss: T,
    /// Samples whose largest logit (first on ties) is the label.
    pub correct: usize,
    /// Gradient with respect to the logits.
    pub grad: Vec<T>,
}

/// The loss of `logits[batch, classes]` against `labels` (each `< classes`).
pub fn softmax_cross_entropy<T: Scalar>(logits: &[T], labels: &[u32], classes: usize) -> LossOutput<T> {
    let batch = labels.len();
    let inv = T::one() / T::from_usize(batch.max(1)).unwrap_or_else(T::one);
    let mut grad = vec![T::zero(); logits.len()];
    let (mut total, mut correct) = (T::zero(), 0);
    for (s, &y) in labels.iter().enumerate() {
        let z = &logits[s * classes..][..classes];
        let (mut mx, mut arg) = (z[0], 0);
        for (c, &v) in z.iter().enumerate().skip(1) {
            if v > mx || mx.is_nan() {
                (mx, arg) = (v, c);
            }
        }
        correct += usize::from(arg == y as usize);
        let mut sum = T::zero();
        for &v in z {
            sum = sum + (v - mx).exp();
        }
        let lse = mx + sum.ln();
        total = total + (lse - z[y as usize]);
        let g = &mut grad[s * classes..][..classes];
        for (c, (gv, &v)) in g.iter_mut().zip(z).enumerate() {
            let p = (v - mx).exp() / sum;
            let t = if c == y as usize { T::one() } else { T::zero() };
            *gv = (p - t) * inv;
        }
    }
    LossOutput { loss: total * inv, correct, grad }
}
