//! Blocks the technology table does not list, composed from its entries by the rules of
//! `docs/cost.md` (C1..C4): multipliers of any width, adder trees, small shifters and the
//! exact (Kulisch) accumulator register. Energies in pJ per operation, areas in um^2.

use crate::arch::{Arch, BlockCost, LogicCosts};

/// `n` copies of `b` (energy and area both scale by `n`).
pub(crate) fn times(b: BlockCost, n: f64) -> BlockCost {
    BlockCost { energy_pj: b.energy_pj * n, area_um2: b.area_um2 * n }
}

/// `ceil(log2 n)`, 0 for `n <= 1`.
pub fn ceil_log2(n: u64) -> u64 {
    if n <= 1 {
        0
    } else {
        (u64::BITS - (n - 1).leading_zeros()) as u64
    }
}

/// C1: a `w x w` magnitude multiplier, by the table's rule D1 from `int8_mult`:
/// `int8_mult * (w / 8)^2`.
pub fn multiplier(logic: &LogicCosts, w: u32) -> BlockCost {
    times(logic.int8_mult, (w as f64 / 8.0).powi(2))
}

/// C2: adder bits of a binary tree summing `leaves` signed values of `leaf_bits` bits: level
/// `l` has `floor(n_l / 2)` adders one bit wider than their inputs (an odd leftover passes up).
/// For g = 16 leaves of 5 bits: 8 x 6 + 4 x 7 + 2 x 8 + 1 x 9 = 101 adder bits.
pub fn adder_tree_bits(leaves: u64, leaf_bits: u64) -> u64 {
    let (mut n, mut w, mut bits) = (leaves, leaf_bits, 0);
    while n > 1 {
        w += 1;
        bits += (n / 2) * w;
        n = n.div_ceil(2);
    }
    bits
}

/// Largest mantissa width of the arch's three tensor classes: the width the cell's datapath
/// is built for.
pub fn max_mantissa_bits(arch: &Arch) -> u32 {
    let p = &arch.precision;
    p.weights.mantissa_bits.max(p.activations.mantissa_bits).max(p.gradients.mantissa_bits)
}

/// `m'`: the largest mantissa width padded to whole 2-bit chunks (DESIGN §4).
pub fn padded_mantissa_bits(arch: &Arch) -> u32 {
    max_mantissa_bits(arch).div_ceil(2) * 2
}

/// Width of the exact group product `P` (DESIGN §5): `2 m' + ceil(log2 g) + 1` (sign).
pub fn group_product_bits(arch: &Arch) -> u64 {
    2 * padded_mantissa_bits(arch) as u64 + ceil_log2(arch.bfp.group as u64) + 1
}

/// C4: width of a hardware Kulisch register for group products: the product exponents span
/// `2 (2^e - 1)` binades above the per-tensor bases, plus the product width and 32 guard bits
/// of carry headroom (2^32 additions). For e = 8, m' = 4, g = 16: 510 + 13 + 32 = 555 bits.
pub fn kulisch_bits(arch: &Arch) -> u64 {
    2 * ((1u64 << arch.bfp.exp_bits) - 1) + group_product_bits(arch) + 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_and_log() {
        assert_eq!(adder_tree_bits(16, 5), 101);
        assert_eq!(adder_tree_bits(1, 5), 0);
        assert_eq!(adder_tree_bits(3, 4), 5 + 6);
        assert_eq!([1, 2, 3, 16, 17].map(ceil_log2), [0, 1, 2, 4, 5]);
        let a = crate::arch::default_arch();
        assert_eq!((group_product_bits(&a), kulisch_bits(&a)), (13, 555));
    }
}
