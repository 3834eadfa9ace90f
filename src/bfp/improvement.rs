//! FAST's precision measure (DESIGN §11): the relative improvement `r_m(X)` of converting a
//! tensor with `m + 2` mantissa bits instead of `m`, computed from the tensor's binary32 values
//! as the converter would quantise them.
//!
//! Both quantisations are made exactly as DESIGN §2.1 with **nearest** rounding, with the real
//! conversion's grouping and exponent base, so `r` is deterministic and consumes no LFSR state:
//!
//! ```text
//! r_m(X) = Σ_n |BFP(X_n, m+2) − BFP(X_n, m)| / |Σ_n BFP(X_n, m)|
//! ```
//!
//! Sums are in binary64 in element order: groups in job order (the row-major order of each
//! group's first element), elements `0..g` within a group (padding elements are 0 in both and
//! add nothing). Every term is exact in binary64 (a BFP value has at most 16 significant bits);
//! only the running sums round. A zero denominator gives `r = +∞`.

use super::{convert, BfpError, BfpFormat, ConvertJob, ConvertSpec, ExpBase, GroupAxis, LfsrParams, Rounding};

/// What one evaluation of `r_m` measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Improvement {
    /// `r_m(X)`.
    pub r: f64,
    /// `Σ |BFP(X, m+2) − BFP(X, m)|`.
    pub numerator: f64,
    /// `|Σ BFP(X, m)|`.
    pub denominator: f64,
    /// Groups in the tensor (each quantisation passes them all through a converter).
    pub groups: u64,
}

/// `r_m(X)` for the `[rows, cols]` row-major tensor `data` grouped along `axis` in groups of
/// `group`, with `e = exp_bits` and the exponent-base policy `exp_base`. Errors as the
/// converter's (NaN or infinity in `data`, formats out of range, `m + 2 > 16`).
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
    let (mut numerator, mut sum) = (0f64, 0f64);
    for (gi, (&elo, &ehi)) in lo.exps.iter().zip(&hi.exps).enumerate() {
        let (slo, shi) = (2f64.powi(elo - (m as i32 - 1)), 2f64.powi(ehi - (m as i32 + 1)));
        for i in 0..g {
            let a = lo.mants[gi * g + i] as f64 * slo;
            let b = hi.mants[gi * g + i] as f64 * shi;
            numerator += (b - a).abs();
            sum += a;
        }
    }
    let denominator = sum.abs();
    let r = if denominator == 0.0 { f64::INFINITY } else { numerator / denominator };
    Ok(Improvement { r, numerator, denominator, groups: lo.exps.len() as u64 })
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
        let r = relative_improvement("x", &x, 1, 4, GroupAxis::Dim1, 4, 8, ExpBase::PerTensor, 2).unwrap();
        assert_eq!((r.numerator, r.denominator, r.groups), (0.625, 2.5, 1));
        assert_eq!(r.r, 0.25);
    }

    #[test]
    fn zero_denominator_is_infinite_and_nan_is_refused() {
        let x = [0.5f32, -0.5, 0.0, 0.0];
        let r = relative_improvement("x", &x, 2, 2, GroupAxis::Dim0, 2, 8, ExpBase::PerTensor, 2).unwrap();
        assert_eq!(r.r, f64::INFINITY);
        let e = relative_improvement("dO", &[f32::NAN], 1, 1, GroupAxis::Dim1, 1, 8, ExpBase::PerTensor, 2);
        assert!(e.unwrap_err().to_string().contains("dO"));
    }
}
