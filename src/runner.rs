//! The iteration runner of `fastbfp run`: iterations of a workload on synthetic (or recorded)
//! operand values, not a training loop (that is [`crate::train`]). Lowers every layer to its GEMMs,
//! simulates each on the arch (in parallel; each GEMM is an independent simulation and the
//! run executes them back to back), prices them, measures their numerical quality, and sums
//! it all up. Writes nothing: `report` turns the result into files.

use rayon::prelude::*;
use serde::Serialize;

use crate::accel::{simulate_gemm, spec_for, GemmRequest, GemmSim};
use crate::arch::{Arch, TensorClass};
use crate::array::Fidelity;
use crate::bfp::ConvertFlags;
use crate::cost::{area, energy, Actions, AreaBreakdown, EnergyBreakdown};
use crate::gemm::{GemmSpec, Pass, Quality};
use crate::mapping::{PassDims, Role};
use crate::memory::Traffic;
use crate::sim::StallStats;
use crate::workload::{DataMove, LoweredGemm, Workload, WorkloadError};

/// Version of the `report.json` layout; bumped when a field changes meaning or disappears.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Output rows sampled per GEMM for the quality figures (spread evenly), so the binary32
/// reference stays cheap on large layers.
pub const QUALITY_SAMPLE_ROWS: usize = 64;
/// Output columns sampled per GEMM.
pub const QUALITY_SAMPLE_COLS: usize = 256;

/// How to run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RunOptions {
    /// Array fidelity.
    pub fidelity: Fidelity,
    /// Compute the numbers (and their quality against binary32).
    pub numerics: bool,
    /// Training iterations.
    pub iterations: usize,
    /// Seed of the synthetic data.
    pub seed: u64,
    /// A mapping forced on every GEMM (legalised per GEMM); `None`: the arch's mapper.
    pub mapping: Option<crate::mapping::Mapping>,
}

/// One conversion job of the run (DESIGN §3): its number and what it converted.
#[derive(Debug, Clone, Serialize)]
pub struct ConversionJob {
    /// Job number (seeds the LFSR lanes).
    pub job: u64,
    /// `layer.pass.x` or `layer.pass.y`, with the iteration.
    pub tensor: String,
    /// Tensor class.
    pub class: TensorClass,
    /// Mantissa bits.
    pub mantissa_bits: u32,
}

/// One simulated GEMM of the run.
#[derive(Debug, Clone, Serialize)]
pub struct GemmRecord {
    /// Training iteration.
    pub iteration: usize,
    /// The lowered GEMM (layer, pass, shapes, MACs, classes).
    pub gemm: LoweredGemm,
    /// Mantissa bits of X and Y.
    pub mantissa_bits: (u32, u32),
    /// Cycle the GEMM starts at in the run (GEMMs run back to back).
    pub start_cycle: u64,
    /// Its simulation.
    pub sim: GemmSim,
    /// Counted actions.
    pub actions: Actions,
    /// Energy by component.
    pub energy: EnergyBreakdown,
    /// Error against binary32 on a sample of output rows.
    pub quality: Option<Quality>,
    /// Conversion flags of X and Y.
    pub flags: Option<(ConvertFlags, ConvertFlags)>,
}

/// Sums over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Cycles of the whole run.
    pub cycles: u64,
    /// Cycles per pass, in [`Pass::ALL`] order.
    pub cycles_per_pass: [u64; 3],
    /// Wall-clock time at the arch's clock, in microseconds.
    pub time_us: f64,
    /// MACs.
    pub macs: u64,
    /// Busy cell-cycles over available cell-cycles.
    pub utilization: f64,
    /// Streaming cycles.
    pub stream_cycles: u64,
    /// Exposed stationary-load cycles.
    pub load_cycles: u64,
    /// Exposed drain cycles.
    pub drain_cycles: u64,
    /// Stall cycles by reason.
    pub stalls: StallStats,
    /// Bits moved.
    pub traffic: Traffic,
    /// Compulsory DRAM bits of the GEMMs: every unique operand element read once, every result
    /// written once ([`GemmSim::compulsory_dram_bits`] summed).
    pub compulsory_dram_bits: u64,
    /// GEMM DRAM bits moved over the compulsory bits (1 = no re-reads at all).
    pub dram_over_compulsory: f64,
    /// Energy by component.
    pub energy: EnergyBreakdown,
    /// Area by component.
    pub area: AreaBreakdown,
    /// Busy cycles per cell summed over the run (row-major).
    pub busy_per_cell: Vec<u64>,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The arch.
    pub arch: Arch,
    /// Workload name.
    pub workload: String,
    /// Options used.
    pub options: RunOptions,
    /// Every GEMM, in execution order.
    pub gemms: Vec<GemmRecord>,
    /// Zero-MAC nodes and the data they move per iteration.
    pub data_moves: Vec<DataMove>,
    /// Every conversion job, in order.
    pub jobs: Vec<ConversionJob>,
    /// Sums.
    pub totals: Totals,
}

/// Errors of a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The workload's data could not be produced.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// A GEMM was refused (shapes, values).
    #[error("{layer} {pass}: {error}")]
    Gemm {
        /// Layer name.
        layer: String,
        /// Pass.
        pass: Pass,
        /// Why (its text is part of this message, so it is not a `source()`).
        error: Box<crate::gemm::GemmError>,
    },
    /// A GEMM with so many folds that the run's memory estimate is over the limit.
    #[error(
        "{layer} {pass}: {folds} folds on a {rows} x {cols} array; the run would need about {estimate_mib} MiB \
         (limit {limit_mib} MiB: folds are simulated with their timelines); use a larger array"
    )]
    TooManyFolds {
        /// Layer of the largest GEMM.
        layer: String,
        /// Its pass.
        pass: Pass,
        /// Its folds.
        folds: u64,
        /// Array rows.
        rows: usize,
        /// Array columns.
        cols: usize,
        /// Estimated memory of the run, MiB.
        estimate_mib: u64,
        /// The limit, MiB.
        limit_mib: u64,
    },
    /// The run would keep more records than memory allows.
    #[error(
        "{iterations} iterations x {gemms} GEMMs on a {rows} x {cols} array would keep about {estimate_mib} MiB of \
         per-GEMM records (limit {limit_mib} MiB); run fewer iterations (at most {max_iterations} here)"
    )]
    TooLarge {
        /// Iterations asked for.
        iterations: usize,
        /// GEMMs per iteration.
        gemms: usize,
        /// Array rows.
        rows: usize,
        /// Array columns.
        cols: usize,
        /// Estimated memory, MiB.
        estimate_mib: u64,
        /// The limit, MiB.
        limit_mib: u64,
        /// Most iterations that fit.
        max_iterations: u64,
    },
}

/// Memory the per-GEMM records of one run may take: 2 GiB.
pub const RECORD_MEMORY_LIMIT_BYTES: u64 = 2 << 30;

/// The bytes one GEMM's record keeps: the record itself, the per-cell busy counts, and its
/// share of `report.json`, which is built in memory from the records (about 6 KiB a GEMM;
/// measured 15 KB a record in all on a 32 x 32 array). The fold timelines kept come on top:
/// [`FOLD_RECORD_BYTES`] a fold, at most [`TIMELINE_FOLDS_PER_GEMM`] a GEMM and only in
/// iteration 0.
pub fn record_bytes(arch: &Arch) -> u64 {
    std::mem::size_of::<GemmRecord>() as u64 + 8 * arch.array.rows as u64 * arch.array.cols as u64 + 512 + 6144
}

/// Bytes of one fold's timeline entry.
pub const FOLD_RECORD_BYTES: u64 = std::mem::size_of::<crate::array::FoldRecord>() as u64;

/// Folds of one GEMM whose timeline a run keeps (iteration 0 only, for the fold-timeline plot):
/// a GEMM with more keeps none and is drawn as one span. While a GEMM is simulated its whole
/// timeline is in memory, bounded by `accel::MAX_FOLDS`; after it, memory no longer depends
/// on the fold count.
pub const TIMELINE_FOLDS_PER_GEMM: usize = 2000;

/// Bytes one fold takes while its GEMM is simulated (timeline entry, schedule and memory-model
/// state; measured 480 on a 1 x 1 array).
pub const FOLD_WORK_BYTES: u64 = 512;

/// GEMMs with more folds than this are simulated one at a time (others run beside them), so
/// the memory of a run is that of its largest GEMM plus at most this many folds per other
/// worker thread.
pub const HEAVY_GEMM_FOLDS: u64 = 250_000;

/// Folds of `g` on `arch` (as the array cuts it; 0 for SCALE-Sim cells, which keep no folds).
fn gemm_folds(arch: &Arch, g: &LoweredGemm) -> u64 {
    if matches!(arch.array.cell, crate::arch::CellKind::Scalesim { .. }) {
        return 0;
    }
    let red = match g.pass {
        Pass::Forward | Pass::BackwardWeight => g.x_shape.1,
        Pass::BackwardData => g.x_shape.0,
    };
    let units = if arch.array.cell.is_bfp() { red.div_ceil(arch.bfp.group.max(1)) } else { red };
    crate::array::estimate::fold_count(g.pass, g.out_shape, units, arch.array.rows, arch.array.cols)
}

/// Checks a run's size before anything runs: the records it keeps (per-GEMM records of every
/// iteration, fold timelines of iteration 0) against [`RECORD_MEMORY_LIMIT_BYTES`], and at cycle
/// fidelity each GEMM's tick-level work against
/// [`crate::array::estimate::MAX_TICK_CELL_CYCLES`]; the error gives the estimate and the limit.
pub fn check_run_size(arch: &Arch, lowered: &[LoweredGemm], options: &RunOptions) -> Result<(), RunError> {
    let (rows, cols) = (arch.array.rows, arch.array.cols);
    let kept_folds: u64 =
        lowered.iter().map(|g| gemm_folds(arch, g)).filter(|&f| f <= TIMELINE_FOLDS_PER_GEMM as u64).sum();
    let timelines = kept_folds.saturating_mul(FOLD_RECORD_BYTES);
    let per_iteration = record_bytes(arch).saturating_mul(lowered.len().max(1) as u64);
    let estimate = per_iteration.saturating_mul(options.iterations as u64).saturating_add(timelines);
    if estimate > RECORD_MEMORY_LIMIT_BYTES {
        return Err(RunError::TooLarge {
            iterations: options.iterations,
            gemms: lowered.len(),
            rows,
            cols,
            estimate_mib: estimate >> 20,
            limit_mib: RECORD_MEMORY_LIMIT_BYTES >> 20,
            max_iterations: RECORD_MEMORY_LIMIT_BYTES.saturating_sub(timelines) / per_iteration.max(1),
        });
    }
    // While simulated: the largest GEMM, and the other workers' GEMMs (at most HEAVY_GEMM_FOLDS).
    if let Some((g, folds)) = lowered.iter().map(|g| (g, gemm_folds(arch, g))).max_by_key(|&(_, f)| f) {
        let others = (rayon::current_num_threads().min(lowered.len()) as u64).saturating_sub(1);
        let working = folds.saturating_add(others * folds.min(HEAVY_GEMM_FOLDS)).saturating_mul(FOLD_WORK_BYTES);
        if estimate.saturating_add(working) > RECORD_MEMORY_LIMIT_BYTES {
            return Err(RunError::TooManyFolds {
                layer: g.layer.clone(),
                pass: g.pass,
                folds,
                rows,
                cols,
                estimate_mib: estimate.saturating_add(working) >> 20,
                limit_mib: RECORD_MEMORY_LIMIT_BYTES >> 20,
            });
        }
    }
    if options.fidelity == Fidelity::Cycle {
        let limit = crate::array::estimate::MAX_TICK_CELL_CYCLES;
        for g in lowered {
            let folds = gemm_folds(arch, g);
            let cell_cycles = crate::array::estimate::tick_cell_cycles(rows, cols, folds);
            if cell_cycles > limit {
                let source =
                    crate::gemm::GemmError::TooMuchTickWork { pass: g.pass, folds, rows, cols, cell_cycles, limit };
                return Err(RunError::Gemm { layer: g.layer.clone(), pass: g.pass, error: Box::new(source) });
            }
        }
    }
    Ok(())
}

/// The numerics of one GEMM: the arch's per class, with the workload's precision policy.
fn gemm_spec(arch: &Arch, wl: &Workload, g: &LoweredGemm, iteration: usize) -> GemmSpec {
    let mut spec = spec_for(arch, g.pass);
    let lp = wl.precision(&g.layer, iteration);
    let pick = |c: TensorClass| match c {
        TensorClass::Weights => lp.weights,
        TensorClass::Activations => lp.activations,
        TensorClass::Gradients => lp.gradients,
    };
    if let Some(p) = pick(g.x_class) {
        spec.x.mantissa_bits = p.mantissa_bits;
        spec.x.rounding = p.rounding;
    }
    if let Some(p) = pick(g.y_class) {
        spec.y.mantissa_bits = p.mantissa_bits;
        spec.y.rounding = p.rounding;
    }
    spec
}

/// Quality on an evenly spread sample of at most [`QUALITY_SAMPLE_ROWS`] x
/// [`QUALITY_SAMPLE_COLS`] outputs: each reference value is the f64 dot product of the
/// unconverted binary32 inputs, rounded once to binary32.
fn sampled_quality(
    pass: Pass,
    x: &[f32],
    xs: (usize, usize),
    y: &[f32],
    ys: (usize, usize),
    out: &[f32],
    cols: usize,
) -> Quality {
    let rows = out.len() / cols.max(1);
    let pick = |n: usize, most: usize| -> Vec<usize> { (0..n).step_by(n.div_ceil(most).max(1)).collect() };
    let (us, vs) = (pick(rows, QUALITY_SAMPLE_ROWS), pick(cols, QUALITY_SAMPLE_COLS));
    // Gather each sampled output row's X vector and each column's Y vector over the reduction
    // once, so the dot products run on contiguous memory: a row of the operand when its
    // reduction runs along its columns, else a column.
    let dims = PassDims::layout(pass);
    let along = |m: &[f32], (rows, cols): (usize, usize), role: Role, i: usize| -> Vec<f64> {
        if dims.reduction_axis(role) == Some(1) {
            m[i * cols..(i + 1) * cols].iter().map(|&a| a as f64).collect()
        } else {
            (0..rows).map(|r| m[r * cols + i] as f64).collect()
        }
    };
    let xv: Vec<Vec<f64>> = us.iter().map(|&u| along(x, xs, Role::X, u)).collect();
    let yv: Vec<Vec<f64>> = vs.iter().map(|&v| along(y, ys, Role::Y, v)).collect();
    let (mut got, mut want) = (Vec::with_capacity(us.len() * vs.len()), Vec::with_capacity(us.len() * vs.len()));
    for (a, &u) in xv.iter().zip(&us) {
        for (b, &v) in yv.iter().zip(&vs) {
            let dot: f64 = a.iter().zip(b).map(|(p, q)| p * q).sum();
            want.push(dot as f32);
            got.push(out[u * cols + v]);
        }
    }
    Quality::measure(&got, &want)
}

/// Runs `options.iterations` training iterations of `wl` on `arch`. `progress` is called once
/// per finished GEMM (from worker threads).
pub fn run_iterations(
    arch: &Arch,
    wl: &Workload,
    options: &RunOptions,
    progress: &(dyn Fn() + Sync),
) -> Result<RunReport, RunError> {
    let lowered = wl.lower();
    // Every GEMM of every iteration keeps a record: refuse runs whose records would not fit, or
    // whose tick-level work would not finish, before allocating anything.
    check_run_size(arch, &lowered, options)?;
    let work: Vec<(usize, usize, &LoweredGemm)> = (0..options.iterations)
        .flat_map(|it| lowered.iter().map(move |g| (it, 0, g)))
        .enumerate()
        .map(|(i, (it, _, g))| (it, i, g))
        .collect();
    let heavy = std::sync::Mutex::new(());
    let results: Vec<Result<GemmRecord, RunError>> = work
        .par_iter()
        .map(|&(iteration, index, g)| {
            // Fold-heavy GEMMs one at a time (see HEAVY_GEMM_FOLDS); the results are the same.
            let _heavy = (gemm_folds(arch, g) > HEAVY_GEMM_FOLDS).then(|| heavy.lock());
            let spec = gemm_spec(arch, wl, g, iteration);
            let (x, y) = if options.numerics { wl.operands(g, options.seed)? } else { (Vec::new(), Vec::new()) };
            let (xn, yn) = (format!("{}.{}.x", g.layer, g.pass), format!("{}.{}.y", g.layer, g.pass));
            let req = GemmRequest {
                spec,
                x: (&x, g.x_shape.0, g.x_shape.1),
                y: (&y, g.y_shape.0, g.y_shape.1),
                names: (&xn, &yn),
                fidelity: options.fidelity,
                numerics: options.numerics,
                first_job: 2 * index as u64,
                conv: wl.conv_window(g),
                mapping: options.mapping,
            };
            let mut sim = simulate_gemm(arch, &req).map_err(|source| RunError::Gemm {
                layer: g.layer.clone(),
                pass: g.pass,
                error: Box::new(source),
            })?;
            let quality =
                sim.out.as_ref().map(|out| sampled_quality(g.pass, &x, g.x_shape, &y, g.y_shape, out, g.out_shape.1));
            let mut actions = Actions::from_gemm(&sim, arch);
            // Independent copies of the same GEMM (attention heads, grouped convolutions) run
            // back to back: one is simulated, the figures are multiplied.
            if g.instances > 1 {
                let k = g.instances as u64;
                scale_sim(&mut sim, k);
                actions = actions.scaled(k);
            }
            let flags = sim.flags;
            sim.out = None; // the numbers are not kept: memory stays bounded on long runs
            if iteration > 0 || sim.folds.len() > TIMELINE_FOLDS_PER_GEMM {
                sim.folds = Vec::new(); // fold_count stays; the timeline plot draws one span
            }
            progress();
            Ok(GemmRecord {
                iteration,
                gemm: g.clone(),
                mantissa_bits: (spec.x.mantissa_bits, spec.y.mantissa_bits),
                start_cycle: 0,
                energy: energy(arch, &actions),
                actions,
                sim,
                quality,
                flags,
            })
        })
        .collect();
    let mut gemms = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut totals =
        Totals { area: area(arch), busy_per_cell: vec![0; arch.array.rows * arch.array.cols], ..Totals::default() };
    let mut jobs = Vec::with_capacity(2 * gemms.len());
    let mut actions = Actions::default();
    let mut busy_total = 0u64;
    for (i, r) in gemms.iter_mut().enumerate() {
        r.start_cycle = totals.cycles;
        totals.cycles += r.sim.cycles;
        let pi = Pass::ALL.iter().position(|p| *p == r.gemm.pass).unwrap_or(0);
        totals.cycles_per_pass[pi] += r.sim.cycles;
        totals.macs += r.sim.macs;
        totals.stream_cycles += r.sim.breakdown.stream_cycles;
        totals.load_cycles += r.sim.breakdown.load_cycles;
        totals.drain_cycles += r.sim.breakdown.drain_cycles;
        for (reason, c) in &r.sim.breakdown.stalls.by_reason {
            totals.stalls.add(*reason, *c);
        }
        add_traffic(&mut totals.traffic, &r.sim.traffic);
        totals.compulsory_dram_bits += r.sim.compulsory_dram_bits;
        actions.add(&r.actions);
        for (t, b) in totals.busy_per_cell.iter_mut().zip(&r.sim.busy) {
            *t += b;
        }
        busy_total += r.sim.busy_cell_cycles;
        for (k, (class, m)) in
            [(r.gemm.x_class, r.mantissa_bits.0), (r.gemm.y_class, r.mantissa_bits.1)].into_iter().enumerate()
        {
            jobs.push(ConversionJob {
                job: 2 * i as u64 + k as u64,
                tensor: format!(
                    "it{}.{}.{}.{}",
                    r.iteration,
                    r.gemm.layer,
                    r.gemm.pass,
                    if k == 0 { "x" } else { "y" }
                ),
                class,
                mantissa_bits: m,
            });
        }
    }
    totals.energy = energy(arch, &actions);
    let moved = totals.traffic.dram_bits() - totals.traffic.dram_transpose_bits;
    totals.dram_over_compulsory =
        if totals.compulsory_dram_bits == 0 { 0.0 } else { moved as f64 / totals.compulsory_dram_bits as f64 };
    totals.time_us = totals.cycles as f64 * arch.cycle_ns() / 1000.0;
    let cells = (arch.array.rows * arch.array.cols) as f64;
    totals.utilization = if totals.cycles == 0 { 0.0 } else { busy_total as f64 / (cells * totals.cycles as f64) };
    Ok(RunReport {
        schema_version: REPORT_SCHEMA_VERSION,
        arch: arch.clone(),
        workload: wl.name.clone(),
        options: *options,
        gemms,
        data_moves: wl.data_moves(),
        jobs,
        totals,
    })
}

/// Multiplies a GEMM's additive figures by `k` identical, back-to-back copies.
fn scale_sim(s: &mut GemmSim, k: u64) {
    s.cycles *= k;
    s.tail_cycles *= k;
    s.macs *= k;
    s.breakdown.stream_cycles *= k;
    s.breakdown.load_cycles *= k;
    s.breakdown.drain_cycles *= k;
    for (_, c) in s.breakdown.stalls.by_reason.iter_mut() {
        *c *= k;
    }
    let t = s.traffic;
    let m = |x: u64| x * k;
    s.traffic.dram_read_exp_bits = m(t.dram_read_exp_bits);
    s.traffic.dram_read_mant_bits = m(t.dram_read_mant_bits);
    s.traffic.dram_write_bits = m(t.dram_write_bits);
    s.traffic.dram_transpose_bits = m(t.dram_transpose_bits);
    s.traffic.sram_write_exp_bits = m(t.sram_write_exp_bits);
    s.traffic.sram_write_mant_bits = m(t.sram_write_mant_bits);
    s.traffic.sram_read_exp_bits = m(t.sram_read_exp_bits);
    s.traffic.sram_read_mant_bits = m(t.sram_read_mant_bits);
    s.traffic.converted_groups = m(t.converted_groups);
    s.traffic.psum_buffer_read_bits = m(t.psum_buffer_read_bits);
    s.traffic.psum_buffer_write_bits = m(t.psum_buffer_write_bits);
    s.traffic.dram_psum_bits = m(t.dram_psum_bits);
    s.compulsory_dram_bits *= k;
    s.busy.iter_mut().for_each(|b| *b *= k);
    s.busy_cell_cycles *= k;
}

fn add_traffic(t: &mut Traffic, o: &Traffic) {
    t.dram_read_exp_bits += o.dram_read_exp_bits;
    t.dram_read_mant_bits += o.dram_read_mant_bits;
    t.dram_write_bits += o.dram_write_bits;
    t.dram_transpose_bits += o.dram_transpose_bits;
    t.sram_write_exp_bits += o.sram_write_exp_bits;
    t.sram_write_mant_bits += o.sram_write_mant_bits;
    t.sram_read_exp_bits += o.sram_read_exp_bits;
    t.sram_read_mant_bits += o.sram_read_mant_bits;
    t.converted_groups += o.converted_groups;
    t.psum_buffer_read_bits += o.psum_buffer_read_bits;
    t.psum_buffer_write_bits += o.psum_buffer_write_bits;
    t.dram_psum_bits += o.dram_psum_bits;
}
