//! The one-line note of a run whose forced mapping (`--mapping`) kept tiles that do not fit
//! the operand buffers in some GEMMs (those ran with an operand streamed instead,
//! `mapping::hold_to_capacity`): how many GEMMs, and the largest such tile with the room.

use crate::mapping::{operand_name, Role};
use crate::runner::RunReport;

/// Bits in bit, kbit, Mbit or Gbit (one decimal).
fn bits(v: u64) -> String {
    let (x, unit) = match v {
        0..=9_999 => return format!("{v} bit"),
        10_000..=999_999 => (v as f64 / 1e3, "kbit"),
        1_000_000..=999_999_999 => (v as f64 / 1e6, "Mbit"),
        _ => (v as f64 / 1e9, "Gbit"),
    };
    format!("{x:.1} {unit}")
}

/// The note, or `None` when every GEMM's mapping kept what fits (the first iteration's GEMMs
/// are counted; later iterations repeat them).
pub fn capacity_note(r: &RunReport) -> Option<String> {
    let held: Vec<_> =
        r.gemms.iter().filter(|g| g.iteration == 0).filter_map(|g| g.sim.capacity_hold.map(|h| (g, h))).collect();
    // The largest tile streamed instead of kept.
    let streamed_bits = |h: &crate::mapping::CapacityHold, i: usize| {
        if h.streamed[i] {
            h.tile_bits[i].0 + h.tile_bits[i].1
        } else {
            0
        }
    };
    let (g, h, i) =
        held.iter().flat_map(|&(g, h)| (0..2).map(move |i| (g, h, i))).max_by_key(|&(_, h, i)| streamed_bits(&h, i))?;
    let role = if i == 0 { Role::X } else { Role::Y };
    let (te, tm) = h.tile_bits[i];
    let (ce, cm) = h.capacity_bits;
    let half = if r.arch.memory.double_buffering { ", half of each bank with double buffering" } else { "" };
    let total = r.gemms.iter().filter(|g| g.iteration == 0).count();
    Some(format!(
        "--mapping keeps tiles larger than the operand buffers in {} of {total} GEMMs; they stream that \
         operand from DRAM instead (\"x:streamed\"/\"y:streamed\" in layers.csv's mapping column). Largest: {} {} \
         {} tile of {} mantissa + {} exponent against room for {} + {} (X's and Y's tiles together{half})",
        held.len(),
        g.gemm.layer,
        g.gemm.pass,
        operand_name(g.gemm.pass, role),
        bits(tm),
        bits(te),
        bits(cm),
        bits(ce),
    ))
}

#[cfg(test)]
mod tests {
    use super::bits;

    #[test]
    fn bit_counts_read_in_their_unit() {
        assert_eq!(bits(9_999), "9999 bit");
        assert_eq!(bits(65_536), "65.5 kbit");
        assert_eq!(bits(13_631_488), "13.6 Mbit");
        assert_eq!(bits(2_097_152), "2.1 Mbit");
        assert_eq!(bits(3_000_000_000), "3.0 Gbit");
    }
}
