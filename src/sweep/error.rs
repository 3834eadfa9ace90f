//! [`SweepError`]: every way a sweep, a merge or a sweep file can fail. Messages about the sweep
//! file start with `file:line:col:` and say what is allowed, like the arch and workload files'.

use std::path::PathBuf;

use crate::report::plots::PlotError;
use crate::report::WriteError;

/// Why a sweep file could not be used, a sweep could not run, or a merge could not be made.
///
/// The `Display` text is the whole message (no `source()` chain), so `anyhow`'s `{:#}` prints
/// each fact once.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A file or folder could not be read or created.
    #[error("{}: {what}: {error}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What was being done (`cannot read`, `cannot create folder`).
        what: &'static str,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// The sweep file: RON syntax, an unknown or missing field, a wrong type, an unknown
    /// parameter, an empty or out-of-range value list, a base arch or workload that cannot be
    /// loaded.
    #[error("{}:{line}:{col}: {message}", file.display())]
    File {
        /// The sweep file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// Path of the field concerned (`axes[1].values[2]`), empty for the top level.
        field: String,
        /// The message after `file:line:col: `.
        message: String,
    },
    /// `--shard I/N` malformed or out of range.
    #[error("--shard {given:?}: {reason}")]
    Shard {
        /// The text given.
        given: String,
        /// Why it is refused.
        reason: String,
    },
    /// `--jobs 0` or a thread pool that could not be built.
    #[error("--jobs: {0}")]
    Jobs(String),
    /// The output folder holds point files that belong to another sweep (or another point at
    /// the same index): resuming into it would mix results.
    #[error("{}: {reason}; use another output folder (-o) or delete it", path.display())]
    Foreign {
        /// The point file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// Some points could not be simulated; the others are saved and a rerun retries only these.
    #[error(
        "{} of {total} points failed (the {} others are saved; rerun to retry only the failed ones): {}",
        failed.len(),
        total - failed.len(),
        failed.join("; ")
    )]
    PointsFailed {
        /// Points of this invocation's shard.
        total: usize,
        /// `index name: message` of every failed point.
        failed: Vec<String>,
    },
    /// A point file that cannot be read as one (in `merge`).
    #[error("{}: not a sweep point file: {message}", path.display())]
    BadPoint {
        /// The file.
        path: PathBuf,
        /// What is wrong (serde's message with line and column, or the schema version).
        message: String,
    },
    /// `merge` found nothing to merge, two different results for one point, or points of
    /// different sweeps.
    #[error("merge: {0}")]
    Merge(String),
    /// An output file could not be written (nothing was left half-written).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The Pareto plot could not be drawn.
    #[error("pareto plot: {0}")]
    Plot(PlotError),
}

// Not `#[from]`: that would make the plot error a `source()` too, and `{:#}` would print it twice.
impl From<PlotError> for SweepError {
    fn from(e: PlotError) -> Self {
        SweepError::Plot(e)
    }
}

impl SweepError {
    /// Line and column in the sweep file, for errors about it.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            SweepError::File { line, col, .. } => Some((*line, *col)),
            _ => None,
        }
    }

    /// The sweep-file field the error concerns (`axes[0].param`), if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            SweepError::File { field, .. } => Some(field),
            _ => None,
        }
    }
}
