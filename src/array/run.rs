//! Strings a GEMM's folds together on the array at either fidelity: the schedule (stationary
//! loads overlapped with streaming when the cells have shadow registers, output-stationary
//! drains overlapped when the accumulators are double-buffered), the timeline, per-cell busy
//! cycles and, when asked, the numbers.

use serde::Serialize;

use super::fold::{closed_form, plan_folds, Fold, GemmGeometry, PhaseCycles};
use super::planes::PlaneStore;
use super::tick::{os_fold, ws_fold, TickCtx};
use crate::fmac::Accumulator;
use crate::gemm::{fast_gemm, GemmOperands, Pass};
use crate::sim::{StallReason, StallStats};

/// How finely the array is simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fidelity {
    /// Every cell and register stepped every cycle; numbers computed in the cells.
    Cycle,
    /// One event per fold phase, closed-form cycle counts; numbers from the fast kernel.
    Fold,
}

impl std::str::FromStr for Fidelity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cycle" => Ok(Fidelity::Cycle),
            "fold" => Ok(Fidelity::Fold),
            _ => Err(format!("unknown fidelity '{s}': allowed cycle, fold")),
        }
    }
}

/// The array's shape and timing options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ArrayConfig {
    /// Rows (index N).
    pub rows: usize,
    /// Columns (index K).
    pub cols: usize,
    /// Stationary shadow registers: the next fold's weights load while the current fold streams.
    pub shadow_stationary: bool,
    /// Double-buffered output-stationary accumulators: a fold's results drain while the next
    /// fold streams.
    pub double_buffered_accumulators: bool,
    /// Full-width multipliers (`bfp_full`): one group pair per cycle whatever the widths.
    pub full_width: bool,
}

/// When each phase of one fold ran, in cycles from the start of the GEMM (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FoldRecord {
    /// The fold.
    pub fold: Fold,
    /// Its phase lengths.
    pub phases: PhaseCycles,
    /// Stationary load `[start, end)`.
    pub load: (u64, u64),
    /// Streaming `[start, end)`.
    pub stream: (u64, u64),
    /// Drain `[start, end)`.
    pub drain: (u64, u64),
    /// Cycles the fold waited for its operands after the array could have started it, and why.
    pub wait: (u64, Option<StallReason>),
    /// Cycles its streaming was stretched by memory or converters, and why.
    pub stretch: (u64, Option<StallReason>),
}

/// What the array's schedule asks of the memory system around it (implemented by the memory
/// model; the ideal memory answers "ready now, no stretch").
pub trait FoldGate {
    /// The earliest cycle `fold`'s operands are on chip, given the folds placed so far.
    fn operands_ready(&mut self, fold: &Fold, placed: &[FoldRecord]) -> (u64, StallReason);
    /// Extra cycles memory or converters add to `fold`'s streaming phase.
    fn stream_stretch(&mut self, fold: &Fold, phases: &PhaseCycles) -> (u64, StallReason);
    /// Told once `rec` is on the timeline.
    fn placed(&mut self, rec: &FoldRecord);
}

/// Memory that always has the operands ready and never slows streaming.
pub struct IdealMemory;

impl FoldGate for IdealMemory {
    fn operands_ready(&mut self, _: &Fold, _: &[FoldRecord]) -> (u64, StallReason) {
        (0, StallReason::Dram)
    }
    fn stream_stretch(&mut self, _: &Fold, _: &PhaseCycles) -> (u64, StallReason) {
        (0, StallReason::Sram)
    }
    fn placed(&mut self, _: &FoldRecord) {}
}

/// Where the cycles of a run went, each cycle counted once: streaming first, then exposed
/// stationary loads, then exposed drains; stalls are listed by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CycleBreakdown {
    /// Cycles in which some fold was streaming.
    pub stream_cycles: u64,
    /// Cycles spent loading stationary data with nothing streaming.
    pub load_cycles: u64,
    /// Cycles spent draining results with nothing streaming or loading.
    pub drain_cycles: u64,
    /// Stall cycles by reason (waits before folds and stretched streaming).
    pub stalls: StallStats,
}

/// The result of running one GEMM on the array.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArrayRun {
    /// Total cycles, first load to last result.
    pub cycles: u64,
    /// Where they went.
    pub breakdown: CycleBreakdown,
    /// Every fold's timeline.
    pub folds: Vec<FoldRecord>,
    /// Chunk passes per cell, row-major `rows x cols`.
    pub busy: Vec<u64>,
    /// The output, row-major, when numerics were on.
    #[serde(skip)]
    pub out: Option<Vec<f32>>,
}

impl ArrayRun {
    /// Busy cell-cycles over available cell-cycles.
    pub fn utilization(&self) -> f64 {
        let busy: u64 = self.busy.iter().sum();
        let avail = self.busy.len() as u64 * self.cycles;
        if avail == 0 {
            0.0
        } else {
            busy as f64 / avail as f64
        }
    }
}

/// Runs one GEMM with ideal memory. `ops` carries the converted operands when the numbers
/// are wanted (and is required for them); without it only timing is simulated.
pub fn run_array(geo: &GemmGeometry, ops: Option<&GemmOperands>, cfg: &ArrayConfig, fidelity: Fidelity) -> ArrayRun {
    run_array_with(geo, ops, cfg, fidelity, &mut IdealMemory)
}

/// [`run_array`] with a memory system gating and stretching the folds.
pub fn run_array_with(
    geo: &GemmGeometry,
    ops: Option<&GemmOperands>,
    cfg: &ArrayConfig,
    fidelity: Fidelity,
    gate: &mut dyn FoldGate,
) -> ArrayRun {
    let (r, c) = (cfg.rows, cfg.cols);
    let folds = plan_folds(geo, r, c);
    let mut busy = vec![0u64; r * c];
    let mut phases = Vec::with_capacity(folds.len());
    let out = match fidelity {
        Fidelity::Fold => {
            let p = geo.beat_cycles();
            for f in &folds {
                phases.push(closed_form(geo, f, r, c));
                // Every used cell does T group pairs of p passes; used cells are the bottom-left
                // rows_used x cols_used block in every dataflow.
                for row in r - f.rows_used..r {
                    for col in 0..f.cols_used {
                        busy[row * c + col] += f.stream_len as u64 * p;
                    }
                }
            }
            ops.map(fast_gemm)
        }
        Fidelity::Cycle => {
            let stores = ops.map(|o| (PlaneStore::new(&o.x), PlaneStore::new(&o.y)));
            let acc_kind = ops.map_or(crate::fmac::AccumulatorKind::Fp32, |o| o.spec.accumulator);
            let ctx = TickCtx {
                rows: r,
                cols: c,
                geo: *geo,
                operands: stores.as_ref().map(|(x, y)| (x, y)),
                acc_kind,
                full_width: cfg.full_width,
            };
            let mut psums: Vec<Accumulator> =
                (0..geo.out_rows * geo.out_cols).map(|_| Accumulator::new(acc_kind)).collect();
            for f in &folds {
                let t = match geo.pass {
                    Pass::BackwardWeight => os_fold(&ctx, f, &mut psums),
                    _ => ws_fold(&ctx, f, &mut psums),
                };
                phases.push(t.phases);
                busy.iter_mut().zip(&t.busy).for_each(|(a, b)| *a += b);
            }
            ops.map(|_| psums.iter().map(Accumulator::result).collect())
        }
    };
    let records = schedule(geo.pass, cfg, &folds, &phases, gate);
    let cycles = records.iter().map(|f| f.stream.1.max(f.drain.1).max(f.load.1)).max().unwrap_or(0);
    ArrayRun { cycles, breakdown: breakdown(&records), folds: records, busy, out }
}

/// Places the fold phases on the timeline. A fold's first phase starts when the array allows
/// it and `gate` says its operands are on chip; the difference is a stall.
fn schedule(
    pass: Pass,
    cfg: &ArrayConfig,
    folds: &[Fold],
    phases: &[PhaseCycles],
    gate: &mut dyn FoldGate,
) -> Vec<FoldRecord> {
    let mut out: Vec<FoldRecord> = Vec::with_capacity(folds.len());
    let (mut prev_load_end, mut prev_stream_start, mut prev_stream_end) = (0u64, 0u64, 0u64);
    let (mut prev_drain_start, mut prev_drain_end) = (0u64, 0u64);
    for (f, ph) in folds.iter().zip(phases) {
        let (ready, wait_reason) = gate.operands_ready(f, &out);
        let (stretch, stretch_reason) = gate.stream_stretch(f, ph);
        let stretch_of = |n: u64| (n, (n > 0).then_some(stretch_reason));
        let rec = if pass == Pass::BackwardWeight {
            let array_free = if cfg.double_buffered_accumulators {
                prev_stream_end.max(prev_drain_start)
            } else {
                prev_stream_end.max(prev_drain_end)
            };
            let stream_start = array_free.max(ready);
            let stream_end = stream_start + ph.stream + stretch;
            let drain_start = stream_end.max(prev_drain_end);
            let wait = stream_start - array_free;
            FoldRecord {
                fold: *f,
                phases: *ph,
                load: (stream_start, stream_start),
                stream: (stream_start, stream_end),
                drain: (drain_start, drain_start + ph.drain),
                wait: (wait, (wait > 0).then_some(wait_reason)),
                stretch: stretch_of(stretch),
            }
        } else {
            let load_free = if cfg.shadow_stationary { prev_load_end.max(prev_stream_start) } else { prev_stream_end };
            let load_start = load_free.max(ready);
            let load_end = load_start + ph.load;
            let stream_start = load_end.max(prev_stream_end);
            let stream_end = stream_start + ph.stream + stretch;
            // The wait that delayed streaming (a shadow load may hide part of it).
            let unconstrained = (load_free + ph.load).max(prev_stream_end);
            let wait = stream_start - unconstrained;
            FoldRecord {
                fold: *f,
                phases: *ph,
                load: (load_start, load_end),
                stream: (stream_start, stream_end),
                drain: (stream_end, stream_end),
                wait: (wait, (wait > 0).then_some(wait_reason)),
                stretch: stretch_of(stretch),
            }
        };
        prev_load_end = rec.load.1;
        prev_stream_start = rec.stream.0;
        prev_stream_end = rec.stream.1;
        prev_drain_start = rec.drain.0;
        prev_drain_end = rec.drain.1;
        gate.placed(&rec);
        out.push(rec);
    }
    out
}

/// Attributes every cycle once: streaming, else loading, else draining.
fn breakdown(records: &[FoldRecord]) -> CycleBreakdown {
    // Sweep over interval endpoints with one counter per phase kind.
    let mut ev: Vec<(u64, usize, i64)> = Vec::with_capacity(records.len() * 6);
    for r in records {
        for (kind, (s, e)) in [(0, r.stream), (1, r.load), (2, r.drain)] {
            if e > s {
                ev.push((s, kind, 1));
                ev.push((e, kind, -1));
            }
        }
    }
    ev.sort_unstable();
    let mut active = [0i64; 3];
    let mut out = CycleBreakdown::default();
    for r in records {
        if let (n, Some(reason)) = r.wait {
            out.stalls.add(reason, n);
        }
        if let (n, Some(reason)) = r.stretch {
            out.stalls.add(reason, n);
        }
    }
    let mut last = 0u64;
    for (t, kind, delta) in ev {
        let span = t - last;
        if active[0] > 0 {
            // Stretched streaming counts as stall, not as streaming.
            out.stream_cycles += span;
        } else if active[1] > 0 {
            out.load_cycles += span;
        } else if active[2] > 0 {
            out.drain_cycles += span;
        }
        active[kind] += delta;
        last = t;
    }
    let stretched: u64 = records.iter().map(|r| r.stretch.0).sum();
    out.stream_cycles -= stretched.min(out.stream_cycles);
    out
}
