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
    if r >= 40 {
        // Every mode gives 0 here: sig < 2^24, so sig / 2^r < 2^-16 <= 2^-n, and the largest
        // noise adds at most 1 - 2^-n of an LSB; truncate and nearest already reach 0 at r = 25.
        return 0;
    }
    let r = r as u32;
    let sig = sig as u64;
    match rounding {
        Rounding::Truncate => sig >> r,
        Rounding::Nearest => (sig + (1u64 << (r - 1))) >> r,
        Rounding::Even => {
            let q = sig >> r;
            let rem = sig & ((1u64 << r) - 1);
            let half = 1u64 << (r - 1);
            q + (rem > half || (rem == half && q & 1 == 1)) as u64
        }
        Rounding::Stochastic => {
            // noise < 2^16 and r - n < 40: the shifted noise stays below 2^56.
            let noise = noise as u64;
            if r >= noise_bits {
                (sig + (noise << (r - noise_bits))) >> r
            } else {
                (sig + (noise >> (noise_bits - r))) >> r
            }
        }
    }
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

    /// The formulas of DESIGN §2.1 on 256-bit integers (two u128 halves), as written, with no
    /// shortcut for large `r`.
    fn unbounded(sig: u32, r: u32, rounding: Rounding, noise: u32, n: u32) -> u64 {
        use num_bigint::BigUint;
        let sig = BigUint::from(sig);
        let one = BigUint::from(1u32);
        let out = match rounding {
            Rounding::Truncate => sig >> r,
            Rounding::Nearest => (sig + (one << (r - 1))) >> r,
            Rounding::Even => {
                let q = &sig >> r;
                let rem = &sig - (&q << r);
                let half = &one << (r - 1);
                if rem > half || (rem == half && q.bit(0)) {
                    q + one
                } else {
                    q
                }
            }
            Rounding::Stochastic => {
                let nz = BigUint::from(noise);
                if r >= n {
                    (sig + (nz << (r - n))) >> r
                } else {
                    (sig + (nz >> (n - r))) >> r
                }
            }
        };
        u64::try_from(out).unwrap()
    }

    #[test]
    fn fixed_width_equals_unbounded_integers_for_every_r() {
        let sigs = [0x800000u32, 0x800001, 0xFFFFFF, 0xABCDEF, 0xC00000];
        for r in 1..=300u32 {
            for &sig in &sigs {
                for n in [1u32, 4, 8, 12, 16] {
                    for noise in [0u32, 1, (1 << n) - 1, (1 << n) / 2] {
                        for mode in Rounding::ALL {
                            assert_eq!(
                                round_mantissa(sig, r as i64, mode, noise, n),
                                unbounded(sig, r, mode, noise, n),
                                "sig {sig:#x} r {r} n {n} noise {noise} {mode}"
                            );
                        }
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
