//! Lowering a workload to the GEMMs of one training iteration (DESIGN §6), the data moved by
//! its zero-MAC nodes, and the per-iteration queries (precision, operand values).
//!
//! A GEMM layer has dimensions `N`, `K`, `B` and `instances`:
//!
//! | op | N | K | B | instances |
//! |---|---|---|---|---|
//! | conv2d | out_channels / groups | in_channels / groups * kh * kw | batch * out_h * out_w | groups |
//! | linear | out_features | in_features | batch * tokens | 1 |
//! | matmul | rows | inner | cols | batch * heads |
//!
//! and its passes are forward `W[N,K] A[K,B] -> O[N,B]`, backward-data
//! `W[N,K], dO[N,B] -> dA[K,B]` and backward-weight `dO[N,B], A[K,B] -> dW[N,K]` (for a
//! matmul, `W` is the left operand `L` and `A` the right `R`: backward-data gives `dR`,
//! backward-weight `dL`). A gradient nobody needs is not computed: a layer fed by the network
//! input has no backward-data, and a matmul has no `dL`/`dR` for an operand computed without
//! trainable weights.

use crate::arch::TensorClass;
use crate::gemm::Pass;
use crate::mapping::{PassDims, Role};

use super::data::{npy, operands_of, synthetic, DataSource};
use super::error::WorkloadError;
use super::model::{DataMove, Layer, LoweredGemm, Op, Workload};
use super::precision::LayerPrecision;

/// `(N, K, B, instances)` of a GEMM layer, `None` for a zero-MAC node.
pub fn gemm_dims(layer: &Layer, batch: usize) -> Option<(usize, usize, usize, usize)> {
    match layer.op {
        Op::Conv2d(c) => {
            let (oh, ow) = c.output_hw();
            let k = c.in_channels / c.groups * c.kernel.0 * c.kernel.1;
            Some((c.out_channels / c.groups, k, batch * oh * ow, c.groups))
        }
        Op::Linear(l) => Some((l.out_features, l.in_features, batch * l.tokens, 1)),
        Op::Matmul(m) => Some((m.rows, m.inner, m.cols, batch * m.heads)),
        _ => None,
    }
}

impl Workload {
    /// Every GEMM of one training iteration in execution order: all forward GEMMs in
    /// topological order, then backward GEMMs in reverse topological order (backward-data
    /// then backward-weight per layer), filtered by `passes`.
    pub fn lower(&self) -> Vec<LoweredGemm> {
        let mut out = Vec::new();
        if self.passes.contains(&Pass::Forward) {
            for (i, l) in self.layers.iter().enumerate() {
                out.extend(self.gemm(i, l, Pass::Forward));
            }
        }
        for (i, l) in self.layers.iter().enumerate().rev() {
            for pass in [Pass::BackwardData, Pass::BackwardWeight] {
                if self.passes.contains(&pass) {
                    out.extend(self.gemm(i, l, pass));
                }
            }
        }
        out
    }

    /// The GEMM of layer `l` (index `i`) in `pass`, if it has one.
    fn gemm(&self, i: usize, l: &Layer, pass: Pass) -> Option<LoweredGemm> {
        let (n, k, b, instances) = gemm_dims(l, self.batch)?;
        let matmul = matches!(l.op, Op::Matmul(_));
        let grad = |j: usize| l.input_grads.get(j).copied().unwrap_or(false);
        let needed = match pass {
            Pass::Forward => true,
            Pass::BackwardData => grad(if matmul { 1 } else { 0 }),
            Pass::BackwardWeight => !matmul || grad(0),
        };
        if !needed {
            return None;
        }
        let d = PassDims::elements(pass, n, k, b);
        let (x_shape, y_shape, out_shape) = (d.shape(Role::X), d.shape(Role::Y), d.shape(Role::Out));
        // A matmul's left operand `L` stands where `W` does, but is an activation.
        let [x_class, y_class, out_class] =
            d.classes().map(|c| if matmul && c == TensorClass::Weights { TensorClass::Activations } else { c });
        let macs = (n as u64).saturating_mul(k as u64).saturating_mul(b as u64).saturating_mul(instances as u64);
        Some(LoweredGemm {
            layer: l.name.clone(),
            layer_index: i,
            kind: l.op.kind(),
            pass,
            x_shape,
            y_shape,
            out_shape,
            instances,
            macs,
            x_class,
            y_class,
            out_class,
        })
    }

    /// The lowering window of `g` when its layer is a convolution (for on-chip im2col).
    pub fn conv_window(&self, g: &LoweredGemm) -> Option<crate::mapping::ConvWindow> {
        let Op::Conv2d(c) = self.layers.get(g.layer_index)?.op else { return None };
        Some(crate::mapping::ConvWindow {
            channels: c.in_channels / c.groups.max(1),
            kernel: c.kernel,
            stride_h: c.stride.0,
            pad_h: c.padding.0,
            input_hw: c.input_hw,
            output_hw: c.output_hw(),
            batch: self.batch,
        })
    }

    /// Zero-MAC nodes and the elements they move per iteration (whole batch). With `E` the
    /// output's elements and `I` the input's: element-wise ops read `E` and write `E` forward,
    /// and read `2E` (the gradient and the saved input) and write `E` backward; `add` of `k`
    /// inputs reads `kE`, writes `E` forward, reads `E` and writes one gradient per input that
    /// needs one backward; `pool` reads `I`, writes `E` forward, reads `E`, writes `I` backward.
    /// The backward part counts when backward-data runs and a gradient flows through the node.
    pub fn data_moves(&self) -> Vec<DataMove> {
        let backward = self.passes.contains(&Pass::BackwardData);
        let batch = self.batch as u64;
        let mut out = Vec::new();
        for l in self.layers.iter().filter(|l| !l.op.is_gemm()) {
            let e = l.output.elements() * batch;
            let grads = l.input_grads.iter().filter(|&&g| g).count() as u64;
            let flows = backward && grads > 0;
            let (mut read, mut written) = (0, 0);
            let forward = self.passes.contains(&Pass::Forward);
            let (fr, fw, br, bw) = match l.op {
                Op::Add => (l.inputs.len() as u64 * e, e, e, grads * e),
                Op::Flatten => (0, 0, 0, 0),
                Op::Pool(_) => {
                    let i = l.input_shapes[0].map_or(0, |s| s.elements()) * batch;
                    (i, e, e, i)
                }
                _ => (e, e, 2 * e, e),
            };
            if forward {
                read += fr;
                written += fw;
            }
            if flows {
                read += br;
                written += bw;
            }
            out.push(DataMove {
                layer: l.name.clone(),
                kind: l.op.kind(),
                elements_read: read,
                elements_written: written,
            });
        }
        out
    }

    /// Precision of a layer's operands at an iteration (0-based), from the policy: mantissa
    /// bits and rounding per class, or `None` = use the arch's.
    pub fn precision(&self, layer: &str, iteration: usize) -> LayerPrecision {
        self.precision.at(layer, iteration)
    }

    /// The two operands of `g` (row-major f32, shapes `g.x_shape` / `g.y_shape`), for its
    /// first instance; see [`Workload::instance_operands`].
    pub fn operands(&self, g: &LoweredGemm, seed: u64) -> Result<(Vec<f32>, Vec<f32>), WorkloadError> {
        self.instance_operands(g, 0, seed)
    }

    /// The two operands of instance `instance` of `g`: seeded synthetic normals
    /// (deterministic from the file's seed, `seed`, the layer, the tensor and the instance;
    /// gradients scaled by 2^-10), or read from `<dir>/<layer>.<tensor>.npy` (module
    /// `data`'s documentation gives the tensor names). A missing or ill-shaped file is an
    /// error naming it.
    pub fn instance_operands(
        &self,
        g: &LoweredGemm,
        instance: usize,
        seed: u64,
    ) -> Result<(Vec<f32>, Vec<f32>), WorkloadError> {
        let [x, y] = operands_of(g);
        for op in [&x, &y] {
            let n = op.shape.0.checked_mul(op.shape.1);
            if instance >= g.instances || n.is_none_or(|n| n > crate::tensor::DEFAULT_MAX_ELEMENTS) {
                let message = format!(
                    "layer {} {}: instance {instance} of {} of a {} x {} operand cannot be materialised (at most 2^26 elements)",
                    g.layer, g.pass, g.instances, op.shape.0, op.shape.1
                );
                return Err(WorkloadError::Data { path: self.origin.clone(), workload: self.origin.clone(), message });
            }
        }
        match &self.data {
            DataSource::Synthetic { seed: file_seed } => Ok((
                synthetic(*file_seed, seed, &g.layer, &x, instance),
                synthetic(*file_seed, seed, &g.layer, &y, instance),
            )),
            DataSource::Npy { dir } => {
                Ok((npy(self, dir, &g.layer, &x, g, instance)?, npy(self, dir, &g.layer, &y, g, instance)?))
            }
        }
    }

    /// Multiply-accumulates of one training iteration: every GEMM of [`Workload::lower`].
    pub fn total_macs(&self) -> u64 {
        self.lower().iter().map(|g| g.macs).sum()
    }

    /// Multiply-accumulates of one forward pass over the batch (every GEMM layer, whatever
    /// `passes` says).
    pub fn forward_macs(&self) -> u64 {
        self.layers.iter().enumerate().filter_map(|(i, l)| self.gemm(i, l, Pass::Forward)).map(|g| g.macs).sum()
    }
}
