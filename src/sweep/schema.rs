//! The sweep file's RON schema, exactly as written: every struct denies unknown fields;
//! integers are read as `i64` so that an out-of-range value (`iterations: 0`, `values: [-4]`)
//! reaches validation and gets a message with its allowed range.

use serde::Deserialize;

/// The top level of a sweep file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SweepFile {
    /// Base arch file, relative to the sweep file; `None`: the built-in default.
    #[serde(default)]
    pub arch: Option<String>,
    /// Base workload file, relative to the sweep file; `None`: the built-in default.
    #[serde(default)]
    pub workload: Option<String>,
    /// How every point runs.
    #[serde(default)]
    pub options: OptionsFile,
    /// The parameters swept, outermost first.
    pub axes: Vec<AxisFile>,
}

/// `options: (...)`; every field may be left out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct OptionsFile {
    pub fidelity: FidelityFile,
    pub numerics: bool,
    pub iterations: i64,
    pub seed: u64,
}

impl Default for OptionsFile {
    fn default() -> Self {
        Self { fidelity: FidelityFile::Fold, numerics: false, iterations: 1, seed: 1 }
    }
}

/// `fold` or `cycle`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FidelityFile {
    Fold,
    Cycle,
}

/// One axis: `(param: "array.size", values: [16, 32])`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AxisFile {
    pub param: String,
    pub values: Vec<i64>,
}

/// RON options of the sweep file: `Some(...)` may be left out around optional values.
pub(crate) fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}
