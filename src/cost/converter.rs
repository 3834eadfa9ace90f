//! The BFP converter priced from the technology table (rule C10 of `docs/cost.md`), after the
//! hardware of DESIGN §3: per group of `g` lanes, a comparator tree, exponent subtractors,
//! alignment shifters, rounding (noise) adders, LFSRs, saturation and an output register.

use serde::Serialize;

use super::blocks::{max_mantissa_bits, times};
use crate::arch::{Arch, BlockCost, TensorClass};
use crate::bfp::Rounding;

/// What one converter of an arch costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConverterCost {
    /// Area of one converter in um^2 (`groups_per_cycle` copies of the datapath).
    pub area_um2: f64,
    /// Area of one datapath (one group per cycle) by component, um^2.
    pub area_parts: Vec<(&'static str, f64)>,
    /// Energy to convert one group, pJ.
    pub group_pj: f64,
    /// Whether `group_pj` includes the LFSR steps (some tensor class rounds stochastically).
    pub lfsr_energy: bool,
}

/// The cost of one converter of `arch`; zero for element-wise cells, which have none.
pub fn converter_cost(arch: &Arch) -> ConverterCost {
    if !arch.array.cell.is_bfp() {
        return ConverterCost { area_um2: 0.0, area_parts: Vec::new(), group_pj: 0.0, lfsr_energy: false };
    }
    let l = &arch.tech.logic;
    let g = arch.bfp.group as f64;
    let m = max_mantissa_bits(arch) as f64;
    let e = arch.bfp.exp_bits as f64;
    let parts: [(&'static str, BlockCost); 7] = [
        ("comparator_tree", times(l.comparator_8b, g - 1.0)),
        ("exponent_subtractors", times(l.exp_adder_8b, g)),
        ("alignment_shifters", times(l.shifter_24b, g)),
        // One 24-bit adder per lane adds the rounding constant or the noise to the significand.
        ("rounding_adders", times(l.adder_bit, 24.0 * g)),
        ("lfsrs", times(l.lfsr16, g)),
        // Saturation: an m-bit 2:1 mux per lane selects 2^m - 1.
        ("saturation", times(l.mux2_bit, m * g)),
        ("output_register", times(l.register_bit, e + g * (1.0 + m))),
    ];
    let lfsr_energy = TensorClass::ALL.iter().any(|&c| arch.precision.get(c).rounding == Rounding::Stochastic);
    let group_pj = parts.iter().filter(|p| lfsr_energy || p.0 != "lfsrs").map(|p| p.1.energy_pj).sum();
    let one: f64 = parts.iter().map(|p| p.1.area_um2).sum();
    ConverterCost {
        area_um2: one * arch.converters.groups_per_cycle as f64,
        area_parts: parts.iter().map(|p| (p.0, p.1.area_um2)).collect(),
        group_pj,
        lfsr_energy,
    }
}
