//! Observation points of the tick-level model: what crosses the array's edge ports each
//! cycle, the sequencer word, and the cells' register writes. The golden-vector exporter and
//! the VCD writer implement [`TickProbe`]; the simulator itself runs with [`NoProbe`], whose
//! empty methods compile away.
//!
//! Cycles are counted from the start of the fold (its first load cycle, or its first stream
//! cycle for output-stationary folds). Operand groups are named by their job-order id in X or
//! Y; the probe owner turns ids into bits.

use crate::fmac::Accumulator;

/// Which operand a group belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// The stationary-role operand (W, or dO in backward-weight).
    X,
    /// The streaming-role operand (A or dO, or A in backward-weight).
    Y,
}

/// An operand port pair at the array's edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanePort {
    /// E0/M0: into the bottom of a column, lane = column.
    Bottom,
    /// E1/M1: into the left of a row, lane = row.
    Left,
}

/// A partial-sum port at the array's edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SumPort {
    /// Y0: along the columns, in at the top, out at the bottom; lane = column.
    Y0,
    /// Y1: along the rows, in at the left, out at the right; lane = row.
    Y1,
}

/// What the array does in a cycle (the sequencer word of the golden vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Nothing.
    #[default]
    Idle = 0,
    /// Stationary planes shift up the columns.
    Load = 1,
    /// Streams and chunk passes.
    Stream = 2,
    /// Output-stationary results shift right along the rows.
    Drain = 3,
}

/// The sequencer's control word for one cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ctl {
    /// Phase.
    pub mode: Mode,
    /// Last cycle of a beat (products join the partial sums at the edge that ends it).
    pub beat_last: bool,
    /// Cycle within the beat, `0..p`.
    pub phi: u32,
    /// X plane of this cycle's chunk pass.
    pub j: u32,
    /// Y plane of this cycle's chunk pass.
    pub k: u32,
}

/// A register write inside cell `(row, col)` (physical coordinates, row 0 at the top).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellEvent {
    /// The stationary register now holds X group `id` (end of the load).
    Stationary(Option<u32>),
    /// The vertical stream register (from below) holds this group for the beat.
    StreamUp(Option<(Operand, u32)>),
    /// The horizontal stream register (from the left) holds this group for the beat.
    StreamRight(Option<(Operand, u32)>),
    /// The group-product register after this cycle's chunk pass.
    Product(i64),
    /// The partial-sum / accumulator register `y` after the edge that ends this cycle
    /// (binary32 bits, `None` when invalid).
    Y(Option<u32>),
}

/// Observer of the tick-level model. Every method has an empty default.
pub trait TickProbe {
    /// Whether the model should report cell register writes ([`TickProbe::cell`]); they cost
    /// a pass over the array per cycle.
    const CELLS: bool = false;
    /// The sequencer word of `cycle`.
    #[inline]
    fn ctl(&mut self, _cycle: u64, _ctl: Ctl) {}
    /// Plane `plane` of group `id` of `op` is on port `port`, lane `lane`, during `cycle`.
    #[inline]
    fn plane_in(&mut self, _cycle: u64, _port: PlanePort, _lane: usize, _op: Operand, _id: u32, _plane: u32) {}
    /// A partial sum enters on `port`, lane `lane`, valid from `cycle` for `cycles` cycles.
    #[inline]
    fn sum_in(&mut self, _cycle: u64, _cycles: u64, _port: SumPort, _lane: usize, _value: &Accumulator) {}
    /// A partial sum or result leaves on `port`, lane `lane`, in `cycle`; `out` is its index
    /// in the output matrix (row-major).
    #[inline]
    fn sum_out(&mut self, _cycle: u64, _port: SumPort, _lane: usize, _out: usize, _value: &Accumulator) {}
    /// A register write in cell `(row, col)` during `cycle` (only when [`TickProbe::CELLS`]).
    #[inline]
    fn cell(&mut self, _cycle: u64, _row: usize, _col: usize, _ev: CellEvent) {}
}

/// The probe of ordinary runs: observes nothing.
pub struct NoProbe;

impl TickProbe for NoProbe {}
