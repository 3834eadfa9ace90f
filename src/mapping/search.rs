//! The mapper: for one GEMM, every candidate tile size along each dimension and every loop
//! order, ranked by the closed-form model ([`super::estimate`]) under the arch's objective.
//!
//! Candidates (the pruning the exhaustive test documents): along the rows and columns, every
//! whole number of folds that gives a distinct tile count (`ceil(folds / n)` for `n = 1..`),
//! so no two candidates differ only in how a partial last tile is split; along the stream,
//! powers of two and three times powers of two up to the extent, the extent itself and its
//! even splits into up to 32 tiles, or for on-chip im2col the same in multiples of the output
//! row width `OW` (whole output rows, so the halo buffer holds whole input rows);
//! output-stationary passes stream their whole
//! reduction. Orders that differ only in loops that run once are tried once; each with both
//! operands on chip, either one streamed from DRAM fold by fold, or both. Ties go to
//! fewer DRAM bits, then fewer folds, then the first candidate in enumeration order, so the
//! choice is deterministic.

use serde::Serialize;

use super::dims::Dim;
use super::model::{estimate_with, FeatureMapSums, MappingContext, MappingEstimate};
use super::Mapping;
use crate::arch::Objective;

/// The mapper's choice for one GEMM.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SearchResult {
    /// The chosen mapping.
    pub mapping: Mapping,
    /// Its figures in the closed-form model.
    pub estimate: MappingEstimate,
    /// Mappings evaluated.
    pub evaluated: u64,
}

/// The six loop orders, outermost first.
pub const ORDERS: [[Dim; 3]; 6] = [
    [Dim::Row, Dim::Col, Dim::Stream],
    [Dim::Row, Dim::Stream, Dim::Col],
    [Dim::Col, Dim::Row, Dim::Stream],
    [Dim::Col, Dim::Stream, Dim::Row],
    [Dim::Stream, Dim::Row, Dim::Col],
    [Dim::Stream, Dim::Col, Dim::Row],
];

/// Which operands (X, Y) stream instead of staying on chip, in the order tried.
const STREAMED: [[bool; 2]; 4] = [[false, false], [false, true], [true, false], [true, true]];

/// Whole-fold tile sizes with distinct tile counts along a dimension of `extent` units on
/// `array` lanes.
fn fold_tiles(extent: usize, array: usize) -> Vec<usize> {
    let folds = extent.div_ceil(array.max(1)).max(1);
    let mut out: Vec<usize> = (1..=folds).map(|n| folds.div_ceil(n) * array).map(|t| t.min(extent.max(1))).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Even splits tried along the stream: 1 to this many tiles.
const EVEN_SPLITS: usize = 32;

/// Stream tile sizes: `unit * 2^i` and `unit * 3 * 2^i` below the extent, the extent, and the
/// even splits into 2 to [`EVEN_SPLITS`] tiles (rounded up to whole units).
fn stream_tiles(extent: usize, unit: usize) -> Vec<usize> {
    let unit = unit.max(1);
    let mut out = vec![extent.max(1)];
    for n in 2..=EVEN_SPLITS.min(extent) {
        let t = extent.div_ceil(n).div_ceil(unit) * unit;
        if t < extent {
            out.push(t);
        }
    }
    let mut p = 1usize;
    while unit.saturating_mul(p) < extent {
        out.push(unit * p);
        if unit.saturating_mul(3 * p) < extent {
            out.push(unit * 3 * p);
        }
        p = p.saturating_mul(2);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The score of `e` under `objective` (smaller is better).
pub fn score(objective: Objective, e: &MappingEstimate) -> f64 {
    match objective {
        Objective::Cycles => e.cycles as f64,
        Objective::Energy => e.energy_pj,
        Objective::Edp => e.energy_pj * e.cycles as f64,
    }
}

/// Whether `a` beats `b` (score, then DRAM bits, then folds).
fn better(objective: Objective, a: &MappingEstimate, b: &MappingEstimate) -> bool {
    let (sa, sb) = (score(objective, a), score(objective, b));
    if sa != sb {
        return sa < sb;
    }
    (a.dram_bits(), a.folds) < (b.dram_bits(), b.folds)
}

/// Every candidate mapping of the search, in enumeration order.
pub fn candidates(ctx: &MappingContext) -> Vec<Mapping> {
    let dims = &ctx.dims;
    let (rows, cols) = ctx.array;
    let tr = fold_tiles(dims.extent[0], rows);
    let tc = fold_tiles(dims.extent[1], cols);
    let ts = if !dims.weight_stationary() {
        vec![dims.extent[2]]
    } else {
        let unit = ctx.conv.map_or(1, |w| w.output_hw.1);
        stream_tiles(dims.extent[2], unit)
    };
    let mut out = Vec::with_capacity(tr.len() * tc.len() * ts.len() * 6);
    for &r in &tr {
        for &c in &tc {
            for &s in &ts {
                let mut seen: Vec<Vec<Dim>> = Vec::new();
                for order in ORDERS {
                    let m = Mapping { tile: [r, c, s], order, streamed: [false; 2] };
                    let n = m.counts(dims);
                    let live: Vec<Dim> = order.into_iter().filter(|d| n[d.index()] > 1).collect();
                    if !seen.contains(&live) {
                        seen.push(live);
                        for streamed in STREAMED {
                            out.push(Mapping { streamed, ..m });
                        }
                    }
                }
            }
        }
    }
    out
}

/// The best candidate under `objective`, among those with at most `max_folds` folds; `None`
/// when no candidate fits the buffers.
pub fn search(ctx: &MappingContext, objective: Objective, max_folds: u64) -> Option<SearchResult> {
    let mut best: Option<(Mapping, MappingEstimate)> = None;
    let mut evaluated = 0u64;
    let mut sums: Vec<((usize, usize), Option<FeatureMapSums>)> = Vec::new();
    for m in candidates(ctx) {
        if m.fold_count(&ctx.dims, ctx.array.0, ctx.array.1) > max_folds {
            continue;
        }
        evaluated += 1;
        let key = (m.tile[1], m.tile[2]);
        let fm = match sums.iter().find(|(k, _)| *k == key) {
            Some((_, f)) => *f,
            None => {
                let f = ctx.feature_map_sums(&m);
                sums.push((key, f));
                f
            }
        };
        let Some(e) = estimate_with(ctx, &m, fm.as_ref()) else { continue };
        if best.as_ref().is_none_or(|(_, b)| better(objective, &e, b)) {
            best = Some((m, e));
        }
    }
    best.map(|(mapping, estimate)| SearchResult { mapping, estimate, evaluated })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_sizes() {
        assert_eq!(fold_tiles(100, 32), vec![32, 64, 100]);
        assert_eq!(fold_tiles(5, 32), vec![5]);
        assert_eq!(stream_tiles(20, 1), vec![1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20]);
        assert_eq!(stream_tiles(64, 8), vec![8, 16, 24, 32, 48, 64]);
    }
}
