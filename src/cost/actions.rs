//! [`Actions`]: what a run counts, and how they are derived from one simulated GEMM
//! ([`Actions::from_gemm`], rules A1..A7 of `docs/cost.md`).

use serde::Serialize;

use crate::accel::GemmSim;
use crate::arch::{Arch, CellKind};
use crate::fmac::AccumulatorKind;
use crate::mapping::{Dim, PassDims, Role};

/// Actions counted by a run (what the simulator counts; the cost model multiplies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Actions {
    /// Busy cell-cycles of the multiplier array: fMAC, one 2b x 2b pass over `g` lanes + adder
    /// tree; `bfp_full`, one full-width pass (one per group pair).
    pub chunk_passes: u64,
    /// Group pairs (BFP cells): one exponent add + product normalisation each.
    pub group_pairs: u64,
    /// Additions in binary32: the partial sums of the fp32 accumulator, or element-wise fp
    /// adds outside MACs (e.g. residual `add` layers).
    pub fp32_adds: u64,
    /// Exact-accumulator (Kulisch) additions.
    pub kulisch_adds: u64,
    /// Element-wise baseline MACs (fp32 / bf16 / int8 multiply + add).
    pub element_macs: u64,
    /// Partial sums moved one cell (register shifts of one partial sum: 32 bits, or the
    /// Kulisch width with the exact accumulator).
    pub partial_sum_hops: u64,
    /// Operand bits moved between neighbouring cells (stationary loads and streaming).
    pub operand_hop_bits: u64,
    /// Groups through the BFP converters.
    pub converter_groups: u64,
    /// Exponent SRAM bits read.
    pub sram_exp_read_bits: u64,
    /// Exponent SRAM bits written.
    pub sram_exp_write_bits: u64,
    /// Mantissa SRAM bits read.
    pub sram_mant_read_bits: u64,
    /// Mantissa SRAM bits written.
    pub sram_mant_write_bits: u64,
    /// DRAM bits read and written (operands and results).
    pub dram_bits: u64,
    /// DRAM bits read and written by explicit transposes.
    pub transpose_dram_bits: u64,
    /// Output (partial-sum) buffer bits read and written.
    pub output_buffer_bits: u64,
}

impl Actions {
    /// Adds `o`'s counts to these.
    pub fn add(&mut self, o: &Actions) {
        self.chunk_passes += o.chunk_passes;
        self.group_pairs += o.group_pairs;
        self.fp32_adds += o.fp32_adds;
        self.kulisch_adds += o.kulisch_adds;
        self.element_macs += o.element_macs;
        self.partial_sum_hops += o.partial_sum_hops;
        self.operand_hop_bits += o.operand_hop_bits;
        self.converter_groups += o.converter_groups;
        self.sram_exp_read_bits += o.sram_exp_read_bits;
        self.sram_exp_write_bits += o.sram_exp_write_bits;
        self.sram_mant_read_bits += o.sram_mant_read_bits;
        self.sram_mant_write_bits += o.sram_mant_write_bits;
        self.dram_bits += o.dram_bits;
        self.transpose_dram_bits += o.transpose_dram_bits;
        self.output_buffer_bits += o.output_buffer_bits;
    }

    /// Every count scaled by `k` (e.g. a GEMM repeated `k` times).
    pub fn scaled(&self, k: u64) -> Actions {
        Actions {
            chunk_passes: self.chunk_passes * k,
            group_pairs: self.group_pairs * k,
            fp32_adds: self.fp32_adds * k,
            kulisch_adds: self.kulisch_adds * k,
            element_macs: self.element_macs * k,
            partial_sum_hops: self.partial_sum_hops * k,
            operand_hop_bits: self.operand_hop_bits * k,
            converter_groups: self.converter_groups * k,
            sram_exp_read_bits: self.sram_exp_read_bits * k,
            sram_exp_write_bits: self.sram_exp_write_bits * k,
            sram_mant_read_bits: self.sram_mant_read_bits * k,
            sram_mant_write_bits: self.sram_mant_write_bits * k,
            dram_bits: self.dram_bits * k,
            transpose_dram_bits: self.transpose_dram_bits * k,
            output_buffer_bits: self.output_buffer_bits * k,
        }
    }

    /// The actions of one simulated GEMM on `arch` (the arch it was simulated on):
    ///
    /// - A1 `group_pairs` (BFP cells) = sum over folds of `rows_used x cols_used x T`;
    ///   `chunk_passes` = the busy cell-cycles (`sim.busy` summed: `p` per group pair for
    ///   fMAC, 1 for `bfp_full`).
    /// - A2 `fp32_adds` = `group_pairs` with the fp32 accumulator, else `kulisch_adds` does.
    /// - A3 `element_macs` = `sim.macs` for element-wise cells (and `scalesim`).
    /// - A4 `partial_sum_hops`: weight-stationary passes move every partial sum across the
    ///   whole array width (forward: `rows_used x T x C`; backward-data: `cols_used x T x R`);
    ///   backward-weight drains each result along its row: `rows_used x (cols_used C -
    ///   cols_used (cols_used - 1) / 2)`.
    /// - A5 `operand_hop_bits`: a stationary load shifts a fold's groups up through the used
    ///   rows (`cols_used x rows_used (rows_used + 1) / 2` group moves); each streamed group
    ///   crosses every used cell of its row or column (`T x rows_used x cols_used` group moves
    ///   per streamed operand). A group on the wire is `e + 3 g c` bits for fMAC (its `c`
    ///   chunk planes), `e + g (1 + m)` for `bfp_full`, the element width otherwise.
    /// - A6 SRAM, DRAM (with spilled partial sums), output-buffer and converter counts are
    ///   [`Traffic`](crate::memory::Traffic)'s, except
    ///   that element-wise cells have no converters: their `converter_groups` is 0 whatever the
    ///   memory model counted.
    /// - A7 `scalesim` runs have no folds and no memory: only A3 applies.
    pub fn from_gemm(sim: &GemmSim, arch: &Arch) -> Actions {
        let t = &sim.traffic;
        let mut a = Actions {
            converter_groups: t.converted_groups,
            sram_exp_read_bits: t.sram_read_exp_bits,
            sram_exp_write_bits: t.sram_write_exp_bits,
            sram_mant_read_bits: t.sram_read_mant_bits,
            sram_mant_write_bits: t.sram_write_mant_bits,
            dram_bits: t.dram_read_exp_bits + t.dram_read_mant_bits + t.dram_write_bits + t.dram_psum_bits,
            transpose_dram_bits: t.dram_transpose_bits,
            output_buffer_bits: t.psum_buffer_read_bits + t.psum_buffer_write_bits,
            ..Actions::default()
        };
        let cell = arch.array.cell;
        let geo = &sim.geometry;
        let pairs: u64 =
            sim.folds.iter().map(|r| (r.fold.rows_used * r.fold.cols_used * r.fold.stream_len) as u64).sum();
        if cell.is_bfp() {
            a.group_pairs = pairs;
            a.chunk_passes = sim.busy.iter().sum();
            match arch.bfp.accumulator {
                AccumulatorKind::Fp32 => a.fp32_adds = pairs,
                AccumulatorKind::Exact => a.kulisch_adds = pairs,
            }
        } else {
            a.element_macs = sim.macs;
            a.converter_groups = 0;
        }
        let (g, e) = (arch.bfp.group as u64, arch.bfp.exp_bits as u64);
        let dims = PassDims::of(geo);
        let [cx, cy, _] = dims.classes();
        let wire = |chunks: u32, class| match cell {
            CellKind::Fmac { .. } => e + 3 * g * chunks as u64,
            CellKind::BfpFull => e + g * (1 + arch.precision.get(class).mantissa_bits as u64),
            CellKind::Bf16 => 16,
            CellKind::Int8 => 8,
            CellKind::Fp32 | CellKind::Scalesim { .. } => 32,
        };
        let (xb, yb) = (wire(geo.x_chunks, cx), wire(geo.y_chunks, cy));
        let (rows, cols) = (sim.array.0 as u64, sim.array.1 as u64);
        // Weight stationary: partial sums cross the whole array along the reduction.
        let across = if dims.reduction == Dim::Row { rows } else { cols };
        for rec in &sim.folds {
            let f = &rec.fold;
            let (ru, cu, len) = (f.rows_used as u64, f.cols_used as u64, f.stream_len as u64);
            let (ops, psums) = if dims.weight_stationary() {
                (cu * ru * (ru + 1) / 2 * xb + len * ru * cu * yb, dims.fold_units(Role::Out, f) * across)
            } else {
                (len * ru * cu * (xb + yb), ru * (cu * cols - cu * (cu - 1) / 2))
            };
            a.operand_hop_bits += ops;
            a.partial_sum_hops += psums;
        }
        a
    }
}
