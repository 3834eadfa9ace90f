//! A workload's layer graph as a trainable network: its parameters (initialised from seeded
//! streams, [`super::rng`]), the forward pass over a batch (keeping what the backward pass
//! needs) and the backward pass (gradients of every parameter, each GEMM through the
//! [`Matmul`] backend). Generic over the scalar type so the whole network can be checked
//! against finite differences in binary64.
//!
//! GEMMs run in the order `Workload::lower` lists them (forward in topological order, then per
//! layer in reverse order backward-data before backward-weight), so the simulated timing of a
//! training iteration is that of `fastbfp run`'s iteration.

use crate::workload::{Init, Layer, Op, Shape, Workload, INPUT};

use super::ops::{self, ConvGeom, Matmul, NormGeom, PoolGeom, Scalar};
use super::rng::{SplitMix64, PURPOSE_INIT};

/// Why a workload cannot be trained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// An op `fastbfp train` has no backward for.
    #[error("layer `{layer}` ({op}): fastbfp train cannot train this op; allowed conv2d (groups 1), linear, relu, pool, add, flatten, batch_norm")]
    Unsupported {
        /// The layer.
        layer: String,
        /// Its op.
        op: String,
    },
    /// The workload does not declare its input shape.
    #[error("the workload declares no `input`; training needs it, e.g. `input: image(channels: 1, hw: (8, 8))`")]
    NoInput,
    /// More than one layer's output is unused, or the last layer is not the output.
    #[error("layer `{0}`'s output is used by no other layer; training needs a single output layer (the last)")]
    DeadEnd(String),
    /// The last layer does not produce one vector of logits per sample.
    #[error("the last layer `{layer}` produces {shape} per sample; the loss needs logits: one token of `classes` features (a linear layer)")]
    NotLogits {
        /// The layer.
        layer: String,
        /// What it produces.
        shape: String,
    },
}

/// Parameters of one layer.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerParams<T> {
    /// A GEMM layer: `W[N, K]` and an optional bias of `N`.
    Gemm {
        /// Weights, row-major `[N, K]`.
        w: Vec<T>,
        /// Bias.
        b: Option<Vec<T>>,
    },
    /// Batch normalisation.
    Norm {
        /// Scale `γ`.
        gamma: Vec<T>,
        /// Shift `β`.
        beta: Vec<T>,
        /// Running mean.
        mean: Vec<T>,
        /// Running (unbiased) variance.
        var: Vec<T>,
    },
}

/// Gradients of one layer's trainable parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerGrad<T> {
    /// `dW` and the bias gradient.
    Gemm {
        /// `dW[N, K]`.
        dw: Vec<T>,
        /// Bias gradient.
        db: Option<Vec<T>>,
    },
    /// `dγ`, `dβ`.
    Norm {
        /// Scale gradient.
        dgamma: Vec<T>,
        /// Shift gradient.
        dbeta: Vec<T>,
    },
}

/// What the backward pass needs from the forward pass.
#[derive(Debug, Clone)]
pub struct Trace<T> {
    /// Each layer's output.
    pub outputs: Vec<Vec<T>>,
    /// Max-pool argmax per layer (empty otherwise).
    argmax: Vec<Vec<u32>>,
    /// Batch-norm caches per layer.
    norm: Vec<Option<ops::NormCache<T>>>,
    /// Samples in the batch.
    pub batch: usize,
}

/// A trainable network over a workload's layers.
#[derive(Debug, Clone)]
pub struct Network {
    /// The workload's name.
    pub name: String,
    layers: Vec<Layer>,
    /// Producer of each input of each layer (`None` = the network input).
    producers: Vec<Vec<Option<usize>>>,
    /// Per-sample input shape.
    pub input: Shape,
    /// Classes (features of the last layer).
    pub classes: usize,
    /// Workload indices of the GEMM layers in forward order (`l = 1..=L` of DESIGN §11).
    pub gemm_layers: Vec<usize>,
}

fn norm_geom(shape: Shape, batch: usize) -> NormGeom {
    match shape {
        Shape::Image { channels, height, width } => NormGeom { outer: batch, channels, inner: height * width },
        Shape::Tokens { tokens, features } => NormGeom { outer: batch * tokens, channels: features, inner: 1 },
    }
}

fn conv_geom(c: &crate::workload::Conv2d, batch: usize) -> ConvGeom {
    ConvGeom {
        batch,
        cin: c.in_channels,
        hw: c.input_hw,
        cout: c.out_channels,
        kernel: c.kernel,
        stride: c.stride,
        padding: c.padding,
    }
}

fn channels_of(s: Shape) -> usize {
    match s {
        Shape::Image { channels, .. } => channels,
        Shape::Tokens { features, .. } => features,
    }
}

impl Network {
    /// The network of `wl`, or why it cannot be trained.
    pub fn new(wl: &Workload) -> Result<Self, NetError> {
        let input = wl.input.ok_or(NetError::NoInput)?;
        for l in &wl.layers {
            let ok = match l.op {
                Op::Conv2d(c) => c.groups == 1,
                Op::Linear(_) | Op::Relu | Op::Pool(_) | Op::Add | Op::Flatten | Op::BatchNorm => true,
                Op::Matmul(_) | Op::Gelu | Op::Softmax | Op::LayerNorm => false,
            };
            if !ok {
                let op = match l.op {
                    Op::Conv2d(c) => format!("conv2d with groups {}", c.groups),
                    o => o.kind().to_string(),
                };
                return Err(NetError::Unsupported { layer: l.name.clone(), op });
            }
        }
        let index: std::collections::HashMap<&str, usize> =
            wl.layers.iter().enumerate().map(|(i, l)| (l.name.as_str(), i)).collect();
        let producers: Vec<Vec<Option<usize>>> = wl
            .layers
            .iter()
            .map(|l| l.inputs.iter().map(|n| if n == INPUT { None } else { index.get(n.as_str()).copied() }).collect())
            .collect();
        let mut used = vec![false; wl.layers.len()];
        for p in producers.iter().flatten().flatten() {
            used[*p] = true;
        }
        let last = wl.layers.len() - 1;
        if let Some(i) = (0..last).find(|&i| !used[i]) {
            return Err(NetError::DeadEnd(wl.layers[i].name.clone()));
        }
        let out = wl.layers[last].output;
        let classes = match out {
            Shape::Tokens { tokens: 1, features } => features,
            Shape::Image { channels, height: 1, width: 1 } => channels,
            s => return Err(NetError::NotLogits { layer: wl.layers[last].name.clone(), shape: s.to_string() }),
        };
        let gemm_layers = wl.layers.iter().enumerate().filter(|(_, l)| l.op.is_gemm()).map(|(i, _)| i).collect();
        Ok(Network { name: wl.name.clone(), layers: wl.layers.clone(), producers, input, classes, gemm_layers })
    }

    /// The workload's layers.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// `W[N, K]` dimensions of a GEMM layer.
    pub fn gemm_dims(&self, i: usize) -> Option<(usize, usize)> {
        match self.layers[i].op {
            Op::Conv2d(c) => Some((c.out_channels, c.in_channels * c.kernel.0 * c.kernel.1)),
            Op::Linear(l) => Some((l.out_features, l.in_features)),
            _ => None,
        }
    }

    /// Fresh parameters: weights from `init` on the stream `(seed, 1, layer index)` drawn in
    /// row-major order of `W[N, K]` (each value computed in binary64, rounded once), biases 0,
    /// batch norm `γ = 1, β = 0`, running mean 0 and variance 1.
    pub fn init<T: Scalar>(&self, init: Init, seed: u64) -> Vec<Option<LayerParams<T>>> {
        let t = |v: f64| T::from_f64(v).unwrap_or_else(T::zero);
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| match l.op {
                Op::Conv2d(_) | Op::Linear(_) => {
                    let (n, k) = self.gemm_dims(i)?;
                    let field = match l.op {
                        Op::Conv2d(c) => c.kernel.0 * c.kernel.1,
                        _ => 1,
                    };
                    let (fan_in, fan_out) = (k as f64, (n * field) as f64);
                    let mut r = SplitMix64::stream(seed, PURPOSE_INIT, i as u64);
                    let w = (0..n * k)
                        .map(|_| {
                            t(match init {
                                Init::HeUniform => (2.0 * r.uniform() - 1.0) * (6.0 / fan_in).sqrt(),
                                Init::XavierUniform => (2.0 * r.uniform() - 1.0) * (6.0 / (fan_in + fan_out)).sqrt(),
                                Init::HeNormal => r.normal() * (2.0 / fan_in).sqrt(),
                                Init::XavierNormal => r.normal() * (2.0 / (fan_in + fan_out)).sqrt(),
                            })
                        })
                        .collect();
                    let bias = match l.op {
                        Op::Conv2d(c) => c.bias,
                        Op::Linear(lin) => lin.bias,
                        _ => false,
                    };
                    Some(LayerParams::Gemm { w, b: bias.then(|| vec![T::zero(); n]) })
                }
                Op::BatchNorm => {
                    let c = channels_of(l.output);
                    Some(LayerParams::Norm {
                        gamma: vec![T::one(); c],
                        beta: vec![T::zero(); c],
                        mean: vec![T::zero(); c],
                        var: vec![T::one(); c],
                    })
                }
                _ => None,
            })
            .collect()
    }

    /// The forward pass over `batch` samples `x` (row-major, the input shape per sample). In
    /// training (`train`) batch norm uses and updates batch statistics; at test it uses the
    /// running statistics. Returns every layer's output; the last is the logits.
    pub fn forward<T: Scalar, M: Matmul<T>>(
        &self,
        params: &mut [Option<LayerParams<T>>],
        x: &[T],
        batch: usize,
        train: bool,
        mm: &mut M,
    ) -> Result<Trace<T>, M::Error> {
        let n = self.layers.len();
        let mut tr = Trace { outputs: Vec::with_capacity(n), argmax: vec![Vec::new(); n], norm: vec![None; n], batch };
        for (i, l) in self.layers.iter().enumerate() {
            let xin: &[T] = match self.producers[i].first().copied().flatten() {
                None => x,
                Some(p) => &tr.outputs[p],
            };
            let out = match l.op {
                Op::Conv2d(c) => {
                    let Some(LayerParams::Gemm { w, b }) = &params[i] else { unreachable!("conv without weights") };
                    ops::conv2d_forward(mm, i, xin, w, b.as_deref(), &conv_geom(&c, batch))?
                }
                Op::Linear(lin) => {
                    let Some(LayerParams::Gemm { w, b }) = &params[i] else { unreachable!("linear without weights") };
                    let rows = batch * lin.tokens;
                    ops::linear_forward(mm, i, xin, rows, w, (lin.out_features, lin.in_features), b.as_deref())?
                }
                Op::Relu => ops::relu_forward(xin),
                Op::Flatten => xin.to_vec(),
                Op::Pool(p) => {
                    let (out, arg) = ops::pool_forward(xin, &self.pool_geom(i, p, batch));
                    tr.argmax[i] = arg;
                    out
                }
                Op::Add => {
                    let mut acc = xin.to_vec();
                    for j in 1..l.inputs.len() {
                        let other: &[T] = match self.producers[i][j] {
                            None => x,
                            Some(p) => &tr.outputs[p],
                        };
                        ops::add_into(&mut acc, other);
                    }
                    acc
                }
                Op::BatchNorm => {
                    let g = norm_geom(l.output, batch);
                    let Some(LayerParams::Norm { gamma, beta, mean, var }) = &mut params[i] else {
                        unreachable!("batch norm without parameters")
                    };
                    if train {
                        let (y, cache) = ops::batch_norm_train(xin, &g, gamma, beta, mean, var);
                        tr.norm[i] = Some(cache);
                        y
                    } else {
                        ops::batch_norm_eval(xin, &g, gamma, beta, mean, var)
                    }
                }
                Op::Matmul(_) | Op::Gelu | Op::Softmax | Op::LayerNorm => unreachable!("refused by Network::new"),
            };
            tr.outputs.push(out);
        }
        Ok(tr)
    }

    fn pool_geom(&self, i: usize, p: crate::workload::Pool, batch: usize) -> PoolGeom {
        let (channels, hw) = match self.layers[i].input_shapes[0] {
            Some(Shape::Image { channels, height, width }) => (channels, (height, width)),
            _ => (0, (0, 0)),
        };
        PoolGeom { kind: p.kind, planes: batch * channels, hw, kernel: p.kernel, stride: p.stride, padding: p.padding }
    }

    /// The backward pass from the gradient of the logits: every trainable layer's gradients.
    pub fn backward<T: Scalar, M: Matmul<T>>(
        &self,
        params: &[Option<LayerParams<T>>],
        trace: &Trace<T>,
        x: &[T],
        dlogits: Vec<T>,
        mm: &mut M,
    ) -> Result<Vec<Option<LayerGrad<T>>>, M::Error> {
        let n = self.layers.len();
        let batch = trace.batch;
        let mut dout: Vec<Option<Vec<T>>> = vec![None; n];
        dout[n - 1] = Some(dlogits);
        let mut grads: Vec<Option<LayerGrad<T>>> = vec![None; n];
        for i in (0..n).rev() {
            let Some(dy) = dout[i].take() else { continue };
            let l = &self.layers[i];
            let xin: &[T] = match self.producers[i].first().copied().flatten() {
                None => x,
                Some(p) => &trace.outputs[p],
            };
            let need = |j: usize| l.input_grads.get(j).copied().unwrap_or(false);
            let mut dins: Vec<Option<Vec<T>>> = vec![None; l.inputs.len()];
            match l.op {
                Op::Conv2d(c) => {
                    let Some(LayerParams::Gemm { w, b }) = &params[i] else { unreachable!("conv without weights") };
                    let g = ops::conv2d_backward(mm, i, xin, w, b.is_some(), &dy, &conv_geom(&c, batch), need(0))?;
                    dins[0] = g.dx;
                    grads[i] = Some(LayerGrad::Gemm { dw: g.dw, db: g.db });
                }
                Op::Linear(lin) => {
                    let Some(LayerParams::Gemm { w, b }) = &params[i] else { unreachable!("linear without weights") };
                    let rows = batch * lin.tokens;
                    let dims = (lin.out_features, lin.in_features);
                    let g = ops::linear_backward(mm, i, xin, rows, w, dims, b.is_some(), &dy, need(0))?;
                    dins[0] = g.dx;
                    grads[i] = Some(LayerGrad::Gemm { dw: g.dw, db: g.db });
                }
                Op::Relu => dins[0] = Some(ops::relu_backward(&trace.outputs[i], &dy)),
                Op::Flatten => dins[0] = Some(dy),
                Op::Pool(p) => dins[0] = Some(ops::pool_backward(&dy, &trace.argmax[i], &self.pool_geom(i, p, batch))),
                Op::Add => {
                    for (j, d) in dins.iter_mut().enumerate() {
                        if need(j) {
                            *d = Some(dy.clone());
                        }
                    }
                }
                Op::BatchNorm => {
                    let Some(LayerParams::Norm { gamma, .. }) = &params[i] else { unreachable!("batch norm params") };
                    let Some(cache) = &trace.norm[i] else {
                        unreachable!("batch norm backward needs a training forward")
                    };
                    let (dx, dgamma, dbeta) = ops::batch_norm_backward(&dy, &norm_geom(l.output, batch), gamma, cache);
                    dins[0] = Some(dx);
                    grads[i] = Some(LayerGrad::Norm { dgamma, dbeta });
                }
                Op::Matmul(_) | Op::Gelu | Op::Softmax | Op::LayerNorm => unreachable!("refused by Network::new"),
            }
            for (j, d) in dins.into_iter().enumerate() {
                let (Some(d), Some(p)) = (d, self.producers[i][j]) else { continue };
                if !need(j) {
                    continue;
                }
                match &mut dout[p] {
                    Some(acc) => ops::add_into(acc, &d),
                    slot @ None => *slot = Some(d),
                }
            }
        }
        Ok(grads)
    }
}
