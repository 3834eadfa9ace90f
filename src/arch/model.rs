//! The validated hardware description, [`Arch`]: plain Rust values with their units, every one
//! inside its documented range (see `docs/arch.md`), plus the helpers that turn it into the
//! numerics core's parameters ([`BfpFormat`], [`ConvertSpec`], [`LfsrParams`]).

use serde::Serialize;

use super::tech::TechTable;
use crate::bfp::{BfpFormat, ConvertSpec, ExpBase, LfsrParams, Rounding};
use crate::fmac::AccumulatorKind;

/// A whole accelerator: array, number formats, converters, memories and technology.
///
/// Built only by [`load_arch`](super::load_arch), [`parse_arch`](super::parse_arch) and
/// [`default_arch`](super::default_arch), which check every range. The fields are public so
/// callers can read them freely; a caller that changes one is responsible for keeping it in
/// range (the helpers below panic on a format the numerics core rejects).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arch {
    /// Name of the design (the arch file's `name`).
    pub name: String,
    /// Clock frequency in MHz (one cycle = one chunk pass).
    pub clock_mhz: f64,
    /// The systolic array.
    pub array: ArrayConfig,
    /// The BFP format shared by every tensor class. For element-wise cells (`fp32`, `bf16`,
    /// `int8`, `scalesim`) the file may leave it out; it then holds the defaults and is unused.
    pub bfp: BfpConfig,
    /// Default mantissa width and rounding per tensor class (same rule as `bfp`).
    pub precision: PrecisionConfig,
    /// The converters' LFSR noise source (same rule as `bfp`).
    pub lfsr: LfsrConfig,
    /// The BFP converters (same rule as `bfp`).
    pub converters: ConverterConfig,
    /// DRAM, SRAM banks and buffering.
    pub memory: MemoryConfig,
    /// How GEMMs are tiled onto the array and memories (`docs/mapping.md`).
    pub mapping: MappingConfig,
    /// The `tech` path exactly as written in the arch file (relative to it).
    pub tech_file: String,
    /// The technology table it names, loaded and validated.
    pub tech: TechTable,
}

/// Array shape and cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ArrayConfig {
    /// Rows `R` (array rows index N, the output features), 1..=4096.
    pub rows: usize,
    /// Columns `C` (array columns index K, the reduction of the forward pass), 1..=4096.
    pub cols: usize,
    /// What each cell computes.
    pub cell: CellKind,
    /// Stationary shadow registers: the next fold's stationary data load while the current
    /// fold streams.
    pub shadow_stationary: bool,
    /// Double-buffered output-stationary accumulators: a finished fold drains while the next
    /// one accumulates.
    pub shadow_accumulators: bool,
    /// Whether the backward passes need W, A or dO transposed through memory.
    pub transpose: Transpose,
    /// Overlapped folds: the next fold's wavefront enters the array while the previous fold
    /// drains (`docs/timing.md`, "Overlapped folds"). Not allowed with `scalesim` cells.
    pub overlap_folds: bool,
}

/// The kind of processing element (DESIGN §5, §5.1, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CellKind {
    /// FAST's fMAC: one chunk pass (`g` lanes of `chunk_bits` x `chunk_bits`) per cycle.
    Fmac {
        /// Mantissa chunk width in bits; only 2 is modelled.
        chunk_bits: u32,
    },
    /// MSFP-style BFP cell: one group pair per cycle with full-width multipliers.
    BfpFull,
    /// Element-wise IEEE binary32 multiply-add.
    Fp32,
    /// Element-wise bfloat16 inputs, binary32 products and sums.
    Bf16,
    /// Element-wise int8 with per-tensor scales and exact integer sums.
    Int8,
    /// Element-wise, one cycle per beat, SCALE-Sim's operand mapping (timing compatibility).
    Scalesim {
        /// SCALE-Sim's dataflow.
        dataflow: Dataflow,
    },
}

impl CellKind {
    /// Whether the cell consumes BFP groups (`fmac`, `bfp_full`); the others are element-wise.
    pub fn is_bfp(&self) -> bool {
        matches!(self, CellKind::Fmac { .. } | CellKind::BfpFull)
    }

    /// The name used in arch files.
    pub fn name(&self) -> &'static str {
        match self {
            CellKind::Fmac { .. } => "fmac",
            CellKind::BfpFull => "bfp_full",
            CellKind::Fp32 => "fp32",
            CellKind::Bf16 => "bf16",
            CellKind::Int8 => "int8",
            CellKind::Scalesim { .. } => "scalesim",
        }
    }
}

/// SCALE-Sim's dataflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataflow {
    /// Weight stationary.
    Ws,
    /// Output stationary.
    Os,
    /// Input stationary.
    Is,
}

/// How each GEMM is tiled between DRAM and the on-chip buffers (`docs/mapping.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MappingConfig {
    /// Who chooses the loop nest.
    pub mapper: MapperKind,
    /// What the mapper minimises.
    pub objective: Objective,
    /// Where convolutions' stream operand is lowered to a matrix.
    pub im2col: Im2col,
    /// Output (partial-sum) buffer capacity in KiB of binary32 partial sums, 1..=1048576;
    /// used by `mapper: search` (fold-by-fold mapping keeps its partial sums unbounded).
    pub output_buffer_kib: u64,
}

impl Default for MappingConfig {
    /// What an arch file without a `mapping` section means: the fold-by-fold schedule.
    fn default() -> Self {
        Self { mapper: MapperKind::Folds, objective: Objective::Edp, im2col: Im2col::Dram, output_buffer_kib: 64 }
    }
}

/// Who chooses a GEMM's mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapperKind {
    /// Fold by fold: every fold streams the whole stream dimension, operands are kept on chip
    /// least-recently-used while they fit (SCALE-Sim's schedule).
    Folds,
    /// Search tile sizes and loop orders under the buffer capacities for the best objective.
    Search,
}

/// The mapper's objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Fewest cycles.
    Cycles,
    /// Least memory energy (DRAM and SRAM accesses; the array's work is the same in every
    /// mapping).
    Energy,
    /// Smallest energy x cycles.
    Edp,
}

/// Where a convolution's im2col matrix is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Im2col {
    /// DRAM holds the lowered matrix (each input element up to kh x kw times).
    Dram,
    /// DRAM holds each feature map once; the stream operand is built on chip from a tile of
    /// whole input rows plus its halo.
    OnChip,
}

/// Whether the cell has FAST's dual-direction paths (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transpose {
    /// The backward passes reuse the forward layout: no matrix is ever transposed.
    Free,
    /// W, A or dO are transposed through memory before the backward passes.
    Explicit,
}

/// Group format and accumulation, common to every tensor class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BfpConfig {
    /// Group size `g` in elements, 1..=64.
    pub group: usize,
    /// Shared-exponent field width `e` in bits, 1..=8.
    pub exp_bits: u32,
    /// How `E_base` is chosen per tensor.
    pub exp_base: ExpBase,
    /// The cells' partial-sum accumulator.
    pub accumulator: AccumulatorKind,
}

/// The three tensor classes of training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TensorClass {
    /// Weights `W`.
    Weights,
    /// Activations `A`.
    Activations,
    /// Output gradients `dO`.
    Gradients,
}

impl TensorClass {
    /// Every class, in file order.
    pub const ALL: [TensorClass; 3] = [TensorClass::Weights, TensorClass::Activations, TensorClass::Gradients];

    /// The name used in arch files.
    pub fn name(self) -> &'static str {
        match self {
            TensorClass::Weights => "weights",
            TensorClass::Activations => "activations",
            TensorClass::Gradients => "gradients",
        }
    }
}

/// Default precision of each tensor class (a workload's precision policy may override it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PrecisionConfig {
    /// Weights.
    pub weights: ClassPrecision,
    /// Activations.
    pub activations: ClassPrecision,
    /// Gradients.
    pub gradients: ClassPrecision,
}

impl PrecisionConfig {
    /// The precision of `class`.
    pub fn get(&self, class: TensorClass) -> ClassPrecision {
        match class {
            TensorClass::Weights => self.weights,
            TensorClass::Activations => self.activations,
            TensorClass::Gradients => self.gradients,
        }
    }
}

/// Mantissa width and rounding of one tensor class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClassPrecision {
    /// Mantissa magnitude bits `m`, 1..=16 (the fMAC pads odd widths to whole chunks).
    pub mantissa_bits: u32,
    /// How the converter rounds.
    pub rounding: Rounding,
}

/// The converters' per-lane Galois LFSRs (DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LfsrConfig {
    /// Register width in bits; only 16 (the seeding contract of DESIGN §3).
    pub width_bits: u32,
    /// Feedback mask, non-zero (default `0xB400`).
    pub mask: u16,
    /// Run seed (default `0xACE1`).
    pub seed: u16,
    /// Noise bits `n` per element, 1..=16 (default 8).
    pub noise_bits: u32,
}

/// Where the converters sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConverterPlacement {
    /// At the array outputs: results are converted to BFP on their way to memory.
    ArrayOutputs,
    /// Between memory and array: binary32 tensors are converted as they are fed in.
    MemoryToArray,
}

/// The BFP converters (DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConverterConfig {
    /// Number of converters working in parallel, 1..=4096.
    pub count: usize,
    /// Pipeline latency in cycles as written; `None` means `ceil(log2 g) + 3`
    /// (see [`Arch::converter_latency_cycles`]).
    pub latency_cycles: Option<u64>,
    /// Throughput of one converter in groups per cycle, 1..=1024.
    pub groups_per_cycle: u32,
    /// Where they sit.
    pub placement: ConverterPlacement,
}

/// Off-chip and on-chip memories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemoryConfig {
    /// DRAM channel.
    pub dram: DramConfig,
    /// SRAM bank holding shared exponents (for element-wise cells: per-tensor scales).
    pub exponent_sram: SramConfig,
    /// SRAM bank holding mantissa chunk planes (for element-wise cells: the elements).
    pub mantissa_sram: SramConfig,
    /// Double-buffered SRAM: the next fold's operands load while the current fold computes.
    pub double_buffering: bool,
}

/// A DRAM channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DramConfig {
    /// Sustained bandwidth in bytes per cycle, 1..=1048576.
    pub bytes_per_cycle: u64,
    /// Latency of one request in cycles, 0..=1000000.
    pub latency_cycles: u64,
}

/// An SRAM bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SramConfig {
    /// Capacity in KiB (1024 bytes), 1..=1048576.
    pub capacity_kib: u64,
    /// Port width in bits per cycle, 1..=1048576.
    pub bits_per_cycle: u64,
}

impl Arch {
    /// The BFP format of `class`: `g`, `e` from `bfp`, `m` from `precision`.
    ///
    /// # Panics
    /// Only if a field was changed out of range after loading.
    pub fn bfp_format(&self, class: TensorClass) -> BfpFormat {
        let m = self.precision.get(class).mantissa_bits;
        BfpFormat::new(self.bfp.group, m, self.bfp.exp_bits)
            .unwrap_or_else(|e| panic!("Arch {} was changed after validation: {e}", self.name))
    }

    /// Everything the converter needs to convert a tensor of `class`.
    ///
    /// # Panics
    /// Only if a field was changed out of range after loading.
    pub fn convert_spec(&self, class: TensorClass) -> ConvertSpec {
        ConvertSpec {
            format: self.bfp_format(class),
            rounding: self.precision.get(class).rounding,
            exp_base: self.bfp.exp_base,
            lfsr: self.lfsr_params(),
        }
    }

    /// The LFSR parameters in the numerics core's form.
    pub fn lfsr_params(&self) -> LfsrParams {
        LfsrParams { mask: self.lfsr.mask, seed: self.lfsr.seed, noise_bits: self.lfsr.noise_bits }
    }

    /// Converter latency in cycles: as configured, else `ceil(log2 g) + 3` (7 for g = 16).
    pub fn converter_latency_cycles(&self) -> u64 {
        self.converters.latency_cycles.unwrap_or_else(|| default_converter_latency(self.bfp.group))
    }

    /// Length of one clock cycle in nanoseconds.
    pub fn cycle_ns(&self) -> f64 {
        1000.0 / self.clock_mhz
    }
}

/// `ceil(log2 g) + 3`: comparator-tree depth plus subtract, shift-and-round, saturate.
pub fn default_converter_latency(group: usize) -> u64 {
    let depth = if group <= 1 { 0 } else { (usize::BITS - (group - 1).leading_zeros()) as u64 };
    depth + 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converter_latency_default() {
        let lat: Vec<u64> = [1, 2, 3, 4, 5, 16, 17, 64].iter().map(|&g| default_converter_latency(g)).collect();
        assert_eq!(lat, [3, 4, 5, 5, 6, 7, 8, 9]);
    }
}
