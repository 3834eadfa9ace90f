//! The discrete-event core: a `Cycle` newtype, an event queue whose ties leave in insertion
//! order, and per-reason stall statistics. Knows nothing about any block's internals.

mod queue;

pub use queue::EventQueue;

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use serde::Serialize;

/// A point in time or a duration, in clock cycles (one chunk pass).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Cycle(pub u64);

impl Cycle {
    /// Time zero.
    pub const ZERO: Cycle = Cycle(0);
    /// The later of two times.
    pub fn max(self, o: Cycle) -> Cycle {
        Cycle(self.0.max(o.0))
    }
    /// `self - o`, or zero when `o` is later.
    pub fn saturating_sub(self, o: Cycle) -> Cycle {
        Cycle(self.0.saturating_sub(o.0))
    }
}

impl Add for Cycle {
    type Output = Cycle;
    fn add(self, o: Cycle) -> Cycle {
        Cycle(self.0 + o.0)
    }
}

impl AddAssign for Cycle {
    fn add_assign(&mut self, o: Cycle) {
        self.0 += o.0;
    }
}

impl Sub for Cycle {
    type Output = Cycle;
    fn sub(self, o: Cycle) -> Cycle {
        Cycle(self.0 - o.0)
    }
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why the array waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StallReason {
    /// Operands still arriving from DRAM.
    Dram,
    /// Operands waiting for a BFP converter.
    Converter,
    /// An SRAM port could not feed the array as fast as it consumes.
    Sram,
    /// A matrix being transposed through memory (explicit-transpose archs).
    Transpose,
}

impl StallReason {
    /// Every reason, in report order.
    pub const ALL: [StallReason; 4] =
        [StallReason::Dram, StallReason::Converter, StallReason::Sram, StallReason::Transpose];
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            StallReason::Dram => "dram",
            StallReason::Converter => "converter",
            StallReason::Sram => "sram",
            StallReason::Transpose => "transpose",
        }
    }
}

/// Stall cycles per reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StallStats {
    /// `(reason, cycles)` for every reason that occurred, in [`StallReason::ALL`] order.
    pub by_reason: Vec<(StallReason, u64)>,
}

impl StallStats {
    /// Adds `cycles` of stall for `reason`.
    pub fn add(&mut self, reason: StallReason, cycles: u64) {
        if cycles == 0 {
            return;
        }
        match self.by_reason.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, c)) => *c += cycles,
            None => {
                self.by_reason.push((reason, cycles));
                self.by_reason.sort_by_key(|(r, _)| *r);
            }
        }
    }
    /// Total stall cycles.
    pub fn total(&self) -> u64 {
        self.by_reason.iter().map(|(_, c)| c).sum()
    }
    /// Stall cycles for one reason.
    pub fn get(&self, reason: StallReason) -> u64 {
        self.by_reason.iter().find(|(r, _)| *r == reason).map_or(0, |(_, c)| *c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_stats_accumulate_by_reason() {
        let mut s = StallStats::default();
        s.add(StallReason::Converter, 3);
        s.add(StallReason::Dram, 5);
        s.add(StallReason::Converter, 2);
        s.add(StallReason::Transpose, 0);
        assert_eq!(s.by_reason, vec![(StallReason::Dram, 5), (StallReason::Converter, 5)]);
        assert_eq!(s.total(), 10);
    }
}
