//! Partial-sum accumulators of the fMAC cell (DESIGN §5): `fp32` rounds each group product
//! to binary32 and adds it with IEEE binary32 addition; `exact` is a wide fixed-point
//! (Kulisch) register rounded once when the result leaves the array.

use serde::{Deserialize, Serialize};

use crate::bfp::softfloat::round_scaled_to_f32;

/// Which accumulator the cells use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccumulatorKind {
    /// Round each group product to binary32, add in binary32 (nearest even).
    Fp32,
    /// Exact fixed-point sum, one rounding at the end.
    Exact,
}

impl AccumulatorKind {
    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            AccumulatorKind::Fp32 => "fp32",
            AccumulatorKind::Exact => "exact",
        }
    }
}

impl std::str::FromStr for AccumulatorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fp32" => Ok(Self::Fp32),
            "exact" => Ok(Self::Exact),
            _ => Err(format!("unknown accumulator '{s}': allowed fp32, exact")),
        }
    }
}

/// Weight of the Kulisch register's least significant bit. Covers every product of two
/// groups whose exponents lie within the pinned-base range (±1000) plus 2^8 of field, minus
/// mantissa offsets (DESIGN §2), with room to spare.
pub const KULISCH_LSB_EXP: i32 = -2700;
/// Width of the Kulisch register, in 64-bit limbs (two's complement).
pub const KULISCH_LIMBS: usize = 88;

/// A wide two's-complement fixed-point accumulator: exact for any sum of group products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kulisch {
    limbs: Box<[u64; KULISCH_LIMBS]>,
}

impl Default for Kulisch {
    fn default() -> Self {
        Self { limbs: Box::new([0; KULISCH_LIMBS]) }
    }
}

impl Kulisch {
    /// Adds `p * 2^exp` exactly. Cost: the limbs `p` touches plus carry propagation.
    pub fn add(&mut self, p: i64, exp: i32) {
        if p == 0 {
            return;
        }
        let off = exp - KULISCH_LSB_EXP;
        assert!(
            off >= 0 && (off as usize) < (KULISCH_LIMBS - 3) * 64,
            "product exponent {exp} outside the Kulisch window"
        );
        let (limb, bit) = ((off / 64) as usize, (off % 64) as u32);
        // p << bit as a sign-extended 128-bit value split into two limbs, then the extension.
        let wide = (p as i128) << bit;
        let parts = [wide as u64, (wide >> 64) as u64];
        let ext = if p < 0 { u64::MAX } else { 0 };
        let mut carry = 0u64;
        for (n, &v) in parts.iter().enumerate() {
            let (s1, c1) = self.limbs[limb + n].overflowing_add(v);
            let (s2, c2) = s1.overflowing_add(carry);
            self.limbs[limb + n] = s2;
            carry = (c1 | c2) as u64;
        }
        for l in self.limbs[limb + 2..].iter_mut() {
            // Adding the sign extension: once the carry equals the extension's own fixed
            // point (carry 1 with all-ones, carry 0 with zeros) nothing above changes.
            if (ext == u64::MAX && carry == 1) || (ext == 0 && carry == 0) {
                break;
            }
            let (s1, c1) = l.overflowing_add(ext);
            let (s2, c2) = s1.overflowing_add(carry);
            *l = s2;
            carry = (c1 | c2) as u64;
        }
    }

    /// The register rounded once to binary32 (nearest even).
    pub fn to_f32(&self) -> f32 {
        let neg = self.limbs[KULISCH_LIMBS - 1] >> 63 == 1;
        let mut mag: Vec<u64> = self.limbs.to_vec();
        if neg {
            let mut carry = 1u64;
            for l in mag.iter_mut() {
                let (s, c) = (!*l).overflowing_add(carry);
                *l = s;
                carry = c as u64;
            }
        }
        let Some(top) = mag.iter().rposition(|&l| l != 0) else {
            return 0.0;
        };
        if top == 0 {
            return round_scaled_to_f32(neg, mag[0] as u128, KULISCH_LSB_EXP);
        }
        // The top two limbs, with every lower bit folded into a sticky LSB: at least 65
        // significant bits, far more than the 24 + guard the rounding looks at.
        let sticky = mag[..top - 1].iter().any(|&l| l != 0) as u128;
        let window = ((mag[top] as u128) << 64) | mag[top - 1] as u128 | sticky;
        round_scaled_to_f32(neg, window, KULISCH_LSB_EXP + 64 * (top as i32 - 1))
    }
}

/// A cell's partial-sum register.
#[derive(Debug, Clone, PartialEq)]
pub enum Accumulator {
    /// A binary32 partial sum.
    Fp32(f32),
    /// An exact partial sum.
    Exact(Kulisch),
}

impl Accumulator {
    /// A zeroed accumulator of the given kind.
    pub fn new(kind: AccumulatorKind) -> Self {
        match kind {
            AccumulatorKind::Fp32 => Accumulator::Fp32(0.0),
            AccumulatorKind::Exact => Accumulator::Exact(Kulisch::default()),
        }
    }

    /// Joins group product `p * 2^exp` to the partial sum: `fp32` rounds it once to binary32
    /// (integer rounding, no f64 on this path) and adds with binary32 addition; `exact` adds it
    /// into the wide register.
    pub fn add_product(&mut self, p: i64, exp: i32) {
        match self {
            Accumulator::Fp32(acc) => {
                let v = round_scaled_to_f32(p < 0, p.unsigned_abs() as u128, exp);
                *acc += v;
            }
            Accumulator::Exact(k) => k.add(p, exp),
        }
    }

    /// The partial sum as it leaves the array: binary32.
    pub fn result(&self) -> f32 {
        match self {
            Accumulator::Fp32(acc) => *acc,
            Accumulator::Exact(k) => k.to_f32(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    /// Independent rounding of an exact rational `n * 2^lsb` to binary32 via the bigint's own
    /// f64 path where it is exact (|n| < 2^53), used on small cases.
    fn bigint_sum(terms: &[(i64, i32)]) -> (BigInt, i32) {
        let lsb = terms.iter().map(|t| t.1).min().unwrap_or(0);
        let mut s = BigInt::from(0);
        for &(p, e) in terms {
            s += BigInt::from(p) << (e - lsb) as usize;
        }
        (s, lsb)
    }

    #[test]
    fn kulisch_matches_bigint_sum() {
        let mut x: u64 = 0x1234_5678_9ABC_DEF1;
        for case in 0..3000 {
            let mut k = Kulisch::default();
            let mut terms = vec![];
            let n = 1 + case % 40;
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let p = ((x >> 20) as i64 % (1 << 30)) * if x & 1 == 1 { -1 } else { 1 };
                let e = ((x >> 5) % 60) as i32 - 30 + if case % 7 == 0 { -150 } else { 0 };
                terms.push((p, e));
                k.add(p, e);
            }
            let (s, lsb) = bigint_sum(&terms);
            let (sign, digits) = s.to_u64_digits();
            let got = k.to_f32();
            if digits.len() <= 1 {
                let mag = digits.first().copied().unwrap_or(0);
                if mag < (1 << 53) {
                    let v = (mag as f64 * 2f64.powi(lsb)) as f32;
                    let v = if sign == num_bigint::Sign::Minus { -v } else { v };
                    assert_eq!(got.to_bits(), v.to_bits(), "case {case}");
                    continue;
                }
            }
            // Larger: compare against f64 (two roundings can differ by an ulp at most).
            let approx: f64 = terms.iter().map(|&(p, e)| p as f64 * 2f64.powi(e)).sum();
            let rel = ((got as f64 - approx) / approx).abs();
            assert!(rel < 1e-6, "case {case}: {got} vs {approx}");
        }
    }

    #[test]
    fn kulisch_cancellation_and_sign() {
        let mut k = Kulisch::default();
        k.add(5, 100);
        k.add(-5, 100);
        assert_eq!(k.to_f32().to_bits(), 0);
        k.add(-3, -2);
        assert_eq!(k.to_f32(), -0.75);
        k.add(1, 200); // huge + tiny: rounds to 2^200 -> inf in binary32
        assert_eq!(k.to_f32(), f32::INFINITY);
        k.add(-1, 200);
        k.add(1, -1);
        assert_eq!(k.to_f32(), -0.25);
        // 2^24 + 1 + 2^-300: exact sum rounds up thanks to the sticky bit (a tie without it).
        let mut k = Kulisch::default();
        k.add(1 << 24, 0);
        k.add(1, 0);
        assert_eq!(k.to_f32(), 16777216.0);
        k.add(1, -300);
        assert_eq!(k.to_f32(), 16777218.0);
    }

    #[test]
    fn fp32_accumulator_adds_in_binary32() {
        let mut a = Accumulator::new(AccumulatorKind::Fp32);
        a.add_product(1 << 24, 0);
        a.add_product(1, 0); // lost: 2^24 + 1 rounds to even
        a.add_product(1, 0);
        assert_eq!(a.result(), 16777216.0);
        let mut e = Accumulator::new(AccumulatorKind::Exact);
        e.add_product(1 << 24, 0);
        e.add_product(1, 0);
        e.add_product(1, 0);
        assert_eq!(e.result(), 16777218.0);
    }
}
