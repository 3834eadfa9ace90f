//! Estimates made before a GEMM is simulated, from its shapes alone: how many folds it has and
//! a lower bound of the cell-cycles the tick-level model (cycle fidelity) steps, so that work
//! too large to finish is refused with its figure instead of started.

use crate::gemm::Pass;

/// Most cell-cycles the tick-level model may be asked to step for one GEMM, by the lower bound
/// of [`tick_cell_cycles`]: 10^10 (about 15 s at the measured 0.8 x 10^9 cell-cycles per
/// second; a 1024 x 1024 array on one fold is 2 x 10^9).
pub const MAX_TICK_CELL_CYCLES: u64 = 10_000_000_000;

/// Folds of a GEMM whose output is `out_shape` with `reduction` units along the reduction
/// (groups for BFP cells, elements otherwise) on a `rows x cols` array (as `plan_folds` cuts
/// it, DESIGN §6).
pub fn fold_count(pass: Pass, out_shape: (usize, usize), reduction: usize, rows: usize, cols: usize) -> u64 {
    let (rows, cols) = (rows.max(1), cols.max(1));
    let tiles = |n: usize, t: usize| n.div_ceil(t) as u64;
    match pass {
        Pass::Forward => tiles(out_shape.0, rows).saturating_mul(tiles(reduction, cols)),
        Pass::BackwardData => tiles(out_shape.0, cols).saturating_mul(tiles(reduction, rows)),
        Pass::BackwardWeight => tiles(out_shape.0, rows).saturating_mul(tiles(out_shape.1, cols)),
    }
}

/// A lower bound of the cell-cycles the tick model steps for `folds` folds on a `rows x cols`
/// array: every fold's wavefront crosses the array at least once (`rows + cols` cycles), and
/// every cell is stepped every cycle.
pub fn tick_cell_cycles(rows: usize, cols: usize, folds: u64) -> u64 {
    let cells = rows as u64 * cols as u64;
    folds.saturating_mul((rows + cols) as u64).saturating_mul(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_tiles_and_the_tick_bound_refuses_a_4096_array() {
        assert_eq!(fold_count(Pass::Forward, (100, 7), 10, 32, 4), 4 * 3);
        assert_eq!(fold_count(Pass::BackwardData, (100, 7), 10, 32, 4), 25);
        assert_eq!(fold_count(Pass::BackwardWeight, (100, 7), 10, 32, 4), 4 * 2);
        assert!(tick_cell_cycles(1024, 1024, 1) < MAX_TICK_CELL_CYCLES);
        assert!(tick_cell_cycles(4096, 4096, 1) > MAX_TICK_CELL_CYCLES);
        assert_eq!(tick_cell_cycles(4096, 4096, u64::MAX), u64::MAX);
    }
}
