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
use crate::sim::{Cycle, EventQueue, StallReason, StallStats};

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
    /// Operand buffers: how many folds may have their operands on chip (or on the way) at once.
    fn buffer_slots(&self) -> usize;
    /// `fold`'s operand buffer is free at cycle `now`: fetch its operands; returns the cycle
    /// they are on chip and, should the fold wait for them, why.
    fn fetch_operands(&mut self, fold: &Fold, now: Cycle) -> (Cycle, StallReason);
    /// Extra cycles memory or converters add to `fold`'s streaming phase, which starts at `now`.
    fn stream_stretch(&mut self, fold: &Fold, phases: &PhaseCycles, now: Cycle) -> (u64, StallReason);
    /// `rec` has finished (its results leave the array at `now`).
    fn finished(&mut self, rec: &FoldRecord, now: Cycle);
}

/// Memory that always has the operands ready and never slows streaming.
pub struct IdealMemory;

impl FoldGate for IdealMemory {
    fn buffer_slots(&self) -> usize {
        usize::MAX
    }
    fn fetch_operands(&mut self, _: &Fold, now: Cycle) -> (Cycle, StallReason) {
        (now, StallReason::Dram)
    }
    fn stream_stretch(&mut self, _: &Fold, _: &PhaseCycles, _: Cycle) -> (u64, StallReason) {
        (0, StallReason::Sram)
    }
    fn finished(&mut self, _: &FoldRecord, _: Cycle) {}
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

/// Events of the fold schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// Fold `f`'s operands are on chip.
    OperandsReady(usize),
    /// Fold `f`'s stationary load finished.
    LoadEnd(usize),
    /// Fold `f`'s streaming finished.
    StreamEnd(usize),
    /// Fold `f`'s drain finished.
    DrainEnd(usize),
}

/// Per-fold progress of the schedule.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    ready: Option<(u64, StallReason)>,
    load: Option<(u64, u64)>,
    stream: Option<(u64, u64)>,
    drain: Option<(u64, u64)>,
    /// The cycle the array alone would have let the fold begin.
    array_free: u64,
    stretch: (u64, Option<StallReason>),
}

/// Places the fold phases on the timeline with a discrete-event loop: events leave the queue
/// in cycle order (ties in the order they were scheduled), and after each one every fold
/// whose conditions now hold moves on. A fold's operands are fetched when its buffer frees
/// (the gate's slots), its first phase starts when the array allows it and its operands are on
/// chip (the difference is a stall), and folds go through the array in order:
///
/// - weight stationary: load when the load path is free (with shadow registers, once the
///   previous fold's load ended and its streaming began; otherwise once it finished streaming),
///   stream when the load ended and the previous fold finished streaming;
/// - output stationary: stream once the previous fold finished streaming and its accumulators
///   were handed to the drain (double-buffered) or drained; drain once streaming ended and the
///   previous drain finished.
fn schedule(
    pass: Pass,
    cfg: &ArrayConfig,
    folds: &[Fold],
    phases: &[PhaseCycles],
    gate: &mut dyn FoldGate,
) -> Vec<FoldRecord> {
    let n = folds.len();
    let os = pass == Pass::BackwardWeight;
    let mut st = vec![Progress::default(); n];
    let mut queue: EventQueue<Event> = EventQueue::new();
    let slots = gate.buffer_slots().max(1);
    let mut fetched = 0usize;
    let fetch = |f: usize, now: u64, gate: &mut dyn FoldGate, queue: &mut EventQueue<Event>| {
        let (at, reason) = gate.fetch_operands(&folds[f], Cycle(now));
        queue.push(at.max(Cycle(now)), Event::OperandsReady(f));
        reason
    };
    let mut reasons = vec![StallReason::Dram; n];
    while fetched < n.min(slots) {
        reasons[fetched] = fetch(fetched, 0, gate, &mut queue);
        fetched += 1;
    }
    let mut now = 0u64;
    // Folds before `head` have every phase placed.
    let mut head = 0usize;
    loop {
        while head < n && st[head].drain.is_some() {
            head += 1;
        }
        // Move every fold on as far as the current cycle allows, in fold order.
        for f in head..n {
            let prev = f.checked_sub(1).map(|p| st[p]);
            let ph = phases[f];
            let Some((ready, _)) = st[f].ready else { break };
            if os {
                if st[f].stream.is_none() {
                    let free = match prev {
                        None => Some(0),
                        Some(p) => match (p.stream, p.drain) {
                            (Some((_, se)), Some((ds, de))) => {
                                Some(if cfg.double_buffered_accumulators { se.max(ds) } else { se.max(de) })
                            }
                            _ => None,
                        },
                    };
                    let Some(free) = free else { break };
                    let start = free.max(ready);
                    if start > now {
                        break;
                    }
                    st[f].array_free = free;
                    let (stretch, why) = gate.stream_stretch(&folds[f], &ph, Cycle(start));
                    st[f].stretch = (stretch, (stretch > 0).then_some(why));
                    st[f].load = Some((start, start));
                    st[f].stream = Some((start, start + ph.stream + stretch));
                    queue.push(Cycle(start + ph.stream + stretch), Event::StreamEnd(f));
                }
                if st[f].drain.is_none() {
                    let Some((_, se)) = st[f].stream else { break };
                    let prev_drained = match prev {
                        None => Some(0),
                        Some(p) => p.drain.map(|(_, de)| de),
                    };
                    let Some(pd) = prev_drained else { break };
                    if se > now || pd > now {
                        break;
                    }
                    let ds = se.max(pd);
                    st[f].drain = Some((ds, ds + ph.drain));
                    queue.push(Cycle(ds + ph.drain), Event::DrainEnd(f));
                }
            } else {
                if st[f].load.is_none() {
                    let free = match prev {
                        None => Some(0),
                        Some(p) if cfg.shadow_stationary => match (p.load, p.stream) {
                            (Some((_, le)), Some((ss, _))) => Some(le.max(ss)),
                            _ => None,
                        },
                        Some(p) => p.stream.map(|(_, se)| se),
                    };
                    let Some(free) = free else { break };
                    let start = free.max(ready);
                    if start > now {
                        break;
                    }
                    st[f].array_free = free;
                    st[f].load = Some((start, start + ph.load));
                    queue.push(Cycle(start + ph.load), Event::LoadEnd(f));
                }
                if st[f].stream.is_none() {
                    let Some((_, le)) = st[f].load else { break };
                    let prev_end = match prev {
                        None => Some(0),
                        Some(p) => p.stream.map(|(_, se)| se),
                    };
                    let Some(pe) = prev_end else { break };
                    if le > now || pe > now {
                        break;
                    }
                    let start = le.max(pe);
                    let (stretch, why) = gate.stream_stretch(&folds[f], &ph, Cycle(start));
                    st[f].stretch = (stretch, (stretch > 0).then_some(why));
                    let end = start + ph.stream + stretch;
                    st[f].stream = Some((start, end));
                    st[f].drain = Some((end, end));
                    queue.push(Cycle(end), Event::StreamEnd(f));
                }
            }
        }
        let Some((at, ev)) = queue.pop() else { break };
        now = at.0;
        match ev {
            Event::OperandsReady(f) => st[f].ready = Some((now, reasons[f])),
            Event::LoadEnd(_) | Event::DrainEnd(_) => {}
            Event::StreamEnd(_) => {
                // The fold's operand buffer is free: fetch for the fold waiting for it.
                if fetched < n {
                    reasons[fetched] = fetch(fetched, now, gate, &mut queue);
                    fetched += 1;
                }
            }
        }
        if let Event::StreamEnd(f) | Event::DrainEnd(f) = ev {
            let done = if os { matches!(ev, Event::DrainEnd(_)) } else { true };
            if done {
                let rec = record(folds[f], phases[f], &st[f], os, f.checked_sub(1).map(|p| st[p]));
                gate.finished(&rec, Cycle(now));
            }
        }
    }
    (0..n).map(|f| record(folds[f], phases[f], &st[f], os, f.checked_sub(1).map(|p| st[p]))).collect()
}

/// The timeline entry of a placed fold, with its wait measured against when the array alone
/// would have let it run.
fn record(fold: Fold, phases: PhaseCycles, p: &Progress, os: bool, prev: Option<Progress>) -> FoldRecord {
    let (load, stream, drain) = (p.load.unwrap_or_default(), p.stream.unwrap_or_default(), p.drain.unwrap_or_default());
    let reason = p.ready.map(|r| r.1);
    let wait = if os {
        stream.0 - p.array_free
    } else {
        let prev_end = prev.and_then(|q| q.stream).map_or(0, |s| s.1);
        stream.0 - (p.array_free + phases.load).max(prev_end)
    };
    FoldRecord {
        fold,
        phases,
        load,
        stream,
        drain,
        wait: (wait, if wait > 0 { reason } else { None }),
        stretch: p.stretch,
    }
}

/// Attributes every cycle once: streaming, else loading, else draining.
fn breakdown(records: &[FoldRecord]) -> CycleBreakdown {
    // Sweep over interval endpoints with one counter per phase kind (0 stream, 1 load,
    // 2 drain) and one per stall reason for the waits (3 + reason index).
    let reasons = StallReason::ALL;
    let mut ev: Vec<(u64, usize, i64)> = Vec::with_capacity(records.len() * 8);
    for r in records {
        let mut spans = vec![(0, r.stream), (1, r.load), (2, r.drain)];
        if let (n, Some(reason)) = r.wait {
            let k = 3 + reasons.iter().position(|x| *x == reason).unwrap_or(0);
            spans.push((k, (r.stream.0.saturating_sub(n), r.stream.0)));
        }
        for (kind, (s, e)) in spans {
            if e > s {
                ev.push((s, kind, 1));
                ev.push((e, kind, -1));
            }
        }
    }
    ev.sort_unstable();
    let mut active = vec![0i64; 3 + reasons.len()];
    let mut out = CycleBreakdown::default();
    let mut last = 0u64;
    for (t, kind, delta) in ev {
        let span = t - last;
        if active[0] > 0 {
            out.stream_cycles += span;
        } else if active[1] > 0 {
            out.load_cycles += span;
        } else if active[2] > 0 {
            out.drain_cycles += span;
        } else if span > 0 {
            // The array idles: charge the wait that covers it (DRAM if none does).
            let reason = (0..reasons.len()).find(|&i| active[3 + i] > 0).map_or(StallReason::Dram, |i| reasons[i]);
            out.stalls.add(reason, span);
        }
        active[kind] += delta;
        last = t;
    }
    // Stretched streaming: the array waited on memory or converters, not streamed.
    for r in records {
        if let (n, Some(reason)) = r.stretch {
            out.stream_cycles -= n.min(out.stream_cycles);
            out.stalls.add(reason, n);
        }
    }
    out
}
