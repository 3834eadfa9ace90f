//! The typed, validated workload: [`Workload`], its [`Layer`]s and their [`Op`]s, per-sample
//! tensor [`Shape`]s, and the records lowering produces ([`LoweredGemm`], [`DataMove`]).

use std::path::PathBuf;

use serde::Serialize;

use crate::arch::TensorClass;
use crate::gemm::Pass;

use super::data::DataSource;
use super::precision::PrecisionPolicy;

/// A training workload: a DAG of layers, a batch, a number of iterations, the passes to run,
/// a precision policy and where operand values come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// The workload's name (`resnet18-cifar`).
    pub name: String,
    /// Samples per iteration, >= 1.
    pub batch: usize,
    /// Training iterations to run, >= 1 (precision schedules are indexed by iteration).
    pub iterations: usize,
    /// Passes to run, in training order (forward, backward-data, backward-weight), no repeats.
    pub passes: Vec<Pass>,
    /// Every layer, in topological order (file order wherever the graph allows it).
    pub layers: Vec<Layer>,
    /// The network input's per-sample shape, if the file declares it.
    pub input: Option<Shape>,
    /// Which mantissa widths and roundings each layer uses, per iteration.
    pub precision: PrecisionPolicy,
    /// Where [`Workload::operands`] takes values from.
    pub data: DataSource,
    /// How `fastbfp train` trains the network (the file's `training` section), if given.
    pub training: Option<super::training::TrainingConfig>,
    /// The file this was read from (or the name of the compiled-in text).
    pub origin: PathBuf,
}

/// One node of the network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layer {
    /// Unique name; `input` is reserved for the network input.
    pub name: String,
    /// What it computes.
    pub op: Op,
    /// Producers, by name (`input` = the network input), in operand order.
    pub inputs: Vec<String>,
    /// Per-sample shape of each input (`None`: the network input, undeclared).
    pub input_shapes: Vec<Option<Shape>>,
    /// Whether the gradient with respect to each input is needed in training: false for the
    /// network input and for tensors computed from it without any trainable weight.
    pub input_grads: Vec<bool>,
    /// Per-sample shape of the output.
    pub output: Shape,
    /// Index of the layer in the file's `layers` list (error messages use it).
    pub file_index: usize,
}

/// Per-sample shape of a tensor flowing between layers (the batch is implicit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Feature maps: channels x height x width.
    Image {
        /// Channels.
        channels: usize,
        /// Height in pixels.
        height: usize,
        /// Width in pixels.
        width: usize,
    },
    /// A sequence: tokens x features (attention heads split the features).
    Tokens {
        /// Sequence length.
        tokens: usize,
        /// Features per token.
        features: usize,
    },
}

impl Shape {
    /// Elements per sample.
    pub fn elements(&self) -> u64 {
        match *self {
            Shape::Image { channels, height, width } => channels as u64 * height as u64 * width as u64,
            Shape::Tokens { tokens, features } => tokens as u64 * features as u64,
        }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Shape::Image { channels, height, width } => write!(f, "{channels} channels x {height}x{width}"),
            Shape::Tokens { tokens, features } => write!(f, "{tokens} tokens x {features} features"),
        }
    }
}

/// What a layer computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// 2-D convolution, lowered by im2col.
    Conv2d(Conv2d),
    /// Fully connected layer, applied to every token.
    Linear(Linear),
    /// Product of two activations (attention's `Q K^T` and `P V`), per sample and head.
    Matmul(Matmul),
    /// Max or average pooling (zero MACs).
    Pool(Pool),
    /// Element-wise sum of its inputs (a residual connection; zero MACs).
    Add,
    /// ReLU (zero MACs).
    Relu,
    /// GELU (zero MACs).
    Gelu,
    /// Softmax along the features (zero MACs).
    Softmax,
    /// Layer normalisation (zero MACs).
    LayerNorm,
    /// Batch normalisation over the batch (and, for images, the pixels) per channel or
    /// feature, with a learnable scale and shift (zero MACs; `fastbfp train` trains it).
    BatchNorm,
    /// Flattens each sample to one token of all its elements (zero MACs, no data moved).
    Flatten,
}

impl Op {
    /// The name used in files and reports (`conv2d`, `layer_norm`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Conv2d(_) => "conv2d",
            Op::Linear(_) => "linear",
            Op::Matmul(_) => "matmul",
            Op::Pool(_) => "pool",
            Op::Add => "add",
            Op::Relu => "relu",
            Op::Gelu => "gelu",
            Op::Softmax => "softmax",
            Op::LayerNorm => "layer_norm",
            Op::BatchNorm => "batch_norm",
            Op::Flatten => "flatten",
        }
    }

    /// Whether the op is a GEMM (conv2d, linear, matmul); the others move data only.
    pub fn is_gemm(&self) -> bool {
        matches!(self, Op::Conv2d(_) | Op::Linear(_) | Op::Matmul(_))
    }
}

/// A 2-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Conv2d {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel: (usize, usize),
    /// Stride (vertical, horizontal).
    pub stride: (usize, usize),
    /// Zero padding on each side (vertical, horizontal).
    pub padding: (usize, usize),
    /// Input height and width.
    pub input_hw: (usize, usize),
    /// Channel groups (1 = dense; `in_channels` = depthwise).
    pub groups: usize,
    /// A learnable per-output-channel bias added after the GEMM (element-wise, zero MACs).
    pub bias: bool,
}

impl Conv2d {
    /// Output height and width: `(in + 2 * pad - kernel) / stride + 1`.
    pub fn output_hw(&self) -> (usize, usize) {
        let o = |i: usize, p: usize, k: usize, s: usize| (i + 2 * p - k) / s + 1;
        let (h, w) = self.input_hw;
        (o(h, self.padding.0, self.kernel.0, self.stride.0), o(w, self.padding.1, self.kernel.1, self.stride.1))
    }
}

/// A fully connected layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Linear {
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// Tokens per sample it is applied to (1 for an image or plain vector input).
    pub tokens: usize,
    /// A learnable per-output-feature bias added after the GEMM (element-wise, zero MACs).
    pub bias: bool,
}

/// `O = L R` per sample and head: `L` is `rows x inner`, `R` is `inner x cols`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Matmul {
    /// Attention heads: each input's features are split into `heads` equal slices.
    pub heads: usize,
    /// Rows of `L` and of the output.
    pub rows: usize,
    /// The reduction: columns of `L`, rows of `R`.
    pub inner: usize,
    /// Columns of `R` and of the output.
    pub cols: usize,
    /// The right producer holds `R^T` (`cols x inner` per head), as `K` does in `Q K^T`.
    pub right_transposed: bool,
}

/// Max or average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    /// Maximum of each window.
    Max,
    /// Mean of each window.
    Avg,
}

/// A pooling layer over an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pool {
    /// Max or average.
    pub kind: PoolKind,
    /// Window height and width.
    pub kernel: (usize, usize),
    /// Stride (defaults to the kernel).
    pub stride: (usize, usize),
    /// Padding on each side.
    pub padding: (usize, usize),
}

/// One GEMM of a training iteration (DESIGN §6): `X` and `Y` in, `out` out.
///
/// Shapes are those of one instance; `instances` independent GEMMs of the same shape run
/// (attention's matmuls once per sample and head, grouped convolutions once per group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoweredGemm {
    /// The layer's name.
    pub layer: String,
    /// Index of the layer in [`Workload::layers`].
    pub layer_index: usize,
    /// `conv2d`, `linear` or `matmul`.
    pub kind: &'static str,
    /// Which of the three matmuls.
    pub pass: Pass,
    /// X's shape `(rows, cols)`.
    pub x_shape: (usize, usize),
    /// Y's shape `(rows, cols)`.
    pub y_shape: (usize, usize),
    /// The output's shape `(rows, cols)`.
    pub out_shape: (usize, usize),
    /// How many independent GEMMs of this shape run (1 for dense conv2d and linear).
    pub instances: usize,
    /// Multiply-accumulates of all instances.
    pub macs: u64,
    /// Tensor class of X (its precision and rounding).
    pub x_class: TensorClass,
    /// Tensor class of Y.
    pub y_class: TensorClass,
    /// Tensor class of the output.
    pub out_class: TensorClass,
}

impl LoweredGemm {
    /// The GEMM dimensions `(N, K, B)` of one instance: `X` and `Y` are `N x K` and `K x B`
    /// in the forward pass, and the same `N`, `K`, `B` in the backward passes.
    pub fn dims(&self) -> (usize, usize, usize) {
        let [n, k, b] = crate::mapping::PassDims::from_shapes_unchecked(self.pass, self.x_shape, self.y_shape).extent;
        (n, k, b)
    }

    /// Multiply-accumulates of one instance.
    pub fn macs_per_instance(&self) -> u64 {
        let (n, k, b) = self.dims();
        n as u64 * k as u64 * b as u64
    }
}

/// Elements a zero-MAC node reads and writes in one training iteration (whole batch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataMove {
    /// The layer's name.
    pub layer: String,
    /// `pool`, `add`, `relu`, `gelu`, `softmax` or `layer_norm`.
    pub kind: &'static str,
    /// Elements read (forward, plus backward when its gradient flows).
    pub elements_read: u64,
    /// Elements written (forward, plus backward when its gradient flows).
    pub elements_written: u64,
}
