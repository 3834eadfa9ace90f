//! The sweep file's RON schema, exactly as written: every struct denies unknown fields;
//! numbers are read as [`Num`] (any integer, or a float) so that an out-of-range value
//! (`iterations: 0`, `values: [-4]`, `values: [1e300]`) reaches validation and gets a message
//! with its field path and allowed range.

use std::fmt;

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
    pub iterations: Num,
    pub seed: Num,
}

impl Default for OptionsFile {
    fn default() -> Self {
        Self { fidelity: FidelityFile::Fold, numerics: false, iterations: Num::Int(1), seed: Num::Int(1) }
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
    pub values: Vec<Num>,
}

/// A number as written in the sweep file: an integer of any size RON reads, or a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    /// An integer.
    Int(i128),
    /// A float (`1e300`, `4.5`): never an allowed value, kept to name it in the message.
    Float(f64),
}

impl Num {
    /// The value when it is an integer in `lo..=hi`.
    pub fn within(self, lo: i128, hi: i128) -> Option<i128> {
        match self {
            Num::Int(v) if (lo..=hi).contains(&v) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Int(v) => write!(f, "{v}"),
            // `{:?}` keeps `1e300` short and `16.0` visibly a float.
            Num::Float(v) => write!(f, "{v:?}"),
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num::Int(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Num, E> {
                Ok(Num::Int(v))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Num, E> {
                Ok(i128::try_from(v).map_or(Num::Float(v as f64), Num::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num::Float(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// RON options of the sweep file: `Some(...)` may be left out around optional values.
pub(crate) fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}
