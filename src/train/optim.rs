//! Stochastic gradient descent with momentum and weight decay on binary32 master weights
//! (PyTorch's SGD): per element, in binary32, `g' = g + weight_decay * w` (conv and linear
//! weights only; biases and batch-norm parameters are not decayed), `v = momentum * v + g'`,
//! `w = w - lr * v`. The learning rate comes from the schedule, as binary32.

use rayon::prelude::*;

use super::net::{LayerGrad, LayerParams};
use crate::workload::Sgd;

/// Momentum buffers, one per parameter tensor.
#[derive(Debug, Clone, Default)]
pub struct SgdState {
    velocity: Vec<Vec<Vec<f32>>>,
}

fn update(w: &mut [f32], g: &[f32], v: &mut Vec<f32>, lr: f32, momentum: f32, decay: f32) {
    if v.len() != w.len() {
        *v = vec![0.0; w.len()];
    }
    w.par_iter_mut().zip(g).zip(v.par_iter_mut()).with_min_len(4096).for_each(|((w, &g), v)| {
        let g = if decay != 0.0 { g + decay * *w } else { g };
        *v = momentum * *v + g;
        *w -= lr * *v;
    });
}

impl SgdState {
    /// One step over every layer with gradients.
    pub fn step(
        &mut self,
        params: &mut [Option<LayerParams<f32>>],
        grads: &[Option<LayerGrad<f32>>],
        sgd: &Sgd,
        lr: f64,
    ) {
        if self.velocity.len() != params.len() {
            self.velocity = vec![Vec::new(); params.len()];
        }
        let (lr, mom, wd) = (lr as f32, sgd.momentum as f32, sgd.weight_decay as f32);
        for ((p, g), vel) in params.iter_mut().zip(grads).zip(self.velocity.iter_mut()) {
            match (p, g) {
                (Some(LayerParams::Gemm { w, b }), Some(LayerGrad::Gemm { dw, db })) => {
                    vel.resize(2, Vec::new());
                    update(w, dw, &mut vel[0], lr, mom, wd);
                    if let (Some(b), Some(db)) = (b.as_mut(), db.as_ref()) {
                        update(b, db, &mut vel[1], lr, mom, 0.0);
                    }
                }
                (Some(LayerParams::Norm { gamma, beta, .. }), Some(LayerGrad::Norm { dgamma, dbeta })) => {
                    vel.resize(2, Vec::new());
                    update(gamma, dgamma, &mut vel[0], lr, mom, 0.0);
                    update(beta, dbeta, &mut vel[1], lr, mom, 0.0);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_and_decay_by_hand() {
        let mut p = vec![Some(LayerParams::Gemm { w: vec![1.0f32, -2.0], b: Some(vec![0.5]) })];
        let g = vec![Some(LayerGrad::Gemm { dw: vec![0.1, 0.2], db: Some(vec![1.0]) })];
        let sgd = Sgd { lr: 0.5, momentum: 0.9, weight_decay: 0.1 };
        let mut s = SgdState::default();
        s.step(&mut p, &g, &sgd, 0.5);
        // w0: g' = 0.1 + 0.1 = 0.2, v = 0.2, w = 1 - 0.1 = 0.9; bias: v = 1, b = 0.
        s.step(&mut p, &g, &sgd, 0.5);
        // w0: g' = 0.1 + 0.09 = 0.19, v = 0.18 + 0.19 = 0.37, w = 0.9 - 0.185 = 0.715
        // b: v = 0.9 + 1 = 1.9, b = 0 - 0.95 = -0.95
        let Some(LayerParams::Gemm { w, b }) = &p[0] else { panic!() };
        assert!((w[0] - 0.715).abs() < 1e-6, "{w:?}");
        assert!((b.as_ref().unwrap()[0] + 0.95).abs() < 1e-6);
    }
}
