//! A DRAM channel as a reservation calendar: each transfer occupies the channel for
//! `ceil(bytes / bandwidth)` cycles in the earliest free gap at or after its issue cycle,
//! and completes `latency` cycles after its data have moved. Requests issued later in
//! program order may fill earlier gaps, as a DMA engine serving whichever request is
//! pending would.

/// One DRAM channel.
#[derive(Debug, Clone)]
pub struct DmaChannel {
    bytes_per_cycle: u64,
    latency_cycles: u64,
    /// Busy intervals `[start, end)`, sorted, non-overlapping.
    busy: Vec<(u64, u64)>,
}

impl DmaChannel {
    /// A channel moving `bytes_per_cycle` with `latency_cycles` per transfer.
    pub fn new(bytes_per_cycle: u64, latency_cycles: u64) -> Self {
        Self { bytes_per_cycle: bytes_per_cycle.max(1), latency_cycles, busy: Vec::new() }
    }

    /// Books a transfer of `bits` issued at `issue`; returns `(start, done)` cycles.
    /// Cost: O(number of booked transfers).
    pub fn transfer(&mut self, issue: u64, bits: u64) -> (u64, u64) {
        if bits == 0 {
            return (issue, issue);
        }
        let len = bits.div_ceil(8).div_ceil(self.bytes_per_cycle);
        let mut start = issue;
        let mut at = self.busy.partition_point(|&(_, e)| e <= start);
        while at < self.busy.len() && self.busy[at].0 < start + len {
            start = start.max(self.busy[at].1);
            at += 1;
        }
        self.busy.insert(at, (start, start + len));
        // Merge neighbours that touch, keeping the calendar short.
        if at + 1 < self.busy.len() && self.busy[at].1 == self.busy[at + 1].0 {
            self.busy[at].1 = self.busy[at + 1].1;
            self.busy.remove(at + 1);
        }
        if at > 0 && self.busy[at - 1].1 == self.busy[at].0 {
            self.busy[at - 1].1 = self.busy[at].1;
            self.busy.remove(at);
        }
        (start, start + len + self.latency_cycles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_serialise_and_fill_gaps() {
        let mut d = DmaChannel::new(4, 10); // 32 bits per cycle
        assert_eq!(d.transfer(0, 320), (0, 20)); // 10 cycles + 10 latency
        assert_eq!(d.transfer(0, 64), (10, 22)); // waits for the channel
        assert_eq!(d.transfer(100, 32), (100, 111));
        assert_eq!(d.transfer(50, 32 * 5), (50, 65)); // fits the gap before 100
        assert_eq!(d.transfer(96, 32 * 8), (101, 119)); // does not fit before 100
        assert_eq!(d.transfer(7, 0), (7, 7));
    }
}
