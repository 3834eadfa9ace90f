//! The arch file's RON schema, exactly as written: every struct denies unknown fields, every
//! enum is `snake_case`, integers are read as `i64` so that a value out of range (`rows: 0`,
//! `rows: -1`) reaches validation and gets a message with its allowed range instead of a type
//! error. [`super::validate`] turns this into the typed [`super::Arch`].

use serde::Deserialize;

use super::model::{ConverterPlacement, Dataflow, Im2col, MapperKind, Objective, Transpose};

/// The top level of an arch file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArchFile {
    pub name: String,
    pub clock_mhz: f64,
    pub array: ArrayFile,
    /// Required for BFP cells; element-wise cells may leave it out.
    #[serde(default)]
    pub bfp: Option<BfpFile>,
    /// Required for BFP cells; element-wise cells may leave it out.
    #[serde(default)]
    pub precision: Option<PrecisionFile>,
    /// Required for BFP cells; element-wise cells may leave it out.
    #[serde(default)]
    pub lfsr: Option<LfsrFile>,
    /// Required for BFP cells; element-wise cells may leave it out.
    #[serde(default)]
    pub converters: Option<ConvertersFile>,
    pub memory: MemoryFile,
    /// Optional: without it GEMMs run fold by fold (`mapper: folds`, `im2col: dram`).
    #[serde(default)]
    pub mapping: Option<MappingFile>,
    pub tech: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MappingFile {
    pub mapper: MapperKind,
    pub objective: Objective,
    pub im2col: Im2col,
    pub output_buffer_kib: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArrayFile {
    pub rows: i64,
    pub cols: i64,
    pub cell: CellFile,
    pub shadow_stationary: bool,
    pub shadow_accumulators: bool,
    pub transpose: Transpose,
    /// Optional (default false) so that arch files written before it still load.
    #[serde(default)]
    pub overlap_folds: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum CellFile {
    Fmac { chunk_bits: i64 },
    BfpFull,
    Fp32,
    Bf16,
    Int8,
    Scalesim { dataflow: Dataflow },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BfpFile {
    pub group: i64,
    pub exp_bits: i64,
    pub exp_base: ExpBaseFile,
    pub accumulator: AccumulatorFile,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ExpBaseFile {
    PerTensor,
    Pinned(i64),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AccumulatorFile {
    Fp32,
    Exact,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrecisionFile {
    pub weights: ClassFile,
    pub activations: ClassFile,
    pub gradients: ClassFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassFile {
    pub mantissa_bits: i64,
    pub rounding: RoundingFile,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RoundingFile {
    Nearest,
    Truncate,
    Even,
    Stochastic,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LfsrFile {
    pub width_bits: i64,
    pub mask: i64,
    pub seed: i64,
    pub noise_bits: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConvertersFile {
    pub count: i64,
    pub latency_cycles: Option<i64>,
    pub groups_per_cycle: i64,
    pub placement: ConverterPlacement,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemoryFile {
    pub dram: DramFile,
    pub exponent_sram: SramFile,
    pub mantissa_sram: SramFile,
    pub double_buffering: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DramFile {
    pub bytes_per_cycle: i64,
    pub latency_cycles: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SramFile {
    pub capacity_kib: i64,
    pub bits_per_cycle: i64,
}

/// RON options for every file this module reads: `Some(x)` may be written as plain `x`.
pub(crate) fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}
