//! FAST's precision measure (DESIGN §11): the relative improvement `r_m(X)` of converting a
//! tensor with `m + 2` mantissa bits instead of `m`, computed from the tensor's binary32 values
//! as the converter would quantise them.
//!
//! Both quantisations are made exactly as DESIGN §2.1 with **nearest** rounding, with the real
//! conversion's grouping and exponent base, so `r` is deterministic and consumes no LFSR state:
//!
//! ```text
//! r_m(X) = Σ_n |BFP(X_n, m+2) − BFP(X_n, m)| / D_m(X)
//! D_m(X) = Σ_n |BFP(X_n, m)|      (r_norm: l1, the default)
//!        = |Σ_n BFP(X_n, m)|      (r_norm: abs_sum, the formula as first transcribed)
//! ```
//!
//! Sums are in binary64 in element order: groups in job order (the row-major order of each
//! group's first element), elements `0..g` within a group (padding elements are 0 in both and
//! add nothing). Every term is exact in binary64 (a BFP value has at most 16 significant bits);
//! only the running sums round. A zero denominator gives `r = +∞`.

use serde::{Deserialize, Serialize};

use super::{convert, BfpError, BfpFormat, ConvertJob, ConvertSpec, ExpBase, GroupAxis, LfsrParams, Rounding};

/// The denominator of `r` (DESIGN §11's `r_norm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RNorm {
    /// `Σ |BFP(X, m)|`: the magnitude of the tensor at width m, so `r` is a true relative
    /// difference for every tensor class (the default).
    #[default]
    L1,
    /// `|Σ BFP(X, m)|`: cancels for zero-mean tensors (weights, gradients), whose `r` is then
    /// large; kept to reproduce the rule as first transcribed.
    AbsSum,
}

impl RNorm {
    /// The name in workload files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            RNorm::L1 => "l1",
            RNorm::AbsSum => "abs_sum",
        }
    }
}

impl std::fmt::Display for RNorm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for RNorm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "l1" => Ok(RNorm::L1),
            "abs_sum" | "abs-sum" => Ok(RNorm::AbsSum),
            other => Err(format!(
                "unknown r norm '{other}': allowed l1 (Σ|BFP(X,m)|, the default) or abs_sum (|Σ BFP(X,m)|)"
            )),
        }
    }
}

/// What one evaluation of `r_m` measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Improvement {
    /// `r_m(X)`.
    pub r: f64,
    /// `Σ |BFP(X, m+2) − BFP(X, m)|`.
    pub numerator: f64,
    /// `D_m(X)` under `norm`: `Σ |BFP(X, m)|` or `|Σ BFP(X, m)|`.
    pub denominator: f64,
    /// Which denominator.
    pub norm: RNorm,
    /// Groups in the tensor (each quantisation passes them all through a converter).
    pub groups: u64,
}

/// `r_m(X)` for the `[rows, cols]` row-major tensor `data` grouped along `axis` in groups of
/// `group`, with `e = exp_bits` and the exponent-base policy `exp_base`, divided by `norm`'s
/// denominator. Errors as the converter's (NaN or infinity in `data`, formats out of range,
/// `m + 2 > 16`).
#[allow(clippy::too_many_arguments)]
pub fn relative_improvement(
    tensor: &str,
    data: &[f32],
    rows: usize,
    cols: usize,
    axis: GroupAxis,
    group: usize,
    exp_bits: u32,
    exp_base: ExpBase,
    m: u32,
    norm: RNorm,
) -> Result<Improvement, BfpError> {
    let quantise = |bits: u32| -> Result<super::BfpMatrix, BfpError> {
        let spec = ConvertSpec {
            format: BfpFormat::new(group, bits, exp_bits)?,
            rounding: Rounding::Nearest,
            exp_base,
            lfsr: LfsrParams::default(),
        };
        convert(data, rows, cols, &ConvertJob { tensor, job: 0, spec, axis })
    };
    let (lo, hi) = (quantise(m)?, quantise(m + 2)?);
    let g = group;
    let (mut numerator, mut sum, mut magnitude) = (0f64, 0f64, 0f64);
    for (gi, (&elo, &ehi)) in lo.exps.iter().zip(&hi.exps).enumerate() {
        let (slo, shi) = (2f64.powi(elo - (m as i32 - 1)), 2f64.powi(ehi - (m as i32 + 1)));
        for i in 0..g {
            let a = lo.mants[gi * g + i] as f64 * slo;
            let b = hi.mants[gi * g + i] as f64 * shi;
            numerator += (b - a).abs();
            sum += a;
            magnitude += a.abs();
        }
    }
    let denominator = match norm {
        RNorm::L1 => magnitude,
        RNorm::AbsSum => sum.abs(),
    };
    let r = if denominator == 0.0 { f64::INFINITY } else { numerator / denominator };
    Ok(Improvement { r, numerator, denominator, norm, groups: lo.exps.len() as u64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_computed_group() {
        // One group of 4: [1.0, 0.75, 0.3, -0.1]. E = 0 (1.0 = 2^0).
        // m = 2: step 2^(0-1) = 0.5 -> 1.0, 1.0 (0.75 rounds up: ties away), 0.5 (0.3/0.5 = 0.6 -> 1), -0.0 -> 0
        // m = 4: step 2^-3 = 0.125 -> 1.0, 0.75, 0.25 (2.4 -> 2), -0.125 (0.8 -> 1)
        // numerator = 0 + 0.25 + 0.25 + 0.125 = 0.625; denominator = |1 + 1 + 0.5 + 0| = 2.5
        let x = [1.0f32, 0.75, 0.3, -0.1];
        for norm in [RNorm::L1, RNorm::AbsSum] {
            let r = relative_improvement("x", &x, 1, 4, GroupAxis::Dim1, 4, 8, ExpBase::PerTensor, 2, norm).unwrap();
            assert_eq!((r.numerator, r.denominator, r.groups), (0.625, 2.5, 1));
            assert_eq!(r.r, 0.25);
        }
        // With a negative element the two norms part: [1.0, -0.75, 0.3, -0.1] quantises to
        // 1, -1, 0.5, 0 at m = 2 and 1, -0.75, 0.25, -0.125 at m = 4 (numerator 0.625 again):
        // l1 divides by 1 + 1 + 0.5 = 2.5, abs_sum by |1 - 1 + 0.5| = 0.5.
        let x = [1.0f32, -0.75, 0.3, -0.1];
        let l1 = relative_improvement("x", &x, 1, 4, GroupAxis::Dim1, 4, 8, ExpBase::PerTensor, 2, RNorm::L1).unwrap();
        let sum =
            relative_improvement("x", &x, 1, 4, GroupAxis::Dim1, 4, 8, ExpBase::PerTensor, 2, RNorm::AbsSum).unwrap();
        assert_eq!((l1.numerator, l1.denominator, l1.r), (0.625, 2.5, 0.25));
        assert_eq!((sum.numerator, sum.denominator, sum.r), (0.625, 0.5, 1.25));
        assert_eq!("abs_sum".parse::<RNorm>(), Ok(RNorm::AbsSum));
        assert_eq!(RNorm::default().name(), "l1");
        assert!("l2".parse::<RNorm>().unwrap_err().contains("allowed l1"));
    }

    #[test]
    fn zero_denominator_is_infinite_and_nan_is_refused() {
        let x = [0.5f32, -0.5, 0.0, 0.0];
        let r =
            relative_improvement("x", &x, 2, 2, GroupAxis::Dim0, 2, 8, ExpBase::PerTensor, 2, RNorm::AbsSum).unwrap();
        assert_eq!(r.r, f64::INFINITY);
        let zero = [0.0f32; 4];
        let r =
            relative_improvement("x", &zero, 2, 2, GroupAxis::Dim0, 2, 8, ExpBase::PerTensor, 2, RNorm::L1).unwrap();
        assert_eq!(r.r, f64::INFINITY);
        let e = relative_improvement("dO", &[f32::NAN], 1, 1, GroupAxis::Dim1, 1, 8, ExpBase::PerTensor, 2, RNorm::L1);
        assert!(e.unwrap_err().to_string().contains("dO"));
    }
}
