//! One GEMM on the accelerator an arch file describes: the numerics the cells compute (BFP
//! conversion and fMAC, or an element-wise baseline), the array at the chosen fidelity, the
//! memory system around it, and the figures a report needs (cycles and where they went,
//! utilization, traffic, per-fold timeline, per-cell busy cycles).

use serde::Serialize;

use crate::arch::{Arch, CellKind, Im2col, MapperKind, TensorClass, Transpose};
use crate::array::{run_folds_with, scalesim, ArrayConfig, CycleBreakdown, Fidelity, FoldRecord, GemmGeometry};
use crate::bfp::{BfpFormat, ConvertFlags};
use crate::gemm::baseline::{baseline_gemm, ElementCell};
use crate::gemm::{pass_dims, quantize_operands_named, GemmError, GemmSpec, OperandSpec, Pass};
use crate::mapping::{
    CapacityHold, ConvWindow, FeatureMapTracker, Mapping, MappingContext, MappingEstimate, OperandBits, PassDims, Role,
};
use crate::memory::{MemParams, MemorySystem, OperandStorage, Residency, TiledResidency, Traffic};

/// Most folds one GEMM may have (its timeline is kept in memory: about 200 bytes a fold).
pub const MAX_FOLDS: u64 = 5_000_000;

/// Most folds the mapper may give one GEMM by tiling its stream (unless the fold-by-fold
/// schedule already has more).
pub const MAPPED_FOLDS: u64 = 100_000;

/// Tensor classes of X, Y and the output of each pass ([`PassDims::classes`]).
pub fn classes(pass: Pass) -> [TensorClass; 3] {
    PassDims::layout(pass).classes()
}

/// The numerics of `pass` on `arch`: g, e, base, accumulator, LFSR from the arch; mantissa
/// width and rounding of each operand from its tensor class.
pub fn spec_for(arch: &Arch, pass: Pass) -> GemmSpec {
    let [cx, cy, _] = classes(pass);
    let op = |c: TensorClass| {
        let p = arch.precision.get(c);
        OperandSpec { mantissa_bits: p.mantissa_bits, rounding: p.rounding }
    };
    GemmSpec {
        pass,
        group: arch.bfp.group,
        exp_bits: arch.bfp.exp_bits,
        exp_base: arch.bfp.exp_base,
        x: op(cx),
        y: op(cy),
        accumulator: arch.bfp.accumulator,
        lfsr: arch.lfsr_params(),
    }
}

/// A GEMM to simulate.
pub struct GemmRequest<'a> {
    /// Numerics (usually [`spec_for`] with the user's overrides).
    pub spec: GemmSpec,
    /// X, row-major, with its shape.
    pub x: (&'a [f32], usize, usize),
    /// Y, row-major, with its shape.
    pub y: (&'a [f32], usize, usize),
    /// Names of X and Y for messages.
    pub names: (&'a str, &'a str),
    /// Array fidelity.
    pub fidelity: Fidelity,
    /// Compute the output (otherwise timing only).
    pub numerics: bool,
    /// Conversion job number of X (Y is the next), in the order the run performs them.
    pub first_job: u64,
    /// The convolution this GEMM lowers (for on-chip im2col), if it is one.
    pub conv: Option<ConvWindow>,
    /// A mapping forced for this GEMM (tile sizes are legalised for it, and an operand whose
    /// kept tiles would not fit the buffers is streamed instead); `None`: the arch's
    /// `mapping.mapper` decides.
    pub mapping: Option<Mapping>,
}

/// Everything one simulated GEMM produced.
#[derive(Debug, Clone, Serialize)]
pub struct GemmSim {
    /// The arch's name.
    pub arch: String,
    /// Cell kind.
    pub cell: &'static str,
    /// Array rows x columns.
    pub array: (usize, usize),
    /// Fidelity used.
    pub fidelity: Fidelity,
    /// Sizes the timing depends on.
    pub geometry: GemmGeometry,
    /// Multiply-accumulates of the GEMM.
    pub macs: u64,
    /// Total cycles, first fetch to last result written back.
    pub cycles: u64,
    /// Cycles after the array finished, waiting for the last write-back and converter tail.
    pub tail_cycles: u64,
    /// Where the array's cycles went.
    pub breakdown: CycleBreakdown,
    /// Busy cell-cycles over available cell-cycles, over the whole run.
    pub utilization: f64,
    /// Busy cell-cycles (chunk passes, or MACs of element-wise cells), summed over the cells.
    pub busy_cell_cycles: u64,
    /// Bits moved, by memory.
    pub traffic: Traffic,
    /// Number of folds.
    pub fold_count: usize,
    /// The mapping the folds followed (`None`: fold by fold, operands kept least recently
    /// used).
    pub mapping: Option<Mapping>,
    /// The mapping's figures in the mapper's closed-form model.
    pub mapping_estimate: Option<MappingEstimate>,
    /// A forced mapping whose kept tiles did not fit the operand buffers: the operands streamed
    /// instead and the bits against the room (`None`: it fitted, or the mapper chose).
    pub capacity_hold: Option<CapacityHold>,
    /// What the operand buffers kept on chip, against their room.
    pub residency: Residency,
    /// Compulsory DRAM bits: every unique operand element read once (each feature map once
    /// with on-chip im2col), every result written once.
    pub compulsory_dram_bits: u64,
    /// Every fold's timeline (not serialised: `--stats` and the timeline plot use it).
    #[serde(skip)]
    pub folds: Vec<FoldRecord>,
    /// Chunk passes (or MACs) per cell, row-major (not serialised; summed in reports).
    #[serde(skip)]
    pub busy: Vec<u64>,
    /// Conversion flags of X and Y (BFP cells with numerics).
    pub flags: Option<(ConvertFlags, ConvertFlags)>,
    /// The output, row-major.
    #[serde(skip)]
    pub out: Option<Vec<f32>>,
    /// The output's shape.
    pub out_shape: (usize, usize),
}

fn element_cell(cell: &CellKind) -> Option<ElementCell> {
    match cell {
        CellKind::Fp32 | CellKind::Scalesim { .. } => Some(ElementCell::Fp32),
        CellKind::Bf16 => Some(ElementCell::Bf16),
        CellKind::Int8 => Some(ElementCell::Int8),
        _ => None,
    }
}

/// Memory parameters of `arch`.
pub fn mem_params(arch: &Arch) -> MemParams {
    let m = &arch.memory;
    MemParams {
        dram_bytes_per_cycle: m.dram.bytes_per_cycle,
        dram_latency_cycles: m.dram.latency_cycles,
        exp_sram_capacity_bits: m.exponent_sram.capacity_kib * 8192,
        exp_sram_bits_per_cycle: m.exponent_sram.bits_per_cycle,
        mant_sram_capacity_bits: m.mantissa_sram.capacity_kib * 8192,
        mant_sram_bits_per_cycle: m.mantissa_sram.bits_per_cycle,
        double_buffering: m.double_buffering,
        has_converters: arch.array.cell.is_bfp(),
        converter_groups_per_cycle: arch.converters.count as u64 * arch.converters.groups_per_cycle as u64,
        converter_latency_cycles: arch.converter_latency_cycles(),
        converters_at_input: arch.array.cell.is_bfp()
            && arch.converters.placement == crate::arch::ConverterPlacement::MemoryToArray,
        explicit_transpose: arch.array.transpose == Transpose::Explicit,
    }
}

/// Simulates one GEMM on `arch`.
pub fn simulate_gemm(arch: &Arch, req: &GemmRequest) -> Result<GemmSim, GemmError> {
    let spec = &req.spec;
    let pass = spec.pass;
    let (xs, ys) = ((req.x.1, req.x.2), (req.y.1, req.y.2));
    let dims = pass_dims(pass, xs, ys)?;
    let (out_shape, red) = (dims.shape(Role::Out), dims.reduction_len());
    let macs = out_shape.0 as u64 * out_shape.1 as u64 * red as u64;
    let (r, c) = (arch.array.rows, arch.array.cols);
    // Every fold keeps a timeline entry (~200 bytes with its schedule state): refuse sizes that
    // would exhaust memory before planning them.
    let group = if arch.array.cell.is_bfp() { spec.group } else { 1 };
    let folds = dims.grouped(group).canonical_folds(r, c);
    if folds > MAX_FOLDS && !matches!(arch.array.cell, CellKind::Scalesim { .. }) {
        return Err(GemmError::TooManyFolds { pass, folds, rows: r, cols: c, limit: MAX_FOLDS });
    }
    let tick = crate::array::estimate::tick_cell_cycles(r, c, folds);
    if req.fidelity == Fidelity::Cycle && tick > crate::array::estimate::MAX_TICK_CELL_CYCLES {
        let limit = crate::array::estimate::MAX_TICK_CELL_CYCLES;
        return Err(GemmError::TooMuchTickWork { pass, folds, rows: r, cols: c, cell_cycles: tick, limit });
    }
    let cell = arch.array.cell;
    let full_width = matches!(cell, CellKind::BfpFull);
    let cfg = ArrayConfig {
        rows: r,
        cols: c,
        shadow_stationary: arch.array.shadow_stationary,
        double_buffered_accumulators: arch.array.shadow_accumulators,
        full_width,
        overlap_folds: arch.array.overlap_folds,
    };
    let mem = mem_params(arch);
    let [_, _, out_class] = dims.classes();

    if let Some(ecell) = element_cell(&cell) {
        // Element-wise cells: one element per cell per cycle (groups of one, one "chunk").
        let geometry = dims.geometry(1, 1, 1);
        let out = if req.numerics { Some(baseline_gemm(ecell, pass, req.x.0, xs, req.y.0, ys)?) } else { None };
        let bits = match ecell {
            ElementCell::Fp32 => 32,
            ElementCell::Bf16 => 16,
            ElementCell::Int8 => 8,
        };
        let storage =
            OperandStorage { group: 1, exp_bits: 0, stored_chunks: 1, consumed_chunks: 1, element_bits: bits };
        let out_bits = if ecell == ElementCell::Bf16 { 16 } else { 32 };
        if let CellKind::Scalesim { dataflow } = cell {
            // SCALE-Sim's own mapping and timing, for comparison with that tool; no memory. The
            // output `[N, B]` is SCALE-Sim's ofmap transposed (`P = B` pixels, `F = N` filters),
            // so that in the forward pass the filter operand is the weights, as in SCALE-Sim.
            let layer = scalesim::ScaleSimLayer::gemm(out_shape.1 as u64, out_shape.0 as u64, red as u64);
            let df = match dataflow {
                crate::arch::Dataflow::Ws => scalesim::Dataflow::Ws,
                crate::arch::Dataflow::Os => scalesim::Dataflow::Os,
                crate::arch::Dataflow::Is => scalesim::Dataflow::Is,
            };
            let cycles = scalesim::compute_cycles(&layer, df, r, c);
            return Ok(GemmSim {
                arch: arch.name.clone(),
                cell: cell.name(),
                array: (r, c),
                fidelity: req.fidelity,
                geometry,
                macs,
                cycles,
                tail_cycles: 0,
                breakdown: CycleBreakdown { stream_cycles: cycles, ..Default::default() },
                utilization: macs as f64 / (cycles.max(1) as f64 * (r * c) as f64),
                // SCALE-Sim cells do one MAC per busy cell-cycle; no per-cell counts.
                busy_cell_cycles: macs,
                traffic: Traffic::default(),
                fold_count: 0,
                mapping: None,
                mapping_estimate: None,
                capacity_hold: None,
                residency: Residency::default(),
                compulsory_dram_bits: 0,
                folds: Vec::new(),
                busy: Vec::new(),
                flags: None,
                out,
                out_shape,
            });
        }
        let mut plan = plan(arch, req, &geometry, &mem, storage, storage, out_bits)?;
        let gate = MemorySystem::new(mem, geometry, storage, storage, out_bits);
        let (run, gate) = plan.run(&geometry, None, &cfg, req.fidelity, gate);
        return Ok(finish(arch, req, geometry, macs, run, gate, out, None, out_shape, 0, plan));
    }

    // BFP cells (fMAC or full-width).
    let fmt = |m: u32| BfpFormat::new(spec.group, m, spec.exp_bits);
    let (fx, fy) = (fmt(spec.x.mantissa_bits)?, fmt(spec.y.mantissa_bits)?);
    let mut geometry = dims.geometry(spec.group, fx.chunks(), fy.chunks());
    if full_width {
        geometry = geometry.full_width();
    }
    let ops =
        if req.numerics { Some(quantize_operands_named(spec, req.x, req.y, req.first_job, req.names)?) } else { None };
    let storage = |f: BfpFormat| OperandStorage {
        group: f.group() as u64,
        exp_bits: f.exp_bits() as u64,
        stored_chunks: f.chunks() as u64,
        consumed_chunks: f.chunks() as u64,
        element_bits: 0,
    };
    let out_bits = if !dims.results_to_bfp() || mem.converters_at_input {
        32
    } else {
        let f = arch.bfp_format(out_class);
        f.group_bits().div_ceil(f.group() as u64)
    };
    let mut plan = plan(arch, req, &geometry, &mem, storage(fx), storage(fy), out_bits)?;
    let gate = MemorySystem::new(mem, geometry, storage(fx), storage(fy), out_bits);
    let (run, gate) = plan.run(&geometry, ops.as_ref(), &cfg, req.fidelity, gate);
    let flags = ops.as_ref().map(|o| o.flags());
    let out = run.out.clone();
    let conv_tail = if mem.converters_at_input || !dims.results_to_bfp() { 0 } else { mem.converter_latency_cycles };
    Ok(finish(arch, req, geometry, macs, run, gate, out, flags, out_shape, conv_tail, plan))
}

/// How one GEMM's folds are laid out and its operands kept on chip.
struct Plan {
    folds: Vec<crate::array::Fold>,
    residency: Option<TiledResidency>,
    mapping: Option<Mapping>,
    estimate: Option<MappingEstimate>,
    capacity_hold: Option<CapacityHold>,
    compulsory_dram_bits: u64,
}

impl Plan {
    fn run(
        &mut self,
        geo: &GemmGeometry,
        ops: Option<&crate::gemm::GemmOperands>,
        cfg: &ArrayConfig,
        fidelity: Fidelity,
        gate: MemorySystem,
    ) -> (crate::array::ArrayRun, MemorySystem) {
        let mut gate = match self.residency.take() {
            Some(r) => gate.with_mapping(r),
            None => gate,
        };
        let folds = std::mem::take(&mut self.folds);
        (run_folds_with(geo, ops, cfg, fidelity, &mut gate, &folds), gate)
    }
}

/// The mapping context of a GEMM on `arch`.
pub fn mapping_context(
    arch: &Arch,
    geo: &GemmGeometry,
    mem: &MemParams,
    x: OperandStorage,
    y: OperandStorage,
    out_bits: u64,
    conv: Option<ConvWindow>,
) -> MappingContext {
    let b32 = mem.converters_at_input;
    let bits = |s: OperandStorage| OperandBits {
        exp: s.exp_bits_per_group(b32),
        mant: s.mant_bits_per_group(b32),
        group: s.group,
    };
    let sram = crate::cost::sram_macro(&arch.tech, arch.memory.mantissa_sram.capacity_kib);
    MappingContext {
        dims: PassDims::of(geo),
        array: (arch.array.rows, arch.array.cols),
        beat_cycles: geo.beat_cycles(),
        x: bits(x),
        y: bits(y),
        out_bits,
        sram_bits: (mem.exp_sram_capacity_bits, mem.mant_sram_capacity_bits),
        double_buffering: mem.double_buffering,
        output_buffer_bits: arch.mapping.output_buffer_kib * 8192,
        dram: (mem.dram_bytes_per_cycle, mem.dram_latency_cycles),
        pj_per_bit: (arch.tech.dram.access_bit_pj, sram.read_bit_pj),
        overlap_folds: arch.array.overlap_folds,
        conv,
    }
}

/// The convolution of `req`, when the arch builds its stream operand on chip and the window
/// matches the GEMM's shape.
fn on_chip_conv(arch: &Arch, req: &GemmRequest, dims: &PassDims, group: usize) -> Option<ConvWindow> {
    let w = req.conv?;
    if arch.mapping.im2col != Im2col::OnChip || arch.mapping.mapper != MapperKind::Search {
        return None;
    }
    // The feature-map operand's K and B extents must be the window's.
    let role = dims.feature_map_role();
    let k_units =
        if role == Role::Y && dims.reduction == crate::mapping::Dim::Col { w.k().div_ceil(group) } else { w.k() };
    let b_units = if dims.reduction == crate::mapping::Dim::Stream { w.b().div_ceil(group) } else { w.b() };
    (dims.len(crate::mapping::Dim::Col) == k_units && dims.len(crate::mapping::Dim::Stream) == b_units).then_some(w)
}

#[allow(clippy::too_many_arguments)]
fn plan(
    arch: &Arch,
    req: &GemmRequest,
    geo: &GemmGeometry,
    mem: &MemParams,
    x: OperandStorage,
    y: OperandStorage,
    out_bits: u64,
) -> Result<Plan, GemmError> {
    let (r, c) = (arch.array.rows, arch.array.cols);
    let dims = PassDims::of(geo);
    let conv = on_chip_conv(arch, req, &dims, y.group as usize);
    let ctx = mapping_context(arch, geo, mem, x, y, out_bits, conv);
    let compulsory_dram_bits = compulsory_bits(&ctx);
    // Stream tiles multiply the folds (and their timeline records): a mapping may have at
    // most MAPPED_FOLDS, or the fold-by-fold count when that is already more.
    let canonical = Mapping::canonical(&dims, r, c).fold_count(&dims, r, c);
    let most = canonical.clamp(MAPPED_FOLDS, MAX_FOLDS);
    let mut capacity_hold = None;
    let chosen = match (req.mapping, arch.mapping.mapper) {
        (Some(m), _) => {
            let m = m.legalised(&dims, r, c);
            let folds = m.fold_count(&dims, r, c);
            if folds > most {
                let (pass, mapping) = (geo.pass, m.label());
                return Err(GemmError::MappingTooManyFolds { pass, mapping, folds, limit: most });
            }
            // Kept tiles that do not fit the buffers: that operand streams instead.
            let (m, hold) = crate::mapping::hold_to_capacity(&ctx, m);
            capacity_hold = hold;
            Some((m, crate::mapping::estimate(&ctx, &m)))
        }
        (None, MapperKind::Search) => {
            crate::mapping::search(&ctx, arch.mapping.objective, most).map(|s| (s.mapping, Some(s.estimate)))
        }
        (None, MapperKind::Folds) => None,
    };
    Ok(match chosen {
        Some((m, estimate)) => {
            let tracker = conv.and_then(FeatureMapTracker::new);
            let residency = TiledResidency::new(m, dims, tracker, y.group as usize, ctx.kept_capacity_bits());
            Plan {
                folds: m.plan_folds(&dims, r, c),
                residency: Some(residency),
                mapping: Some(m),
                estimate,
                capacity_hold,
                compulsory_dram_bits,
            }
        }
        None => Plan {
            folds: crate::array::plan_folds(geo, r, c),
            residency: None,
            mapping: None,
            estimate: None,
            capacity_hold: None,
            compulsory_dram_bits,
        },
    })
}

/// Feature-map elements the convolution touches (whole input rows that some output row
/// reads): every strip counted once.
fn touched_elements(w: &ConvWindow) -> u64 {
    let Some(mut t) = FeatureMapTracker::new(*w) else { return w.strips() * w.input_hw.1 as u64 };
    let ow = w.output_hw.1.max(1);
    let rows: u64 = (0..w.batch * w.output_hw.0).map(|g| t.bring(0..w.k(), g * ow..(g + 1) * ow).0).sum();
    rows * w.input_hw.1 as u64
}

/// Every unique operand element read once and every result written once, in bits.
fn compulsory_bits(ctx: &MappingContext) -> u64 {
    let dims = &ctx.dims;
    let fm = |role: Role| ctx.conv.filter(|_| dims.feature_map_role() == role);
    let input = |role: Role, s: OperandBits| match fm(role) {
        Some(w) => touched_elements(&w).div_ceil(s.group) * (s.exp + s.mant),
        None => dims.units(role) * (s.exp + s.mant),
    };
    let out = match fm(Role::Out) {
        Some(w) => touched_elements(&w),
        None => dims.units(Role::Out),
    };
    input(Role::X, ctx.x) + input(Role::Y, ctx.y) + out * ctx.out_bits
}

#[allow(clippy::too_many_arguments)]
fn finish(
    arch: &Arch,
    req: &GemmRequest,
    geometry: GemmGeometry,
    macs: u64,
    run: crate::array::ArrayRun,
    gate: MemorySystem,
    out: Option<Vec<f32>>,
    flags: Option<(ConvertFlags, ConvertFlags)>,
    out_shape: (usize, usize),
    converter_tail: u64,
    plan: Plan,
) -> GemmSim {
    let end = (run.cycles + converter_tail).max(gate.writeback_done);
    let tail = end - run.cycles;
    let mut breakdown = run.breakdown.clone();
    if tail > 0 {
        breakdown.stalls.add(crate::sim::StallReason::Dram, tail.saturating_sub(converter_tail));
        breakdown.stalls.add(crate::sim::StallReason::Converter, converter_tail.min(tail));
    }
    // Every mapping here fits its buffers (the mapper's choices by construction, forced ones
    // held to them): the residency model never had to drop a tile.
    debug_assert_eq!(gate.residency.dropped_parts, 0, "{:?} {:?}", plan.mapping, gate.residency);
    let busy_total: u64 = run.busy.iter().sum();
    let (r, c) = (arch.array.rows, arch.array.cols);
    GemmSim {
        arch: arch.name.clone(),
        cell: arch.array.cell.name(),
        array: (r, c),
        fidelity: req.fidelity,
        geometry,
        macs,
        cycles: end,
        tail_cycles: tail,
        breakdown,
        utilization: if end == 0 { 0.0 } else { busy_total as f64 / (end as f64 * (r * c) as f64) },
        busy_cell_cycles: busy_total,
        traffic: gate.traffic,
        fold_count: run.folds.len(),
        mapping: plan.mapping,
        mapping_estimate: plan.estimate,
        capacity_hold: plan.capacity_hold,
        residency: gate.residency,
        compulsory_dram_bits: plan.compulsory_dram_bits,
        folds: run.folds,
        busy: run.busy,
        flags,
        out,
        out_shape,
    }
}
