//! Operand residency under a mapping (`crate::mapping`): each input operand holds one DRAM
//! tile at a time; a fold brings in only the part of its tile not yet on chip (so a tile's
//! traffic is paid once per visit, spread over its first folds, and the next fold's part
//! arrives while the current fold runs); moving to another tile of that operand drops the
//! old one. The kept tiles of X and Y together never exceed the room the mapper's capacity
//! rule gives them ([`TiledResidency::kept_capacity_bits`]; `MemorySystem` checks it on every
//! fold and drops a tile that would not fit, so its folds re-read it). With on-chip im2col the feature-map operand is counted in (channel, input row)
//! strips of its DRAM layout instead of groups of the lowered matrix. Partial sums leave for
//! DRAM at the end of a reduction tile and return at the start of the next when the mapping
//! spills them.

use crate::array::Fold;
use crate::mapping::{Dim, FeatureMapTracker, Mapping, PassDims, Role};

/// The residency state of one GEMM under a mapping.
pub struct TiledResidency {
    /// The mapping.
    pub mapping: Mapping,
    /// The pass's geometry.
    pub dims: PassDims,
    /// Feature-map tracker for on-chip im2col (the operand [`PassDims::feature_map_role`]).
    pub feature_map: Option<FeatureMapTracker>,
    /// Group size of the feature-map operand (K or B units are groups of it where grouped).
    pub group: usize,
    /// Room for the kept tiles of X and Y together, (exponent, mantissa) bits
    /// (`mapping::MappingContext::kept_capacity_bits`).
    pub kept_capacity_bits: (u64, u64),
    current: [Option<(usize, usize)>; 2],
    held: [Vec<(usize, usize)>; 2],
    /// Backward-data with on-chip im2col: the output tile on chip (its strips accumulate
    /// there) and the strips already written to DRAM by earlier output tiles.
    out_tile: Option<((usize, usize), FeatureMapTracker)>,
    out_written: Option<FeatureMapTracker>,
}

/// The start of `f` along `d`, in units.
pub fn start(f: &Fold, d: Dim) -> usize {
    match d {
        Dim::Row => f.row0,
        Dim::Col => f.col0,
        Dim::Stream => f.stream0,
    }
}

/// The length of `f` along `d`, in units.
pub fn len(f: &Fold, d: Dim) -> usize {
    match d {
        Dim::Row => f.rows_used,
        Dim::Col => f.cols_used,
        Dim::Stream => f.stream_len,
    }
}

/// What a fold brings in for one operand: units of the lowered operand (groups), or strips of
/// the feature map.
pub enum Bring {
    /// Nothing new.
    Nothing,
    /// Groups (input operands) of the lowered matrix.
    Groups(u64),
    /// Feature-map elements (on-chip im2col).
    Elements(u64),
}

impl TiledResidency {
    /// Residency for `mapping` of `dims`; `feature_map` when convolutions build their stream
    /// operand on chip (grouped in `group` along K or B where the pass groups them); at most
    /// `kept_capacity_bits` (exponent, mantissa) kept.
    pub fn new(
        mapping: Mapping,
        dims: PassDims,
        feature_map: Option<FeatureMapTracker>,
        group: usize,
        kept_capacity_bits: (u64, u64),
    ) -> Self {
        let out = (dims.feature_map_role() == Role::Out).then_some(feature_map.clone()).flatten();
        Self {
            mapping,
            dims,
            feature_map,
            group,
            kept_capacity_bits,
            current: [None, None],
            held: [Vec::new(), Vec::new()],
            out_tile: out.clone().map(|t| ((usize::MAX, usize::MAX), t)),
            out_written: out,
        }
    }

    /// The ranges of the lowered feature map `A [K x B]` that `f` covers.
    fn lowered_ranges(&self, f: &Fold, role: Role) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let g = self.group.max(1);
        let k_unit = if role == Role::Y && self.dims.reduction == Dim::Col { g } else { 1 };
        let b_unit = if self.dims.reduction == Dim::Stream { g } else { 1 };
        let w = self.feature_map.as_ref().map(|t| *t.window());
        let (k, b) = w.map_or((usize::MAX, usize::MAX), |w| (w.k(), w.b()));
        let (k0, kl) = (start(f, Dim::Col), len(f, Dim::Col));
        let (b0, bl) = (start(f, Dim::Stream), len(f, Dim::Stream));
        ((k0 * k_unit).min(k)..((k0 + kl) * k_unit).min(k), (b0 * b_unit).min(b)..((b0 + bl) * b_unit).min(b))
    }

    /// The tile of input `role` on chip now, as (index along its first dimension, along its
    /// second), or `None` when nothing of it is kept.
    pub fn current_tile(&self, role: Role) -> Option<(usize, usize)> {
        self.current[if role == Role::X { 0 } else { 1 }]
    }

    /// Drops input `role`'s tile (it would not fit): its next fold brings its whole part again.
    pub fn forget(&mut self, role: Role) {
        let i = if role == Role::X { 0 } else { 1 };
        self.current[i] = None;
        self.held[i].clear();
        if role == self.dims.feature_map_role() {
            if let Some(t) = self.feature_map.as_mut() {
                t.clear();
            }
        }
    }

    /// What input `role` (X or Y) of fold `f` brings on chip.
    pub fn bring(&mut self, f: &Fold, role: Role) -> Bring {
        let i = if role == Role::X { 0 } else { 1 };
        let [a, b] = self.dims.dims(role);
        let (ta, tb) = (self.mapping.tile[a.index()].max(1), self.mapping.tile[b.index()].max(1));
        let tile = (start(f, a) / ta, start(f, b) / tb);
        let feature = role == self.dims.feature_map_role() && self.feature_map.is_some();
        // A streamed operand keeps nothing: every fold brings all of its part.
        let tile = if self.mapping.is_streamed(role) { (f.index, usize::MAX) } else { tile };
        if self.current[i] != Some(tile) {
            self.current[i] = Some(tile);
            self.held[i].clear();
            if feature {
                if let Some(t) = self.feature_map.as_mut() {
                    t.clear();
                }
            }
        }
        if feature {
            let (k, bb) = self.lowered_ranges(f, role);
            let w = self.feature_map.as_ref().map_or(0, |t| t.window().input_hw.1) as u64;
            let new = self.feature_map.as_mut().map_or(0, |t| t.bring(k, bb).0);
            return if new == 0 { Bring::Nothing } else { Bring::Elements(new * w) };
        }
        let key = (start(f, a), start(f, b));
        if self.held[i].contains(&key) {
            return Bring::Nothing;
        }
        self.held[i].push(key);
        Bring::Groups(len(f, a) as u64 * len(f, b) as u64)
    }

    /// Feature-map elements of the output of `f` written to DRAM for the first time, and those
    /// written again (halo rows an earlier output tile already wrote: read back, added, written):
    /// `None` when the output is not a feature map. Within one output tile the halo rows of
    /// its folds accumulate on chip.
    pub fn output_elements(&mut self, f: &Fold) -> Option<(u64, u64)> {
        if self.dims.feature_map_role() != Role::Out {
            return None;
        }
        let (k, b) = self.lowered_ranges(f, Role::Out);
        let [a, bd] = self.dims.dims(Role::Out);
        let (ta, tb) = (self.mapping.tile[a.index()].max(1), self.mapping.tile[bd.index()].max(1));
        let id = (start(f, a) / ta, start(f, bd) / tb);
        let (tile_id, tile) = self.out_tile.as_mut()?;
        if *tile_id != id {
            *tile_id = id;
            tile.clear();
        }
        let w = tile.window().input_hw.1 as u64;
        let (in_tile_new, _) = tile.bring(k.clone(), b.clone());
        let (first_time, _) = self.out_written.as_mut()?.bring(k, b);
        Some((first_time * w, (in_tile_new - first_time) * w))
    }

    /// Whether `f` starts a reduction tile whose partial sums return from DRAM, and whether it
    /// ends one whose partial sums leave for DRAM.
    pub fn spill_edges(&self, f: &Fold) -> (bool, bool) {
        if !self.mapping.spills(&self.dims) {
            return (false, false);
        }
        let red = self.dims.reduction;
        let t = self.mapping.tile[red.index()].max(1);
        let (s, e) = (start(f, red), start(f, red) + len(f, red));
        let tile_end = ((s / t + 1) * t).min(self.dims.len(red));
        (s % t == 0 && !f.first_of_reduction, e == tile_end && !f.last_of_reduction)
    }
}
