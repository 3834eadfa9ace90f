//! Golden vectors for an RTL implementation of the array (DESIGN §9, contract in
//! `docs/golden.md`): a case file names one GEMM; the exporter replays it on the tick-level
//! model and collects, per cycle, what crosses each edge port, the sequencer word and every
//! expected output, plus the BFP converter's inputs, LFSR noise and outputs. `check` compares an
//! RTL dump against the expected outputs; `vcd` writes the array's ports and cell registers as
//! a waveform. Files are produced here as bytes; `report` writes them.

mod case;
mod check;
mod dump;
mod export;
mod lanes;
mod manifest;
mod trace;
mod vcd;

use std::path::PathBuf;

pub use case::{load_case, parse_case, Case, CaseData};
pub use check::{
    check_dump, check_dump_with_inputs, input_port_values, load_manifest, parse_dump, CheckReport, DumpLine, Mismatch,
    DUMP_PORTS, MAX_DUMP_BYTES, MAX_INPUT_PORT_VALUES, MAX_PORT_FILE_BYTES,
};
pub use dump::{check_dump_file, for_each_dump_line, DumpChecker, MAX_DUMP_LINE_BYTES, MAX_UNEXPECTED_KEPT};
pub use export::{case_cycles, case_operands, export, Golden, MAX_GOLDEN_CYCLES};
pub use manifest::{
    Expected, FileInfo, FoldInfo, JobInfo, Manifest, GOLDEN_SCHEMA_VERSION, MAX_LANE_PAYLOAD_BITS,
    MAX_MANIFEST_ARRAY_SIDE,
};
pub use vcd::{vcd_fits, write_gemm_vcd, MAX_VCD_CELL_CYCLES};

/// Errors of golden-vector export and check.
#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    /// A file could not be read.
    #[error("{}: cannot read: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: std::io::Error,
    },
    /// A case file that does not parse or holds a value out of range.
    #[error("{}:{line}:{col}: {message}", file.display())]
    Case {
        /// The case file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// Dotted path of the field.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// An operand file that does not fit the case.
    #[error("{}: {message}", case.display())]
    Data {
        /// The case file.
        case: PathBuf,
        /// Which file and what is wrong.
        message: String,
    },
    /// The arch cannot be exported (cell kind, accumulator).
    #[error("{arch}: {message}")]
    Arch {
        /// The arch's name.
        arch: String,
        /// Why.
        message: String,
    },
    /// An operand file.
    #[error(transparent)]
    Npy(#[from] crate::tensor::NpyError),
    /// Conversion or shape errors of the GEMM.
    #[error(transparent)]
    Gemm(#[from] crate::gemm::GemmError),
    /// The case's vectors would be too large to write.
    #[error("{case}: {cycles} cycles of golden vectors is more than the {limit} allowed (every port file has one line per cycle); use a smaller case or a larger array")]
    TooLarge {
        /// The case's name.
        case: String,
        /// Cycles it would need.
        cycles: u64,
        /// The limit.
        limit: u64,
    },
    /// The tick-model replay behind the vectors would step too many cell-cycles.
    #[error("{case}: replaying {cycles} cycles on {cells} cells ({work} cell-cycles) is more than the {limit} allowed; use a smaller array for golden vectors")]
    TooMuchWork {
        /// The case.
        case: String,
        /// Timeline cycles.
        cycles: u64,
        /// Cells of the array.
        cells: u64,
        /// Cycles x cells.
        work: u64,
        /// The limit.
        limit: u64,
    },
    /// A waveform that would be too large to write.
    #[error("{what}: a VCD of {cycles} cycles x {cells} cells is more than the {limit} cell-cycles allowed (about 70 bytes each); use a smaller GEMM or array for waveforms")]
    VcdTooLarge {
        /// What was to be written.
        what: String,
        /// Cycles.
        cycles: u64,
        /// Cells.
        cells: usize,
        /// The limit in cell-cycles.
        limit: u64,
    },
    /// A malformed line of an RTL dump.
    #[error("{}:{line}: {message}", file.display())]
    Dump {
        /// The dump file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong and what is expected.
        message: String,
    },
    /// A golden directory whose manifest is missing or unreadable.
    #[error("{}: {message}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The tick model and the reference loop disagree (a simulator bug, never user input).
    #[error("internal check failed: {0}")]
    Internal(String),
}
