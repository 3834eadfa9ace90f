//! The closed-form model the mapper ranks mappings with: DRAM traffic (operand tiles fetched
//! once per reuse window, partial sums spilled when the reduction loop is not inside the
//! output's loops, on-chip im2col's feature-map rows), SRAM traffic, cycles (the folds' closed
//! forms of DESIGN §7 against the DRAM channel) and memory energy. The fold-level simulation
//! (`memory::MemorySystem` with the chosen mapping) is what reports; this model only ranks.

use serde::Serialize;

use super::dims::{Dim, PassDims, Role};
use super::im2col::ConvWindow;
use super::Mapping;

/// Bits one unit pair (a group, or an element for element-wise cells) of an input operand
/// occupies, exponent and mantissa apart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OperandBits {
    /// Shared-exponent bits per group.
    pub exp: u64,
    /// Mantissa (chunk plane) bits per group.
    pub mant: u64,
    /// Elements per group (g; 1 for element-wise cells).
    pub group: u64,
}

impl OperandBits {
    /// Bits per group, both fields.
    pub fn total(&self) -> u64 {
        self.exp + self.mant
    }
}

/// What the model needs to know about one GEMM on one arch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MappingContext {
    /// The pass's geometry.
    pub dims: PassDims,
    /// Array rows and columns.
    pub array: (usize, usize),
    /// Cycles per beat `p = c_x c_y`.
    pub beat_cycles: u64,
    /// X and Y storage.
    pub x: OperandBits,
    /// Y storage.
    pub y: OperandBits,
    /// Bits per result written to DRAM.
    pub out_bits: u64,
    /// Exponent and mantissa SRAM capacities in bits.
    pub sram_bits: (u64, u64),
    /// Operand buffers are double-buffered (a tile may use half of each bank).
    pub double_buffering: bool,
    /// Output (partial-sum) buffer capacity in bits.
    pub output_buffer_bits: u64,
    /// DRAM bytes per cycle and latency in cycles.
    pub dram: (u64, u64),
    /// Energy per DRAM bit and per SRAM bit (read or write), pJ.
    pub pj_per_bit: (f64, f64),
    /// Folds overlap (`array.overlap_folds`): the fill and drain of a fold hide under the
    /// next one.
    pub overlap_folds: bool,
    /// On-chip im2col: the convolution whose lowered matrix is the feature-map operand.
    pub conv: Option<ConvWindow>,
}

/// A mapping's figures in the closed-form model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct MappingEstimate {
    /// DRAM bits read (operands and returning partial sums).
    pub dram_read_bits: u64,
    /// DRAM bits written (results and spilled partial sums).
    pub dram_write_bits: u64,
    /// Array cycles of the folds (fill, stream, drain).
    pub compute_cycles: u64,
    /// Estimated cycles: the slower of the array and the DRAM channel, plus the first fetch.
    pub cycles: u64,
    /// Memory energy: DRAM and SRAM bits, pJ.
    pub energy_pj: f64,
    /// Folds.
    pub folds: u64,
}

impl MappingEstimate {
    /// DRAM bits both ways.
    pub fn dram_bits(&self) -> u64 {
        self.dram_read_bits + self.dram_write_bits
    }
}

/// Element ranges `[lo, hi)` of the tiles along `d`.
fn tile_ranges(m: &Mapping, dims: &PassDims, d: Dim) -> impl Iterator<Item = (usize, usize)> {
    let (t, e) = (m.tile[d.index()].max(1), dims.len(d));
    (0..e.div_ceil(t)).map(move |i| (i * t, ((i + 1) * t).min(e)))
}

/// Feature-map sums of a mapping (on-chip im2col), shared by every mapping with the same
/// column and stream tiles: channels over column tiles `(sum, max)`, channels over column
/// folds (sum), input rows over stream tiles `(sum, max)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeatureMapSums {
    channels: (u64, u64),
    channels_by_fold: u64,
    rows: (u64, u64),
}

impl MappingContext {
    /// The feature-map sums of `m` (`None` without on-chip im2col).
    pub fn feature_map_sums(&self, m: &Mapping) -> Option<FeatureMapSums> {
        let w = self.conv?;
        let (channels, rows) = self.feature_map_strips(m, &w);
        let ((channels_by_fold, _), _) = self.feature_map_strips_by(m, &w, self.array.1);
        Some(FeatureMapSums { channels, channels_by_fold, rows })
    }

    fn bits(&self, role: Role) -> OperandBits {
        if role == Role::X {
            self.x
        } else {
            self.y
        }
    }

    /// Channels over the column tiles and input rows over the stream tiles of the
    /// feature-map operand (on-chip im2col) for `m`: `(sum, max)` of each.
    fn feature_map_strips(&self, m: &Mapping, w: &ConvWindow) -> ((u64, u64), (u64, u64)) {
        self.feature_map_strips_by(m, w, m.tile[1])
    }

    /// [`Self::feature_map_strips`] with the column tiles cut into pieces of `step` columns
    /// (the folds of a streamed operand).
    fn feature_map_strips_by(&self, m: &Mapping, w: &ConvWindow, step: usize) -> ((u64, u64), (u64, u64)) {
        let role = self.dims.feature_map_role();
        // Units along the columns are K groups for a grouped input (forward Y), K lanes
        // otherwise; along the stream, B elements (weight stationary) or B groups.
        let k_per_unit = if role == Role::Y && self.dims.reduction == Dim::Col { self.y.group as usize } else { 1 };
        let b_per_unit = if self.dims.reduction == Dim::Stream { self.y.group as usize } else { 1 };
        let (k, b) = (w.k(), w.b());
        let sum_max = |it: &mut dyn Iterator<Item = u64>| it.fold((0, 0), |(s, x), v| (s + v, x.max(v)));
        let step = step.max(1);
        let ch = sum_max(
            &mut tile_ranges(m, &self.dims, Dim::Col)
                .flat_map(|(lo, hi)| (lo..hi).step_by(step).map(move |a| (a, (a + step).min(hi))))
                .map(|(lo, hi)| w.channel_range((lo * k_per_unit).min(k)..(hi * k_per_unit).min(k)).len() as u64),
        );
        let rows = sum_max(
            &mut tile_ranges(m, &self.dims, Dim::Stream)
                .map(|(lo, hi)| w.input_row_count((lo * b_per_unit).min(b)..(hi * b_per_unit).min(b))),
        );
        (ch, rows)
    }

    /// Largest tile of an input operand, (exponent, mantissa) bits.
    fn tile_bits(&self, m: &Mapping, role: Role, fm: Option<&FeatureMapSums>) -> (u64, u64) {
        if m.is_streamed(role) {
            return (0, 0);
        }
        let [a, b] = self.dims.dims(role);
        let units = m.tile[a.index()].min(self.dims.len(a)) as u64 * m.tile[b.index()].min(self.dims.len(b)) as u64;
        let s = self.bits(role);
        if let (Some(w), Some(fm), true) = (self.conv, fm, role == self.dims.feature_map_role()) {
            // The halo tile: the most channels of a column tile x the most input rows of a
            // stream tile, whole rows.
            let ((_, ch), (_, rows)) = (fm.channels, fm.rows);
            let groups = (ch * rows * w.input_hw.1 as u64).div_ceil(s.group);
            return (groups * s.exp, groups * s.mant);
        }
        (units * s.exp, units * s.mant)
    }
}

impl MappingContext {
    /// The operand buffers' room for the tiles a mapping keeps on chip, (exponent, mantissa)
    /// bits: each SRAM bank, or half of it with double buffering (the other half takes the
    /// next tile). X's and Y's kept tiles share it. The one capacity rule of the mapper and of
    /// the residency model (`memory::TiledResidency`).
    pub fn kept_capacity_bits(&self) -> (u64, u64) {
        let share = if self.double_buffering { 2 } else { 1 };
        (self.sram_bits.0 / share, self.sram_bits.1 / share)
    }

    /// Bits of the largest tiles of X and Y that `m` keeps on chip, together, (exponent,
    /// mantissa); a streamed operand keeps nothing.
    pub fn kept_bits(&self, m: &Mapping, fm: Option<&FeatureMapSums>) -> (u64, u64) {
        let (xe, xm) = self.tile_bits(m, Role::X, fm);
        let (ye, ym) = self.tile_bits(m, Role::Y, fm);
        (xe + ye, xm + ym)
    }

    /// Whether the tiles `m` keeps fit [`Self::kept_capacity_bits`] in both banks.
    pub fn operands_fit(&self, m: &Mapping, fm: Option<&FeatureMapSums>) -> bool {
        let ((e, mant), (ce, cm)) = (self.kept_bits(m, fm), self.kept_capacity_bits());
        e <= ce && mant <= cm
    }

    /// Whether the output tile's binary32 partial sums fit the output buffer (always, for
    /// output-stationary passes, whose partial sums stay in the cells).
    pub fn output_fits(&self, m: &Mapping) -> bool {
        let dims = &self.dims;
        let [oa, ob] = dims.dims(Role::Out);
        let out_tile = m.tile[oa.index()].min(dims.len(oa)) as u64 * m.tile[ob.index()].min(dims.len(ob)) as u64;
        !dims.weight_stationary() || out_tile * 32 <= self.output_buffer_bits
    }
}

/// The figures of mapping `m` in the closed-form model, or `None` when its tiles do not fit
/// the buffers (operand tiles in half of each bank with double buffering, the output tile's
/// binary32 partial sums in the output buffer for weight-stationary passes).
pub fn estimate(ctx: &MappingContext, m: &Mapping) -> Option<MappingEstimate> {
    estimate_with(ctx, m, ctx.feature_map_sums(m).as_ref())
}

/// [`estimate`] with the feature-map sums of `m` already computed
/// ([`MappingContext::feature_map_sums`]).
pub fn estimate_with(ctx: &MappingContext, m: &Mapping, fm: Option<&FeatureMapSums>) -> Option<MappingEstimate> {
    (ctx.operands_fit(m, fm) && ctx.output_fits(m)).then(|| figures(ctx, m, fm))
}

/// The closed-form figures of `m` whether or not its tiles fit (what the model would say if
/// the buffers held them).
pub(crate) fn figures(ctx: &MappingContext, m: &Mapping, fm: Option<&FeatureMapSums>) -> MappingEstimate {
    let dims = &ctx.dims;
    let (rows, cols) = ctx.array;
    // Folds along each dimension.
    let folds_along = |d: usize, a: usize| -> u64 {
        tile_ranges(m, dims, Dim::ALL[d]).map(|(lo, hi)| (hi - lo).div_ceil(a) as u64).sum()
    };
    let (nrf, ncf, ns) = (folds_along(0, rows), folds_along(1, cols), m.counts(dims)[2] as u64);
    let fold_count = [nrf, ncf, ns];
    // DRAM reads: every operand tile once per reuse window, or every fold's part once per
    // fold for a streamed operand.
    let mut reads = 0u64;
    for role in [Role::X, Role::Y] {
        let s = ctx.bits(role);
        let streamed = m.is_streamed(role);
        let once = match (ctx.conv, fm, role == dims.feature_map_role()) {
            (Some(w), Some(fm), true) => {
                let ch = if streamed { fm.channels_by_fold } else { fm.channels.0 };
                (ch * fm.rows.0 * w.input_hw.1 as u64).div_ceil(s.group) * s.total()
            }
            _ => dims.units(role) * s.total(),
        };
        reads += once * if streamed { fold_count[dims.reuse_dim(role).index()] } else { m.refetch(dims, role) };
    }
    // Results once; partial sums out and back for every reduction tile but the last.
    let out_elems = match (ctx.conv, fm, dims.feature_map_role() == Role::Out) {
        (Some(w), Some(fm), true) => fm.channels.0 * fm.rows.0 * w.input_hw.1 as u64,
        _ => dims.units(Role::Out),
    };
    let mut writes = out_elems * ctx.out_bits;
    let spills = m.refetch(dims, Role::Out).saturating_sub(1);
    writes += spills * dims.units(Role::Out) * 32;
    reads += spills * dims.units(Role::Out) * 32;

    // Array cycles: every fold streams its tile's stream range; fill and drain per fold.
    let [er, ec, es] = dims.extent.map(|e| e as u64);
    let (r, c) = (rows as u64, cols as u64);
    let folds = nrf * ncf * ns;
    let fill_drain = match dims.pass {
        crate::gemm::Pass::Forward => ns * (er * ncf + nrf * ncf * (c.saturating_sub(2))),
        crate::gemm::Pass::BackwardData => ns * (ec * nrf + nrf * ncf * (r.saturating_sub(2))),
        crate::gemm::Pass::BackwardWeight => ns * (er * ncf + ec * nrf).saturating_sub(2 * folds),
    };
    let fill_drain = if ctx.overlap_folds { fill_drain / folds.max(1) } else { fill_drain };
    let stream = es * nrf * ncf;
    let compute = ctx.beat_cycles * (stream + fill_drain);
    let bytes = ctx.dram.0.max(1);
    let dram_cycles = (reads + writes).div_ceil(8 * bytes);
    // The first fold waits for its own parts of X and Y (later parts arrive while folds run).
    let fold_len = |d: Dim| match d {
        Dim::Row => rows.min(dims.len(d)),
        Dim::Col => cols.min(dims.len(d)),
        Dim::Stream => m.tile[2].min(dims.len(d)),
    } as u64;
    let first_bits: u64 = [Role::X, Role::Y]
        .into_iter()
        .map(|role| {
            let [a, b] = dims.dims(role);
            fold_len(a) * fold_len(b) * ctx.bits(role).total()
        })
        .sum();
    let first = first_bits.div_ceil(8 * bytes) + ctx.dram.1;
    // SRAM: fills equal DRAM reads; the array re-reads each operand once per fold along its
    // reuse dimension.
    let sram_reads: u64 = [Role::X, Role::Y]
        .into_iter()
        .map(|role| dims.units(role) * ctx.bits(role).total() * fold_count[dims.reuse_dim(role).index()])
        .sum();
    let energy = (reads + writes) as f64 * ctx.pj_per_bit.0 + (reads + sram_reads) as f64 * ctx.pj_per_bit.1;
    MappingEstimate {
        dram_read_bits: reads,
        dram_write_bits: writes,
        compute_cycles: compute,
        cycles: compute.max(dram_cycles) + first,
        energy_pj: energy,
        folds,
    }
}
