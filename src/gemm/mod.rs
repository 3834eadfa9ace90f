//! The three training matmuls of DESIGN §6 (forward, backward-data, backward-weight) on BFP
//! operands: shapes and grouping axes per pass, the conversion jobs, a plain reference loop
//! that follows the cell datapath, a fast exact kernel, and numerical quality against binary32.
//!
//! Every output is the sequential binary32 sum of its group products in increasing group
//! index (`fp32`), or their exact sum rounded once (`exact`); both implementations give the
//! same bits.

pub mod baseline;
mod baseline_simd;
mod fast;
mod fused;
mod pack16;
mod quality;
mod reference;

pub use fast::{fast_gemm, fast_gemm_with, KernelIsa};
pub use fused::{fast_gemm_from_f32, GemmScratch};
pub use quality::{binary32_matmul, FiniteQuality, Quality};
pub use reference::reference_gemm;

use serde::Serialize;

use crate::bfp::{
    convert, BfpError, BfpFormat, BfpMatrix, ConvertFlags, ConvertJob, ConvertSpec, ExpBase, GroupAxis, LfsrParams,
    Rounding,
};
use crate::fmac::AccumulatorKind;
use crate::mapping::{PassDims, Role};

/// Which of the three training matmuls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pass {
    /// `O[N,B] = W[N,K] A[K,B]`, reduction over K.
    Forward,
    /// `dA[K,B] = W^T dO`, reduction over N.
    BackwardData,
    /// `dW[N,K] = dO A^T`, reduction over B.
    BackwardWeight,
}

impl Pass {
    /// All passes in training order.
    pub const ALL: [Pass; 3] = [Pass::Forward, Pass::BackwardData, Pass::BackwardWeight];
    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Pass::Forward => "forward",
            Pass::BackwardData => "backward-data",
            Pass::BackwardWeight => "backward-weight",
        }
    }
    /// Names of the X and Y operands and of the output, with their shape letters.
    pub fn operand_names(self) -> [&'static str; 3] {
        match self {
            Pass::Forward => ["W[N,K]", "A[K,B]", "O[N,B]"],
            Pass::BackwardData => ["W[N,K]", "dO[N,B]", "dA[K,B]"],
            Pass::BackwardWeight => ["dO[N,B]", "A[K,B]", "dW[N,K]"],
        }
    }
    /// The matmul in symbols.
    pub fn formula(self) -> &'static str {
        match self {
            Pass::Forward => "O = W A",
            Pass::BackwardData => "dA = W^T dO",
            Pass::BackwardWeight => "dW = dO A^T",
        }
    }
    /// Grouping axes of X and Y: both along the reduction dimension.
    pub fn group_axes(self) -> (GroupAxis, GroupAxis) {
        let d = PassDims::layout(self);
        let axis = |role| if d.reduction_axis(role) == Some(0) { GroupAxis::Dim0 } else { GroupAxis::Dim1 };
        (axis(Role::X), axis(Role::Y))
    }
}

impl std::fmt::Display for Pass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a pass name in either spelling: with hyphens (`backward-data`, the command line's
/// and the reports') or with underscores (`backward_data`, the RON files'), surrounding spaces
/// ignored.
impl std::str::FromStr for Pass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let name = s.trim().replace('_', "-");
        Pass::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            format!("unknown pass '{s}': allowed forward, backward-data, backward-weight (or backward_data, backward_weight)")
        })
    }
}

/// Format and rounding of one operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperandSpec {
    /// Mantissa bits `m`.
    pub mantissa_bits: u32,
    /// Rounding mode of its converter.
    pub rounding: Rounding,
}

/// Everything a BFP matmul needs besides its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GemmSpec {
    /// Which matmul.
    pub pass: Pass,
    /// Group size `g`.
    pub group: usize,
    /// Shared-exponent field bits `e`.
    pub exp_bits: u32,
    /// Exponent-base policy for both operands.
    #[serde(skip)]
    pub exp_base: ExpBase,
    /// X operand.
    pub x: OperandSpec,
    /// Y operand.
    pub y: OperandSpec,
    /// Partial-sum accumulator.
    pub accumulator: AccumulatorKind,
    /// LFSR parameters shared by both conversion jobs.
    pub lfsr: LfsrParams,
}

/// Errors of a BFP matmul.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GemmError {
    /// A conversion parameter or an input value the converter refuses.
    #[error(transparent)]
    Bfp(#[from] BfpError),
    /// A forced mapping (`--mapping`) with more folds than a run may hold.
    #[error("{pass}: the forced mapping {mapping} gives {folds} folds, more than the {limit} allowed for this GEMM; use larger tiles")]
    MappingTooManyFolds {
        /// The pass.
        pass: Pass,
        /// The mapping as legalised for this GEMM.
        mapping: String,
        /// Folds it would need.
        folds: u64,
        /// The limit.
        limit: u64,
    },
    /// A simulation too large to hold in memory (its fold timeline alone).
    #[error("{pass}: {folds} folds on a {rows} x {cols} array is more than the {limit} a run may hold in memory; use a larger array or a smaller GEMM")]
    TooManyFolds {
        /// The pass.
        pass: Pass,
        /// Folds the GEMM would need.
        folds: u64,
        /// Array rows.
        rows: usize,
        /// Array columns.
        cols: usize,
        /// The limit.
        limit: u64,
    },
    /// Cycle fidelity on a GEMM whose tick-level simulation would step too many cells.
    #[error("{pass}: cycle fidelity would step at least {cell_cycles} cell-cycles ({folds} folds on a {rows} x {cols} array), more than the {limit} allowed (about 15 s); use --fidelity fold (same cycles and bits) or a smaller array")]
    TooMuchTickWork {
        /// The pass.
        pass: Pass,
        /// Folds the GEMM would need.
        folds: u64,
        /// Array rows.
        rows: usize,
        /// Array columns.
        cols: usize,
        /// The estimate (a lower bound).
        cell_cycles: u64,
        /// The limit.
        limit: u64,
    },
    /// Operand shapes that do not fit the pass.
    #[error("{pass}: X is {x_rows} x {x_cols} ({x_name}) and Y is {y_rows} x {y_cols} ({y_name}); their {dim} must agree ({a} != {b})")]
    Shape {
        /// The pass.
        pass: Pass,
        /// X's name with its shape letters.
        x_name: &'static str,
        /// Y's name with its shape letters.
        y_name: &'static str,
        /// X rows.
        x_rows: usize,
        /// X cols.
        x_cols: usize,
        /// Y rows.
        y_rows: usize,
        /// Y cols.
        y_cols: usize,
        /// The dimension that must agree, in words.
        dim: String,
        /// X's extent of it.
        a: usize,
        /// Y's extent of it.
        b: usize,
    },
}

/// Output shape `[rows, cols]` of `pass` on X `[xr, xc]` and Y `[yr, yc]`, after checking that
/// the reduction dimensions agree.
pub fn output_shape(pass: Pass, x: (usize, usize), y: (usize, usize)) -> Result<(usize, usize), GemmError> {
    pass_dims(pass, x, y).map(|d| d.shape(Role::Out))
}

/// The geometry of `pass` on X `[xr, xc]` and Y `[yr, yc]` in elements, after checking that
/// the reduction dimensions agree.
pub fn pass_dims(pass: Pass, x: (usize, usize), y: (usize, usize)) -> Result<PassDims, GemmError> {
    PassDims::from_shapes(pass, x, y).map_err(|(a, b)| {
        let [x_name, y_name, _] = pass.operand_names();
        let d = PassDims::layout(pass);
        let axis = |r: Role| ["rows", "columns"][d.reduction_axis(r).unwrap_or(0)];
        GemmError::Shape {
            pass,
            x_name,
            y_name,
            x_rows: x.0,
            x_cols: x.1,
            y_rows: y.0,
            y_cols: y.1,
            dim: format!("{} (X {}, Y {})", d.reduction.letter(), axis(Role::X), axis(Role::Y)),
            a,
            b,
        }
    })
}

/// Both operands converted for one pass: X is conversion job `first_job`, Y the next.
#[derive(Debug, Clone)]
pub struct GemmOperands {
    /// The spec they were converted with.
    pub spec: GemmSpec,
    /// X in BFP; its lanes index the output's rows.
    pub x: BfpMatrix,
    /// Y in BFP; its lanes index the output's columns.
    pub y: BfpMatrix,
}

impl GemmOperands {
    /// Output shape `[rows, cols]`.
    pub fn out_shape(&self) -> (usize, usize) {
        (self.x.lanes, self.y.lanes)
    }
    /// Groups along the reduction.
    pub fn reduction_groups(&self) -> usize {
        self.x.groups
    }
    /// Flag counts of both conversion jobs.
    pub fn flags(&self) -> (ConvertFlags, ConvertFlags) {
        (self.x.flags, self.y.flags)
    }
}

/// Converts X (job `first_job`) and Y (job `first_job + 1`) along the pass's reduction axis.
/// Errors name the operands by their role (`W[N,K]`, ...).
pub fn quantize_operands(
    spec: &GemmSpec,
    x: (&[f32], usize, usize),
    y: (&[f32], usize, usize),
    first_job: u64,
) -> Result<GemmOperands, GemmError> {
    let [xn, yn, _] = spec.pass.operand_names();
    quantize_operands_named(spec, x, y, first_job, (xn, yn))
}

/// [`quantize_operands`] with the operands' names for error messages (e.g. their files).
pub fn quantize_operands_named(
    spec: &GemmSpec,
    x: (&[f32], usize, usize),
    y: (&[f32], usize, usize),
    first_job: u64,
    (xn, yn): (&str, &str),
) -> Result<GemmOperands, GemmError> {
    output_shape(spec.pass, (x.1, x.2), (y.1, y.2))?;
    let (ax, ay) = spec.pass.group_axes();
    let make = |o: &OperandSpec| -> Result<ConvertSpec, BfpError> {
        let format = BfpFormat::new(spec.group, o.mantissa_bits, spec.exp_bits)?;
        Ok(ConvertSpec { format, rounding: o.rounding, exp_base: spec.exp_base, lfsr: spec.lfsr })
    };
    let (sx, sy) = (make(&spec.x)?, make(&spec.y)?);
    let xq = convert(x.0, x.1, x.2, &ConvertJob { tensor: xn, job: first_job, spec: sx, axis: ax })?;
    let yq = convert(y.0, y.1, y.2, &ConvertJob { tensor: yn, job: first_job + 1, spec: sy, axis: ay })?;
    Ok(GemmOperands { spec: *spec, x: xq, y: yq })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_names_parse_in_both_spellings() {
        for p in Pass::ALL {
            assert_eq!(p.name().parse::<Pass>(), Ok(p));
            assert_eq!(p.name().replace('-', "_").parse::<Pass>(), Ok(p));
            assert_eq!(format!(" {p} ").parse::<Pass>(), Ok(p));
        }
        let e = "backward".parse::<Pass>().unwrap_err();
        assert!(e.contains("backward-data") && e.contains("backward_weight"), "{e}");
        assert!("forward-".parse::<Pass>().is_err());
    }

    #[test]
    fn shapes_per_pass() {
        assert_eq!(output_shape(Pass::Forward, (6, 40), (40, 5)).unwrap(), (6, 5));
        assert_eq!(output_shape(Pass::BackwardData, (33, 5), (33, 4)).unwrap(), (5, 4));
        assert_eq!(output_shape(Pass::BackwardWeight, (4, 40), (3, 40)).unwrap(), (4, 3));
        let e = output_shape(Pass::Forward, (6, 40), (39, 5)).unwrap_err().to_string();
        assert!(e.contains("6 x 40") && e.contains("39 x 5") && e.contains("K (X columns, Y rows)"), "{e}");
        let e = output_shape(Pass::BackwardData, (33, 5), (32, 4)).unwrap_err().to_string();
        assert!(e.contains("N (X rows, Y rows) must agree (33 != 32)"), "{e}");
        let e = output_shape(Pass::BackwardWeight, (4, 40), (3, 41)).unwrap_err().to_string();
        assert!(e.contains("B (X columns, Y columns) must agree (40 != 41)"), "{e}");
    }
}
