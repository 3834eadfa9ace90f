//! Split exponent / mantissa storage (DESIGN §4, normative layout), packed with `bitvec`.
//!
//! Exponent memory: one `e`-bit field `E_f = E - E_base` per group. Mantissa memory: per group
//! `c` chunk planes, plane 0 most significant; a plane holds a 3-bit field per element (bit 2
//! sign, bits 1..0 the chunk), element 0 in the least significant bits. Groups follow the
//! converter's job order.

use bitvec::prelude::*;

use super::{BfpFormat, BfpMatrix};

/// One group read back from storage, possibly from only its first `k` planes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedGroup {
    /// Shared exponent `E` (base added back).
    pub exp: i32,
    /// Mantissa width of what was read, in bits (`2k`, or `m` when all planes of an even `m`).
    pub mantissa_bits: u32,
    /// Signed mantissas (a stored sign over a zero magnitude reads as 0).
    pub mants: Vec<i32>,
}

/// A converted tensor in its two memories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedTensor {
    format: BfpFormat,
    e_base: i32,
    groups: usize,
    exponents: BitVec<u64, Lsb0>,
    mantissas: BitVec<u64, Lsb0>,
}

/// `bits` as hex digits, most significant first, `ceil(len / 4)` digits.
pub(crate) fn hex_of(bits: &BitSlice<u64, Lsb0>) -> String {
    let digits = bits.len().div_ceil(4);
    (0..digits)
        .rev()
        .map(|d| {
            let lo = d * 4;
            let hi = (lo + 4).min(bits.len());
            let v: u8 = bits[lo..hi].load_le();
            char::from_digit(v as u32, 16).unwrap_or('?')
        })
        .collect()
}

impl PackedTensor {
    /// Packs every group of `bm` in job order.
    pub fn pack(bm: &BfpMatrix) -> Self {
        let fmt = bm.format;
        let (g, c, e) = (fmt.group(), fmt.chunks() as usize, fmt.exp_bits() as usize);
        let pad = fmt.padded_mantissa_bits() - fmt.mantissa_bits();
        let order = bm.job_order();
        let mut exponents = BitVec::<u64, Lsb0>::repeat(false, order.len() * e);
        let mut mantissas = BitVec::<u64, Lsb0>::repeat(false, order.len() * c * 3 * g);
        for (idx, &(lane, q)) in order.iter().enumerate() {
            let (exp, ms) = bm.group(lane, q);
            exponents[idx * e..(idx + 1) * e].store_le((exp - bm.e_base) as u32);
            for (i, &m) in ms.iter().enumerate() {
                let mag = m.unsigned_abs() << pad;
                let sign = (m < 0) as u32;
                for j in 0..c {
                    let chunk = (mag >> (2 * (c - 1 - j))) & 3;
                    let at = ((idx * c + j) * g + i) * 3;
                    mantissas[at..at + 3].store_le(chunk | (sign << 2));
                }
            }
        }
        Self { format: fmt, e_base: bm.e_base, groups: order.len(), exponents, mantissas }
    }

    /// The format the tensor was stored in.
    pub fn format(&self) -> BfpFormat {
        self.format
    }
    /// The tensor's exponent base.
    pub fn e_base(&self) -> i32 {
        self.e_base
    }
    /// Number of stored groups.
    pub fn groups(&self) -> usize {
        self.groups
    }
    /// Size of the exponent memory image, in bits.
    pub fn exponent_bits(&self) -> usize {
        self.exponents.len()
    }
    /// Size of the mantissa memory image, in bits.
    pub fn mantissa_bits(&self) -> usize {
        self.mantissas.len()
    }
    /// Bits one chunk plane occupies (`3 g`).
    pub fn plane_bits(&self) -> usize {
        3 * self.format.group()
    }

    /// Chunk plane `j` of group `idx` (job order): `3 g` bits, element `i` in bits `3i..3i+3`.
    pub fn plane(&self, idx: usize, j: usize) -> &BitSlice<u64, Lsb0> {
        let pb = self.plane_bits();
        let at = (idx * self.format.chunks() as usize + j) * pb;
        &self.mantissas[at..at + pb]
    }

    /// The exponent field `E_f` of group `idx` (job order).
    pub fn exponent_field(&self, idx: usize) -> u32 {
        let e = self.format.exp_bits() as usize;
        self.exponents[idx * e..(idx + 1) * e].load_le()
    }

    /// Reads group `idx` (job order) from its exponent field and its first `k` chunk planes
    /// (`k` clamped to 1..=c): the group truncated to `2k` mantissa bits.
    pub fn read_group(&self, idx: usize, k: usize) -> PackedGroup {
        let (g, c, e) = (self.format.group(), self.format.chunks() as usize, self.format.exp_bits() as usize);
        let k = k.clamp(1, c);
        let e_f: u32 = self.exponents[idx * e..(idx + 1) * e].load_le();
        let mut mants = vec![0i32; g];
        for j in 0..k {
            let plane = self.plane(idx, j);
            for (i, m) in mants.iter_mut().enumerate() {
                let f: u32 = plane[i * 3..i * 3 + 3].load_le();
                let chunk = (f & 3) as i32;
                let neg = f & 4 != 0;
                let mag = m.unsigned_abs() as i32 * 4 + chunk;
                *m = if neg { -mag } else { mag };
            }
        }
        let full = k == c;
        let mantissa_bits = if full { self.format.padded_mantissa_bits() } else { 2 * k as u32 };
        let pad = self.format.padded_mantissa_bits() - self.format.mantissa_bits();
        // With all planes of an odd m, drop the padding zero to give back the stored M.
        let (mants, mantissa_bits) = if full && pad == 1 {
            (mants.into_iter().map(|m| m / 2).collect(), self.format.mantissa_bits())
        } else {
            (mants, mantissa_bits)
        };
        PackedGroup { exp: self.e_base + e_f as i32, mantissa_bits, mants }
    }

    /// The exponent memory as `$readmemh` lines: one group a line, `ceil(e/4)` hex digits.
    pub fn exponents_hex(&self) -> Vec<String> {
        let e = self.format.exp_bits() as usize;
        (0..self.groups).map(|i| hex_of(&self.exponents[i * e..(i + 1) * e])).collect()
    }

    /// The mantissa memory as `$readmemh` lines: one chunk plane a line, plane 0 of group 0
    /// first, `ceil(3g/4)` hex digits.
    pub fn mantissa_hex(&self) -> Vec<String> {
        let c = self.format.chunks() as usize;
        (0..self.groups).flat_map(|i| (0..c).map(move |j| (i, j))).map(|(i, j)| hex_of(self.plane(i, j))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bfp::{convert, ConvertJob, ConvertSpec, GroupAxis, Rounding};

    fn packed(data: &[f32], g: usize, m: u32, e: u32) -> (BfpMatrix, PackedTensor) {
        let spec = ConvertSpec::new(BfpFormat::new(g, m, e).unwrap(), Rounding::Nearest);
        let job = ConvertJob { tensor: "t", job: 0, spec, axis: GroupAxis::Dim1 };
        let bm = convert(data, 1, data.len(), &job).unwrap();
        let p = PackedTensor::pack(&bm);
        (bm, p)
    }

    #[test]
    fn full_read_gives_back_every_group() {
        let data: Vec<f32> = (0..40).map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.37).collect();
        for m in 1..=9 {
            let (bm, p) = packed(&data, 8, m, 5);
            for (idx, (lane, q)) in bm.job_order().into_iter().enumerate() {
                let (e, ms) = bm.group(lane, q);
                let got = p.read_group(idx, 99);
                assert_eq!((got.exp, got.mantissa_bits, got.mants.as_slice()), (e, m, ms), "m {m}");
            }
        }
    }

    #[test]
    fn first_k_planes_truncate_to_2k_bits() {
        let data: Vec<f32> = (0..16).map(|i| (i as f32 - 7.5) * 1.3).collect();
        let (bm, p) = packed(&data, 16, 8, 8);
        let (e, ms) = bm.group(0, 0);
        for k in 1..=4usize {
            let got = p.read_group(0, k);
            assert_eq!(got.exp, e);
            assert_eq!(got.mantissa_bits, 2 * k as u32);
            for (i, &m) in ms.iter().enumerate() {
                let want = (m.unsigned_abs() >> (8 - 2 * k)) as i32 * m.signum();
                assert_eq!(got.mants[i], want);
                // Same value scale: 2^(E - (2k - 1)) per unit.
            }
        }
    }

    #[test]
    fn bits_per_group_and_hex_widths() {
        let data = vec![1.0f32; 32];
        let (_, p) = packed(&data, 16, 4, 4);
        assert_eq!(p.exponent_bits() + p.mantissa_bits(), 2 * 100);
        assert!(p.exponents_hex().iter().all(|h| h.len() == 1));
        assert!(p.mantissa_hex().iter().all(|h| h.len() == 12));
        let (_, p) = packed(&data[..5], 5, 3, 8);
        assert_eq!(p.mantissa_hex()[0].len(), 4); // 15 bits -> 4 hex digits
        assert_eq!(p.exponents_hex()[0].len(), 2);
    }

    #[test]
    fn element_zero_sits_in_the_low_bits() {
        // g = 2, m = 2: element 0 = -1.0 -> M = 2 (E = 0, LSB 0.5), sign 1 -> field 0b110 = 6;
        // element 1 = +0.5 -> M = 1 -> 0b001. Plane = (1 << 3) | 6 = 0x0e.
        let (_, p) = packed(&[-1.0, 0.5], 2, 2, 8);
        assert_eq!(p.mantissa_hex(), vec!["0e".to_string()]);
    }
}
