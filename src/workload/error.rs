//! Errors from loading a workload or reading its operand data. A message about the file
//! starts with `file:line:column:`, names the field by its path (`layers[3].op.in_channels`)
//! and says what is allowed; graph errors name the layers concerned; RON's own syntax and
//! schema errors are reworded in the same style.

use std::path::{Path, PathBuf};

use crate::ronpos::PositionedError;

/// Why a workload could not be loaded, or its operand data not read.
///
/// The `Display` text is the whole message, so `anyhow`'s `{:#}` prints each fact once.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The workload file could not be read.
    #[error("{}: cannot read: {error}", path.display())]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// RON syntax, an unknown or missing field, a value of the wrong type or out of range.
    #[error("{}:{line}:{col}: {message}", file.display())]
    Parse {
        /// The workload file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// Path of the field concerned (`layers[2].op.stride`), empty for the top level.
        field: String,
        /// The message after `file:line:col: `.
        message: String,
    },
    /// The layers do not form a valid graph: a cycle, an unknown input name, shapes that do
    /// not fit, a duplicate name.
    #[error("{}:{line}:{col}: {message}", file.display())]
    Graph {
        /// The workload file.
        file: PathBuf,
        /// 1-based line of the offending field.
        line: usize,
        /// 1-based column of the offending field.
        col: usize,
        /// Path of the offending field (`layers[4].inputs[0]`).
        field: String,
        /// The layers concerned (for a cycle, in cycle order).
        layers: Vec<String>,
        /// The message after `file:line:col: `.
        message: String,
    },
    /// An operand file (`.npy`) is missing, unreadable or of the wrong shape.
    #[error("{}: {message} (operand data of workload {})", path.display(), workload.display())]
    Data {
        /// The `.npy` file.
        path: PathBuf,
        /// The workload file that names its folder.
        workload: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

impl WorkloadError {
    /// The field path the error concerns, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            WorkloadError::Parse { field, .. } | WorkloadError::Graph { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Line and column of the error in the workload file, if it has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            WorkloadError::Parse { line, col, .. } | WorkloadError::Graph { line, col, .. } => Some((*line, *col)),
            _ => None,
        }
    }

    /// The layers a graph error concerns (empty for other errors).
    pub fn layers(&self) -> &[String] {
        match self {
            WorkloadError::Graph { layers, .. } => layers,
            _ => &[],
        }
    }
}

impl PositionedError for WorkloadError {
    fn positioned(file: PathBuf, line: usize, col: usize, field: String, message: String) -> Self {
        WorkloadError::Parse { file, line, col, field, message }
    }
}

/// Builds errors for one workload file (see [`crate::ronpos::Reporter`]).
pub(crate) type Reporter<'a> = crate::ronpos::Reporter<'a, WorkloadError>;

impl<'a> Reporter<'a> {
    /// A reporter for `text`, read from `file`.
    pub(crate) fn new(file: &'a Path, text: &'a str) -> Self {
        Self::with_allowed(file, text, super::validate::allowed)
    }

    /// `path = value is out of range: allowed ...`.
    pub(crate) fn out_of_range(&self, path: &str, value: impl std::fmt::Display, allowed: &str) -> WorkloadError {
        self.message(path, format!("{path} = {value} is out of range: allowed {allowed}"))
    }

    /// A free-form message about the field `path`, placed at its value.
    pub(crate) fn message(&self, path: &str, message: String) -> WorkloadError {
        self.at(path, path, message)
    }

    /// A graph error about `layers`, placed at the field `path`.
    pub(crate) fn graph(&self, path: &str, layers: &[&str], message: String) -> WorkloadError {
        let (line, col) = self.pos(path);
        let layers = layers.iter().map(|s| s.to_string()).collect();
        let file = self.file().to_path_buf();
        WorkloadError::Graph { file, line, col, field: path.to_string(), layers, message }
    }
}
