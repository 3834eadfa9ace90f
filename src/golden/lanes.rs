//! Per-cycle port files: one fixed-width vector per cycle, the lanes of an edge port side by
//! side (lane 0 least significant), each lane `valid` (its top bit) over its payload.

use bitvec::prelude::*;

use crate::bfp::hex_of;

/// One `$readmemh` file of per-cycle lane vectors.
#[derive(Debug, Clone)]
pub(crate) struct LaneFile {
    /// File name in the golden directory.
    pub name: &'static str,
    /// Lanes (columns or rows of the array).
    pub lanes: usize,
    /// Payload bits per lane (the valid bit comes on top).
    pub payload_bits: usize,
    lines: Vec<BitVec<u64, Lsb0>>,
}

impl LaneFile {
    pub fn new(name: &'static str, lanes: usize, payload_bits: usize) -> Self {
        Self { name, lanes, payload_bits, lines: Vec::new() }
    }
    /// Bits per lane: payload plus valid.
    pub fn lane_bits(&self) -> usize {
        self.payload_bits + 1
    }
    /// Bits per line.
    pub fn line_bits(&self) -> usize {
        self.lanes * self.lane_bits()
    }
    /// Hex digits per line.
    pub fn hex_digits(&self) -> usize {
        self.line_bits().div_ceil(4)
    }
    /// Lines so far.
    pub fn len(&self) -> usize {
        self.lines.len()
    }
    fn line(&mut self, cycle: u64) -> &mut BitVec<u64, Lsb0> {
        let bits = self.line_bits();
        let c = cycle as usize;
        if self.lines.len() <= c {
            self.lines.resize(c + 1, BitVec::repeat(false, bits));
        }
        &mut self.lines[c]
    }
    /// Marks lane `lane` valid in `cycle` with `payload` (its low `payload_bits` bits).
    pub fn set(&mut self, cycle: u64, lane: usize, payload: &BitSlice<u64, Lsb0>) {
        debug_assert_eq!(payload.len(), self.payload_bits);
        let lb = self.lane_bits();
        let pb = self.payload_bits;
        let line = self.line(cycle);
        line[lane * lb..lane * lb + pb].copy_from_bitslice(payload);
        line.set(lane * lb + pb, true);
    }
    /// [`LaneFile::set`] with a payload of at most 64 bits.
    pub fn set_u64(&mut self, cycle: u64, lane: usize, payload: u64) {
        let mut bits = BitVec::<u64, Lsb0>::repeat(false, self.payload_bits);
        let n = self.payload_bits.min(64);
        bits[..n].store_le(payload & (u64::MAX >> (64 - n)));
        self.set(cycle, lane, &bits);
    }
    /// Lane `lane` in `cycle`: its payload when valid.
    pub fn get(&self, cycle: u64, lane: usize) -> Option<&BitSlice<u64, Lsb0>> {
        let line = self.lines.get(cycle as usize)?;
        let lb = self.lane_bits();
        line[lane * lb + self.payload_bits].then(|| &line[lane * lb..lane * lb + self.payload_bits])
    }
    /// Grows the file to `lines` lines (idle cycles).
    pub fn pad_to(&mut self, lines: usize) {
        if lines > 0 {
            self.line(lines as u64 - 1);
        }
    }
    /// The `$readmemh` text.
    pub fn to_hex(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.lines.len() * (self.hex_digits() + 1));
        for l in &self.lines {
            out.extend_from_slice(hex_of(l).as_bytes());
            out.push(b'\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_sit_side_by_side_with_valid_on_top() {
        let mut f = LaneFile::new("t.hex", 3, 4);
        f.set_u64(1, 0, 0xA);
        f.set_u64(1, 2, 0x3);
        f.pad_to(3);
        // lane 0 = 1_1010, lane 1 = 0, lane 2 = 1_0011 -> bits 14..0 = 10011 00000 11010
        assert_eq!(String::from_utf8(f.to_hex()).unwrap(), "0000\n4c1a\n0000\n");
        assert_eq!(f.get(1, 2).map(|b| b.load_le::<u8>()), Some(3));
        assert!(f.get(1, 1).is_none() && f.get(7, 0).is_none());
    }
}
