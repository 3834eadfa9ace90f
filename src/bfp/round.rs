//! The element rounding formulas of DESIGN §2.1 step 4, as exact integer arithmetic.
//!
//! `sig` is a 24-bit significand with its hidden bit, `r` the number of bits to discard
//! (always >= 8 in a valid format, but any value is accepted: a negative `r` shifts left,
//! which the caller then saturates).

use super::Rounding;

/// Rounds `sig` (< 2^24) right by `r` bits under `rounding`; `noise` is the lane's `n`-bit
/// LFSR noise (used by `stochastic` only). Exact for every `r`: the result is what unbounded
/// integers give.
#[inline]
pub fn round_mantissa(sig: u32, r: i64, rounding: Rounding, noise: u32, noise_bits: u32) -> u64 {
    if r <= 0 {
        // Only a pinned exponent base can ask for this: the group saturates.
        let sh = (-r).min(40) as u32;
        return (sig as u64) << sh;
    }
    if r >= 64 {
        // sig < 2^24 and any added noise stays below 2^(r - n + n) = 2^r: every mode gives 0.
        return 0;
    }
    let r = r as u32;
    let sig = sig as u128;
    let n = noise_bits;
    let out = match rounding {
        Rounding::Truncate => sig >> r,
        Rounding::Nearest => (sig + (1u128 << (r - 1))) >> r,
        Rounding::Even => {
            let q = sig >> r;
            let rem = sig & ((1u128 << r) - 1);
            let half = 1u128 << (r - 1);
            if rem > half || (rem == half && q & 1 == 1) {
                q + 1
            } else {
                q
            }
        }
        Rounding::Stochastic => {
            let noise = noise as u128;
            if r >= n {
                (sig + (noise << (r - n))) >> r
            } else {
                (sig + (noise >> (n - r))) >> r
            }
        }
    };
    out as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second formulation: the real value sig / 2^r rounded with f64 arithmetic (exact for
    /// the small widths swept here).
    fn by_float(sig: u32, r: u32, rounding: Rounding) -> u64 {
        let x = sig as f64 / (1u64 << r) as f64;
        match rounding {
            Rounding::Truncate => x.floor() as u64,
            Rounding::Nearest => x.round() as u64, // f64::round: half away from zero
            Rounding::Even => x.round_ties_even() as u64,
            Rounding::Stochastic => unreachable!(),
        }
    }

    #[test]
    fn deterministic_modes_match_float_rounding_exhaustively() {
        for r in 1..=12u32 {
            for sig in 0..(1u32 << 14) {
                for mode in [Rounding::Truncate, Rounding::Nearest, Rounding::Even] {
                    assert_eq!(
                        round_mantissa(sig, r as i64, mode, 0, 8),
                        by_float(sig, r, mode),
                        "sig {sig} r {r} {mode}"
                    );
                }
            }
        }
    }

    #[test]
    fn stochastic_matches_floor_of_sig_plus_scaled_noise() {
        // Second formulation: floor((sig + N * 2^(r-n)) / 2^r) with the noise bits below
        // bit 0 dropped, computed as a rational number.
        for n in 1..=10u32 {
            for r in 1..=12u32 {
                for sig in (0..(1u32 << 13)).step_by(7) {
                    for noise in 0..(1u32 << n) {
                        let num = sig as f64 + (noise as f64 * 2f64.powi(r as i32 - n as i32)).floor();
                        let want = (num / 2f64.powi(r as i32)).floor() as u64;
                        assert_eq!(round_mantissa(sig, r as i64, Rounding::Stochastic, noise, n), want);
                    }
                }
            }
        }
    }

    #[test]
    fn far_below_group_max_rounds_to_zero_or_one() {
        let sig = 0xFFFFFF;
        for mode in Rounding::ALL {
            assert_eq!(round_mantissa(sig, 64, mode, 0xFF, 8), 0);
            assert_eq!(round_mantissa(sig, 250, mode, 0xFF, 8), 0);
        }
        // Between 25 and 63 only stochastic can round a tiny element up.
        assert_eq!(round_mantissa(0x800000, 30, Rounding::Nearest, 0, 8), 0);
        assert_eq!(round_mantissa(0xFFFFFF, 30, Rounding::Stochastic, 0xFF, 8), 1);
        assert_eq!(round_mantissa(0x800000, 30, Rounding::Stochastic, 0x00, 8), 0);
        // r = 24: the hidden bit alone is exactly half an LSB -> nearest rounds up.
        assert_eq!(round_mantissa(0x800000, 24, Rounding::Nearest, 0, 8), 1);
        assert_eq!(round_mantissa(0x800000, 24, Rounding::Even, 0, 8), 0);
    }

    #[test]
    fn stochastic_is_unbiased_in_the_mean() {
        // Over all 2^n noise values the mean of the rounded value equals sig / 2^r up to the
        // discarded bits below the noise (here r = n, so exactly).
        let n = 8;
        for sig in [0x800001u32, 0x9ABCDE, 0xFFFFFF, 0xC00000] {
            let r = 16u32;
            let total: u64 =
                (0..(1u32 << n)).map(|nz| round_mantissa(sig, r as i64, Rounding::Stochastic, nz, n)).sum();
            let mean = total as f64 / (1u64 << n) as f64;
            let exact = (sig >> (r - n)) as f64 / (1u64 << n) as f64;
            assert!((mean - exact).abs() < 1e-12, "sig {sig:#x}: mean {mean} exact {exact}");
        }
    }
}
