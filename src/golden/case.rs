//! The golden-vector case file (RON): one GEMM to export. Shapes follow DESIGN §6
//! (`W[N,K]`, `A[K,B]`, `dO[N,B]`); numerics default to the arch's and may be overridden;
//! operands are seeded synthetic normals or `.npy` files next to the case.
//!
//! ```ron
//! (
//!     name: "forward-multifold",
//!     pass: forward,
//!     n: 6, k: 40, b: 5,
//!     x: (mantissa_bits: 4, rounding: nearest),
//!     y: (mantissa_bits: 2, rounding: stochastic),
//!     accumulator: fp32,
//!     seed: 0xACE1,
//!     data: synthetic(seed: 1),
//! )
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::GoldenError;
use crate::fmac::AccumulatorKind;
use crate::gemm::{OperandSpec, Pass};
use crate::mapping::{PassDims, Role};
use crate::ronpos::{explain_ron_error, Locator};

/// Largest N, K or B a case may name (golden files hold one line per cycle).
pub const MAX_CASE_DIM: usize = 4096;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    name: String,
    pass: PassName,
    n: usize,
    k: usize,
    b: usize,
    #[serde(default)]
    x: Option<OperandSpec>,
    #[serde(default)]
    y: Option<OperandSpec>,
    #[serde(default)]
    accumulator: Option<AccumulatorKind>,
    #[serde(default)]
    seed: Option<u16>,
    #[serde(default)]
    noise_bits: Option<u32>,
    #[serde(default)]
    first_job: Option<u16>,
    data: DataFile,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PassName {
    Forward,
    BackwardData,
    BackwardWeight,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum DataFile {
    Synthetic { seed: u64 },
    Npy { x: String, y: String },
}

/// Where a case's operands come from.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseData {
    /// Seeded normals (`workload::seeded_normal`); gradients (dO) scaled by 2^-10.
    Synthetic {
        /// The data seed.
        seed: u64,
    },
    /// `.npy` files (paths resolved against the case file's folder).
    Npy {
        /// X operand.
        x: PathBuf,
        /// Y operand.
        y: PathBuf,
    },
}

/// A parsed and checked case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The case's name (used in file headers and messages).
    pub name: String,
    /// The case file.
    pub origin: PathBuf,
    /// Which matmul.
    pub pass: Pass,
    /// Output features N.
    pub n: usize,
    /// Input features K.
    pub k: usize,
    /// Batch B.
    pub b: usize,
    /// X operand's format and rounding, when the case overrides the arch's.
    pub x: Option<OperandSpec>,
    /// Y operand's format and rounding override.
    pub y: Option<OperandSpec>,
    /// Accumulator override.
    pub accumulator: Option<AccumulatorKind>,
    /// LFSR seed override.
    pub seed: Option<u16>,
    /// LFSR noise-bits override.
    pub noise_bits: Option<u32>,
    /// Number of the X conversion job (Y is the next).
    pub first_job: u64,
    /// Operand source.
    pub data: CaseData,
}

impl Case {
    /// Shapes `[rows, cols]` of X and Y for the pass.
    pub fn operand_shapes(&self) -> ((usize, usize), (usize, usize)) {
        let d = self.dims();
        (d.shape(Role::X), d.shape(Role::Y))
    }

    /// The case's geometry in elements.
    pub fn dims(&self) -> PassDims {
        PassDims::elements(self.pass, self.n, self.k, self.b)
    }
}

fn allowed(path: &str) -> Option<String> {
    Some(
        match path {
            "pass" => "forward, backward_data, backward_weight",
            "n" | "k" | "b" => "1..=4096",
            "x.mantissa_bits" | "y.mantissa_bits" => "1..=16",
            "x.rounding" | "y.rounding" => "truncate, nearest, even, stochastic",
            "accumulator" => "fp32 (exact is refused: golden partial sums are binary32)",
            "seed" => "0..=0xFFFF",
            "noise_bits" => "1..=16",
            "first_job" => "0..=65534",
            "data" => "synthetic(seed: N) or npy(x: \"x.npy\", y: \"y.npy\")",
            _ => return None,
        }
        .to_string(),
    )
}

/// Reads and checks a case file.
pub fn load_case(path: &Path) -> Result<Case, GoldenError> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES)
        .map_err(|error| GoldenError::Io { path: path.to_path_buf(), error })?;
    parse_case(&text, path)
}

/// Parses and checks a case file's text; `origin` names it in messages and anchors `npy` paths.
pub fn parse_case(text: &str, origin: &Path) -> Result<Case, GoldenError> {
    if let Some(((line, col), message)) = crate::ronpos::too_deep(text) {
        return Err(GoldenError::Case { file: origin.to_path_buf(), line, col, field: String::new(), message });
    }
    let locator = Locator::new(text);
    let err = |field: &str, message: String| {
        let (line, col) = locator.value_pos(field);
        GoldenError::Case { file: origin.to_path_buf(), line, col, field: field.to_string(), message }
    };
    let opts = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let f: CaseFile = opts.from_str(text).map_err(|e| {
        let (pos, field, message) = explain_ron_error(text, &locator, &e, &allowed);
        GoldenError::Case { file: origin.to_path_buf(), line: pos.0, col: pos.1, field, message }
    })?;
    for (field, v) in [("n", f.n), ("k", f.k), ("b", f.b)] {
        if !(1..=MAX_CASE_DIM).contains(&v) {
            return Err(err(field, format!("{field} = {v} is out of range: allowed 1..={MAX_CASE_DIM}")));
        }
    }
    for (field, o) in [("x", &f.x), ("y", &f.y)] {
        if let Some(o) = o {
            if !(1..=16).contains(&o.mantissa_bits) {
                let path = format!("{field}.mantissa_bits");
                return Err(err(&path, format!("{path} = {} is out of range: allowed 1..=16", o.mantissa_bits)));
            }
        }
    }
    if f.accumulator == Some(AccumulatorKind::Exact) {
        return Err(err(
            "accumulator",
            "accumulator = exact is not exported: partial sums cross the Y ports as binary32 (DESIGN §5), so golden vectors need accumulator = fp32".into(),
        ));
    }
    if let Some(nb) = f.noise_bits {
        if !(1..=16).contains(&nb) {
            return Err(err("noise_bits", format!("noise_bits = {nb} is out of range: allowed 1..=16")));
        }
    }
    if f.first_job == Some(u16::MAX) {
        return Err(err(
            "first_job",
            "first_job = 65535 is out of range: allowed 0..=65534 (Y is job first_job + 1)".into(),
        ));
    }
    if f.name.trim().is_empty() {
        return Err(err("name", "name is empty: give the case a name".into()));
    }
    let base = origin.parent().unwrap_or(Path::new(""));
    let data = match f.data {
        DataFile::Synthetic { seed } => CaseData::Synthetic { seed },
        DataFile::Npy { x, y } => CaseData::Npy { x: base.join(x), y: base.join(y) },
    };
    Ok(Case {
        name: f.name,
        origin: origin.to_path_buf(),
        pass: match f.pass {
            PassName::Forward => Pass::Forward,
            PassName::BackwardData => Pass::BackwardData,
            PassName::BackwardWeight => Pass::BackwardWeight,
        },
        n: f.n,
        k: f.k,
        b: f.b,
        x: f.x,
        y: f.y,
        accumulator: f.accumulator,
        seed: f.seed,
        noise_bits: f.noise_bits,
        first_job: f.first_job.unwrap_or(0) as u64,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<Case, GoldenError> {
        parse_case(t, Path::new("c.ron"))
    }

    #[test]
    fn minimal_case_parses_with_defaults() {
        let c = parse("(name: \"a\", pass: backward_weight, n: 3, k: 5, b: 40, data: synthetic(seed: 2))").unwrap();
        assert_eq!(c.pass, Pass::BackwardWeight);
        assert_eq!(c.operand_shapes(), ((3, 40), (5, 40)));
        assert_eq!(c.first_job, 0);
        assert!(c.x.is_none() && c.seed.is_none());
    }

    #[test]
    fn errors_name_the_field_and_position() {
        let e = parse("(name: \"a\", pass: forward,\n n: 0, k: 5, b: 4, data: synthetic(seed: 2))").unwrap_err();
        let m = e.to_string();
        assert!(m.starts_with("c.ron:2:5:") && m.contains("n = 0") && m.contains("1..=4096"), "{m}");
        let e = parse("(name: \"a\", pass: sideways, n: 1, k: 5, b: 4, data: synthetic(seed: 2))").unwrap_err();
        assert!(e.to_string().contains("backward_data"), "{e}");
        let e =
            parse("(name: \"a\", pass: forward, n: 1, k: 5, b: 4, bogus: 1, data: synthetic(seed: 2))").unwrap_err();
        assert!(e.to_string().contains("unknown field `bogus`"), "{e}");
        let e = parse("(name: \"a\", pass: forward, n: 1, k: 5, b: 4, accumulator: exact, data: synthetic(seed: 2))")
            .unwrap_err();
        assert!(e.to_string().contains("fp32"), "{e}");
        let e = parse("(name: \"a\", pass: forward, n: 1, k: 5, b: 4, x: (mantissa_bits: 17, rounding: even), data: synthetic(seed: 2))")
            .unwrap_err();
        assert!(e.to_string().contains("x.mantissa_bits = 17"), "{e}");
    }
}
