//! One processing element priced from the technology table (rules C6..C9 of `docs/cost.md`):
//! its area, itemised, and the energy of each action it performs (a chunk pass, the work done
//! once per group pair, a partial-sum accumulation, an element-wise MAC).

use serde::Serialize;

use super::blocks::{adder_tree_bits, ceil_log2, group_product_bits, kulisch_bits, max_mantissa_bits, multiplier};
use super::blocks::{padded_mantissa_bits, times};
use crate::arch::{Arch, BlockCost, CellKind, Transpose};
use crate::fmac::AccumulatorKind;

/// What one cell of an arch's array costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellCost {
    /// Cell kind, as in arch files.
    pub cell: &'static str,
    /// Area of one cell in um^2 (the sum of `area_parts`).
    pub area_um2: f64,
    /// Area by component in um^2, in datapath order.
    pub area_parts: Vec<(&'static str, f64)>,
    /// Energy of one chunk pass in pJ: fMAC, `g` 2-bit lanes + sign XORs + adder tree +
    /// chunk shift + group-product accumulate; `bfp_full`, one full-width pass (`g` m x m
    /// multipliers + XORs + adder tree); 0 for element-wise cells.
    pub pass_pj: f64,
    /// Energy of the work done once per group pair in pJ (BFP cells): exponent add and the
    /// normalisation of `P` to binary32; 0 for element-wise cells.
    pub group_pair_pj: f64,
    /// Energy of one partial-sum accumulation in pJ (BFP cells): `fp32_add`, or a Kulisch add;
    /// 0 for element-wise cells, whose add is part of `element_mac_pj`.
    pub accumulate_pj: f64,
    /// Energy of one element-wise MAC (multiply + add) in pJ; 0 for BFP cells.
    pub element_mac_pj: f64,
    /// Bits of a partial sum moving between cells: 32, or the Kulisch register width.
    pub partial_sum_bits: u64,
    /// Peak MACs per cell per cycle at the arch's forward precisions (weights x activations):
    /// fMAC `g / (c_w c_a)`, `bfp_full` `g`, element-wise 1.
    pub macs_per_cycle: f64,
    /// Energy per MAC in pJ at the arch's forward precisions, partial-sum and operand moves
    /// left out: `(c_w c_a pass + group pair + accumulate) / g` for BFP cells, the element MAC
    /// otherwise.
    pub mac_pj: f64,
}

impl CellCost {
    /// Area per peak MAC per cycle, um^2.
    pub fn area_per_mac_per_cycle_um2(&self) -> f64 {
        self.area_um2 / self.macs_per_cycle
    }
}

/// The cost of one cell of `arch`'s array.
pub fn cell_cost(arch: &Arch) -> CellCost {
    match arch.array.cell {
        CellKind::Fmac { chunk_bits } => bfp_cell(arch, Some(chunk_bits)),
        CellKind::BfpFull => bfp_cell(arch, None),
        CellKind::Fp32 | CellKind::Scalesim { .. } => {
            element_cell(arch, 32, arch.tech.logic.fp32_mult, arch.tech.logic.fp32_add)
        }
        CellKind::Bf16 => element_cell(arch, 16, arch.tech.logic.bf16_mult, arch.tech.logic.fp32_add),
        CellKind::Int8 => element_cell(arch, 8, arch.tech.logic.int8_mult, arch.tech.logic.int32_add),
    }
}

/// Copies of the stationary register (2 with shadow registers) and of the output-stationary
/// accumulator register (2 when double-buffered).
fn copies(arch: &Arch) -> (f64, f64) {
    let two = |b: bool| if b { 2.0 } else { 1.0 };
    (two(arch.array.shadow_stationary), two(arch.array.shadow_accumulators))
}

/// C8: register bits of a cell: `S` stationary copies of a stationary operand, one streaming
/// register per direction (E0/M0 up the columns, E1/M1 along the rows: both are needed by the
/// output-stationary backward-weight pass), `A` copies of the partial-sum register.
fn register_bits(arch: &Arch, stationary: u64, streaming: u64, psum: u64) -> f64 {
    let (s, a) = copies(arch);
    s * stationary as f64 + 2.0 * streaming as f64 + a * psum as f64
}

/// C8: the dual-direction cell (transpose: free) selects its partial-sum input from Y0 or Y1:
/// one 2:1 mux per partial-sum bit.
fn psum_mux_bits(arch: &Arch, psum: u64) -> f64 {
    if arch.array.transpose == Transpose::Free {
        psum as f64
    } else {
        0.0
    }
}

fn bfp_cell(arch: &Arch, chunk_bits: Option<u32>) -> CellCost {
    let l = &arch.tech.logic;
    let (g, e) = (arch.bfp.group as u64, arch.bfp.exp_bits as u64);
    let m_max = max_mantissa_bits(arch);
    let m_pad = padded_mantissa_bits(arch);
    let pw = group_product_bits(arch);
    let kulisch = arch.bfp.accumulator == AccumulatorKind::Exact;
    let psum = if kulisch { kulisch_bits(arch) } else { 32 };
    let gf = g as f64;
    let bit = |b: BlockCost, n: u64| times(b, n as f64);

    let mut parts: Vec<(&'static str, BlockCost)> = Vec::new();
    let (stationary, streaming, pass_blocks, macs_per_cycle, beats);
    match chunk_bits {
        Some(cb) => {
            // C6 (fMAC): g 2-bit lanes (table entry mult_2b), sign XORs, an adder tree over g
            // signed (2 cb + 1)-bit products, the chunk-position shifter (2 c - 1 positions,
            // ceil(log2(2 c - 1)) mux stages over the pw-bit group product) and the pw-bit
            // group-product adder and register.
            let c_max = m_pad.div_ceil(cb) as u64;
            let shifter_bits = pw * ceil_log2(2 * c_max - 1);
            parts.push(("multipliers", times(l.mult_2b, gf)));
            parts.push(("sign_xors", bit(l.xor_bit, g)));
            parts.push(("adder_tree", bit(l.adder_bit, adder_tree_bits(g, 2 * cb as u64 + 1))));
            parts.push(("chunk_shifter", bit(l.mux2_bit, shifter_bits)));
            parts.push(("group_product", times(l.adder_bit, pw as f64)));
            let gp_reg = bit(l.register_bit, pw);
            pass_blocks = parts.iter().map(|p| p.1).chain([gp_reg]).collect::<Vec<_>>();
            parts.push(("group_product_register", gp_reg));
            // The stationary group is held whole (sign once + m' bits), one streaming plane
            // (sign + cb bits per element) per direction.
            stationary = e + g * (1 + m_pad as u64);
            streaming = e + g * (1 + cb as u64);
            let chunks = |m: u32| m.div_ceil(cb) as f64;
            beats = chunks(arch.precision.weights.mantissa_bits) * chunks(arch.precision.activations.mantissa_bits);
            macs_per_cycle = gf / beats;
        }
        None => {
            // C7 (bfp_full): g full-width m x m multipliers (D1), sign XORs, an adder tree over
            // g signed (2 m + 1)-bit products; P goes straight to the normaliser.
            parts.push(("multipliers", times(multiplier(l, m_max), gf)));
            parts.push(("sign_xors", bit(l.xor_bit, g)));
            parts.push(("adder_tree", bit(l.adder_bit, adder_tree_bits(g, 2 * m_max as u64 + 1))));
            pass_blocks = parts.iter().map(|p| p.1).collect();
            stationary = e + g * (1 + m_max as u64);
            streaming = stationary;
            beats = 1.0;
            macs_per_cycle = gf;
        }
    }
    // Once per group pair: exponent add (exp_adder_8b) and P -> binary32 (shifter_24b).
    parts.push(("exponent_adder", l.exp_adder_8b));
    parts.push(("normaliser", l.shifter_24b));
    let accumulate = if kulisch {
        // C4: a Kulisch add switches the whole register: psum adder bits + register bits.
        parts.push(("accumulator", bit(l.adder_bit, psum)));
        psum as f64 * (l.adder_bit.energy_pj + l.register_bit.energy_pj)
    } else {
        parts.push(("accumulator", l.fp32_add));
        l.fp32_add.energy_pj
    };
    parts.push(("registers", times(l.register_bit, register_bits(arch, stationary, streaming, psum))));
    parts.push(("psum_mux", times(l.mux2_bit, psum_mux_bits(arch, psum))));

    let pass_pj: f64 = pass_blocks.iter().map(|b| b.energy_pj).sum();
    let group_pair_pj = l.exp_adder_8b.energy_pj + l.shifter_24b.energy_pj;
    let mac_pj = (beats * pass_pj + group_pair_pj + accumulate) / gf;
    finish(arch, parts, pass_pj, group_pair_pj, accumulate, 0.0, psum, macs_per_cycle, mac_pj)
}

/// C9: element-wise cells: one multiplier and one adder of the table, `w`-bit operand
/// registers, 32-bit partial sums (binary32, or int32 for int8).
fn element_cell(arch: &Arch, w: u64, mult: BlockCost, add: BlockCost) -> CellCost {
    let l = &arch.tech.logic;
    let parts = vec![
        ("multiplier", mult),
        ("adder", add),
        ("registers", times(l.register_bit, register_bits(arch, w, w, 32))),
        ("psum_mux", times(l.mux2_bit, psum_mux_bits(arch, 32))),
    ];
    let mac = mult.energy_pj + add.energy_pj;
    finish(arch, parts, 0.0, 0.0, 0.0, mac, 32, 1.0, mac)
}

#[allow(clippy::too_many_arguments)]
fn finish(
    arch: &Arch,
    parts: Vec<(&'static str, BlockCost)>,
    pass_pj: f64,
    group_pair_pj: f64,
    accumulate_pj: f64,
    element_mac_pj: f64,
    partial_sum_bits: u64,
    macs_per_cycle: f64,
    mac_pj: f64,
) -> CellCost {
    let area_parts: Vec<(&'static str, f64)> =
        parts.iter().filter(|p| p.1.area_um2 > 0.0).map(|p| (p.0, p.1.area_um2)).collect();
    CellCost {
        cell: arch.array.cell.name(),
        area_um2: area_parts.iter().map(|p| p.1).sum(),
        area_parts,
        pass_pj,
        group_pair_pj,
        accumulate_pj,
        element_mac_pj,
        partial_sum_bits,
        macs_per_cycle,
        mac_pj,
    }
}
