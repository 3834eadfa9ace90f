//! The workload file's RON schema, exactly as written: every struct denies unknown fields,
//! every enum is `snake_case`, and sizes are read as `i64` so that a value out of range
//! (`batch: 0`, `stride: (-1, 1)`) reaches validation and gets a message with its allowed
//! range instead of a type error. [`super::validate`] turns this into a [`super::Workload`].
//! The schema is documented field by field in `docs/workloads.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::bfp::Rounding;

/// The top level of a workload file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkloadFile {
    pub name: String,
    pub batch: i64,
    #[serde(default = "one")]
    pub iterations: i64,
    #[serde(default)]
    pub passes: Option<Vec<PassFile>>,
    #[serde(default)]
    pub precision: PolicyFile,
    #[serde(default)]
    pub data: DataFile,
    #[serde(default)]
    pub input: Option<InputFile>,
    pub layers: Vec<LayerFile>,
    #[serde(default)]
    pub training: Option<super::training::TrainingFile>,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PassFile {
    Forward,
    BackwardData,
    BackwardWeight,
}

/// The precision policy.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PolicyFile {
    #[default]
    Fixed,
    PerLayer(BTreeMap<String, LayerPrecisionFile>),
    Schedule(Vec<StepFile>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LayerPrecisionFile {
    #[serde(default)]
    pub weights: Option<ClassFile>,
    #[serde(default)]
    pub activations: Option<ClassFile>,
    #[serde(default)]
    pub gradients: Option<ClassFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassFile {
    pub mantissa_bits: i64,
    pub rounding: Rounding,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepFile {
    pub from_iteration: i64,
    pub mantissa_bits: ClassesFile<i64>,
    #[serde(default)]
    pub rounding: Option<ClassesFile<Rounding>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassesFile<T> {
    pub weights: T,
    pub activations: T,
    pub gradients: T,
}

/// Where operand values come from.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum DataFile {
    Synthetic { seed: u64 },
    Npy { dir: String },
}

impl Default for DataFile {
    fn default() -> Self {
        DataFile::Synthetic { seed: 1 }
    }
}

/// The network input's per-sample shape.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum InputFile {
    Image { channels: i64, hw: (i64, i64) },
    Tokens { tokens: i64, features: i64 },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LayerFile {
    pub name: String,
    pub op: OpFile,
    #[serde(default)]
    pub inputs: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PoolKindFile {
    Max,
    Avg,
}

fn unit_pair() -> (i64, i64) {
    (1, 1)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum OpFile {
    Conv2d {
        in_channels: i64,
        out_channels: i64,
        kernel: (i64, i64),
        #[serde(default = "unit_pair")]
        stride: (i64, i64),
        #[serde(default)]
        padding: (i64, i64),
        input_hw: (i64, i64),
        #[serde(default = "one")]
        groups: i64,
        #[serde(default)]
        bias: bool,
    },
    Linear {
        in_features: i64,
        out_features: i64,
        #[serde(default)]
        tokens: Option<i64>,
        #[serde(default)]
        bias: bool,
    },
    Matmul {
        #[serde(default = "one")]
        heads: i64,
        rows: i64,
        inner: i64,
        cols: i64,
        #[serde(default)]
        right_transposed: bool,
    },
    Pool {
        kind: PoolKindFile,
        kernel: (i64, i64),
        #[serde(default)]
        stride: Option<(i64, i64)>,
        #[serde(default)]
        padding: (i64, i64),
    },
    Add,
    Relu,
    Gelu,
    Softmax,
    LayerNorm,
    BatchNorm,
    Flatten,
}

/// RON options for workload files: `Some(x)` may be written as plain `x`.
pub(crate) fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}
