//! Errors from loading an arch file or a technology table. Every message starts with
//! `file:line:column:`, names the field by its path (`array.rows`) and says what is allowed;
//! RON's own syntax and schema errors are reworded in the same style.

use std::path::{Path, PathBuf};

use crate::ronpos::PositionedError;

/// Why an arch file (or the technology table it names) could not be used.
///
/// The `Display` text is the whole message (it does not rely on `source()` chains), so
/// `anyhow`'s `{:#}` prints each fact once.
#[derive(Debug, thiserror::Error)]
pub enum ArchError {
    /// The file could not be read.
    #[error("{}: cannot read: {error}", path.display())]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// RON syntax, an unknown or missing field, or a value of the wrong type.
    #[error("{}:{line}:{col}: {message}", file.display())]
    Parse {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// Path of the field concerned (`array.cell`), empty for the top level.
        field: String,
        /// The message after `file:line:col: `.
        message: String,
    },
    /// A value outside its allowed range.
    #[error("{}:{line}:{col}: {field} = {value} is out of range: allowed {allowed}", file.display())]
    OutOfRange {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// Path of the field (`array.rows`).
        field: String,
        /// The value given.
        value: String,
        /// The allowed values, e.g. `1..=4096`.
        allowed: String,
    },
    /// The technology table named by `tech` is missing or invalid.
    #[error(
        "{}:{line}:{col}: tech = {value:?} cannot be loaded; allowed: the path of a valid technology \
         table (RON), relative to this arch file: {inner}",
        file.display()
    )]
    Tech {
        /// The arch file.
        file: PathBuf,
        /// 1-based line of the `tech` value.
        line: usize,
        /// 1-based column of the `tech` value.
        col: usize,
        /// The path as written.
        value: String,
        /// What went wrong with the table (its own file, line and column).
        inner: Box<ArchError>,
    },
}

impl ArchError {
    /// The field path the error concerns (`array.rows`), if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            ArchError::Io { .. } => None,
            ArchError::Parse { field, .. } | ArchError::OutOfRange { field, .. } => Some(field),
            ArchError::Tech { .. } => Some("tech"),
        }
    }

    /// Line and column of the error in its file, if it has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ArchError::Io { .. } => None,
            ArchError::Parse { line, col, .. }
            | ArchError::OutOfRange { line, col, .. }
            | ArchError::Tech { line, col, .. } => Some((*line, *col)),
        }
    }
}

impl PositionedError for ArchError {
    fn positioned(file: PathBuf, line: usize, col: usize, field: String, message: String) -> Self {
        ArchError::Parse { file, line, col, field, message }
    }
}

/// Builds errors for one arch file or technology table (see [`crate::ronpos::Reporter`]).
pub(crate) type Reporter<'a> = crate::ronpos::Reporter<'a, ArchError>;

impl<'a> Reporter<'a> {
    /// A reporter for `text`, read from `file`; `allowed` describes a field's allowed values.
    pub(crate) fn new(file: &'a Path, text: &'a str, allowed: fn(&str) -> Option<String>) -> Self {
        Self::with_allowed(file, text, allowed)
    }

    /// `path = value is out of range: allowed ...`.
    pub(crate) fn out_of_range(&self, path: &str, value: impl ToString, allowed: impl ToString) -> ArchError {
        let (line, col) = self.pos(path);
        ArchError::OutOfRange {
            file: self.file().to_path_buf(),
            line,
            col,
            field: path.to_string(),
            value: value.to_string(),
            allowed: allowed.to_string(),
        }
    }

    /// A free-form message about `path`, placed at its value (or at `at_path`'s).
    pub(crate) fn message(&self, path: &str, at_path: &str, message: String) -> ArchError {
        self.at(path, at_path, message)
    }

    /// The technology table failed to load.
    pub(crate) fn tech(&self, value: &str, inner: ArchError) -> ArchError {
        let (line, col) = self.pos("tech");
        let file = self.file().to_path_buf();
        ArchError::Tech { file, line, col, value: value.to_string(), inner: Box::new(inner) }
    }
}
