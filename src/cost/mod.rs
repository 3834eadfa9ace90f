//! Area and energy: counted actions x technology table (DESIGN §8). The simulator counts
//! [`Actions`]; this module prices them with the arch's [`TechTable`](crate::arch::TechTable)
//! into energy by component ([`energy`]), prices the hardware into area by component
//! ([`area`]), and sizes baseline arrays for comparisons at equal area
//! ([`equal_area_shape`]). Every baseline cell is priced from the same table, so comparisons
//! are like for like. Energies are in pJ, areas in um^2. Every rule (A1..A7 for counting,
//! C1..C12 for pricing) is derived, with the 45 nm figures, in `docs/cost.md`.
//!
//! | file | owns |
//! |---|---|
//! | `actions.rs` | [`Actions`] and their derivation from a [`GemmSim`](crate::accel::GemmSim) |
//! | `blocks.rs` | blocks composed from table entries: multipliers, adder trees, Kulisch width |
//! | `cell.rs` | one cell of each kind: itemised area, energy per action ([`CellCost`]) |
//! | `converter.rs` | one BFP converter: area and energy per group ([`ConverterCost`]) |
//! | `sram.rs` | SRAM banks from the table's macros (log-capacity interpolation) |
//! | `units.rs` | the price of each action on an arch ([`UnitEnergies`]) |

mod actions;
mod blocks;
mod cell;
mod converter;
mod sram;
mod units;

use serde::Serialize;

pub use actions::Actions;
pub use blocks::{adder_tree_bits, kulisch_bits};
pub use cell::{cell_cost, CellCost};
pub use converter::{converter_cost, ConverterCost};
pub use sram::{sram_area_um2, sram_macro};
pub use units::{unit_energies, UnitEnergies};

use crate::arch::Arch;

/// Energy by component, pJ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct EnergyBreakdown {
    /// The array: chunk passes, group-pair work, accumulations, element MACs, partial-sum and
    /// operand moves between cells.
    pub array_pj: f64,
    /// The BFP converters.
    pub converters_pj: f64,
    /// Exponent SRAM reads and writes.
    pub exponent_sram_pj: f64,
    /// Mantissa SRAM reads and writes.
    pub mantissa_sram_pj: f64,
    /// DRAM reads and writes of operands and results.
    pub dram_pj: f64,
    /// DRAM reads and writes of explicit transposes.
    pub transpose_pj: f64,
    /// Output (partial-sum) buffer reads and writes.
    pub output_buffer_pj: f64,
}

impl EnergyBreakdown {
    /// Sum of the components, pJ.
    pub fn total_pj(&self) -> f64 {
        self.array_pj
            + self.converters_pj
            + self.exponent_sram_pj
            + self.mantissa_sram_pj
            + self.dram_pj
            + self.transpose_pj
            + self.output_buffer_pj
    }

    /// Adds `o` component by component.
    pub fn add(&mut self, o: &EnergyBreakdown) {
        self.array_pj += o.array_pj;
        self.converters_pj += o.converters_pj;
        self.exponent_sram_pj += o.exponent_sram_pj;
        self.mantissa_sram_pj += o.mantissa_sram_pj;
        self.dram_pj += o.dram_pj;
        self.transpose_pj += o.transpose_pj;
        self.output_buffer_pj += o.output_buffer_pj;
    }
}

/// Area by component, um^2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct AreaBreakdown {
    /// The array: cell area x rows x cols.
    pub array_um2: f64,
    /// The BFP converters: converter area x count (0 for element-wise cells).
    pub converters_um2: f64,
    /// The exponent SRAM bank.
    pub exponent_sram_um2: f64,
    /// The mantissa SRAM bank.
    pub mantissa_sram_um2: f64,
    /// The output (partial-sum) buffer at `mapping.output_buffer_kib` (0 for `scalesim`
    /// cells, which model no memory).
    pub output_buffer_um2: f64,
    /// On-chip im2col: the address generator's double-buffered staging column (one group per
    /// array column, twice) in registers (0 without on-chip im2col).
    pub im2col_um2: f64,
}

impl AreaBreakdown {
    /// Sum of the components, um^2.
    pub fn total_um2(&self) -> f64 {
        self.array_um2
            + self.converters_um2
            + self.exponent_sram_um2
            + self.mantissa_sram_um2
            + self.output_buffer_um2
            + self.im2col_um2
    }
}

/// Energy of `a` on `arch`, by component (C11: each count x its [`UnitEnergies`] price).
/// Linear in the counts; zero actions cost nothing (static power is not modelled).
pub fn energy(arch: &Arch, a: &Actions) -> EnergyBreakdown {
    unit_energies(arch).price(a)
}

/// Area of `arch`, by component (C12): [`CellCost::area_um2`] x rows x cols;
/// [`ConverterCost::area_um2`] x converter count; each SRAM bank at its capacity
/// ([`sram_area_um2`]). Wiring, control and I/O are not modelled.
pub fn area(arch: &Arch) -> AreaBreakdown {
    let cells = (arch.array.rows * arch.array.cols) as f64;
    AreaBreakdown {
        array_um2: cell_cost(arch).area_um2 * cells,
        converters_um2: converter_cost(arch).area_um2 * arch.converters.count as f64,
        exponent_sram_um2: sram_area_um2(&arch.tech, arch.memory.exponent_sram.capacity_kib),
        mantissa_sram_um2: sram_area_um2(&arch.tech, arch.memory.mantissa_sram.capacity_kib),
        output_buffer_um2: if matches!(arch.array.cell, crate::arch::CellKind::Scalesim { .. }) {
            0.0
        } else {
            sram_area_um2(&arch.tech, arch.mapping.output_buffer_kib)
        },
        im2col_um2: if arch.mapping.im2col == crate::arch::Im2col::OnChip
            && arch.mapping.mapper == crate::arch::MapperKind::Search
        {
            let group_bits = arch.bfp_format(crate::arch::TensorClass::Activations).group_bits() as f64;
            2.0 * arch.array.cols as f64 * group_bits * arch.tech.logic.register_bit.area_um2
        } else {
            0.0
        },
    }
}

/// The array shape a baseline needs for the same total area as `reference` (C13): what is
/// left of the reference's total area after the baseline's converters and SRAM banks, divided
/// by the baseline's cell area, gives `rows x cols`; rows and cols are the baseline's own
/// scaled by the same factor `s = sqrt(cells / (R C))`, rounded down, at least 1x1 and at
/// most 4096. Rounding down both keeps the baseline's area at or below the reference's and
/// within one row and one column of it.
pub fn equal_area_shape(baseline: &Arch, reference: &Arch) -> (usize, usize) {
    let target = area(reference).total_um2();
    let base = area(baseline);
    let fixed = base.total_um2() - base.array_um2;
    let cell = cell_cost(baseline).area_um2;
    let (r, c) = (baseline.array.rows as f64, baseline.array.cols as f64);
    let cells = ((target - fixed) / cell).max(0.0);
    let s = (cells / (r * c)).sqrt();
    // A relative 1e-12 absorbs rounding when the ratio is an exact integer (same design).
    let scale = |n: f64| ((n * s * (1.0 + 1e-12)).floor() as usize).clamp(1, 4096);
    (scale(r), scale(c))
}
