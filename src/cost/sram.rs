//! SRAM banks priced from the technology table's macros (rule C5 of `docs/cost.md`): a bank's
//! per-bit read/write energy and area per KiB come from the macros around its capacity,
//! interpolated linearly in `log2(capacity)`, clamped to the smallest and largest macro.

use crate::arch::{SramMacro, TechTable};

/// The macro a bank of `capacity_kib` KiB is priced as: the table's macro of that capacity, or
/// the interpolation (linear in `log2` capacity) between the two around it; a bank below the
/// smallest or above the largest macro takes that macro's per-bit figures.
pub fn sram_macro(tech: &TechTable, capacity_kib: u64) -> SramMacro {
    let macros = &tech.sram;
    let first = macros[0];
    let last = macros[macros.len() - 1];
    let at = |m: SramMacro| SramMacro { capacity_kib, ..m };
    if capacity_kib <= first.capacity_kib {
        return at(first);
    }
    if capacity_kib >= last.capacity_kib {
        return at(last);
    }
    let hi = macros.iter().position(|m| m.capacity_kib >= capacity_kib).unwrap_or(macros.len() - 1);
    let (a, b) = (macros[hi - 1], macros[hi]);
    let l = |k: u64| (k as f64).log2();
    let t = (l(capacity_kib) - l(a.capacity_kib)) / (l(b.capacity_kib) - l(a.capacity_kib));
    let mix = |x: f64, y: f64| x + t * (y - x);
    SramMacro {
        capacity_kib,
        read_bit_pj: mix(a.read_bit_pj, b.read_bit_pj),
        write_bit_pj: mix(a.write_bit_pj, b.write_bit_pj),
        area_per_kib_um2: mix(a.area_per_kib_um2, b.area_per_kib_um2),
    }
}

/// Area of a bank of `capacity_kib` KiB in um^2: capacity x the macro's area per KiB.
pub fn sram_area_um2(tech: &TechTable, capacity_kib: u64) -> f64 {
    capacity_kib as f64 * sram_macro(tech, capacity_kib).area_per_kib_um2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_in_log_capacity_and_clamps() {
        let t = crate::arch::default_arch().tech;
        assert_eq!(sram_macro(&t, 8).read_bit_pj, 0.15625);
        assert_eq!(sram_macro(&t, 1).read_bit_pj, 0.15625);
        assert_eq!(sram_macro(&t, 4096).read_bit_pj, 1.5625);
        // 16 KiB is halfway (in log2) between 8 and 32 KiB.
        assert!((sram_macro(&t, 16).read_bit_pj - 0.234375).abs() < 1e-12);
        // 512 KiB: 4/5 of the way from 32 KiB to 1 MiB.
        assert!((sram_macro(&t, 512).read_bit_pj - 1.3125).abs() < 1e-12);
        assert_eq!(sram_area_um2(&t, 16), 16.0 * 4049.0);
    }
}
