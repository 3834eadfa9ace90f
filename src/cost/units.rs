//! Energy per counted action for one arch (rule C11 of `docs/cost.md`): the prices that
//! [`energy`](super::energy) multiplies [`Actions`] by. Every price is in pJ per unit.

use serde::Serialize;

use super::actions::Actions;
use super::blocks::kulisch_bits;
use super::cell::cell_cost;
use super::converter::converter_cost;
use super::sram::sram_macro;
use super::EnergyBreakdown;
use crate::arch::Arch;

/// pJ per unit of each [`Actions`] field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct UnitEnergies {
    /// One chunk pass ([`CellCost::pass_pj`](super::CellCost::pass_pj)).
    pub chunk_pass_pj: f64,
    /// Per group pair: exponent add + normalisation.
    pub group_pair_pj: f64,
    /// One binary32 add (`fp32_add`).
    pub fp32_add_pj: f64,
    /// One Kulisch add: register width x (`adder_bit` + `register_bit`).
    pub kulisch_add_pj: f64,
    /// One element-wise MAC of the arch's cell (0 for BFP cells).
    pub element_mac_pj: f64,
    /// One partial sum moved one cell: partial-sum bits x `register_bit`.
    pub partial_sum_hop_pj: f64,
    /// One operand bit moved one cell: `register_bit`.
    pub operand_hop_bit_pj: f64,
    /// One group through a converter.
    pub converter_group_pj: f64,
    /// Exponent SRAM read, per bit, at the bank's capacity.
    pub exp_sram_read_bit_pj: f64,
    /// Exponent SRAM write, per bit.
    pub exp_sram_write_bit_pj: f64,
    /// Mantissa SRAM read, per bit, at the bank's capacity.
    pub mant_sram_read_bit_pj: f64,
    /// Mantissa SRAM write, per bit.
    pub mant_sram_write_bit_pj: f64,
    /// DRAM access (read or write), per bit; also the price of transpose traffic.
    pub dram_bit_pj: f64,
    /// Output (partial-sum) buffer access, per bit, at `mapping.output_buffer_kib`.
    pub output_buffer_bit_pj: f64,
}

/// The price of every action on `arch`.
pub fn unit_energies(arch: &Arch) -> UnitEnergies {
    let l = &arch.tech.logic;
    let cell = cell_cost(arch);
    let exp = sram_macro(&arch.tech, arch.memory.exponent_sram.capacity_kib);
    let mant = sram_macro(&arch.tech, arch.memory.mantissa_sram.capacity_kib);
    UnitEnergies {
        chunk_pass_pj: cell.pass_pj,
        group_pair_pj: cell.group_pair_pj,
        fp32_add_pj: l.fp32_add.energy_pj,
        kulisch_add_pj: kulisch_bits(arch) as f64 * (l.adder_bit.energy_pj + l.register_bit.energy_pj),
        element_mac_pj: cell.element_mac_pj,
        partial_sum_hop_pj: cell.partial_sum_bits as f64 * l.register_bit.energy_pj,
        operand_hop_bit_pj: l.register_bit.energy_pj,
        converter_group_pj: converter_cost(arch).group_pj,
        exp_sram_read_bit_pj: exp.read_bit_pj,
        exp_sram_write_bit_pj: exp.write_bit_pj,
        mant_sram_read_bit_pj: mant.read_bit_pj,
        mant_sram_write_bit_pj: mant.write_bit_pj,
        dram_bit_pj: arch.tech.dram.access_bit_pj,
        output_buffer_bit_pj: sram_macro(&arch.tech, arch.mapping.output_buffer_kib).read_bit_pj,
    }
}

impl UnitEnergies {
    /// `a` priced: each count times its price, summed by component.
    pub fn price(&self, a: &Actions) -> EnergyBreakdown {
        let f = |n: u64, pj: f64| n as f64 * pj;
        EnergyBreakdown {
            array_pj: f(a.chunk_passes, self.chunk_pass_pj)
                + f(a.group_pairs, self.group_pair_pj)
                + f(a.fp32_adds, self.fp32_add_pj)
                + f(a.kulisch_adds, self.kulisch_add_pj)
                + f(a.element_macs, self.element_mac_pj)
                + f(a.partial_sum_hops, self.partial_sum_hop_pj)
                + f(a.operand_hop_bits, self.operand_hop_bit_pj),
            converters_pj: f(a.converter_groups, self.converter_group_pj),
            exponent_sram_pj: f(a.sram_exp_read_bits, self.exp_sram_read_bit_pj)
                + f(a.sram_exp_write_bits, self.exp_sram_write_bit_pj),
            mantissa_sram_pj: f(a.sram_mant_read_bits, self.mant_sram_read_bit_pj)
                + f(a.sram_mant_write_bits, self.mant_sram_write_bit_pj),
            dram_pj: f(a.dram_bits, self.dram_bit_pj),
            transpose_pj: f(a.transpose_dram_bits, self.dram_bit_pj),
            output_buffer_pj: f(a.output_buffer_bits, self.output_buffer_bit_pj),
        }
    }
}
