//! Strings a GEMM's folds together on the array at either fidelity: the schedule (stationary
//! loads overlapped with streaming when the cells have shadow registers, output-stationary
//! drains overlapped when the accumulators are double-buffered), the timeline, per-cell busy
//! cycles and, when asked, the numbers.

use serde::Serialize;

use super::fold::{closed_form, footprint, lane_count, plan_folds, Fold, Footprint, GemmGeometry, PhaseCycles};
use super::planes::PlaneStore;
use super::tick::{after_prev, os_fold, ws_fold, TickCtx};
use crate::fmac::Accumulator;
use crate::gemm::{fast_gemm, GemmOperands, Pass};
use crate::mapping::PassDims;
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
    /// Overlapped folds: the next fold's wavefront enters the array while the previous one
    /// drains (`docs/timing.md`, "Overlapped folds").
    pub overlap_folds: bool,
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
    let folds = plan_folds(geo, cfg.rows, cfg.cols);
    run_folds_with(geo, ops, cfg, fidelity, gate, &folds)
}

/// [`run_array_with`] on folds planned by a mapping (`crate::mapping::Mapping::plan_folds`)
/// instead of the fold-by-fold schedule.
pub fn run_folds_with(
    geo: &GemmGeometry,
    ops: Option<&GemmOperands>,
    cfg: &ArrayConfig,
    fidelity: Fidelity,
    gate: &mut dyn FoldGate,
    folds: &[Fold],
) -> ArrayRun {
    let (r, c) = (cfg.rows, cfg.cols);
    let mut busy = vec![0u64; r * c];
    let mut phases = Vec::with_capacity(folds.len());
    let mut prints = Vec::with_capacity(folds.len());
    let out = match fidelity {
        Fidelity::Fold => {
            let p = geo.beat_cycles();
            for f in folds {
                phases.push(closed_form(geo, f, r, c));
                prints.push(if cfg.overlap_folds { footprint(geo, f, r, c) } else { Footprint::default() });
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
            // When each output was last written, in cycles from its writer's streaming start.
            let mut written = vec![0u64; geo.out_rows * geo.out_cols];
            let ws = PassDims::of(geo).weight_stationary();
            for f in folds {
                let mut t = if ws { ws_fold(&ctx, f, &mut psums) } else { os_fold(&ctx, f, &mut psums) };
                // Folds along a reduction are consecutive: the writer of what `f` reads is the
                // fold before it.
                t.footprint.after_prev = after_prev(&written, &t.reads);
                t.writes.iter().for_each(|&(out, at)| written[out] = at);
                phases.push(t.phases);
                prints.push(t.footprint);
                busy.iter_mut().zip(&t.busy).for_each(|(a, b)| *a += b);
            }
            ops.map(|_| psums.iter().map(Accumulator::result).collect())
        }
    };
    let records = schedule(geo.pass, cfg, folds, &phases, &prints, gate);
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
    /// Overlapped folds: fold `f`'s last operand entered the array (its buffer is free).
    FeedEnd(usize),
    /// Overlapped folds: a phase may start now (its bound is not the end of another phase).
    Wake,
}

/// Per-fold progress of the schedule.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    ready: Option<(u64, StallReason)>,
    load: Option<(u64, u64)>,
    stream: Option<(u64, u64)>,
    drain: Option<(u64, u64)>,
    /// The cycle the array alone would have let the fold begin (its load for weight
    /// stationary, its streaming for output stationary).
    array_free: u64,
    /// Weight stationary: the cycle the array alone would have let its streaming begin, the
    /// load aside.
    stream_bound: u64,
    stretch: (u64, Option<StallReason>),
}

/// Overlapped folds: when each resource a fold occupies is free again, in absolute cycles,
/// over every fold placed so far (a later fold may use a lane or column an earlier one used
/// and the one just before it did not).
struct Resources {
    /// Per input lane ([`lane_count`] numbering): end of the last entry.
    lanes: Vec<u64>,
    /// Per column: every cell has taken its stationary operand out of the shadow slots (a cell
    /// swaps as soon as the fold before no longer needs its active operand and the shadow is
    /// loaded, at the latest when the fold reaches it).
    shadow: Vec<u64>,
    /// Per column: no cell computes with its stationary operand any more and the E0/M0 port
    /// carries no entries.
    stationary: Vec<u64>,
    /// Per accumulator bank (two when double-buffered) and column: no result left to drain.
    accumulators: [Vec<u64>; 2],
}

impl Resources {
    fn new(rows: usize, cols: usize) -> Self {
        Self {
            lanes: vec![0; lane_count(rows, cols)],
            shadow: vec![0; cols],
            stationary: vec![0; cols],
            accumulators: [vec![0; cols], vec![0; cols]],
        }
    }
    /// Earliest streaming start for a fold with footprint `fp` as far as its lanes go.
    fn lanes_bound(&self, fp: &Footprint) -> u64 {
        fp.lanes.iter().map(|&(l, first, _)| self.lanes[l].saturating_sub(first)).max().unwrap_or(0)
    }
    /// A fold with footprint `fp`, loaded by `load_end`, streams from `start`, `stretch`
    /// cycles longer than its own.
    fn streamed(&mut self, fp: &Footprint, load_end: u64, start: u64, stretch: u64) {
        for &(l, _, end) in &fp.lanes {
            self.lanes[l] = self.lanes[l].max(start + end + stretch);
        }
        for &(c, _, end) in &fp.cols {
            // Every cell of the column swaps once the folds before released it and the shadow
            // is loaded; the lanes make that no later than the fold's first beat in the cell.
            self.shadow[c] = self.shadow[c].max(self.stationary[c].max(load_end));
            self.stationary[c] = self.stationary[c].max(start + end + stretch);
        }
    }
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
///
/// With `overlap_folds` the conditions on the previous fold's end are replaced by the
/// resources of [`Footprint`] (`docs/timing.md`, "Overlapped folds"), and a fold's operand
/// buffer frees when its last operand entered the array rather than when its streaming ended.
fn schedule(
    pass: Pass,
    cfg: &ArrayConfig,
    folds: &[Fold],
    phases: &[PhaseCycles],
    prints: &[Footprint],
    gate: &mut dyn FoldGate,
) -> Vec<FoldRecord> {
    let n = folds.len();
    let os = !PassDims::layout(pass).weight_stationary();
    let overlap = cfg.overlap_folds;
    let mut res = Resources::new(cfg.rows, cfg.cols);
    let mut st = vec![Progress::default(); n];
    let mut queue: EventQueue<Event> = EventQueue::new();
    let mut woken = None;
    let mut wake = |at: u64, queue: &mut EventQueue<Event>| {
        if woken != Some(at) {
            woken = Some(at);
            queue.push(Cycle(at), Event::Wake);
        }
    };
    let slots = gate.buffer_slots().max(1);
    let mut fetched = 0usize;
    let fetch = |f: usize, now: u64, gate: &mut dyn FoldGate, queue: &mut EventQueue<Event>| {
        let (at, reason) = gate.fetch_operands(&folds[f], Cycle(now));
        queue.push(at.max(Cycle(now)), Event::OperandsReady(f));
        reason
    };
    // The phases the memory model sees: with overlapped folds a fold has the array's lanes to
    // itself for the spacing of its entries, not for its whole streaming phase.
    let gated = |f: usize| {
        let ph = phases[f];
        if overlap {
            let issue = prints[f].lanes.iter().map(|l| l.2 - l.1).max().unwrap_or(ph.stream);
            PhaseCycles { stream: issue, ..ph }
        } else {
            ph
        }
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
                    let free = if overlap {
                        // The lanes, and the accumulators of its bank drained far enough.
                        let bank_owner =
                            if cfg.double_buffered_accumulators { f.checked_sub(2) } else { f.checked_sub(1) };
                        let prev_streamed = prev.is_none_or(|p| p.stream.is_some());
                        let owner_drained = bank_owner.is_none_or(|o| st[o].drain.is_some());
                        (prev_streamed && owner_drained).then(|| {
                            let acc = &res.accumulators[if cfg.double_buffered_accumulators { f % 2 } else { 0 }];
                            let accs = prints[f].cols.iter().map(|&(c, first, _)| acc[c].saturating_sub(first));
                            res.lanes_bound(&prints[f]).max(accs.max().unwrap_or(0))
                        })
                    } else {
                        match prev {
                            None => Some(0),
                            Some(p) => match (p.stream, p.drain) {
                                (Some((_, se)), Some((ds, de))) => {
                                    Some(if cfg.double_buffered_accumulators { se.max(ds) } else { se.max(de) })
                                }
                                _ => None,
                            },
                        }
                    };
                    let Some(free) = free else { break };
                    let start = free.max(ready);
                    if start > now {
                        if overlap {
                            wake(start, &mut queue);
                        }
                        break;
                    }
                    st[f].array_free = free;
                    let (stretch, why) = gate.stream_stretch(&folds[f], &gated(f), Cycle(start));
                    st[f].stretch = (stretch, (stretch > 0).then_some(why));
                    st[f].load = Some((start, start));
                    st[f].stream = Some((start, start + ph.stream + stretch));
                    queue.push(Cycle(start + ph.stream + stretch), Event::StreamEnd(f));
                    if overlap {
                        res.streamed(&prints[f], start, start, stretch);
                        queue.push(Cycle(start + prints[f].feed_end() + stretch), Event::FeedEnd(f));
                    }
                }
                if st[f].drain.is_none() {
                    let Some((_, se)) = st[f].stream else { break };
                    let prev_drained = match prev {
                        None => Some(0),
                        Some(p) => p.drain.map(|(_, de)| de),
                    };
                    // With overlapped folds the next fold may stream before this one drains.
                    let Some(pd) = prev_drained else {
                        if overlap {
                            continue;
                        }
                        break;
                    };
                    if se > now || pd > now {
                        if overlap {
                            continue;
                        }
                        break;
                    }
                    let ds = se.max(pd);
                    st[f].drain = Some((ds, ds + ph.drain));
                    queue.push(Cycle(ds + ph.drain), Event::DrainEnd(f));
                    if overlap {
                        let acc = &mut res.accumulators[if cfg.double_buffered_accumulators { f % 2 } else { 0 }];
                        for &(c, d) in &prints[f].drained {
                            acc[c] = acc[c].max(ds + d);
                        }
                    }
                }
            } else {
                if st[f].load.is_none() {
                    let free = match prev {
                        None => Some(0),
                        Some(p) if overlap => p.stream.map(|_| {
                            // The load path, and the columns it shifts free of earlier folds.
                            let cols = &if cfg.shadow_stationary { &res.shadow } else { &res.stationary }
                                [..folds[f].cols_used];
                            p.load.map_or(0, |l| l.1).max(cols.iter().copied().max().unwrap_or(0))
                        }),
                        Some(p) if cfg.shadow_stationary => match (p.load, p.stream) {
                            (Some((_, le)), Some((ss, _))) => Some(le.max(ss)),
                            _ => None,
                        },
                        Some(p) => p.stream.map(|(_, se)| se),
                    };
                    let Some(free) = free else { break };
                    let start = free.max(ready);
                    if start > now {
                        if overlap {
                            wake(start, &mut queue);
                        }
                        break;
                    }
                    st[f].array_free = free;
                    st[f].load = Some((start, start + ph.load));
                    queue.push(Cycle(start + ph.load), Event::LoadEnd(f));
                }
                if st[f].stream.is_none() {
                    let Some((_, le)) = st[f].load else { break };
                    let bound = match prev {
                        None => Some(0),
                        Some(p) if overlap => p.stream.map(|(ps, _)| {
                            // The lanes, and the partial sums it reads back written.
                            let fp = &prints[f];
                            let dep = if fp.after_prev > 0 { ps + p.stretch.0 + fp.after_prev } else { 0 };
                            res.lanes_bound(fp).max(dep)
                        }),
                        Some(p) => p.stream.map(|(_, se)| se),
                    };
                    let Some(bound) = bound else { break };
                    if le > now || bound > now {
                        if overlap && le <= now {
                            wake(bound, &mut queue);
                        }
                        break;
                    }
                    let start = le.max(bound);
                    st[f].stream_bound = bound;
                    let (stretch, why) = gate.stream_stretch(&folds[f], &gated(f), Cycle(start));
                    st[f].stretch = (stretch, (stretch > 0).then_some(why));
                    let end = start + ph.stream + stretch;
                    st[f].stream = Some((start, end));
                    st[f].drain = Some((end, end));
                    queue.push(Cycle(end), Event::StreamEnd(f));
                    if overlap {
                        res.streamed(&prints[f], le, start, stretch);
                        queue.push(Cycle(start + prints[f].feed_end() + stretch), Event::FeedEnd(f));
                    }
                }
            }
        }
        let Some((at, ev)) = queue.pop() else { break };
        now = at.0;
        match ev {
            Event::OperandsReady(f) => st[f].ready = Some((now, reasons[f])),
            Event::LoadEnd(_) | Event::DrainEnd(_) | Event::Wake => {}
            Event::StreamEnd(_) | Event::FeedEnd(_) => {
                // The fold's operand buffer is free (at its last entry with overlapped folds,
                // at the end of its streaming otherwise): fetch for the fold waiting for it.
                if matches!(ev, Event::FeedEnd(_)) == overlap && fetched < n {
                    reasons[fetched] = fetch(fetched, now, gate, &mut queue);
                    fetched += 1;
                }
            }
        }
        if let Event::StreamEnd(f) | Event::DrainEnd(f) = ev {
            let done = if os { matches!(ev, Event::DrainEnd(_)) } else { true };
            if done {
                let rec = record(folds[f], phases[f], &st[f], os);
                gate.finished(&rec, Cycle(now));
            }
        }
    }
    (0..n).map(|f| record(folds[f], phases[f], &st[f], os)).collect()
}

/// The timeline entry of a placed fold, with its wait measured against when the array alone
/// would have let it run.
fn record(fold: Fold, phases: PhaseCycles, p: &Progress, os: bool) -> FoldRecord {
    let (load, stream, drain) = (p.load.unwrap_or_default(), p.stream.unwrap_or_default(), p.drain.unwrap_or_default());
    let reason = p.ready.map(|r| r.1);
    let wait = if os { stream.0 - p.array_free } else { stream.0 - (p.array_free + phases.load).max(p.stream_bound) };
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
