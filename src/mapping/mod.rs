//! Mappings of one GEMM onto the array and its memories (`docs/mapping.md`): a loop nest over
//! the pass's three dimensions ([`PassDims`]) at the DRAM -> SRAM level, tile sizes and a loop
//! order, with the array's folds inside each tile; the analytic traffic and cycle model the
//! mapper ranks mappings with; the mapper; and on-chip im2col's feature-map footprints.
//!
//! | file | owns |
//! |---|---|
//! | `dims.rs` | [`PassDims`]: the per-pass geometry of DESIGN §6 (rows, columns, stream, reduction, operand dims and shapes, tensor classes, stationary and transposed operand, fold units); everything outside the array's timing formulas and numerics kernels asks it rather than matching on the pass |
//! | `model.rs` | [`estimate`]: DRAM/SRAM traffic, cycles and energy of a mapping, in closed form |
//! | `search.rs` | [`search`]: the mapper (candidate tiles and orders, objective, tie-breaks) |
//! | `capacity.rs` | [`hold_to_capacity`]: a forced mapping whose kept tiles do not fit the buffers streams an operand instead |
//! | `im2col.rs` | [`ConvWindow`]: which input rows and channels a tile of the lowered matrix needs |
//!
//! The numerics never depend on the mapping: every output's reduction still runs in
//! increasing group order (DESIGN §6), only the order of independent outputs changes.

mod capacity;
mod dims;
mod im2col;
mod model;
mod search;

use serde::Serialize;

pub use capacity::{hold_to_capacity, operand_name, CapacityHold};
pub use dims::{Dim, PassDims, Role};
pub use im2col::{ConvWindow, FeatureMapTracker};
pub use model::{estimate, estimate_with, FeatureMapSums, MappingContext, MappingEstimate, OperandBits};
pub use search::{candidates, score, search, SearchResult, ORDERS};

use crate::array::Fold;

/// One GEMM's loop nest at the DRAM -> SRAM level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Mapping {
    /// Tile extents `[rows, cols, stream]` in units: rows a multiple of the array's rows (or
    /// the whole extent), columns a multiple of its columns (or the whole extent), stream any
    /// length (the whole extent for output-stationary passes, whose reduction is the stream).
    pub tile: [usize; 3],
    /// The tile loops, outermost first.
    pub order: [Dim; 3],
    /// Operands (X, Y) that are not kept on chip: every fold streams its part from DRAM while
    /// it runs (for output-stationary passes, whose operands cannot be tiled along the
    /// stream, this is how a tile too large for the buffers is consumed).
    #[serde(default)]
    pub streamed: [bool; 2],
}

impl Mapping {
    /// The fold-by-fold schedule as a mapping: tiles of one fold, the whole stream, and the
    /// reduction innermost (what `array::plan_folds` produces).
    pub fn canonical(dims: &PassDims, rows: usize, cols: usize) -> Self {
        let order = match dims.reduction {
            Dim::Row => [Dim::Col, Dim::Row, Dim::Stream],
            _ => [Dim::Row, Dim::Col, Dim::Stream],
        };
        Self { tile: [rows.min(dims.extent[0]), cols.min(dims.extent[1]), dims.extent[2]], order, streamed: [false; 2] }
    }

    /// Tiles along each dimension, `[rows, cols, stream]`.
    pub fn counts(&self, dims: &PassDims) -> [usize; 3] {
        let mut n = [1; 3];
        for d in Dim::ALL {
            n[d.index()] = dims.len(d).div_ceil(self.tile[d.index()].max(1)).max(1);
        }
        n
    }

    /// The loops that iterate more than once, outermost first.
    fn live_loops(&self, dims: &PassDims) -> Vec<Dim> {
        let n = self.counts(dims);
        self.order.into_iter().filter(|d| n[d.index()] > 1).collect()
    }

    /// How many times each of `role`'s tiles is brought on chip: the count of its reuse
    /// dimension when that loop runs outside one of the operand's own loops, else 1.
    pub fn refetch(&self, dims: &PassDims, role: Role) -> u64 {
        let live = self.live_loops(dims);
        let own = dims.dims(role);
        let u = dims.reuse_dim(role);
        let (Some(pu), Some(inner_own)) =
            (live.iter().position(|&d| d == u), live.iter().rposition(|d| own.contains(d)))
        else {
            return 1;
        };
        if pu < inner_own {
            self.counts(dims)[u.index()] as u64
        } else {
            1
        }
    }

    /// Whether partial sums leave the chip between reduction tiles (the reduction loop runs
    /// outside one of the output's own loops).
    pub fn spills(&self, dims: &PassDims) -> bool {
        self.refetch(dims, Role::Out) > 1
    }

    /// Whether `role` streams from DRAM fold by fold instead of staying on chip.
    pub fn is_streamed(&self, role: Role) -> bool {
        match role {
            Role::X => self.streamed[0],
            Role::Y => self.streamed[1],
            Role::Out => false,
        }
    }

    /// A short label: tile sizes, order and streamed operands, e.g.
    /// `32x64x1024 stream>row>col` or `32x32x2048 col>row>stream y:streamed`.
    pub fn label(&self) -> String {
        let o: Vec<&str> = self.order.iter().map(|d| d.name()).collect();
        let mut l = format!("{}x{}x{} {}", self.tile[0], self.tile[1], self.tile[2], o.join(">"));
        for (i, n) in ["x", "y"].iter().enumerate() {
            if self.streamed[i] {
                l.push_str(&format!(" {n}:streamed"));
            }
        }
        l
    }

    /// The folds of this mapping on an `rows x cols` array, in schedule order: tile loops in
    /// [`Mapping::order`], then inside a tile the folds with the reduction innermost, each
    /// streaming the tile's stream range.
    pub fn plan_folds(&self, dims: &PassDims, rows: usize, cols: usize) -> Vec<Fold> {
        let n = self.counts(dims);
        let ext = dims.extent;
        let mut folds = Vec::new();
        let range = |d: usize, i: usize| (i * self.tile[d], ((i + 1) * self.tile[d]).min(ext[d]));
        let [o0, o1, o2] = self.order.map(Dim::index);
        for i0 in 0..n[o0] {
            for i1 in 0..n[o1] {
                for i2 in 0..n[o2] {
                    let mut idx = [0; 3];
                    idx[o0] = i0;
                    idx[o1] = i1;
                    idx[o2] = i2;
                    let (r_lo, r_hi) = range(0, idx[0]);
                    let (c_lo, c_hi) = range(1, idx[1]);
                    let (s_lo, s_hi) = range(2, idx[2]);
                    let mut push = |r0: usize, c0: usize| {
                        let (ru, cu) = (rows.min(r_hi - r0), cols.min(c_hi - c0));
                        let (first, last) = match dims.reduction {
                            Dim::Col => (c0 == 0, c0 + cu == ext[1]),
                            Dim::Row => (r0 == 0, r0 + ru == ext[0]),
                            Dim::Stream => (true, true),
                        };
                        folds.push(Fold {
                            index: folds.len(),
                            row0: r0,
                            rows_used: ru,
                            col0: c0,
                            cols_used: cu,
                            stream0: s_lo,
                            stream_len: s_hi - s_lo,
                            first_of_reduction: first,
                            last_of_reduction: last,
                        });
                    };
                    if dims.reduction == Dim::Row {
                        for c0 in (c_lo..c_hi).step_by(cols) {
                            for r0 in (r_lo..r_hi).step_by(rows) {
                                push(r0, c0);
                            }
                        }
                    } else {
                        for r0 in (r_lo..r_hi).step_by(rows) {
                            for c0 in (c_lo..c_hi).step_by(cols) {
                                push(r0, c0);
                            }
                        }
                    }
                }
            }
        }
        folds
    }

    /// Folds this mapping has on an `rows x cols` array, without planning them.
    pub fn fold_count(&self, dims: &PassDims, rows: usize, cols: usize) -> u64 {
        let n = self.counts(dims);
        let per = |d: usize, a: usize| -> u64 {
            let t = self.tile[d].max(1);
            let (full, rest) = (dims.extent[d] / t, dims.extent[d] % t);
            full as u64 * t.div_ceil(a.max(1)) as u64 + rest.div_ceil(a.max(1)) as u64
        };
        per(0, rows) * per(1, cols) * n[2] as u64
    }

    /// `self` with tile sizes made legal for `dims` on an `rows x cols` array: each clamped to
    /// its extent, rows and columns rounded up to whole folds, the stream whole for
    /// output-stationary passes.
    pub fn legalised(mut self, dims: &PassDims, rows: usize, cols: usize) -> Self {
        let round = |t: usize, a: usize, e: usize| t.max(1).div_ceil(a).saturating_mul(a).min(e.max(1));
        self.tile[0] = round(self.tile[0], rows, dims.extent[0]);
        self.tile[1] = round(self.tile[1], cols, dims.extent[1]);
        self.tile[2] =
            if dims.weight_stationary() { self.tile[2].clamp(1, dims.extent[2].max(1)) } else { dims.extent[2] };
        self
    }
}

/// A mapping forced by the user for every GEMM of a run (`--mapping`): tile sizes, each
/// clamped and rounded per GEMM by [`Mapping::legalised`], and a loop order; a GEMM whose
/// kept tiles would not fit the operand buffers streams an operand instead
/// ([`hold_to_capacity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ForcedMapping(pub Mapping);

impl std::str::FromStr for ForcedMapping {
    type Err = String;

    /// `ROWSxCOLSxSTREAM:D>D>D`, e.g. `64x32x2048:stream>row>col` (`D` is `row`, `col` or
    /// `stream`, outermost first; a size of 0 means the whole extent).
    fn from_str(s: &str) -> Result<Self, String> {
        let usage = "expected ROWSxCOLSxSTREAM:ORDER, e.g. 64x32x2048:stream>row>col (0 = whole extent; ORDER lists row, col and stream once each, outermost first)";
        let (sizes, order) = s.split_once(':').ok_or_else(|| usage.to_string())?;
        let t: Vec<usize> = sizes
            .split('x')
            .map(|v| v.trim().parse::<usize>())
            .collect::<Result<_, _>>()
            .map_err(|_| usage.to_string())?;
        let o: Vec<Dim> = order
            .split('>')
            .map(|d| match d.trim() {
                "row" => Ok(Dim::Row),
                "col" => Ok(Dim::Col),
                "stream" => Ok(Dim::Stream),
                _ => Err(usage.to_string()),
            })
            .collect::<Result<_, _>>()?;
        if t.len() != 3 || o.len() != 3 || Dim::ALL.iter().any(|d| !o.contains(d)) {
            return Err(usage.to_string());
        }
        let whole = |v: usize| if v == 0 { usize::MAX } else { v };
        Ok(ForcedMapping(Mapping {
            tile: [whole(t[0]), whole(t[1]), whole(t[2])],
            order: [o[0], o[1], o[2]],
            streamed: [false; 2],
        }))
    }
}

#[cfg(test)]
mod tests;
