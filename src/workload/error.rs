//! Errors from loading a workload or reading its operand data. A message about the file
//! starts with `file:line:column:`, names the field by its path (`layers[3].op.in_channels`)
//! and says what is allowed; graph errors name the layers concerned; RON's own syntax and
//! schema errors are reworded in the same style.

use std::path::{Path, PathBuf};

use crate::ronpos::Locator;

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

/// Builds errors for one file, locating field paths in its text on demand.
pub(crate) struct Reporter<'a> {
    pub file: &'a Path,
    text: &'a str,
    locator: std::cell::OnceCell<Locator>,
}

impl<'a> Reporter<'a> {
    /// A reporter for `text`, read from `file`.
    pub(crate) fn new(file: &'a Path, text: &'a str) -> Self {
        Self { file, text, locator: std::cell::OnceCell::new() }
    }

    fn locator(&self) -> &Locator {
        self.locator.get_or_init(|| Locator::new(self.text))
    }

    /// `path = value is out of range: allowed ...`.
    pub(crate) fn out_of_range(&self, path: &str, value: impl std::fmt::Display, allowed: &str) -> WorkloadError {
        self.message(path, format!("{path} = {value} is out of range: allowed {allowed}"))
    }

    /// A free-form message about the field `path`, placed at its value.
    pub(crate) fn message(&self, path: &str, message: String) -> WorkloadError {
        let (line, col) = self.locator().value_pos(path);
        WorkloadError::Parse { file: self.file.to_path_buf(), line, col, field: path.to_string(), message }
    }

    /// A graph error about `layers`, placed at the field `path`.
    pub(crate) fn graph(&self, path: &str, layers: &[&str], message: String) -> WorkloadError {
        let (line, col) = self.locator().value_pos(path);
        let layers = layers.iter().map(|s| s.to_string()).collect();
        WorkloadError::Graph { file: self.file.to_path_buf(), line, col, field: path.to_string(), layers, message }
    }

    /// Rewords one of RON's errors: the field path found from its position, the allowed
    /// fields, variants or values.
    pub(crate) fn ron(&self, e: &ron::error::SpannedError) -> WorkloadError {
        let (pos, field, message) =
            crate::ronpos::explain_ron_error(self.text, self.locator(), e, &super::validate::allowed);
        WorkloadError::Parse { file: self.file.to_path_buf(), line: pos.0, col: pos.1, field, message }
    }
}
