//! Folds: the tiles of a GEMM that fit the array at once, per dataflow, and the closed-form
//! cycle counts of each fold's phases (derived in `docs/timing.md` from the tick model).
//!
//! Array rows always index N and columns always index K (DESIGN §6):
//! - forward (weight stationary): rows = N lanes, columns = K groups, stream = B;
//! - backward-data (weight stationary): rows = N groups, columns = K lanes, stream = B;
//! - backward-weight (output stationary): rows = N lanes, columns = K lanes, stream = B groups.

use serde::{Deserialize, Serialize};

use crate::gemm::{GemmOperands, Pass};
use crate::mapping::{Mapping, PassDims};

/// The sizes a GEMM's timing depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GemmGeometry {
    /// Which matmul.
    pub pass: Pass,
    /// Output rows (X lanes).
    pub out_rows: usize,
    /// Output columns (Y lanes).
    pub out_cols: usize,
    /// Groups along the reduction.
    pub reduction_groups: usize,
    /// Chunk planes of X, `ceil(m_x / 2)`.
    pub x_chunks: u32,
    /// Chunk planes of Y, `ceil(m_y / 2)`.
    pub y_chunks: u32,
}

impl GemmGeometry {
    /// The geometry of converted operands.
    pub fn of(ops: &GemmOperands) -> Self {
        let (out_rows, out_cols) = ops.out_shape();
        Self {
            pass: ops.spec.pass,
            out_rows,
            out_cols,
            reduction_groups: ops.reduction_groups(),
            x_chunks: ops.x.format.chunks(),
            y_chunks: ops.y.format.chunks(),
        }
    }
    /// The same GEMM on full-width (`bfp_full`) cells: one "chunk" per operand, so one cycle
    /// per group pair and one cycle per stationary group.
    pub fn full_width(self) -> Self {
        Self { x_chunks: 1, y_chunks: 1, ..self }
    }
    /// Cycles per group pair (one beat), `p = c_x * c_y`.
    pub fn beat_cycles(&self) -> u64 {
        self.x_chunks as u64 * self.y_chunks as u64
    }
}

/// One fold: which part of the GEMM sits on the array, in array coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// Position in the schedule.
    pub index: usize,
    /// First index along the array rows (N lanes, or N groups for backward-data).
    pub row0: usize,
    /// Array rows this fold uses.
    pub rows_used: usize,
    /// First index along the array columns (K groups for forward, K lanes otherwise).
    pub col0: usize,
    /// Array columns this fold uses.
    pub cols_used: usize,
    /// First stream element (B index) of the fold: non-zero when a mapping tiles the stream
    /// of a weight-stationary pass (`crate::mapping`).
    #[serde(default)]
    pub stream0: usize,
    /// Stream length `T`: B for the weight-stationary passes, B groups for backward-weight.
    pub stream_len: usize,
    /// First fold along the reduction for its outputs (partial sums start at zero).
    pub first_of_reduction: bool,
    /// Last fold along the reduction (its outputs are final).
    pub last_of_reduction: bool,
}

/// Cycles of a fold's three phases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PhaseCycles {
    /// Stationary planes shifted in through E0/M0.
    pub load: u64,
    /// From the first operand entering the array to the last result leaving it (WS) or the
    /// last group pair finishing (OS).
    pub stream: u64,
    /// Output-stationary results shifted out along the rows.
    pub drain: u64,
}

/// The folds of a GEMM on an `rows x cols` array, in schedule order: the canonical
/// [`Mapping`](crate::mapping::Mapping) of the pass's [`PassDims`] (array-sized tiles of the
/// output lanes, the reduction innermost, the whole stream per fold). Folds along the
/// reduction run in increasing order for each output tile, so partial sums re-enter in group
/// order (DESIGN §6).
pub fn plan_folds(geo: &GemmGeometry, rows: usize, cols: usize) -> Vec<Fold> {
    let dims = PassDims::of(geo);
    Mapping::canonical(&dims, rows, cols).plan_folds(&dims, rows, cols)
}

/// Closed-form phase cycles of `fold` on an `rows x cols` array of fMAC cells (DESIGN §7;
/// derivation in `docs/timing.md`). With `p = c_x c_y`, `T` the stream length, `R_u`/`C_u`
/// the rows/columns used:
/// - forward: load `R_u c_x`, stream `p (T + R_u + C - 2)`;
/// - backward-data: load `R_u c_x`, stream `p (T + C_u + R - 2)`;
/// - backward-weight: stream `p (T + R_u + C_u - 2)`, drain `C`.
pub fn closed_form(geo: &GemmGeometry, fold: &Fold, rows: usize, cols: usize) -> PhaseCycles {
    let p = geo.beat_cycles();
    let (t, ru, cu) = (fold.stream_len as u64, fold.rows_used as u64, fold.cols_used as u64);
    let (r, c) = (rows as u64, cols as u64);
    match geo.pass {
        Pass::Forward => PhaseCycles { load: ru * geo.x_chunks as u64, stream: p * (t + ru + c - 2), drain: 0 },
        Pass::BackwardData => PhaseCycles { load: ru * geo.x_chunks as u64, stream: p * (t + cu + r - 2), drain: 0 },
        Pass::BackwardWeight => PhaseCycles { load: 0, stream: p * (t + ru + cu - 2), drain: c },
    }
}

/// One input lane of the array edge, in the numbering [`Footprint::lanes`] uses: `0..C` E0/M0
/// at the bottom of each column, `C..C+R` E1/M1 at the left of each row (row 0 at the top),
/// `C+R..C+2R` Y1 partial sums at the left of each row, `C+2R..2C+2R` Y0 partial sums at the
/// top of each column.
pub fn lane_count(rows: usize, cols: usize) -> usize {
    2 * rows + 2 * cols
}

/// Where a fold's data sit in the array over time, in cycles from the start of its streaming
/// phase: what a following fold may not overlap when `overlap_folds` is on (`docs/timing.md`,
/// "Overlapped folds"). Measured by the tick model, given in closed form by [`footprint`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Footprint {
    /// Input lanes the fold feeds: `(lane, first entry cycle, end of its last entry)`.
    pub lanes: Vec<(usize, u64, u64)>,
    /// Columns with cells that compute: `(col, first cycle a cell of it computes, end of its
    /// last computing cycle or of its last E0/M0 entry, whichever is later)`.
    pub cols: Vec<(usize, u64, u64)>,
    /// Output stationary: `(col, d)`: after `d` cycles of the drain no result of the fold is
    /// left in column `col` (every column the drain shifts through).
    pub drained: Vec<(usize, u64)>,
    /// Cycles after the previous fold's streaming start before this fold may start streaming
    /// because it reads partial sums the previous fold writes (0 for the first fold of a
    /// reduction).
    pub after_prev: u64,
}

impl Footprint {
    /// End of the fold's last entry on any lane: its operand buffer is no longer read.
    pub fn feed_end(&self) -> u64 {
        self.lanes.iter().map(|l| l.2).max().unwrap_or(0)
    }
}

/// The closed form of a fold's [`Footprint`] on an `rows x cols` array (derivation in
/// `docs/timing.md`, "Overlapped folds"). With `p` the beat, `T` the stream length:
/// - forward: E0/M0 lane of column `s < C_u` and Y1 lane of row `d < R_u` (from the bottom)
///   carry entries in beats `[skew, skew + T)`; column `s` computes in beats
///   `[s, R_u - 1 + s + T)`; partial sums read back wait `C` beats;
/// - backward-data: E1/M1 lane of used row `s` (from the top, `s >= R - R_u`) and Y0 lane of
///   column `d < C_u`; column `d` computes in beats `[d + R - R_u, d + R - 1 + T)`; partial
///   sums wait `R` beats;
/// - backward-weight: E0/M0 of column `c < C_u`, E1/M1 of row `e < R_u`; column `c` computes
///   in beats `[c, c + R_u - 1 + T)`; column `c` is empty after `c + 1` drain cycles.
pub fn footprint(geo: &GemmGeometry, fold: &Fold, rows: usize, cols: usize) -> Footprint {
    let p = geo.beat_cycles();
    let (t, ru, cu) = (fold.stream_len as u64, fold.rows_used, fold.cols_used);
    let (r, c) = (rows, cols);
    let span = |skew: usize| (p * skew as u64, p * (skew as u64 + t));
    let mut fp = Footprint::default();
    let mut lane = |l: usize, skew: usize| {
        let (a, b) = span(skew);
        fp.lanes.push((l, a, b));
    };
    match geo.pass {
        Pass::Forward => {
            (0..cu).for_each(|s| lane(s, s));
            (0..ru).for_each(|d| lane(c + r + (r - 1 - d), d));
            fp.cols = (0..cu).map(|s| (s, p * s as u64, span(ru - 1 + s).1)).collect();
            fp.after_prev = if fold.first_of_reduction { 0 } else { p * c as u64 };
        }
        Pass::BackwardData => {
            (r - ru..r).for_each(|s| lane(c + s, s));
            (0..cu).for_each(|d| lane(c + 2 * r + d, d));
            fp.cols = (0..cu).map(|d| (d, p * (d + r - ru) as u64, span(d + r - 1).1)).collect();
            fp.after_prev = if fold.first_of_reduction { 0 } else { p * r as u64 };
        }
        Pass::BackwardWeight => {
            (0..cu).for_each(|s| lane(s, s));
            (0..ru).for_each(|e| lane(c + (r - 1 - e), e));
            fp.cols = (0..cu).map(|s| (s, p * s as u64, span(ru - 1 + s).1)).collect();
            fp.drained = (0..c).map(|s| (s, s as u64 + 1)).collect();
        }
    }
    fp.lanes.sort_unstable();
    fp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geo(pass: Pass, rows: usize, cols: usize, nq: usize) -> GemmGeometry {
        GemmGeometry { pass, out_rows: rows, out_cols: cols, reduction_groups: nq, x_chunks: 2, y_chunks: 2 }
    }

    #[test]
    fn folds_cover_every_output_and_group_once_in_reduction_order() {
        let g = geo(Pass::Forward, 70, 9, 5);
        let folds = plan_folds(&g, 32, 2);
        assert_eq!(folds.len(), 3 * 3);
        assert_eq!(
            folds.iter().filter(|f| f.row0 == 64).map(|f| (f.col0, f.cols_used)).collect::<Vec<_>>(),
            vec![(0, 2), (2, 2), (4, 1)]
        );
        assert!(folds[0].first_of_reduction && !folds[0].last_of_reduction && folds[2].last_of_reduction);
        let g = geo(Pass::BackwardData, 10, 3, 7);
        let folds = plan_folds(&g, 4, 4);
        let cells: usize = folds.iter().map(|f| f.rows_used * f.cols_used).sum();
        assert_eq!(cells, 10 * 7);
        let g = geo(Pass::BackwardWeight, 5, 6, 3);
        let folds = plan_folds(&g, 4, 4);
        assert_eq!(folds.len(), 4);
        assert!(folds.iter().all(|f| f.stream_len == 3 && f.first_of_reduction && f.last_of_reduction));
    }

    #[test]
    fn sanity_anchor_of_design_section_7() {
        // One weight-stationary fold: R_used c_s load + p (T + R + C - 2) streaming for a full array.
        let g = GemmGeometry {
            pass: Pass::Forward,
            out_rows: 32,
            out_cols: 512,
            reduction_groups: 32,
            x_chunks: 2,
            y_chunks: 2,
        };
        let f = plan_folds(&g, 32, 32)[0];
        assert_eq!(
            closed_form(&g, &f, 32, 32),
            PhaseCycles { load: 32 * 2, stream: 4 * (512 + 32 + 32 - 2), drain: 0 }
        );
    }
}
