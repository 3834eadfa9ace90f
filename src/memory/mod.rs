//! The memory system around the array: a DRAM channel with bandwidth and latency (DMA), the
//! exponent and mantissa SRAM banks (capacity, port width), single or double buffering of
//! fold operands, the BFP converters' throughput and latency, and explicit transposes for
//! arrays without the dual-direction cell. It gates each fold until its operands are on chip
//! and stretches streaming that the SRAM ports or converters cannot keep up with, each with
//! its reason, and counts traffic in bits, exponent and mantissa apart, per chunk plane read.
//!
//! It knows sizes in bits, never values.

mod dma;
mod tiled;

pub use dma::DmaChannel;
pub use tiled::{Bring, TiledResidency};

use serde::Serialize;

use crate::array::{Fold, FoldGate, FoldRecord, GemmGeometry, PhaseCycles};
use crate::mapping::{PassDims, Role};
use crate::sim::Cycle;
use crate::sim::StallReason;

/// Memory and converter parameters, in cycles and bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemParams {
    /// DRAM bandwidth, bytes per cycle.
    pub dram_bytes_per_cycle: u64,
    /// DRAM latency per transfer, cycles.
    pub dram_latency_cycles: u64,
    /// Exponent SRAM capacity, bits.
    pub exp_sram_capacity_bits: u64,
    /// Exponent SRAM port, bits per cycle.
    pub exp_sram_bits_per_cycle: u64,
    /// Mantissa SRAM capacity, bits.
    pub mant_sram_capacity_bits: u64,
    /// Mantissa SRAM port, bits per cycle.
    pub mant_sram_bits_per_cycle: u64,
    /// Two operand buffers: the next fold's operands arrive while the current fold runs.
    pub double_buffering: bool,
    /// The arch has BFP converters (element-wise cells do not).
    pub has_converters: bool,
    /// Converter throughput, groups per cycle (all converters together).
    pub converter_groups_per_cycle: u64,
    /// Converter pipeline latency, cycles.
    pub converter_latency_cycles: u64,
    /// Converters sit between memory and array (operands stored as binary32); otherwise at
    /// the array outputs (operands stored in BFP, results converted on their way out).
    pub converters_at_input: bool,
    /// The array has no dual-direction cell: the backward passes transpose an operand through
    /// DRAM first.
    pub explicit_transpose: bool,
}

/// How one operand is stored and consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OperandStorage {
    /// Group size `g`.
    pub group: u64,
    /// Exponent field bits `e`.
    pub exp_bits: u64,
    /// Chunk planes stored per group.
    pub stored_chunks: u64,
    /// Chunk planes the array reads per group (`<= stored_chunks`).
    pub consumed_chunks: u64,
    /// Bits per element for element-wise (non-BFP) storage; 0 for BFP.
    pub element_bits: u64,
}

impl OperandStorage {
    /// Exponent bits moved per group.
    pub fn exp_bits_per_group(&self, binary32: bool) -> u64 {
        if binary32 {
            0
        } else {
            self.exp_bits
        }
    }
    /// Mantissa bits moved per group: the consumed chunk planes, or 32 bits per element when
    /// stored as binary32.
    pub fn mant_bits_per_group(&self, binary32: bool) -> u64 {
        if self.element_bits > 0 {
            self.element_bits * self.group
        } else if binary32 {
            32 * self.group
        } else {
            3 * self.group * self.consumed_chunks.min(self.stored_chunks)
        }
    }
}

/// Bits moved, by memory and direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Traffic {
    /// DRAM reads of shared exponents.
    pub dram_read_exp_bits: u64,
    /// DRAM reads of mantissa chunk planes (or binary32 elements).
    pub dram_read_mant_bits: u64,
    /// DRAM writes of results.
    pub dram_write_bits: u64,
    /// DRAM reads and writes of explicit transposes.
    pub dram_transpose_bits: u64,
    /// Exponent SRAM writes (fills from DRAM).
    pub sram_write_exp_bits: u64,
    /// Mantissa SRAM writes.
    pub sram_write_mant_bits: u64,
    /// Exponent SRAM reads (into the array).
    pub sram_read_exp_bits: u64,
    /// Mantissa SRAM reads.
    pub sram_read_mant_bits: u64,
    /// Groups through the BFP converters.
    pub converted_groups: u64,
    /// Binary32 partial sums read back from the output buffer by folds that continue a
    /// reduction (weight-stationary passes).
    pub psum_buffer_read_bits: u64,
    /// Binary32 partial sums and results written into the output buffer.
    pub psum_buffer_write_bits: u64,
    /// DRAM bits of partial sums that leave the chip between reduction tiles and return
    /// (mappings whose reduction loop is not inside the output's loops), both directions.
    #[serde(default)]
    pub dram_psum_bits: u64,
}

impl Traffic {
    /// DRAM bits both ways: operand reads, result writes, transposes and spilled partial sums.
    pub fn dram_bits(&self) -> u64 {
        self.dram_read_exp_bits
            + self.dram_read_mant_bits
            + self.dram_write_bits
            + self.dram_transpose_bits
            + self.dram_psum_bits
    }
}

/// What the operand buffers kept on chip over one GEMM, against the room they had: the
/// invariant `peak_kept_bits <= capacity_bits` (both banks) holds in every run, at both
/// fidelities (the memory model drops a tile rather than keep it past the room).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Residency {
    /// Most bits kept at once (exponent, mantissa): under a mapping, X's and Y's current
    /// tiles; fold by fold, the least-recently-used tiles.
    pub peak_kept_bits: (u64, u64),
    /// The room (exponent, mantissa): under a mapping the mapper's rule (each bank, or half of
    /// it with double buffering); fold by fold each whole bank.
    pub capacity_bits: (u64, u64),
    /// Fold parts that did not fit next to what was kept and were streamed instead (their tile
    /// dropped). Always 0 for mappings held to capacity (`mapping::hold_to_capacity`).
    pub dropped_parts: u64,
}

/// An input operand's kept tile under a mapping (its index along the operand's two
/// dimensions) and its (exponent, mantissa) bits so far.
type KeptTile = (Option<(usize, usize)>, u64, u64);

/// One operand tile a fold needs on chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tile {
    /// (operand 0 = X / 1 = Y, tile index)
    key: (u8, u64),
    exp_bits: u64,
    mant_bits: u64,
}

/// The memory model for one GEMM, implementing the array's [`FoldGate`].
pub struct MemorySystem {
    params: MemParams,
    dims: PassDims,
    x: OperandStorage,
    y: OperandStorage,
    /// Bits per result written to DRAM.
    out_bits_per_element: u64,
    dma: DmaChannel,
    /// Resident tiles, least recently used first.
    resident: Vec<Tile>,
    /// Bits of each fold's stream tiles that did not fit the buffer: they stream from DRAM
    /// while the fold runs, keyed by fold index.
    pending: Vec<(usize, u64)>,
    /// When the explicit transpose (if any) is done.
    transpose_done: Option<u64>,
    /// Latest write-back completion.
    pub writeback_done: u64,
    /// Traffic so far.
    pub traffic: Traffic,
    /// Residency under a mapping (`None`: fold by fold, least recently used).
    tiled: Option<TiledResidency>,
    /// On-chip im2col: feature-map elements brought so far and the groups charged for them.
    feature_map_charge: (u64, u64),
    /// Under a mapping: each input operand's kept tile.
    kept: [KeptTile; 2],
    /// What was kept on chip, against the room.
    pub residency: Residency,
}

impl MemorySystem {
    /// A memory system for `geo` with operands stored as `x` and `y` and results written at
    /// `out_bits_per_element` bits each.
    pub fn new(
        params: MemParams,
        geo: GemmGeometry,
        x: OperandStorage,
        y: OperandStorage,
        out_bits_per_element: u64,
    ) -> Self {
        Self {
            params,
            dims: PassDims::of(&geo),
            x,
            y,
            out_bits_per_element,
            dma: DmaChannel::new(params.dram_bytes_per_cycle, params.dram_latency_cycles),
            resident: Vec::new(),
            pending: Vec::new(),
            transpose_done: None,
            writeback_done: 0,
            traffic: Traffic::default(),
            tiled: None,
            feature_map_charge: (0, 0),
            kept: [(None, 0, 0); 2],
            residency: Residency {
                capacity_bits: (params.exp_sram_capacity_bits, params.mant_sram_capacity_bits),
                ..Residency::default()
            },
        }
    }

    /// Keeps operands on chip as `residency` says (a mapping's tiles) instead of least
    /// recently used fold tiles.
    pub fn with_mapping(mut self, residency: TiledResidency) -> Self {
        self.residency.capacity_bits = residency.kept_capacity_bits;
        self.tiled = Some(residency);
        self
    }

    /// Keeps `tile` (input `role`'s part of a fold, under a mapping) on chip if it fits next
    /// to what is kept; otherwise drops `role`'s tile, so its folds bring their parts again.
    /// Whether it was kept.
    fn keep(&mut self, role: Role, tile: &Tile) -> bool {
        let Some(t) = self.tiled.as_mut() else { return false };
        let i = if role == Role::X { 0 } else { 1 };
        let current = t.current_tile(role);
        if self.kept[i].0 != current {
            self.kept[i] = (current, 0, 0);
        }
        let other = self.kept[1 - i];
        let e = self.kept[i].1 + tile.exp_bits + other.1;
        let m = self.kept[i].2 + tile.mant_bits + other.2;
        let (ce, cm) = t.kept_capacity_bits;
        if e > ce || m > cm {
            t.forget(role);
            self.kept[i] = (None, 0, 0);
            self.residency.dropped_parts += 1;
            return false;
        }
        self.kept[i].1 += tile.exp_bits;
        self.kept[i].2 += tile.mant_bits;
        let p = &mut self.residency.peak_kept_bits;
        *p = (p.0.max(e), p.1.max(m));
        true
    }

    /// The groups (or feature-map elements) `role` of `f` brings in, as a tile of bits.
    fn tiled_fetch(&mut self, f: &Fold, role: Role) -> Option<Tile> {
        let t = self.tiled.as_mut()?;
        let operand = if role == Role::X { 0 } else { 1 };
        let groups = match t.bring(f, role) {
            Bring::Nothing => return None,
            Bring::Groups(g) => g,
            Bring::Elements(e) => {
                // Feature-map elements are stored in whole groups: charge the groups the
                // elements brought so far fill, less those already charged.
                let g = if operand == 0 { self.x.group } else { self.y.group }.max(1);
                let (elements, charged) = &mut self.feature_map_charge;
                *elements += e;
                let groups = elements.div_ceil(g) - *charged;
                *charged += groups;
                if groups == 0 {
                    return None;
                }
                groups
            }
        };
        Some(self.tile(operand, 0, groups))
    }

    fn tile(&self, operand: u8, index: u64, groups: u64) -> Tile {
        let (s, b32) = (if operand == 0 { self.x } else { self.y }, self.params.converters_at_input);
        Tile {
            key: (operand, index),
            exp_bits: groups * s.exp_bits_per_group(b32),
            mant_bits: groups * s.mant_bits_per_group(b32),
        }
    }

    /// The tiles `fold` reads: X's and Y's groups on the array during the fold, each keyed by
    /// where it starts (the fold-by-fold schedule streams all of B, from 0: a weight tile is
    /// one (row, column) tile, a streamed tile all of B at one row or column tile).
    fn tiles(&self, f: &Fold) -> [Tile; 2] {
        let big = 1u64 << 32;
        [(0, Role::X), (1, Role::Y)].map(|(operand, role)| {
            let [a, b] = self.dims.fold_origin(role, f);
            self.tile(operand, a as u64 * big + b as u64, self.dims.fold_units(role, f))
        })
    }

    /// Bits the transposed operand occupies (W for backward-data, A for backward-weight).
    fn transpose_bits(&self) -> u64 {
        let b32 = self.params.converters_at_input;
        let bits = |s: &OperandStorage| s.exp_bits_per_group(b32) + s.mant_bits_per_group(b32);
        match self.dims.transposed() {
            None => 0,
            Some(role) => self.dims.units(role) * bits(if role == Role::X { &self.x } else { &self.y }),
        }
    }

    /// Whether this pass starts with an explicit transpose.
    fn transposes(&self) -> bool {
        self.params.explicit_transpose && self.dims.transposed().is_some()
    }

    /// Results (outputs) a fold produces.
    fn fold_outputs(&self, f: &Fold) -> u64 {
        self.dims.fold_units(Role::Out, f)
    }

    fn make_room(&mut self, need_exp: u64, need_mant: u64) {
        let cap = |used: u64, need: u64, c: u64| used + need <= c;
        loop {
            let (e, m) = self.resident.iter().fold((0, 0), |(e, m), t| (e + t.exp_bits, m + t.mant_bits));
            if self.resident.is_empty()
                || (cap(e, need_exp, self.params.exp_sram_capacity_bits)
                    && cap(m, need_mant, self.params.mant_sram_capacity_bits))
            {
                return;
            }
            self.resident.remove(0);
        }
    }
}

impl FoldGate for MemorySystem {
    fn buffer_slots(&self) -> usize {
        if self.params.double_buffering {
            2
        } else {
            1
        }
    }

    fn fetch_operands(&mut self, f: &Fold, now: Cycle) -> (Cycle, StallReason) {
        // An explicit transpose runs once, before the first fold: read and write the operand.
        let mut floor = 0u64;
        let mut reason = StallReason::Dram;
        if self.transposes() {
            let done = match self.transpose_done {
                Some(d) => d,
                None => {
                    let bits = self.transpose_bits();
                    let (_, read_done) = self.dma.transfer(0, bits);
                    let (_, write_done) = self.dma.transfer(read_done, bits);
                    self.transpose_done = Some(write_done);
                    self.traffic.dram_transpose_bits += 2 * bits;
                    write_done
                }
            };
            floor = done;
            reason = StallReason::Transpose;
        }
        let issue = now.0.max(floor);
        let mut ready = floor;
        // A fold's share of the buffers: half of each bank with double buffering.
        let share = if self.params.double_buffering { 2 } else { 1 };
        let (cap_exp, cap_mant) =
            (self.params.exp_sram_capacity_bits / share / 2, self.params.mant_sram_capacity_bits / share / 2);
        if self.tiled.is_some() {
            let mut bits = 0u64;
            for role in [Role::X, Role::Y] {
                if let Some(tile) = self.tiled_fetch(f, role) {
                    self.traffic.dram_read_exp_bits += tile.exp_bits;
                    self.traffic.dram_read_mant_bits += tile.mant_bits;
                    self.traffic.sram_write_exp_bits += tile.exp_bits;
                    self.traffic.sram_write_mant_bits += tile.mant_bits;
                    let total = tile.exp_bits + tile.mant_bits;
                    let streamed = self.tiled.as_ref().is_some_and(|t| t.mapping.is_streamed(role));
                    let kept = !streamed && self.keep(role, &tile);
                    debug_assert!(
                        self.residency.peak_kept_bits.0 <= self.residency.capacity_bits.0
                            && self.residency.peak_kept_bits.1 <= self.residency.capacity_bits.1,
                        "kept tiles exceed the operand buffers: {:?}",
                        self.residency
                    );
                    if !kept && (tile.exp_bits > cap_exp || tile.mant_bits > cap_mant) {
                        // A streamed part larger than its buffer share: the first buffer-full
                        // arrives before the fold, the rest while it runs.
                        let frac = (cap_mant as f64 / tile.mant_bits.max(1) as f64)
                            .min(cap_exp as f64 / tile.exp_bits.max(1) as f64);
                        let head = ((total as f64 * frac.min(1.0)) as u64).max(1);
                        self.pending.push((f.index, total - head));
                        bits += head;
                    } else {
                        bits += total;
                    }
                }
            }
            // Partial sums of an earlier reduction tile come back.
            let (returns, _) = self.tiled.as_ref().map_or((false, false), |t| t.spill_edges(f));
            if returns {
                let psum_bits = 32 * self.fold_outputs(f);
                self.traffic.dram_psum_bits += psum_bits;
                bits += psum_bits;
            }
            if bits > 0 {
                let (_, done) = self.dma.transfer(issue, bits);
                if done > ready {
                    ready = done;
                    if !self.transposes() || f.index > 0 {
                        reason = StallReason::Dram;
                    }
                }
            }
            return (Cycle(ready.max(issue)), reason);
        }
        for tile in self.tiles(f) {
            if let Some(pos) = self.resident.iter().position(|t| t.key == tile.key) {
                let t = self.resident.remove(pos);
                self.resident.push(t); // most recently used
                continue;
            }
            self.traffic.dram_read_exp_bits += tile.exp_bits;
            self.traffic.dram_read_mant_bits += tile.mant_bits;
            self.traffic.sram_write_exp_bits += tile.exp_bits;
            self.traffic.sram_write_mant_bits += tile.mant_bits;
            let total = tile.exp_bits + tile.mant_bits;
            // A tile larger than the fold's share of the buffers cannot be on chip at once: its
            // first buffer-full arrives before the fold starts, the rest streams in while the
            // fold runs (and is not kept).
            let fits = tile.exp_bits <= cap_exp && tile.mant_bits <= cap_mant;
            let head = if fits {
                total
            } else {
                let frac =
                    (cap_mant as f64 / tile.mant_bits.max(1) as f64).min(cap_exp as f64 / tile.exp_bits.max(1) as f64);
                ((total as f64 * frac.min(1.0)) as u64).max(1)
            };
            let (_, done) = self.dma.transfer(issue, head);
            if fits {
                self.make_room(tile.exp_bits, tile.mant_bits);
                self.resident.push(tile);
                let (e, m) = self.resident.iter().fold((0, 0), |(e, m), t| (e + t.exp_bits, m + t.mant_bits));
                let p = &mut self.residency.peak_kept_bits;
                *p = (p.0.max(e), p.1.max(m));
            } else {
                self.pending.push((f.index, total - head));
            }
            if done > ready {
                ready = done;
                // The first fold of an explicit-transpose pass waits behind the transpose.
                if !self.transposes() || f.index > 0 {
                    reason = StallReason::Dram;
                }
            }
        }
        (Cycle(ready.max(issue)), reason)
    }

    fn stream_stretch(&mut self, f: &Fold, ph: &PhaseCycles, now: Cycle) -> (u64, StallReason) {
        // The part of the stream tiles still in DRAM moves during the fold.
        let rest: u64 = self.pending.iter().filter(|(i, _)| *i == f.index).map(|(_, b)| b).sum();
        self.pending.retain(|(i, _)| *i != f.index);
        let dram_extra = if rest > 0 {
            let (_, done) = self.dma.transfer(now.0, rest);
            done.saturating_sub(now.0 + ph.stream)
        } else {
            0
        };
        // Everything the array reads from SRAM during the fold (stationary and streamed).
        let [a, b] = self.tiles(f);
        let (exp, mant) = (a.exp_bits + b.exp_bits, a.mant_bits + b.mant_bits);
        self.traffic.sram_read_exp_bits += exp;
        self.traffic.sram_read_mant_bits += mant;
        let port = |bits: u64, per: u64| bits.div_ceil(per.max(1));
        let sram_cycles =
            port(exp, self.params.exp_sram_bits_per_cycle).max(port(mant, self.params.mant_sram_bits_per_cycle));
        let busy = ph.load + ph.stream;
        let sram_extra = sram_cycles.saturating_sub(busy);
        // Converter work in this fold.
        let groups = if !self.params.has_converters {
            0
        } else if self.params.converters_at_input {
            let g = |s: &OperandStorage| s.group;
            (a.mant_bits / (32 * g(&self.x)).max(1)) + (b.mant_bits / (32 * g(&self.y)).max(1))
        } else if f.last_of_reduction && self.dims.results_to_bfp() {
            // Results of forward and backward-data leave as BFP for the next layer; weight
            // gradients leave as binary32 for the optimizer.
            self.fold_outputs(f).div_ceil(self.x.group)
        } else {
            0
        };
        self.traffic.converted_groups += groups;
        // The output buffer: partial sums re-enter (all but the first fold of a reduction) and
        // leave (every fold); output-stationary results are written once, at the drain.
        let psums = self.fold_outputs(f);
        if !f.first_of_reduction {
            self.traffic.psum_buffer_read_bits += 32 * psums;
        }
        self.traffic.psum_buffer_write_bits += 32 * psums;
        let conv_cycles = groups.div_ceil(self.params.converter_groups_per_cycle.max(1))
            + if self.params.converters_at_input { self.params.converter_latency_cycles } else { 0 };
        let conv_extra = conv_cycles.saturating_sub(busy);
        // The slowest supplier sets the stretch.
        if dram_extra >= sram_extra && dram_extra >= conv_extra {
            (dram_extra, StallReason::Dram)
        } else if sram_extra >= conv_extra {
            (sram_extra, StallReason::Sram)
        } else {
            (conv_extra, StallReason::Converter)
        }
    }

    fn finished(&mut self, rec: &FoldRecord, now: Cycle) {
        let (_, leaves) = self.tiled.as_ref().map_or((false, false), |t| t.spill_edges(&rec.fold));
        if leaves {
            let bits = 32 * self.fold_outputs(&rec.fold);
            let (_, done) = self.dma.transfer(now.0, bits);
            self.traffic.dram_psum_bits += bits;
            self.writeback_done = self.writeback_done.max(done);
        }
        if rec.fold.last_of_reduction {
            let results = self.fold_outputs(&rec.fold);
            let mut bits = results * self.out_bits_per_element;
            // Backward-data with on-chip im2col writes the feature map's gradient: rows met
            // for the first time, and halo rows already in DRAM read back and written again.
            if let Some((new, again)) = self.tiled.as_mut().and_then(|t| t.output_elements(&rec.fold)) {
                bits = (new + again) * self.out_bits_per_element;
                let (_, back) = self.dma.transfer(now.0, again * self.out_bits_per_element);
                self.traffic.dram_read_mant_bits += again * self.out_bits_per_element;
                self.writeback_done = self.writeback_done.max(back);
            }
            let (_, done) = self.dma.transfer(now.0, bits);
            self.traffic.dram_write_bits += bits;
            self.writeback_done = self.writeback_done.max(done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_the_first_planes_moves_proportionally_fewer_mantissa_bits() {
        let stored4 = OperandStorage { group: 16, exp_bits: 8, stored_chunks: 2, consumed_chunks: 2, element_bits: 0 };
        let read2 = OperandStorage { consumed_chunks: 1, ..stored4 };
        assert_eq!(stored4.mant_bits_per_group(false), 96);
        assert_eq!(read2.mant_bits_per_group(false), 48);
        assert_eq!(read2.exp_bits_per_group(false), 8);
        // Binary32 storage (converters at the array input) ignores the planes.
        assert_eq!(read2.mant_bits_per_group(true), 512);
        assert_eq!(read2.exp_bits_per_group(true), 0);
    }
}
