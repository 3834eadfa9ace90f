//! The converter's noise source: one 16-bit Galois LFSR per lane, reseeded at the start of
//! every conversion job (DESIGN §3, normative).
//!
//! `step(s): lsb = s & 1; s >>= 1; if lsb == 1 { s ^= mask }` with the default mask `0xB400`
//! (x^16 + x^14 + x^13 + x^11 + 1, period 65535).

/// Default feedback mask.
pub const DEFAULT_MASK: u16 = 0xB400;
/// Default run seed.
pub const DEFAULT_SEED: u16 = 0xACE1;
/// Seed increment per conversion job.
pub const JOB_STRIDE: u16 = 0x1F35;
/// Seed increment per lane.
pub const LANE_STRIDE: u16 = 0x9E37;

/// One right-shifting Galois LFSR of 16 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lfsr16 {
    state: u16,
    mask: u16,
}

impl Lfsr16 {
    /// An LFSR at `state` (a zero state is replaced by 1, as the seeding rule does).
    pub fn new(state: u16, mask: u16) -> Self {
        Self { state: if state == 0 { 1 } else { state }, mask }
    }
    /// Current state.
    pub fn state(&self) -> u16 {
        self.state
    }
    /// Advances one step and returns the new state.
    #[inline]
    pub fn step(&mut self) -> u16 {
        let lsb = self.state & 1;
        self.state >>= 1;
        if lsb == 1 {
            self.state ^= self.mask;
        }
        self.state
    }
}

/// The seed of conversion job `job`: `(seed + 0x1F35 * job) mod 2^16`.
pub fn job_seed(seed: u16, job: u64) -> u16 {
    seed.wrapping_add(JOB_STRIDE.wrapping_mul((job & 0xFFFF) as u16))
}

/// Lane `lane`'s state after a reseed: `(job_seed + 0x9E37 * (lane + 1)) mod 2^16`, 1 if 0.
pub fn lane_seed(job_seed: u16, lane: usize) -> u16 {
    let s = job_seed.wrapping_add(LANE_STRIDE.wrapping_mul(((lane + 1) & 0xFFFF) as u16));
    if s == 0 {
        1
    } else {
        s
    }
}

/// The linear map "step `n` times" of one LFSR over GF(2), as the images of the 16 unit
/// states: jumping a lane over many groups costs 16 XORs instead of `n` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LfsrJump {
    cols: [u16; 16],
}

impl LfsrJump {
    /// Zero steps.
    pub fn identity() -> Self {
        Self { cols: std::array::from_fn(|i| 1u16 << i) }
    }

    /// `n` steps of the LFSR with feedback `mask`.
    pub fn steps(mask: u16, mut n: u64) -> Self {
        let one = Self { cols: std::array::from_fn(|i| if i == 0 { mask } else { 1u16 << (i - 1) }) };
        let (mut acc, mut pow) = (Self::identity(), one);
        while n > 0 {
            if n & 1 == 1 {
                acc = acc.then(&pow);
            }
            pow = pow.then(&pow);
            n >>= 1;
        }
        acc
    }

    /// The state `n` steps after `s`.
    #[inline]
    pub fn apply(&self, s: u16) -> u16 {
        let mut out = 0;
        for (i, c) in self.cols.iter().enumerate() {
            out ^= c & 0u16.wrapping_sub((s >> i) & 1);
        }
        out
    }

    /// This jump followed by `next`.
    fn then(&self, next: &Self) -> Self {
        Self { cols: std::array::from_fn(|i| next.apply(self.cols[i])) }
    }
}

/// The converter's `g` noise lanes.
#[derive(Debug, Clone)]
pub struct NoiseBank {
    lanes: Vec<Lfsr16>,
    noise_bits: u32,
}

impl NoiseBank {
    /// `lanes` LFSRs reseeded for conversion job `job` (`noise_bits` in 1..=16).
    pub fn for_job(lanes: usize, mask: u16, seed: u16, job: u64, noise_bits: u32) -> Self {
        let js = job_seed(seed, job);
        let lanes = (0..lanes).map(|i| Lfsr16::new(lane_seed(js, i), mask)).collect();
        Self { lanes, noise_bits }
    }
    /// The lane states as they are now.
    pub fn states(&self) -> impl Iterator<Item = u16> + '_ {
        self.lanes.iter().map(|l| l.state())
    }
    /// Steps every lane `groups` times without producing noise (jumps over groups another
    /// worker converts).
    pub fn advance(&mut self, groups: usize) {
        if groups < 64 {
            for lane in self.lanes.iter_mut() {
                for _ in 0..groups {
                    lane.step();
                }
            }
        } else if let Some(mask) = self.lanes.first().map(|l| l.mask) {
            self.jump(&LfsrJump::steps(mask, groups as u64));
        }
    }
    /// Applies a precomputed jump to every lane (all lanes share one mask).
    pub fn jump(&mut self, j: &LfsrJump) {
        for lane in self.lanes.iter_mut() {
            lane.state = j.apply(lane.state);
        }
    }
    /// The noise bits `n`.
    pub fn noise_bits(&self) -> u32 {
        self.noise_bits
    }
    /// Steps every lane once (one group passes) and writes each lane's noise
    /// `N_i = s_i >> (16 - n)` into `noise`. Cost: one step per lane.
    #[inline]
    pub fn next_group(&mut self, noise: &mut [u32]) {
        let shift = 16 - self.noise_bits;
        for (lane, out) in self.lanes.iter_mut().zip(noise.iter_mut()) {
            *out = (lane.step() >> shift) as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_is_65535_and_visits_every_nonzero_state() {
        // Stepping from 1 visits each non-zero state exactly once before returning, so every
        // non-zero state lies on the one cycle of length 65535.
        let mut seen = vec![false; 1 << 16];
        let mut l = Lfsr16::new(1, DEFAULT_MASK);
        for _ in 0..65535 {
            let s = l.step();
            assert_ne!(s, 0);
            assert!(!seen[s as usize], "state {s:#06x} repeated early");
            seen[s as usize] = true;
        }
        assert_eq!(l.state(), 1);
        assert_eq!(seen.iter().filter(|&&b| b).count(), 65535);
    }

    #[test]
    fn step_matches_the_written_rule() {
        let mut l = Lfsr16::new(0xACE1, DEFAULT_MASK);
        // 0xACE1: lsb 1 -> 0x5670 ^ 0xB400 = 0xE270
        assert_eq!(l.step(), 0xE270);
        // 0xE270: lsb 0 -> 0x7138
        assert_eq!(l.step(), 0x7138);
    }

    #[test]
    fn jumps_equal_stepping() {
        for mask in [DEFAULT_MASK, 0x8016, 0x0001] {
            let mut l = Lfsr16::new(0xACE1, mask);
            let mut states = vec![l.state()];
            for _ in 0..70_000 {
                states.push(l.step());
            }
            for n in [0u64, 1, 2, 63, 64, 1000, 2048, 65_535, 65_536, 69_999] {
                assert_eq!(LfsrJump::steps(mask, n).apply(0xACE1), states[n as usize], "mask {mask:#x} n {n}");
            }
            let mut a = NoiseBank::for_job(16, mask, 0x1234, 3, 8);
            let mut b = a.clone();
            a.advance(5000);
            for _ in 0..5000 {
                b.next_group(&mut [0u32; 16]);
            }
            assert!(a.states().eq(b.states()));
        }
    }

    #[test]
    fn zero_lane_seed_becomes_one() {
        // job_seed + 0x9E37 * 1 == 0 when job_seed == 0x61C9.
        assert_eq!(lane_seed(0x61C9, 0), 1);
    }
}
