//! The tick-level model (`--fidelity cycle`): every cell's stationary, streaming and
//! partial-sum registers, stepped cycle by cycle with two-phase updates (next state computed
//! from the current one, then committed), the fMAC chunk passes executed in the cells.
//!
//! Registers hold references to groups (their job-order id and a stream tag) rather than
//! copies of the bits; the bits a cell multiplies are read from the operand's chunk planes.
//! A streaming group enters a cell during the beat the cell works on it, one chunk plane per
//! cycle through the M port (plane `k` arrives in cycle `k` of the beat and is first used in
//! cycle `k * c_s >= k`), and moves on to the next cell at the beat boundary. Partial sums
//! move once per beat. Phase lengths are counted by running the loops until every result has
//! left the array, never taken from a formula.

use super::fold::{lane_count, Fold, Footprint, GemmGeometry, PhaseCycles};
use super::planes::PlaneStore;
use super::probe::{CellEvent, Ctl, Mode, NoProbe, Operand, PlanePort, SumPort, TickProbe};
use crate::fmac::{chunk_dot, pass_shift, product_exp, Accumulator, AccumulatorKind};
use crate::gemm::Pass;

/// What a fold's simulation needs besides the fold itself.
pub struct TickCtx<'a> {
    /// Physical array rows.
    pub rows: usize,
    /// Physical array columns.
    pub cols: usize,
    /// The GEMM's sizes.
    pub geo: GemmGeometry,
    /// X and Y split into planes; `None` when numerics are off (timing only).
    pub operands: Option<(&'a PlaneStore<'a>, &'a PlaneStore<'a>)>,
    /// Accumulator of the cells.
    pub acc_kind: AccumulatorKind,
    /// Full-width multipliers (`bfp_full` cells): one group pair per cycle on whole
    /// mantissas; `geo` then has one chunk per operand.
    pub full_width: bool,
}

/// A stream register: the group's id and its position in the stream.
#[derive(Clone, Copy, PartialEq, Eq)]
struct StreamReg {
    id: u32,
    tag: u32,
}

/// Per-fold result of the tick model.
pub struct FoldTick {
    /// Measured phase lengths.
    pub phases: PhaseCycles,
    /// Chunk passes per physical cell (row-major `rows x cols`).
    pub busy: Vec<u64>,
    /// Measured lanes, columns and drain (`after_prev` is left 0: it needs the previous fold's
    /// `writes`, see [`after_prev`]).
    pub footprint: Footprint,
    /// Partial sums read back from the output buffer: (output index, cycle from the start of
    /// streaming at which it enters the array).
    pub reads: Vec<(usize, u64)>,
    /// Results written to the output buffer: (output index, cycle from the start of streaming
    /// from which it is there).
    pub writes: Vec<(usize, u64)>,
}

/// What the tick model watches to measure a fold's [`Footprint`]: first and end cycle of every
/// input lane and every cell, and how long each column holds results during the drain.
struct Occupancy {
    rows: usize,
    cols: usize,
    p: u64,
    lanes: Vec<Option<(u64, u64)>>,
    cells: Vec<Option<(u64, u64)>>,
    drained: Vec<Option<u64>>,
}

impl Occupancy {
    fn new(rows: usize, cols: usize, p: u64) -> Self {
        Self {
            rows,
            cols,
            p,
            lanes: vec![None; lane_count(rows, cols)],
            cells: vec![None; rows * cols],
            drained: vec![None; cols],
        }
    }
    /// Something entered `lane` for the beat starting at cycle `at`.
    fn lane(&mut self, lane: usize, at: u64) {
        let e = self.lanes[lane].get_or_insert((at, at));
        e.0 = e.0.min(at);
        e.1 = e.1.max(at + self.p);
    }
    /// Physical cell `at` computes in the beat starting at cycle `start`.
    fn cell(&mut self, at: usize, start: u64) {
        let e = self.cells[at].get_or_insert((start, start));
        e.0 = e.0.min(start);
        e.1 = e.1.max(start + self.p);
    }
    fn footprint(&self) -> Footprint {
        let lanes = self.lanes.iter().enumerate().filter_map(|(l, e)| e.map(|(a, b)| (l, a, b))).collect();
        let cols = (0..self.cols)
            .filter_map(|col| {
                let cells: Vec<(u64, u64)> =
                    (0..self.rows).filter_map(|row| self.cells[row * self.cols + col]).collect();
                let first = cells.iter().map(|c| c.0).min()?;
                // The column's E0/M0 entries (the stationary load shares that port).
                let port = self.lanes[col].map_or(0, |l| l.1);
                let end = cells.iter().map(|c| c.1).max()?.max(port);
                Some((col, first, end))
            })
            .collect();
        let drained = self.drained.iter().enumerate().filter_map(|(col, d)| d.map(|d| (col, d))).collect();
        Footprint { lanes, cols, drained, after_prev: 0 }
    }
}

impl TickCtx<'_> {
    /// The product register's increment in chunk pass `(j, k)` of stationary group `s` with
    /// streaming group `t` (X and Y ids).
    #[inline]
    fn pass(&self, xs: &PlaneStore, ys: &PlaneStore, s: u32, t: u32, j: u32, k: u32) -> i64 {
        if self.full_width {
            xs.mants(s).iter().zip(ys.mants(t)).map(|(&a, &b)| a as i64 * b as i64).sum()
        } else {
            let (cs, ct) = (self.geo.x_chunks, self.geo.y_chunks);
            (chunk_dot(xs.plane(s, j), ys.plane(t, k)) as i64) << pass_shift(cs, ct, j, k)
        }
    }

    /// The exponent adder for the same pair.
    #[inline]
    fn exp(&self, xs: &PlaneStore, ys: &PlaneStore, s: u32, t: u32) -> i32 {
        if self.full_width {
            let (mx, my) = (xs.format().mantissa_bits() as i32, ys.format().mantissa_bits() as i32);
            xs.exp(s) + ys.exp(t) - (mx - 1) - (my - 1)
        } else {
            product_exp(xs.exp(s), xs.format(), ys.exp(t), ys.format())
        }
    }

    /// Ids of X and Y groups by (lane, q), or 0 without numerics.
    fn x_id(&self, lane: usize, q: usize) -> u32 {
        self.operands.map_or(0, |(x, _)| x.id(lane, q))
    }
    fn y_id(&self, lane: usize, q: usize) -> u32 {
        self.operands.map_or(0, |(_, y)| y.id(lane, q))
    }
}

/// Shifts stationary planes up every column through E0/M0, one plane per cycle, until each of
/// the bottom `used` cells of the first `cols_used` columns holds all `c_s` planes of its
/// group. `want(col, e)` names the group for the cell `e` rows above the bottom edge. Returns
/// the cycles taken and the loaded ids, `[col][e]`.
fn load_stationary<P: TickProbe>(
    rows: usize,
    cols_used: usize,
    used: usize,
    cs: u32,
    want: impl Fn(usize, usize) -> u32,
    probe: &mut P,
) -> (u64, Vec<Vec<u32>>) {
    let cs = cs as usize;
    // chain[col][slot]: slot 0 is the bottom cell's first plane slot; (id, plane) per slot.
    let mut chain: Vec<Vec<Option<(u32, u32)>>> = vec![vec![None; rows * cs]; cols_used];
    // Feed order: the farthest cell's planes first, plane 0 first.
    let feed = |col: usize, n: usize| -> Option<(u32, u32)> {
        (n < used * cs).then(|| (want(col, used - 1 - n / cs), (n % cs) as u32))
    };
    let holds = |chain: &Vec<Vec<Option<(u32, u32)>>>| {
        (0..cols_used).all(|col| {
            (0..used).all(|e| {
                let slots = &chain[col][e * cs..(e + 1) * cs];
                let id = want(col, e);
                (0..cs as u32).all(|j| slots.contains(&Some((id, j))))
            })
        })
    };
    let mut cycles = 0u64;
    while !holds(&chain) {
        for (col, slots) in chain.iter_mut().enumerate() {
            // Two-phase: every slot takes the value of the one below it, the bottom the port.
            for i in (1..slots.len()).rev() {
                slots[i] = slots[i - 1];
            }
            slots[0] = feed(col, cycles as usize);
            if let Some((id, plane)) = slots[0] {
                probe.plane_in(cycles, PlanePort::Bottom, col, Operand::X, id, plane);
            }
        }
        probe.ctl(cycles, Ctl { mode: Mode::Load, ..Ctl::default() });
        cycles += 1;
    }
    let ids = (0..cols_used).map(|col| (0..used).map(|e| want(col, e)).collect()).collect();
    (cycles, ids)
}

/// Cycles after the start of `prev`'s streaming before a fold that reads back `reads` may
/// start streaming: every partial sum it reads must have been written. `written[out]` is
/// the cycle (from `prev`'s streaming start) `out` was written.
pub(crate) fn after_prev(written: &[u64], reads: &[(usize, u64)]) -> u64 {
    reads.iter().map(|&(out, at)| written[out].saturating_sub(at)).max().unwrap_or(0)
}

/// A weight-stationary fold, written once for both WS passes in chain coordinates: `d` is
/// the distance of a partial-sum chain from the edge the stream enters at, `s` the position
/// along the partial-sum chain (0 where partial sums are injected).
///
/// - forward: partial-sum chains are rows (`d` = rows above the bottom, `s` = column), streams
///   run up the columns;
/// - backward-data: partial-sum chains are columns (`d` = column, `s` = row from the top),
///   streams run right along the rows.
///
/// `psums` is the output buffer (`out_rows x out_cols`), read as partial sums enter and
/// written as they leave.
pub fn ws_fold(ctx: &TickCtx, fold: &Fold, psums: &mut [Accumulator]) -> FoldTick {
    ws_fold_probed(ctx, fold, psums, &mut NoProbe)
}

/// [`ws_fold`] reporting its ports, sequencer and (optionally) cell registers to `probe`.
pub fn ws_fold_probed<P: TickProbe>(ctx: &TickCtx, fold: &Fold, psums: &mut [Accumulator], probe: &mut P) -> FoldTick {
    let (r, c) = (ctx.rows, ctx.cols);
    let geo = &ctx.geo;
    let forward = geo.pass == Pass::Forward;
    // Chains, their length, used chains, used positions [s0, s0 + s_used).
    let (n_chains, len, a_used, s0, s_used) = if forward {
        (r, c, fold.rows_used, 0, fold.cols_used)
    } else {
        (c, r, fold.cols_used, r - fold.rows_used, fold.rows_used)
    };
    let t_len = fold.stream_len;
    let out_cols = geo.out_cols;
    // Output row (X lane) of chain d, reduction group of position s.
    let out_row = |d: usize| if forward { fold.row0 + (a_used - 1 - d) } else { fold.col0 + d };
    let group_q = |s: usize| if forward { fold.col0 + (s - s0) } else { fold.row0 + (s - s0) };
    let phys = |d: usize, s: usize| if forward { (r - 1 - d) * c + s } else { s * c + d };

    // Stationary load through E0/M0 (physical columns, bottom up).
    let (load, ids) = if forward {
        load_stationary(
            r,
            fold.cols_used,
            fold.rows_used,
            geo.x_chunks,
            |col, e| ctx.x_id(fold.row0 + (fold.rows_used - 1 - e), fold.col0 + col),
            probe,
        )
    } else {
        load_stationary(
            r,
            fold.cols_used,
            fold.rows_used,
            geo.x_chunks,
            |col, e| ctx.x_id(fold.col0 + col, fold.row0 + (fold.rows_used - 1 - e)),
            probe,
        )
    };
    let mut st: Vec<Option<u32>> = vec![None; n_chains * len];
    for d in 0..a_used {
        for s in s0..s0 + s_used {
            // Back to physical column / height above the bottom.
            let (col, e) = if forward { (s, d) } else { (d, r - 1 - s) };
            st[d * len + s] = Some(ids[col][e]);
        }
    }
    if P::CELLS {
        for (i, reg) in st.iter().enumerate() {
            let (row, col) = (phys(i / len, i % len) / c, phys(i / len, i % len) % c);
            probe.cell(load.saturating_sub(1), row, col, CellEvent::Stationary(*reg));
        }
    }
    // Edge lanes: the stream port and lane of position s, the partial-sum port and lane of
    // chain d.
    let (plane_port, sum_port) =
        if forward { (PlanePort::Bottom, SumPort::Y1) } else { (PlanePort::Left, SumPort::Y0) };
    let sum_lane = |d: usize| if forward { r - 1 - d } else { d };

    // Streaming.
    let p = geo.beat_cycles();
    let (cs, ct) = (geo.x_chunks, geo.y_chunks);
    let mut v: Vec<Option<StreamReg>> = vec![None; n_chains * len];
    let mut psum_in: Vec<Option<(u32, Accumulator)>> = vec![None; n_chains * len];
    let mut psum_out: Vec<Option<(u32, Accumulator)>> = vec![None; n_chains * len];
    let mut prod = vec![(0i64, 0i32); n_chains * len];
    let mut busy = vec![0u64; r * c];
    let mut collected = 0usize;
    let mut cycles = 0u64;
    let mut beat = 0i64;
    let mut v_next: Vec<Option<StreamReg>> = vec![None; n_chains * len];
    let mut in_next: Vec<Option<(u32, Accumulator)>> = vec![None; n_chains * len];
    let mut active: Vec<(usize, u32, u32)> = Vec::with_capacity(n_chains * len);
    let mut occ = Occupancy::new(r, c, p);
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    // Lanes of the stream at position s and of the partial sums of chain d.
    let stream_lane = |s: usize| if forward { s } else { c + s };
    let sum_in_lane = |d: usize| if forward { c + r + (r - 1 - d) } else { c + 2 * r + d };
    while collected < a_used * t_len {
        // Beat boundary, two-phase: the new registers come from the old ones.
        for d in 0..n_chains {
            for s in 0..len {
                let i = d * len + s;
                v_next[i] = if d == 0 {
                    // The stream feeder at position s: element b = beat - s.
                    let b = beat - s as i64;
                    (s >= s0 && s < s0 + s_used && b >= 0 && (b as usize) < t_len)
                        .then(|| StreamReg { id: ctx.y_id(fold.stream0 + b as usize, group_q(s)), tag: b as u32 })
                } else {
                    v[i - len]
                };
                in_next[i] = if s == 0 {
                    // The partial-sum feeder of chain d: element b = beat - d.
                    let b = beat - d as i64;
                    (d < a_used && b >= 0 && (b as usize) < t_len).then(|| {
                        let b = b as usize;
                        let acc = if fold.first_of_reduction {
                            Accumulator::new(ctx.acc_kind)
                        } else {
                            psums[out_row(d) * out_cols + fold.stream0 + b].clone()
                        };
                        (b as u32, acc)
                    })
                } else {
                    psum_out[i - 1].take()
                };
            }
        }
        std::mem::swap(&mut v, &mut v_next);
        std::mem::swap(&mut psum_in, &mut in_next);
        let start = load + cycles;
        for (s, reg) in v.iter().take(len).enumerate() {
            if let Some(sr) = *reg {
                occ.lane(stream_lane(s), cycles);
                for phi in 0..ct {
                    probe.plane_in(start + phi as u64, plane_port, s, Operand::Y, sr.id, phi);
                }
            }
        }
        for d in 0..a_used {
            if let Some((b, acc)) = &psum_in[d * len] {
                occ.lane(sum_in_lane(d), cycles);
                if !fold.first_of_reduction {
                    reads.push((out_row(d) * out_cols + fold.stream0 + *b as usize, cycles));
                }
                probe.sum_in(start, p, sum_port, sum_lane(d), acc);
            }
        }
        if P::CELLS {
            for (i, sreg) in v.iter().enumerate() {
                let (row, col) = (phys(i / len, i % len) / c, phys(i / len, i % len) % c);
                let reg = sreg.map(|sr| (Operand::Y, sr.id));
                let ev = if forward { CellEvent::StreamUp(reg) } else { CellEvent::StreamRight(reg) };
                probe.cell(start, row, col, ev);
            }
        }
        // The cells that hold a stationary group, a streaming group and a partial sum this beat.
        active.clear();
        for i in 0..n_chains * len {
            if let (Some(sid), Some(sr), Some((tag, _))) = (st[i], v[i], &psum_in[i]) {
                debug_assert_eq!(sr.tag, *tag, "stream and partial sum out of step");
                active.push((i, sid, sr.id));
            }
        }
        // The p cycles of the beat: chunk pass (k, j) in cycle k * c_s + j of every active cell.
        for phi in 0..p {
            let (k, j) = ((phi / cs as u64) as u32, (phi % cs as u64) as u32);
            // The M port delivers plane `phi` of the incoming group in cycle `phi` (one plane
            // per cycle); pass (k, j) may use only planes that have arrived.
            let planes_in = (phi + 1).min(ct as u64) as u32;
            debug_assert!(k < planes_in, "plane {k} used before it crossed the port");
            if let Some((xs, ys)) = ctx.operands {
                for &(i, sid, tid) in &active {
                    prod[i].0 += ctx.pass(xs, ys, sid, tid, j, k);
                }
            }
            let last = phi + 1 == p;
            probe.ctl(load + cycles, Ctl { mode: Mode::Stream, beat_last: last, phi: phi as u32, j, k });
            if P::CELLS {
                for &(i, _, _) in &active {
                    let at = phys(i / len, i % len);
                    let reg = if last { 0 } else { prod[i].0 };
                    probe.cell(load + cycles, at / c, at % c, CellEvent::Product(reg));
                }
            }
            cycles += 1;
        }
        for &(i, _, _) in &active {
            busy[phys(i / len, i % len)] += p;
            occ.cell(phys(i / len, i % len), cycles - p);
        }
        // End of the beat: the exponent adder and the accumulator; idle cells pass the partial
        // sum on unchanged.
        for i in 0..n_chains * len {
            if let Some((tag, mut acc)) = psum_in[i].take() {
                if let (Some(sid), Some(sr)) = (st[i], v[i]) {
                    if let Some((xs, ys)) = ctx.operands {
                        acc.add_product(prod[i].0, ctx.exp(xs, ys, sid, sr.id));
                    }
                    prod[i] = (0, 0);
                }
                psum_out[i] = Some((tag, acc));
            }
        }
        if P::CELLS {
            for (i, out) in psum_out.iter().enumerate() {
                let at = phys(i / len, i % len);
                let y = out.as_ref().map(|(_, a)| a.result().to_bits());
                probe.cell(load + cycles - 1, at / c, at % c, CellEvent::Y(y));
            }
        }
        // The output buffer latches what leaves the far end of each chain.
        for d in 0..a_used {
            if let Some((b, acc)) = psum_out[d * len + len - 1].take() {
                let out = out_row(d) * out_cols + fold.stream0 + b as usize;
                probe.sum_out(load + cycles, sum_port, sum_lane(d), out, &acc);
                writes.push((out, cycles));
                psums[out] = acc;
                collected += 1;
            }
        }
        beat += 1;
    }
    let footprint = occ.footprint();
    FoldTick { phases: PhaseCycles { load, stream: cycles, drain: 0 }, busy, footprint, reads, writes }
}

/// An output-stationary (backward-weight) fold: A groups up the columns (E0/M0), dO groups
/// right along the rows (E1/M1), accumulation in the cells, then the results shift out along
/// the rows (Y1), one hop per cycle. Writes final results into `psums`.
pub fn os_fold(ctx: &TickCtx, fold: &Fold, psums: &mut [Accumulator]) -> FoldTick {
    os_fold_probed(ctx, fold, psums, &mut NoProbe)
}

/// [`os_fold`] reporting its ports, sequencer and (optionally) cell registers to `probe`.
pub fn os_fold_probed<P: TickProbe>(ctx: &TickCtx, fold: &Fold, psums: &mut [Accumulator], probe: &mut P) -> FoldTick {
    let (r, c) = (ctx.rows, ctx.cols);
    let geo = &ctx.geo;
    let (ru, cu, t_len) = (fold.rows_used, fold.cols_used, fold.stream_len);
    // Cells indexed [e][col], e = rows above the bottom edge.
    let idx = |e: usize, col: usize| e * c + col;
    let phys = |e: usize, col: usize| (r - 1 - e) * c + col;
    let p = geo.beat_cycles();
    let (cs, ct) = (geo.x_chunks, geo.y_chunks);
    let mut v: Vec<Option<StreamReg>> = vec![None; r * c]; // A, from below
    let mut h: Vec<Option<StreamReg>> = vec![None; r * c]; // dO, from the left
    let mut acc: Vec<Accumulator> = (0..r * c).map(|_| Accumulator::new(ctx.acc_kind)).collect();
    let mut prod = vec![0i64; r * c];
    let mut busy = vec![0u64; r * c];
    let mut done = 0usize;
    let mut cycles = 0u64;
    let mut beat = 0i64;
    let mut v_next: Vec<Option<StreamReg>> = vec![None; r * c];
    let mut h_next: Vec<Option<StreamReg>> = vec![None; r * c];
    let mut active: Vec<(usize, u32, u32)> = Vec::with_capacity(r * c);
    let mut occ = Occupancy::new(r, c, p);
    while done < ru * cu * t_len {
        for e in 0..r {
            for col in 0..c {
                v_next[idx(e, col)] = if e == 0 {
                    let bg = beat - col as i64;
                    (col < cu && bg >= 0 && (bg as usize) < t_len)
                        .then(|| StreamReg { id: ctx.y_id(fold.col0 + col, bg as usize), tag: bg as u32 })
                } else {
                    v[idx(e - 1, col)]
                };
                h_next[idx(e, col)] = if col == 0 {
                    let bg = beat - e as i64;
                    (e < ru && bg >= 0 && (bg as usize) < t_len)
                        .then(|| StreamReg { id: ctx.x_id(fold.row0 + (ru - 1 - e), bg as usize), tag: bg as u32 })
                } else {
                    h[idx(e, col - 1)]
                };
            }
        }
        std::mem::swap(&mut v, &mut v_next);
        std::mem::swap(&mut h, &mut h_next);
        for col in 0..c {
            if let Some(a) = v[idx(0, col)] {
                occ.lane(col, cycles);
                for phi in 0..ct {
                    probe.plane_in(cycles + phi as u64, PlanePort::Bottom, col, Operand::Y, a.id, phi);
                }
            }
        }
        for e in 0..r {
            if let Some(d) = h[idx(e, 0)] {
                occ.lane(c + (r - 1 - e), cycles);
                for phi in 0..cs {
                    probe.plane_in(cycles + phi as u64, PlanePort::Left, r - 1 - e, Operand::X, d.id, phi);
                }
            }
        }
        if P::CELLS {
            for i in 0..r * c {
                let (row, col) = (phys(i / c, i % c) / c, i % c);
                probe.cell(cycles, row, col, CellEvent::StreamUp(v[i].map(|a| (Operand::Y, a.id))));
                probe.cell(cycles, row, col, CellEvent::StreamRight(h[i].map(|d| (Operand::X, d.id))));
            }
        }
        active.clear();
        for e in 0..ru {
            for col in 0..cu {
                let i = idx(e, col);
                if let (Some(a), Some(d)) = (v[i], h[i]) {
                    debug_assert_eq!(a.tag, d.tag, "A and dO out of step");
                    active.push((i, d.id, a.id));
                }
            }
        }
        for phi in 0..p {
            let (k, j) = ((phi / cs as u64) as u32, (phi % cs as u64) as u32);
            // Both M ports deliver one plane per cycle: A (plane k used) and dO (plane j).
            let (a_in, d_in) = ((phi + 1).min(ct as u64) as u32, (phi + 1).min(cs as u64) as u32);
            debug_assert!(k < a_in && j < d_in, "plane used before it crossed the port");
            if let Some((xs, ys)) = ctx.operands {
                for &(i, did, aid) in &active {
                    prod[i] += ctx.pass(xs, ys, did, aid, j, k);
                }
            }
            let last = phi + 1 == p;
            probe.ctl(cycles, Ctl { mode: Mode::Stream, beat_last: last, phi: phi as u32, j, k });
            if P::CELLS {
                for &(i, _, _) in &active {
                    let reg = if last { 0 } else { prod[i] };
                    probe.cell(cycles, phys(i / c, i % c) / c, i % c, CellEvent::Product(reg));
                }
            }
            cycles += 1;
        }
        for &(i, did, aid) in &active {
            busy[phys(i / c, i % c)] += p;
            occ.cell(phys(i / c, i % c), cycles - p);
            if let Some((xs, ys)) = ctx.operands {
                acc[i].add_product(prod[i], ctx.exp(xs, ys, did, aid));
            }
            prod[i] = 0;
            done += 1;
            if P::CELLS {
                probe.cell(cycles - 1, phys(i / c, i % c) / c, i % c, CellEvent::Y(Some(acc[i].result().to_bits())));
            }
        }
        beat += 1;
    }
    // Drain: each row's results shift right one cell per cycle; the right edge hands them to
    // the output buffer.
    let mut chain: Vec<Option<(usize, Accumulator)>> =
        (0..r * c).map(|i| (i / c < ru && i % c < cu).then(|| (i % c, acc[i].clone()))).collect();
    let mut drained = 0usize;
    let mut drain = 0u64;
    // A column holding results before the drain is empty after one cycle at the earliest.
    (0..cu).for_each(|col| occ.drained[col] = Some(1));
    while drained < ru * cu {
        let now = cycles + drain;
        probe.ctl(now, Ctl { mode: Mode::Drain, ..Ctl::default() });
        for e in 0..ru {
            if let Some((col, a)) = chain[idx(e, c - 1)].take() {
                let out = (fold.row0 + ru - 1 - e) * geo.out_cols + fold.col0 + col;
                probe.sum_out(now, SumPort::Y1, r - 1 - e, out, &a);
                psums[out] = a;
                drained += 1;
            }
            for col in (1..c).rev() {
                chain[idx(e, col)] = chain[idx(e, col - 1)].take();
            }
            for col in 0..c {
                if chain[idx(e, col)].is_some() {
                    // Still holds a result after this cycle: empty at the earliest after the next.
                    occ.drained[col] = Some(drain + 2);
                }
            }
            if P::CELLS {
                for col in 0..c {
                    let y = chain[idx(e, col)].as_ref().map(|(_, a)| a.result().to_bits());
                    probe.cell(now, phys(e, col) / c, col, CellEvent::Y(y));
                }
            }
        }
        drain += 1;
    }
    let footprint = occ.footprint();
    FoldTick {
        phases: PhaseCycles { load: 0, stream: cycles, drain },
        busy,
        footprint,
        reads: Vec::new(),
        writes: Vec::new(),
    }
}
