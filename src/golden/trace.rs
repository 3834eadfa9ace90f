//! The probe that turns the tick-level model's port activity into per-cycle lane vectors, the
//! sequencer word per cycle and the list of expected outputs. Cycles are global: each fold's
//! cycles are offset by `base`, the cycle the fold starts on the golden timeline.

use crate::array::probe::{Ctl, Operand, PlanePort, SumPort, TickProbe};
use crate::bfp::PackedTensor;
use crate::fmac::Accumulator;

use super::lanes::LaneFile;
use super::manifest::Expected;

/// The port files and expected outputs of a golden run.
pub(crate) struct PortTrace<'a> {
    /// Start cycle of the fold being traced.
    pub base: u64,
    rows: usize,
    cols: usize,
    x: &'a PackedTensor,
    y: &'a PackedTensor,
    pub e0: LaneFile,
    pub m0: LaneFile,
    pub e1: LaneFile,
    pub m1: LaneFile,
    pub y0_in: LaneFile,
    pub y1_in: LaneFile,
    pub y0_out: LaneFile,
    pub y1_out: LaneFile,
    /// Sequencer word per cycle.
    pub ctl: Vec<Ctl>,
    /// Every value the RTL must produce, in the order the model produced them.
    pub expected: Vec<Expected>,
    /// Output-matrix index of each expected value (parallel to `expected`).
    pub expected_out: Vec<usize>,
}

impl<'a> PortTrace<'a> {
    pub fn new(rows: usize, cols: usize, x: &'a PackedTensor, y: &'a PackedTensor) -> Self {
        let e = x.format().exp_bits() as usize;
        let plane = x.plane_bits();
        Self {
            base: 0,
            rows,
            cols,
            x,
            y,
            e0: LaneFile::new("E0.hex", cols, e),
            m0: LaneFile::new("M0.hex", cols, plane),
            e1: LaneFile::new("E1.hex", rows, e),
            m1: LaneFile::new("M1.hex", rows, plane),
            y0_in: LaneFile::new("Y0_in.hex", cols, 32),
            y1_in: LaneFile::new("Y1_in.hex", rows, 32),
            y0_out: LaneFile::new("Y0_out.hex", cols, 32),
            y1_out: LaneFile::new("Y1_out.hex", rows, 32),
            ctl: Vec::new(),
            expected: Vec::new(),
            expected_out: Vec::new(),
        }
    }

    /// Exponent field of X group `id`.
    pub fn x_field(&self, id: u32) -> u64 {
        self.x.exponent_field(id as usize) as u64
    }
    /// Exponent field of Y group `id`.
    pub fn y_field(&self, id: u32) -> u64 {
        self.y.exponent_field(id as usize) as u64
    }

    /// The per-cycle files, all grown to `lines` lines.
    pub fn files_mut(&mut self) -> [&mut LaneFile; 8] {
        [
            &mut self.e0,
            &mut self.m0,
            &mut self.e1,
            &mut self.m1,
            &mut self.y0_in,
            &mut self.y1_in,
            &mut self.y0_out,
            &mut self.y1_out,
        ]
    }
}

impl TickProbe for PortTrace<'_> {
    fn ctl(&mut self, cycle: u64, ctl: Ctl) {
        let t = (self.base + cycle) as usize;
        if self.ctl.len() <= t {
            self.ctl.resize(t + 1, Ctl::default());
        }
        self.ctl[t] = ctl;
    }

    fn plane_in(&mut self, cycle: u64, port: PlanePort, lane: usize, op: Operand, id: u32, plane: u32) {
        let t = self.base + cycle;
        let src = match op {
            Operand::X => self.x,
            Operand::Y => self.y,
        };
        let e_f = src.exponent_field(id as usize) as u64;
        let bits = src.plane(id as usize, plane as usize);
        let (e, m) = match port {
            PlanePort::Bottom => (&mut self.e0, &mut self.m0),
            PlanePort::Left => (&mut self.e1, &mut self.m1),
        };
        e.set_u64(t, lane, e_f);
        m.set(t, lane, bits);
    }

    fn sum_in(&mut self, cycle: u64, cycles: u64, port: SumPort, lane: usize, value: &Accumulator) {
        let bits = value.result().to_bits() as u64;
        let f = match port {
            SumPort::Y0 => &mut self.y0_in,
            SumPort::Y1 => &mut self.y1_in,
        };
        for c in 0..cycles {
            f.set_u64(self.base + cycle + c, lane, bits);
        }
    }

    fn sum_out(&mut self, cycle: u64, port: SumPort, lane: usize, out: usize, value: &Accumulator) {
        let t = self.base + cycle;
        let bits = value.result().to_bits();
        let (f, row, col, name) = match port {
            SumPort::Y0 => (&mut self.y0_out, self.rows - 1, lane, "Y0"),
            SumPort::Y1 => (&mut self.y1_out, lane, self.cols - 1, "Y1"),
        };
        f.set_u64(t, lane, bits as u64);
        self.expected.push(Expected {
            cycle: t,
            row,
            col,
            port: name.to_string(),
            hex: format!("{bits:08x}"),
            output: None,
        });
        self.expected_out.push(out);
    }
}
