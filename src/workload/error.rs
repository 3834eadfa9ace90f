//! Errors from loading a workload or reading its operand data. A message about the file
//! starts with `file:line:column:`, names the field by its path (`layers[3].op.in_channels`)
//! and says what is allowed; graph errors name the layers concerned; RON's own syntax and
//! schema errors are reworded in the same style.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::ronpos::{skip_blank, Locator};

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
        use ron::Error as E;
        let pos = skip_blank(self.text, (e.span.start.line, e.span.start.col));
        let here = self.locator().path_at(pos).to_string();
        let allowed = |p: &str| super::validate::allowed(p).map(|a| format!("; allowed {a}")).unwrap_or_default();
        let (field, message) = match &e.code {
            E::NoSuchStructField { expected, found, .. } => {
                let parent = parent_of(&here, found);
                let field = join(parent, found);
                let within = if parent.is_empty() { "the top level" } else { parent };
                let msg =
                    format!("{field}: unknown field `{found}`; allowed fields of {within}: {}", expected.join(", "));
                (field, msg)
            }
            E::NoSuchEnumVariant { expected, found, .. } => {
                let msg = format!("{here} = {found} is not a known variant; allowed {}", expected.join(", "));
                (here, msg)
            }
            E::MissingStructField { field, .. } => {
                let path = join(&here, field);
                (path.clone(), format!("{path}: missing field{}", allowed(&path)))
            }
            E::DuplicateStructField { field, .. } => {
                let path = join(parent_of(&here, field), field);
                (path.clone(), format!("{path}: field given twice"))
            }
            E::IntegerOutOfBounds => {
                let msg = format!("{here}: integer too large for this field{}", allowed(&here));
                (here, msg)
            }
            E::ExpectedInteger
            | E::ExpectedFloat
            | E::ExpectedBoolean
            | E::ExpectedString
            | E::ExpectedStringEnd
            | E::ExpectedOption
            | E::ExpectedIdentifier
            | E::ExpectedStructLike
            | E::ExpectedNamedStructLike(_)
            | E::ExpectedUnit
            | E::ExpectedArray
            | E::ExpectedMap
            | E::ExpectedDifferentLength { .. }
            | E::InvalidValueForType { .. }
            | E::InvalidIntegerDigit { .. } => {
                let what = lower_first(&e.code.to_string());
                (here.clone(), format!("{here}: wrong type: {what}{}", allowed(&here)))
            }
            other => {
                // Before a key (a missing comma, say) the field's range is beside the point.
                let before = self.locator().is_key_start(pos);
                let mut msg = String::from("syntax error");
                if !here.is_empty() {
                    let _ = write!(msg, " {} {here}", if before { "before" } else { "at" });
                }
                let _ = write!(msg, ": {}", lower_first(&other.to_string()));
                if let (Some(a), false) = (super::validate::allowed(&here), before) {
                    let _ = write!(msg, " ({here} allows {a})");
                }
                (here, msg)
            }
        };
        WorkloadError::Parse { file: self.file.to_path_buf(), line: pos.0, col: pos.1, field, message }
    }
}

fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

/// The path of the struct that holds key `key`, given the path found at the key's position.
fn parent_of<'p>(here: &'p str, key: &str) -> &'p str {
    match here.rsplit_once('.') {
        Some((parent, last)) if last == key => parent,
        None if here == key => "",
        _ => here,
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
