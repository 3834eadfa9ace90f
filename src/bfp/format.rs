//! The parameters of a BFP format and of a conversion: group size `g`, mantissa bits `m`,
//! exponent field bits `e`, the exponent-base policy, the rounding mode and the LFSR noise
//! parameters, each validated against the ranges of DESIGN §2 and §3.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Largest group size `g` the format allows.
pub const MAX_GROUP: usize = 64;
/// Largest mantissa magnitude width `m` in bits.
pub const MAX_MANTISSA_BITS: u32 = 16;
/// Largest shared-exponent field width `e` in bits.
pub const MAX_EXP_BITS: u32 = 8;
/// Largest number of LFSR noise bits `n` per element.
pub const MAX_NOISE_BITS: u32 = 16;
/// A pinned exponent base must lie in this range (keeps every product exponent finite in the
/// fixed-width accumulators and far beyond any binary32 value).
pub const PINNED_BASE_RANGE: std::ops::RangeInclusive<i32> = -1000..=1000;

/// A parameter outside its allowed range, or a value the converter cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BfpError {
    /// A format or conversion parameter is out of range.
    #[error("{name} = {value} is out of range: allowed {allowed}")]
    OutOfRange {
        /// The parameter's name as a user writes it (`group`, `mantissa`, ...).
        name: &'static str,
        /// The value given.
        value: i64,
        /// The allowed range, in words.
        allowed: &'static str,
    },
    /// NaN or an infinity reached the converter.
    #[error(
        "{tensor}: element {index} (row {row}, column {col}) is {what}; the BFP converter accepts finite values only"
    )]
    NonFinite {
        /// The tensor's name (a file name, or a role such as `W`).
        tensor: String,
        /// Row-major index of the offending element.
        index: usize,
        /// Its row.
        row: usize,
        /// Its column.
        col: usize,
        /// `NaN`, `+inf` or `-inf`.
        what: &'static str,
    },
    /// A tensor with a zero-sized dimension.
    #[error("{tensor}: empty tensor (shape {rows} x {cols})")]
    Empty {
        /// The tensor's name.
        tensor: String,
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// A shape whose element count does not match its data.
    #[error("{tensor}: shape {rows} x {cols} does not match {len} values")]
    ShapeData {
        /// The tensor's name.
        tensor: String,
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Number of values given.
        len: usize,
    },
}

fn check(name: &'static str, value: i64, lo: i64, hi: i64, allowed: &'static str) -> Result<(), BfpError> {
    if value < lo || value > hi {
        Err(BfpError::OutOfRange { name, value, allowed })
    } else {
        Ok(())
    }
}

/// The shape of one BFP group: `g` elements, `m`-bit magnitudes, an `e`-bit exponent field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BfpFormat {
    group: usize,
    mantissa_bits: u32,
    exp_bits: u32,
}

impl BfpFormat {
    /// A validated format: `g` in 1..=64, `m` in 1..=16, `e` in 1..=8.
    pub fn new(group: usize, mantissa_bits: u32, exp_bits: u32) -> Result<Self, BfpError> {
        check("group", group as i64, 1, MAX_GROUP as i64, "1..=64")?;
        check("mantissa", mantissa_bits as i64, 1, MAX_MANTISSA_BITS as i64, "1..=16")?;
        check("exp-bits", exp_bits as i64, 1, MAX_EXP_BITS as i64, "1..=8")?;
        Ok(Self { group, mantissa_bits, exp_bits })
    }
    /// Group size `g`, in elements.
    pub fn group(&self) -> usize {
        self.group
    }
    /// Mantissa magnitude width `m`, in bits.
    pub fn mantissa_bits(&self) -> u32 {
        self.mantissa_bits
    }
    /// Shared-exponent field width `e`, in bits.
    pub fn exp_bits(&self) -> u32 {
        self.exp_bits
    }
    /// Mantissa width padded to whole 2-bit chunks: `m' = m + (m mod 2)`.
    pub fn padded_mantissa_bits(&self) -> u32 {
        self.mantissa_bits + (self.mantissa_bits & 1)
    }
    /// Chunk planes per group, `c = ceil(m / 2)`.
    pub fn chunks(&self) -> u32 {
        self.mantissa_bits.div_ceil(2)
    }
    /// Largest magnitude a mantissa can hold, `2^m - 1`.
    pub fn max_magnitude(&self) -> u32 {
        (1u32 << self.mantissa_bits) - 1
    }
    /// Bits one group occupies in split storage: `e + 3 * g * c` (DESIGN §4).
    pub fn group_bits(&self) -> u64 {
        self.exp_bits as u64 + 3 * self.group as u64 * self.chunks() as u64
    }
}

/// How the converter rounds the bits it discards (DESIGN §2.1 step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rounding {
    /// Drop the discarded bits.
    Truncate,
    /// Round half away from zero (the cheap hardware rounder).
    Nearest,
    /// Round half to even.
    Even,
    /// Add LFSR noise to the top discarded bits, then truncate.
    Stochastic,
}

impl Rounding {
    /// Every mode, in the order the CLI lists them.
    pub const ALL: [Rounding; 4] = [Rounding::Nearest, Rounding::Truncate, Rounding::Even, Rounding::Stochastic];
    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Rounding::Truncate => "truncate",
            Rounding::Nearest => "nearest",
            Rounding::Even => "even",
            Rounding::Stochastic => "stochastic",
        }
    }
}

impl fmt::Display for Rounding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Rounding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Rounding::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown rounding '{s}': allowed nearest, truncate, even, stochastic"))
    }
}

/// Where the per-tensor exponent base `E_base` comes from (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpBase {
    /// `E_base = E_max - (2^e - 1)` from the tensor's largest element exponent.
    PerTensor,
    /// A fixed base; groups above `E_base + 2^e - 1` saturate.
    Pinned(i32),
}

/// Parameters of the converter's per-lane 16-bit Galois LFSRs (DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LfsrParams {
    /// Feedback mask applied on a shifted-out 1 (default `0xB400`).
    pub mask: u16,
    /// Run seed (default `0xACE1`).
    pub seed: u16,
    /// Noise bits `n` per element, 1..=16 (default 8).
    pub noise_bits: u32,
}

impl Default for LfsrParams {
    fn default() -> Self {
        Self { mask: super::lfsr::DEFAULT_MASK, seed: super::lfsr::DEFAULT_SEED, noise_bits: 8 }
    }
}

impl LfsrParams {
    /// Validated parameters: `noise_bits` in 1..=16, `mask` non-zero.
    pub fn new(mask: u16, seed: u16, noise_bits: u32) -> Result<Self, BfpError> {
        check("noise-bits", noise_bits as i64, 1, MAX_NOISE_BITS as i64, "1..=16")?;
        check("lfsr-mask", mask as i64, 1, u16::MAX as i64, "0x0001..=0xffff")?;
        Ok(Self { mask, seed, noise_bits })
    }
}

/// Everything one conversion job needs besides its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvertSpec {
    /// The group format.
    pub format: BfpFormat,
    /// The rounding mode.
    pub rounding: Rounding,
    /// The exponent-base policy.
    pub exp_base: ExpBase,
    /// The LFSR parameters (used by `stochastic` only, but the lanes step in every mode).
    pub lfsr: LfsrParams,
}

impl ConvertSpec {
    /// A spec with a per-tensor base and default LFSR parameters.
    pub fn new(format: BfpFormat, rounding: Rounding) -> Self {
        Self { format, rounding, exp_base: ExpBase::PerTensor, lfsr: LfsrParams::default() }
    }
    /// Checks the cross-field rules (a pinned base inside [`PINNED_BASE_RANGE`]).
    pub fn validate(&self) -> Result<(), BfpError> {
        if let ExpBase::Pinned(b) = self.exp_base {
            check(
                "exp-base",
                b as i64,
                *PINNED_BASE_RANGE.start() as i64,
                *PINNED_BASE_RANGE.end() as i64,
                "-1000..=1000",
            )?;
        }
        LfsrParams::new(self.lfsr.mask, self.lfsr.seed, self.lfsr.noise_bits)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_ranges_are_enforced() {
        assert!(BfpFormat::new(0, 4, 8).is_err());
        assert!(BfpFormat::new(65, 4, 8).is_err());
        assert!(BfpFormat::new(16, 0, 8).is_err());
        assert!(BfpFormat::new(16, 17, 8).is_err());
        assert!(BfpFormat::new(16, 4, 0).is_err());
        assert!(BfpFormat::new(16, 4, 9).is_err());
        let f = BfpFormat::new(64, 16, 8).unwrap();
        assert_eq!((f.chunks(), f.padded_mantissa_bits()), (8, 16));
        let f = BfpFormat::new(1, 1, 1).unwrap();
        assert_eq!((f.chunks(), f.padded_mantissa_bits(), f.max_magnitude()), (1, 2, 1));
    }

    #[test]
    fn group_bits_match_design_example() {
        // DESIGN §4: g = 16, m = 4, e = 4 -> 100 bits.
        assert_eq!(BfpFormat::new(16, 4, 4).unwrap().group_bits(), 100);
    }

    #[test]
    fn noise_bits_range() {
        assert!(LfsrParams::new(0xB400, 1, 0).is_err());
        assert!(LfsrParams::new(0xB400, 1, 17).is_err());
        assert!(LfsrParams::new(0, 1, 8).is_err());
        assert!(LfsrParams::new(0xB400, 1, 16).is_ok());
    }

    #[test]
    fn rounding_names_round_trip() {
        for r in Rounding::ALL {
            assert_eq!(r.name().parse::<Rounding>().unwrap(), r);
        }
        assert!("banker".parse::<Rounding>().is_err());
    }
}
