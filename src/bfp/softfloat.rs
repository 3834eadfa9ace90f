//! Exact integer-to-binary32 rounding: `(-1)^neg * mag * 2^exp` rounded once to the nearest
//! binary32 (ties to even), subnormals kept, overflow to infinity. Written branch by branch on
//! integers so it can serve as an independent check of the fast paths that go through f64.

/// `2^k` as an f64, for `k` in the normal range -1022..=1023.
#[inline]
pub fn pow2_f64(k: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// Rounds `(-1)^neg * mag * 2^exp` to binary32, nearest even. A zero magnitude gives +0.0.
pub fn round_scaled_to_f32(neg: bool, mag: u128, exp: i32) -> f32 {
    if mag == 0 {
        return 0.0;
    }
    let bit_len = 128 - mag.leading_zeros() as i64;
    // Weight of the leading bit.
    let top = bit_len - 1 + exp as i64;
    let sign = if neg { -1.0f32 } else { 1.0f32 };
    if top > 127 {
        return sign * f32::INFINITY;
    }
    // Weight of the result's least significant bit: 24 significant bits for a normal result,
    // fixed at 2^-149 for a subnormal one.
    let lsb = (top - 23).max(-149);
    let shift = lsb - exp as i64; // bits of `mag` that drop below the result's LSB
    let q: u128 = if shift <= 0 {
        // Exact: at most 24 bits, shifted left.
        mag << (-shift) as u32
    } else if shift > 128 {
        0 // mag < 2^128 <= half an LSB
    } else {
        let shift = shift as u32;
        let q = if shift == 128 { 0 } else { mag >> shift };
        let rem = if shift == 128 { mag } else { mag & ((1u128 << shift) - 1) };
        let half = 1u128 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    // q <= 2^24 and lsb >= -149: q * 2^lsb is exact in f64, and a binary32 value unless it
    // rounded up past the largest finite binary32.
    let v = q as f64 * pow2_f64(lsb as i32);
    if v >= 2f64.powi(128) {
        return sign * f32::INFINITY;
    }
    sign * (v as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_f64_cast_where_f64_is_exact() {
        // For mag < 2^53 and a moderate exponent, mag * 2^exp is exact in f64, and the cast
        // rounds once: an independent formulation.
        let mut x: u64 = 0x9E3779B97F4A7C15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let bits = (x % 53) as u32;
            let mag = (x >> 11) & ((1u64 << bits) - 1).max(1);
            let exp = ((x >> 3) % 400) as i32 - 200 - bits as i32;
            let neg = x & 1 == 1;
            let want = {
                let v = mag as f64 * 2f64.powi(exp);
                let v = v as f32;
                if neg {
                    -v
                } else {
                    v
                }
            };
            let got = round_scaled_to_f32(neg, mag as u128, exp);
            if mag == 0 {
                assert_eq!(got.to_bits(), 0);
            } else {
                assert_eq!(got.to_bits(), want.to_bits(), "mag {mag} exp {exp} neg {neg}");
            }
        }
    }

    #[test]
    fn edge_cases() {
        assert_eq!(round_scaled_to_f32(false, 1, -149), f32::from_bits(1));
        // Exactly half the smallest subnormal: ties to even -> 0.
        assert_eq!(round_scaled_to_f32(false, 1, -150).to_bits(), 0);
        // Three quarters of it -> rounds up to the smallest subnormal.
        assert_eq!(round_scaled_to_f32(false, 3, -151), f32::from_bits(1));
        assert_eq!(round_scaled_to_f32(false, 1, 127), 2f32.powi(127));
        assert_eq!(round_scaled_to_f32(true, 1, 128), f32::NEG_INFINITY);
        // (2^24 - 1) * 2^104 is the largest finite; one more half-ulp rounds to infinity.
        assert_eq!(round_scaled_to_f32(false, (1 << 24) - 1, 104), f32::MAX);
        assert_eq!(round_scaled_to_f32(false, (1 << 25) - 1, 103), f32::INFINITY);
        assert_eq!(round_scaled_to_f32(false, u128::MAX, -100), 2f32.powi(28));
    }
}
