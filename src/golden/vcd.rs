//! The array as a waveform (VCD, via the `vcd` crate): the sequencer word, every edge port
//! lane (valid and payload) per cycle, and per cell (scope `cell_r<row>_c<col>`) its stationary
//! exponent field, the groups in its stream registers, its group-product register and its
//! partial-sum register. One time unit is one cycle (timescale 1 ns, clock edges at
//! `10 t` rising and `10 t + 5` falling); a cell value is shown in the cycle it is written.
//! Folds run back to back as in the golden vectors.

use bitvec::prelude::*;
use vcd::{IdCode, TimescaleUnit, Value, Writer};

use super::export::{ctl_word, replay, timeline_cycles, MAX_GOLDEN_CYCLES};
use super::lanes::LaneFile;
use super::trace::PortTrace;
use super::GoldenError;
use crate::array::probe::{CellEvent, Ctl, Operand, PlanePort, SumPort, TickProbe};
use crate::bfp::PackedTensor;
use crate::fmac::Accumulator;
use crate::gemm::GemmOperands;

/// Largest `cycles x cells` a VCD may hold (about 70 bytes of VCD per cell-cycle: 4M is ~270 MB).
pub const MAX_VCD_CELL_CYCLES: u64 = 4_000_000;

struct VcdProbe<'a> {
    ports: PortTrace<'a>,
    cells: Vec<(u64, usize, usize, CellEvent)>,
}

impl TickProbe for VcdProbe<'_> {
    const CELLS: bool = true;
    fn ctl(&mut self, cycle: u64, ctl: Ctl) {
        self.ports.ctl(cycle, ctl)
    }
    fn plane_in(&mut self, cycle: u64, port: PlanePort, lane: usize, op: Operand, id: u32, plane: u32) {
        self.ports.plane_in(cycle, port, lane, op, id, plane)
    }
    fn sum_in(&mut self, cycle: u64, cycles: u64, port: SumPort, lane: usize, value: &Accumulator) {
        self.ports.sum_in(cycle, cycles, port, lane, value)
    }
    fn sum_out(&mut self, cycle: u64, port: SumPort, lane: usize, out: usize, value: &Accumulator) {
        self.ports.sum_out(cycle, port, lane, out, value)
    }
    fn cell(&mut self, cycle: u64, row: usize, col: usize, ev: CellEvent) {
        self.cells.push((self.ports.base + cycle, row, col, ev));
    }
}

fn bits_of(v: u64, width: usize) -> impl Iterator<Item = Value> {
    (0..width).rev().map(move |i| if i < 64 && (v >> i) & 1 == 1 { Value::V1 } else { Value::V0 })
}

fn xs(width: usize) -> impl Iterator<Item = Value> {
    (0..width).map(|_| Value::X)
}

struct LaneVars {
    valid: Vec<IdCode>,
    data: Vec<IdCode>,
}

struct CellVars {
    st_ef: IdCode,
    up_ef: IdCode,
    right_ef: IdCode,
    prod: IdCode,
    y: IdCode,
    y_valid: IdCode,
}

/// Whether a waveform of `cycles` on a `rows x cols` array is within [`MAX_VCD_CELL_CYCLES`].
pub fn vcd_fits(what: &str, cycles: u64, rows: usize, cols: usize) -> Result<(), GoldenError> {
    let cell_cycles = cycles.saturating_mul((rows * cols) as u64);
    if cycles > MAX_GOLDEN_CYCLES || cell_cycles > MAX_VCD_CELL_CYCLES {
        return Err(GoldenError::VcdTooLarge {
            what: what.to_string(),
            cycles,
            cells: rows * cols,
            limit: MAX_VCD_CELL_CYCLES,
        });
    }
    Ok(())
}

/// Writes the VCD of `ops` on an `rows x cols` fMAC array; `title` goes in the header.
pub fn write_gemm_vcd(ops: &GemmOperands, rows: usize, cols: usize, title: &str) -> Result<Vec<u8>, GoldenError> {
    let cycles = timeline_cycles(&crate::array::GemmGeometry::of(ops), rows, cols);
    vcd_fits(title, cycles, rows, cols)?;
    let (px, py) = (PackedTensor::pack(&ops.x), PackedTensor::pack(&ops.y));
    let mut probe = VcdProbe { ports: PortTrace::new(rows, cols, &px, &py), cells: Vec::new() };
    let (_, _) = replay(ops, rows, cols, &mut probe, |p, base| p.ports.base = base);
    let lines = cycles + 1;
    for f in probe.ports.files_mut() {
        f.pad_to(lines as usize);
    }
    probe.ports.ctl.resize(lines as usize, Ctl::default());
    probe.cells.sort_by_key(|c| c.0);
    let e_bits = ops.x.format.exp_bits() as usize;
    render(&probe, rows, cols, e_bits, lines, title).map_err(|e| GoldenError::Internal(format!("VCD: {e}")))
}

fn render(p: &VcdProbe, rows: usize, cols: usize, e_bits: usize, lines: u64, title: &str) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = Writer::new(&mut out);
    w.comment(&format!("fastbfp {}: {title}", env!("CARGO_PKG_VERSION")))?;
    w.timescale(1, TimescaleUnit::NS)?;
    w.add_module("fastbfp_array")?;
    let clk = w.add_wire(1, "clk")?;
    let cycle = w.add_wire(32, "cycle")?;
    let mode = w.add_wire(2, "ctl_mode")?;
    let beat_last = w.add_wire(1, "ctl_beat_last")?;
    let phi = w.add_wire(8, "ctl_phi")?;
    let jj = w.add_wire(4, "ctl_j")?;
    let kk = w.add_wire(4, "ctl_k")?;
    let t = &p.ports;
    let files: [&LaneFile; 8] = [&t.e0, &t.m0, &t.e1, &t.m1, &t.y0_in, &t.y1_in, &t.y0_out, &t.y1_out];
    let names = ["e0", "m0", "e1", "m1", "y0_in", "y1_in", "y0_out", "y1_out"];
    let mut lane_vars = Vec::new();
    for (f, n) in files.iter().zip(names) {
        let side = if n.starts_with('e') && n.ends_with('0') || n.starts_with("m0") || n.starts_with("y0") {
            'c'
        } else {
            'r'
        };
        let mut lv = LaneVars { valid: Vec::new(), data: Vec::new() };
        for l in 0..f.lanes {
            lv.valid.push(w.add_wire(1, &format!("{n}_valid_{side}{l}"))?);
            lv.data.push(w.add_wire(f.payload_bits as u32, &format!("{n}_{side}{l}"))?);
        }
        lane_vars.push(lv);
    }
    let mut cells = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for c in 0..cols {
            w.add_module(&format!("cell_r{r}_c{c}"))?;
            cells.push(CellVars {
                st_ef: w.add_wire(e_bits as u32, "stationary_ef")?,
                up_ef: w.add_wire(e_bits as u32, "stream_up_ef")?,
                right_ef: w.add_wire(e_bits as u32, "stream_right_ef")?,
                prod: w.add_wire(64, "product")?,
                y: w.add_wire(32, "y")?,
                y_valid: w.add_wire(1, "y_valid")?,
            });
            w.upscope()?;
        }
    }
    w.upscope()?;
    w.enddefinitions()?;

    // Initial values.
    w.begin(vcd::SimulationCommand::Dumpvars)?;
    w.change_scalar(clk, Value::V0)?;
    for cv in &cells {
        w.change_vector(cv.st_ef, xs(e_bits))?;
        w.change_vector(cv.up_ef, xs(e_bits))?;
        w.change_vector(cv.right_ef, xs(e_bits))?;
        w.change_vector(cv.prod, bits_of(0, 64))?;
        w.change_vector(cv.y, xs(32))?;
        w.change_scalar(cv.y_valid, Value::V0)?;
    }
    w.end()?;

    let ef = |op: Operand, id: u32| -> u64 {
        match op {
            Operand::X => t.x_field(id),
            Operand::Y => t.y_field(id),
        }
    };
    let mut prev_ctl: Option<u32> = None;
    let mut prev_lane: Vec<Vec<Option<BitVec<u64, Lsb0>>>> = files.iter().map(|f| vec![None; f.lanes]).collect();
    let mut first = true;
    let mut ev = p.cells.iter().peekable();
    for c in 0..lines {
        w.timestamp(10 * c)?;
        w.change_scalar(clk, Value::V1)?;
        w.change_vector(cycle, bits_of(c, 32))?;
        let word = ctl_word(&t.ctl[c as usize]);
        if prev_ctl != Some(word) {
            w.change_vector(mode, bits_of((word & 3) as u64, 2))?;
            w.change_scalar(beat_last, (word >> 2) & 1 == 1)?;
            w.change_vector(phi, bits_of(((word >> 4) & 0xFF) as u64, 8))?;
            w.change_vector(jj, bits_of(((word >> 12) & 0xF) as u64, 4))?;
            w.change_vector(kk, bits_of(((word >> 16) & 0xF) as u64, 4))?;
            prev_ctl = Some(word);
        }
        for (fi, f) in files.iter().enumerate() {
            for (l, prev) in prev_lane[fi].iter_mut().enumerate() {
                let now = f.get(c, l).map(|b| b.to_bitvec());
                if first || now != *prev {
                    let lv = &lane_vars[fi];
                    w.change_scalar(lv.valid[l], now.is_some())?;
                    match &now {
                        Some(b) => w.change_vector(lv.data[l], b.iter().rev().map(|x| Value::from(*x)))?,
                        None => w.change_vector(lv.data[l], xs(f.payload_bits))?,
                    }
                    *prev = now;
                }
            }
        }
        while let Some((_, r, col, e)) = ev.next_if(|e| e.0 == c) {
            let cv = &cells[r * cols + col];
            match *e {
                CellEvent::Stationary(Some(id)) => w.change_vector(cv.st_ef, bits_of(t.x_field(id), e_bits))?,
                CellEvent::Stationary(None) => w.change_vector(cv.st_ef, xs(e_bits))?,
                CellEvent::StreamUp(Some((op, id))) => w.change_vector(cv.up_ef, bits_of(ef(op, id), e_bits))?,
                CellEvent::StreamUp(None) => w.change_vector(cv.up_ef, xs(e_bits))?,
                CellEvent::StreamRight(Some((op, id))) => w.change_vector(cv.right_ef, bits_of(ef(op, id), e_bits))?,
                CellEvent::StreamRight(None) => w.change_vector(cv.right_ef, xs(e_bits))?,
                CellEvent::Product(v) => w.change_vector(cv.prod, bits_of(v as u64, 64))?,
                CellEvent::Y(Some(bits)) => {
                    w.change_vector(cv.y, bits_of(bits as u64, 32))?;
                    w.change_scalar(cv.y_valid, Value::V1)?;
                }
                CellEvent::Y(None) => w.change_scalar(cv.y_valid, Value::V0)?,
            }
        }
        first = false;
        w.timestamp(10 * c + 5)?;
        w.change_scalar(clk, Value::V0)?;
    }
    w.timestamp(10 * lines)?;
    Ok(out)
}
