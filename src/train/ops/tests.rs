//! Every op's backward against central finite differences in binary64 on small random shapes
//! (loss `L = Σ u_i y_i` with random `u`, so `dL/dy = u`).

use super::*;
use crate::train::rng::SplitMix64;
use crate::workload::PoolKind;

const H: f64 = 1e-6;
/// Largest accepted |analytic - numeric| / max(1, |numeric|).
const TOL: f64 = 1e-6;

fn rand(n: usize, seed: u64) -> Vec<f64> {
    let mut r = SplitMix64::new(seed);
    (0..n).map(|_| r.uniform() * 2.0 - 1.0).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Checks `grad` against central differences of `f` at `x`.
fn check(name: &str, x: &[f64], grad: &[f64], f: &mut dyn FnMut(&[f64]) -> f64) {
    assert_eq!(x.len(), grad.len(), "{name}: gradient length");
    let mut xp = x.to_vec();
    for i in 0..x.len() {
        xp[i] = x[i] + H;
        let fp = f(&xp);
        xp[i] = x[i] - H;
        let fm = f(&xp);
        xp[i] = x[i];
        let num = (fp - fm) / (2.0 * H);
        let err = (grad[i] - num).abs() / num.abs().max(1.0);
        assert!(err < TOL, "{name}[{i}]: analytic {} numeric {num} (err {err:e})", grad[i]);
    }
}

#[test]
fn conv2d_all_three_gemms() {
    for (seed, stride, padding, kernel) in
        [(1, (1, 1), (1, 1), (3, 3)), (2, (2, 1), (0, 2), (2, 3)), (3, (2, 2), (1, 0), (1, 1))]
    {
        let g = ConvGeom { batch: 2, cin: 3, hw: (5, 6), cout: 4, kernel, stride, padding };
        let (oh, ow) = g.out_hw();
        let x = rand(2 * 3 * 30, seed);
        let w = rand(4 * g.k(), seed + 10);
        let b = rand(4, seed + 20);
        let u = rand(2 * 4 * oh * ow, seed + 30);
        let mut mm = PlainMatmul;
        let gr = conv2d_backward(&mut mm, 0, &x, &w, true, &u, &g, true).unwrap();
        let fwd =
            |x: &[f64], w: &[f64], b: &[f64]| dot(&conv2d_forward(&mut PlainMatmul, 0, x, w, Some(b), &g).unwrap(), &u);
        check("conv dx", &x, gr.dx.as_ref().unwrap(), &mut |v| fwd(v, &w, &b));
        check("conv dw", &w, &gr.dw, &mut |v| fwd(&x, v, &b));
        check("conv db", &b, gr.db.as_ref().unwrap(), &mut |v| fwd(&x, &w, v));
    }
}

#[test]
fn linear_all_three_gemms() {
    let (rows, inf, outf) = (5, 7, 3);
    let x = rand(rows * inf, 4);
    let w = rand(outf * inf, 5);
    let b = rand(outf, 6);
    let u = rand(rows * outf, 7);
    let gr = linear_backward(&mut PlainMatmul, 0, &x, rows, &w, (outf, inf), true, &u, true).unwrap();
    let fwd = |x: &[f64], w: &[f64], b: &[f64]| {
        dot(&linear_forward(&mut PlainMatmul, 0, x, rows, w, (outf, inf), Some(b)).unwrap(), &u)
    };
    check("linear dx", &x, gr.dx.as_ref().unwrap(), &mut |v| fwd(v, &w, &b));
    check("linear dw", &w, &gr.dw, &mut |v| fwd(&x, v, &b));
    check("linear db", &b, gr.db.as_ref().unwrap(), &mut |v| fwd(&x, &w, v));
    let no_dx = linear_backward(&mut PlainMatmul, 0, &x, rows, &w, (outf, inf), false, &u, false).unwrap();
    assert!(no_dx.dx.is_none() && no_dx.db.is_none());
    assert_eq!(no_dx.dw, gr.dw);
}

#[test]
fn pools() {
    for kind in [PoolKind::Max, PoolKind::Avg] {
        for (kernel, stride, padding) in [((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 2), (1, 1)), ((2, 3), (1, 2), (1, 0))]
        {
            let g = PoolGeom { kind, planes: 3, hw: (5, 6), kernel, stride, padding };
            let (oh, ow) = g.out_hw();
            let x = rand(3 * 30, 8);
            let u = rand(3 * oh * ow, 9);
            let (_, arg) = pool_forward(&x, &g);
            let dx = pool_backward(&u, &arg, &g);
            check(&format!("{kind:?} pool"), &x, &dx, &mut |v| dot(&pool_forward(v, &g).0, &u));
        }
    }
}

#[test]
fn relu_and_add() {
    // Keep inputs away from the kink at 0.
    let x: Vec<f64> = rand(40, 10).iter().map(|v| if v.abs() < 0.01 { 0.5 } else { *v }).collect();
    let u = rand(40, 11);
    let y = relu_forward(&x);
    check("relu", &x, &relu_backward(&y, &u), &mut |v| dot(&relu_forward(v), &u));
    let mut acc = x.clone();
    add_into(&mut acc, &u);
    assert_eq!(acc[3], x[3] + u[3]);
}

#[test]
fn batch_norm_training_statistics() {
    for g in [NormGeom { outer: 3, channels: 4, inner: 5 }, NormGeom { outer: 6, channels: 3, inner: 1 }] {
        let n = g.outer * g.channels * g.inner;
        let x = rand(n, 12);
        let gamma: Vec<f64> = rand(g.channels, 13).iter().map(|v| 1.0 + v * 0.5).collect();
        let beta = rand(g.channels, 14);
        let u = rand(n, 15);
        let mut scratch = (vec![0.0; g.channels], vec![1.0; g.channels]);
        let (_, cache) = batch_norm_train(&x, &g, &gamma, &beta, &mut scratch.0, &mut scratch.1);
        let (dx, dgamma, dbeta) = batch_norm_backward(&u, &g, &gamma, &cache);
        let fwd = |x: &[f64], ga: &[f64], be: &[f64]| {
            let (mut m, mut v) = (vec![0.0; g.channels], vec![1.0; g.channels]);
            dot(&batch_norm_train(x, &g, ga, be, &mut m, &mut v).0, &u)
        };
        check("bn dx", &x, &dx, &mut |v| fwd(v, &gamma, &beta));
        check("bn dgamma", &gamma, &dgamma, &mut |v| fwd(&x, v, &beta));
        check("bn dbeta", &beta, &dbeta, &mut |v| fwd(&x, &gamma, v));
    }
}

#[test]
fn batch_norm_running_statistics() {
    let g = NormGeom { outer: 2, channels: 1, inner: 2 };
    let x = [1.0, 2.0, 3.0, 6.0]; // mean 3, biased var 3.5, unbiased 14/3
    let (mut m, mut v) = (vec![0.0f64], vec![1.0f64]);
    let (y, _) = batch_norm_train(&x, &g, &[1.0], &[0.0], &mut m, &mut v);
    assert!((m[0] - 0.3).abs() < 1e-15 && (v[0] - (0.9 + 0.1 * 14.0 / 3.0)).abs() < 1e-15);
    assert!((y[3] - 3.0 / (3.5f64 + BN_EPS).sqrt()).abs() < 1e-12);
    let e = batch_norm_eval(&x, &g, &[2.0], &[1.0], &[3.0], &[4.0]);
    assert!((e[0] - (1.0 + 2.0 * (1.0 - 3.0) / (4.0 + BN_EPS).sqrt())).abs() < 1e-12);
}

#[test]
fn softmax_cross_entropy_gradient_and_value() {
    let (batch, classes) = (4, 5);
    let z = rand(batch * classes, 16);
    let labels = [0u32, 3, 4, 1];
    let out = softmax_cross_entropy(&z, &labels, classes);
    check("softmax ce", &z, &out.grad, &mut |v| softmax_cross_entropy(v, &labels, classes).loss);
    // Uniform logits: loss ln(classes), every argmax is class 0.
    let flat = softmax_cross_entropy(&[0.0f64; 10], &[0, 1], 5);
    assert!((flat.loss - 5f64.ln()).abs() < 1e-15);
    assert_eq!(flat.correct, 1);
}

#[test]
fn transpose_round_trip() {
    let a: Vec<f64> = (0..(37 * 70)).map(|i| i as f64).collect();
    let t = transpose(&a, 37, 70);
    assert_eq!(t[5 * 37 + 3], a[3 * 70 + 5]);
    assert_eq!(transpose(&t, 70, 37), a);
}
