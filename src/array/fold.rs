//! Folds: the tiles of a GEMM that fit the array at once, per dataflow, and the closed-form
//! cycle counts of each fold's phases (derived in `docs/timing.md` from the tick model).
//!
//! Array rows always index N and columns always index K (DESIGN §6):
//! - forward (weight stationary): rows = N lanes, columns = K groups, stream = B;
//! - backward-data (weight stationary): rows = N groups, columns = K lanes, stream = B;
//! - backward-weight (output stationary): rows = N lanes, columns = K lanes, stream = B groups.

use serde::{Deserialize, Serialize};

use crate::gemm::{GemmOperands, Pass};

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

/// The folds of a GEMM on an `rows x cols` array, in schedule order. Folds along the
/// reduction run in increasing order for each output tile, so partial sums re-enter in
/// group order (DESIGN §6).
pub fn plan_folds(geo: &GemmGeometry, rows: usize, cols: usize) -> Vec<Fold> {
    let tiles = |n: usize, t: usize| (0..n.div_ceil(t)).map(move |i| (i * t, t.min(n - i * t)));
    let mut folds = Vec::new();
    let mut push = |row0, rows_used, col0, cols_used, stream_len, first, last| {
        let index = folds.len();
        folds.push(Fold {
            index,
            row0,
            rows_used,
            col0,
            cols_used,
            stream_len,
            first_of_reduction: first,
            last_of_reduction: last,
        });
    };
    let nq = geo.reduction_groups;
    match geo.pass {
        Pass::Forward => {
            let last_q = nq.div_ceil(cols) - 1;
            for (r0, ru) in tiles(geo.out_rows, rows) {
                for (i, (c0, cu)) in tiles(nq, cols).enumerate() {
                    push(r0, ru, c0, cu, geo.out_cols, i == 0, i == last_q);
                }
            }
        }
        Pass::BackwardData => {
            let last_q = nq.div_ceil(rows) - 1;
            for (c0, cu) in tiles(geo.out_rows, cols) {
                for (i, (r0, ru)) in tiles(nq, rows).enumerate() {
                    push(r0, ru, c0, cu, geo.out_cols, i == 0, i == last_q);
                }
            }
        }
        Pass::BackwardWeight => {
            for (r0, ru) in tiles(geo.out_rows, rows) {
                for (c0, cu) in tiles(geo.out_cols, cols) {
                    push(r0, ru, c0, cu, nq, true, true);
                }
            }
        }
    }
    folds
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
