//! `manifest.json` of a golden directory: the case, the arch parameters, the conversion jobs,
//! the folds on the timeline, the shape of every file and every expected output (schema
//! version [`GOLDEN_SCHEMA_VERSION`]; field names are stable).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::array::Fold;
use crate::bfp::Rounding;
use crate::fmac::AccumulatorKind;

/// Manifest layout version.
pub const GOLDEN_SCHEMA_VERSION: u32 = 1;

/// One value the RTL must produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// Cycle (line of the per-cycle files) it is observed in.
    pub cycle: u64,
    /// Row of the driving cell, or the conversion job for `CV`.
    pub row: usize,
    /// Column of the driving cell, or the group within its job for `CV`.
    pub col: usize,
    /// Port: `Y0`, `Y1` or `CV`.
    pub port: String,
    /// The value in hex, lower case, fixed width.
    pub hex: String,
    /// For `Y0`/`Y1`: the output element `[row, col]` the partial sum or result belongs to
    /// (the last value of an element is its result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<[usize; 2]>,
}

/// A per-cycle file's shape, so a testbench can be written from the manifest alone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileInfo {
    /// What it carries.
    pub what: String,
    /// Lanes per line.
    pub lanes: usize,
    /// Bits per lane (valid on top of the payload).
    pub lane_bits: usize,
    /// Payload bits per lane.
    pub payload_bits: usize,
    /// Bits per line.
    pub line_bits: usize,
    /// Hex digits per line.
    pub hex_digits: usize,
    /// Lines.
    pub lines: u64,
}

/// One conversion job of the case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobInfo {
    /// `X` or `Y`.
    pub role: String,
    /// The tensor with its shape letters.
    pub tensor: String,
    /// Job number (seeds the LFSR lanes).
    pub job: u64,
    /// Source rows.
    pub rows: usize,
    /// Source columns.
    pub cols: usize,
    /// Axis the groups run along: `columns` (along a row) or `rows`.
    pub grouped_along: String,
    /// Mantissa bits `m`.
    pub mantissa_bits: u32,
    /// Chunk planes `c`.
    pub chunk_planes: u32,
    /// Rounding mode.
    pub rounding: Rounding,
    /// The tensor's exponent base.
    pub e_base: i32,
    /// Groups in the job.
    pub groups: usize,
    /// First line of the job in `conv_in.hex`.
    pub first_line: usize,
    /// Elements flushed (subnormal inputs), groups underflowed, elements saturated.
    pub flushed: u64,
    /// Groups flushed to zero below the exponent range.
    pub underflow: u64,
    /// Elements clamped to the largest mantissa.
    pub saturated: u64,
    /// Memory images (§4): exponent file.
    pub exponents_file: String,
    /// Memory images (§4): mantissa file (one chunk plane a line).
    pub mantissa_file: String,
}

/// One fold on the golden timeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FoldInfo {
    /// The fold as planned.
    #[serde(flatten)]
    pub fold: Fold,
    /// First cycle.
    pub start_cycle: u64,
    /// Stationary load cycles.
    pub load_cycles: u64,
    /// Stream cycles.
    pub stream_cycles: u64,
    /// Drain cycles.
    pub drain_cycles: u64,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version of this file.
    pub schema_version: u32,
    /// The program that wrote it.
    pub generator: String,
    /// Case name.
    pub case: String,
    /// Pass.
    pub pass: String,
    /// N, K, B.
    pub shape_nkb: [usize; 3],
    /// Where the operands came from.
    pub data: String,
    /// Arch name.
    pub arch: String,
    /// Array rows, columns.
    pub array: [usize; 2],
    /// Group size g.
    pub group: usize,
    /// Exponent field bits e.
    pub exp_bits: u32,
    /// Mantissa chunk bits.
    pub chunk_bits: u32,
    /// Accumulator.
    pub accumulator: AccumulatorKind,
    /// LFSR run seed.
    pub lfsr_seed: u16,
    /// LFSR feedback mask.
    pub lfsr_mask: u16,
    /// LFSR noise bits per element.
    pub noise_bits: u32,
    /// X and Y conversion jobs.
    pub jobs: Vec<JobInfo>,
    /// Chunk planes of X (`c_x`) and Y (`c_y`).
    pub chunks: [u32; 2],
    /// Cycles per beat `p`.
    pub beat_cycles: u64,
    /// `E_base,x + E_base,y - (m'_x - 1) - (m'_y - 1)`.
    pub exp_offset: i32,
    /// Folds back to back.
    pub folds: Vec<FoldInfo>,
    /// Cycles of the array timeline.
    pub cycles: u64,
    /// Lines of every per-cycle file (`cycles + 1`).
    pub lines: u64,
    /// Converter pipeline latency.
    pub converter_latency_cycles: u64,
    /// Groups through the converter (lines of `conv_in.hex`).
    pub converter_groups: usize,
    /// Largest chunk-plane count of the two jobs (the width of `conv_out.hex`'s mantissa field).
    pub converter_max_planes: u32,
    /// Every file with lanes or fixed-width lines.
    pub files: BTreeMap<String, FileInfo>,
    /// Output matrix shape and file.
    pub output_shape: [usize; 2],
    /// Every value the RTL must produce.
    pub expected: Vec<Expected>,
}

/// Largest array side a manifest may name (the arch files' `array.rows`/`array.cols` limit).
pub const MAX_MANIFEST_ARRAY_SIDE: usize = 4096;

/// Most payload bits of one lane of a per-cycle file (the widest exported, `conv_out.hex` at
/// g = 64 and m = 16, has 2568).
pub const MAX_LANE_PAYLOAD_BITS: usize = 4096;

impl Manifest {
    /// Checks every size a reader of the golden directory is sized by, before anything is
    /// allocated or looped over: the array, the timeline and each file's lanes and widths.
    /// The message names the field and says what is allowed.
    pub fn validate_sizes(&self) -> Result<(), String> {
        let range = |field: String, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{field} = {v} is out of range: allowed {lo}..={hi}"))
            }
        };
        let side = MAX_MANIFEST_ARRAY_SIDE as u64;
        range("array[0]".into(), self.array[0] as u64, 1, side)?;
        range("array[1]".into(), self.array[1] as u64, 1, side)?;
        let max_cycles = super::MAX_GOLDEN_CYCLES;
        range("cycles".into(), self.cycles, 0, max_cycles)?;
        if self.lines != self.cycles + 1 {
            return Err(format!("lines = {} is not cycles + 1 = {}", self.lines, self.cycles + 1));
        }
        for (name, f) in &self.files {
            let at = |what: &str| format!("files.{name:?}.{what}");
            range(at("lanes"), f.lanes as u64, 1, side)?;
            range(at("payload_bits"), f.payload_bits as u64, 1, MAX_LANE_PAYLOAD_BITS as u64)?;
            let pb = f.payload_bits as u64;
            range(at("lane_bits"), f.lane_bits as u64, pb, pb + 1)?;
            let line_bits = f.lanes as u64 * f.lane_bits as u64;
            if f.line_bits as u64 != line_bits || f.hex_digits as u64 != line_bits.div_ceil(4) {
                return Err(format!(
                    "{} = {} and {} = {}: allowed lanes x lane_bits = {line_bits} and {} hex digits",
                    at("line_bits"),
                    f.line_bits,
                    at("hex_digits"),
                    f.hex_digits,
                    line_bits.div_ceil(4)
                ));
            }
            let lanes = match name.as_str() {
                "E0.hex" | "M0.hex" => Some(self.array[1]),
                "E1.hex" | "M1.hex" => Some(self.array[0]),
                _ => None,
            };
            if let Some(lanes) = lanes {
                range(at("lanes"), f.lanes as u64, lanes as u64, lanes as u64)?;
                range(at("lane_bits"), f.lane_bits as u64, pb + 1, pb + 1)?;
                range(at("lines"), f.lines, self.lines, self.lines)?;
            }
        }
        Ok(())
    }
}
