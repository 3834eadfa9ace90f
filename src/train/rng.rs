//! The training run's random numbers: a SplitMix64 stream (Steele, Lea, Flood, OOPSLA 2014),
//! from which the weight initialisation and the per-epoch data order are drawn. Written out
//! here, with no transcendental function in the uniform path, so an independent script
//! (`scripts/train-reference.py`) reproduces the same initial weights and data order bit for
//! bit.
//!
//! - `next_u64`: `state += 0x9E3779B97F4A7C15; z = state; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
//!   z = (z ^ (z >> 27)) * 0x94D049BB133111EB; z ^ (z >> 31)` (wrapping arithmetic).
//! - `uniform`: `(next_u64 >> 11) * 2^-53`, in `[0, 1)`.
//! - Streams: the stream of `(seed, purpose, index)` starts at state
//!   `seed ^ (purpose * 0xD1B54A32D192ED03) ^ (index * 0x8CB92BA72F3D8DD7)` (wrapping), with
//!   purpose 1 for a layer's weights (index = the layer's position in the workload) and 2 for
//!   an epoch's data order (index = the epoch).
//! - Shuffle: Fisher-Yates from the last position down: for `i` in `n-1 .. 1`,
//!   `j = next_u64 % (i + 1)`, swap `i` and `j` (the modulo bias is < 2^-40 for any data set
//!   that fits in memory, and part of the contract).

/// Purpose tag of weight-initialisation streams.
pub const PURPOSE_INIT: u64 = 1;
/// Purpose tag of data-order streams.
pub const PURPOSE_ORDER: u64 = 2;

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting at `state`.
    pub fn new(state: u64) -> Self {
        SplitMix64 { state }
    }

    /// The stream for `(seed, purpose, index)`.
    pub fn stream(seed: u64, purpose: u64, index: u64) -> Self {
        SplitMix64::new(seed ^ purpose.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ index.wrapping_mul(0x8CB9_2BA7_2F3D_8DD7))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal (Box-Muller on two uniforms; uses `ln`, `sqrt` and `cos`).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// The positions `0..n` in Fisher-Yates order.
    pub fn permutation(&mut self, n: usize) -> Vec<u32> {
        let mut p: Vec<u32> = (0..n as u32).collect();
        for i in (1..n).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            p.swap(i, j);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // SplitMix64 from state 0 (the published reference sequence).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(r.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut p = SplitMix64::stream(7, PURPOSE_ORDER, 3).permutation(1000);
        assert_ne!(p[..10], (0..10).collect::<Vec<u32>>()[..]);
        p.sort_unstable();
        assert_eq!(p, (0..1000).collect::<Vec<u32>>());
    }
}
