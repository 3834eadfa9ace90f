//! The exporter: a case on an arch -> the golden directory's contents (per-cycle port files,
//! sequencer words, converter vectors, memory images, `golden.vh`, `manifest.json`), all from
//! the tick-level model, with its outputs checked against the reference loop.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bitvec::prelude::*;

use super::case::{Case, CaseData};
use super::lanes::LaneFile;
use super::manifest::{Expected, FileInfo, FoldInfo, JobInfo, Manifest, GOLDEN_SCHEMA_VERSION};
use super::trace::PortTrace;
use super::GoldenError;
use crate::accel::spec_for;
use crate::arch::{Arch, CellKind};
use crate::array::probe::{Mode, TickProbe};
use crate::array::{os_fold_probed, plan_folds, ws_fold_probed, Fold, GemmGeometry, PhaseCycles, PlaneStore, TickCtx};
use crate::bfp::{hex_of, BfpMatrix, NoiseBank, PackedTensor, Rounding};
use crate::fmac::{Accumulator, AccumulatorKind};
use crate::gemm::{quantize_operands_named, reference_gemm, GemmOperands, GemmSpec};
use crate::mapping::PassDims;
use crate::tensor::{encode_npy_f32, read_npy};
use crate::workload::{seeded_normal, GRADIENT_SCALE};

/// Most cycles a golden export may hold (every port file has a line per cycle).
pub const MAX_GOLDEN_CYCLES: u64 = 1_000_000;

/// Everything a golden directory holds.
pub struct Golden {
    /// The manifest.
    pub manifest: Manifest,
    /// Files relative to the directory, with their bytes.
    pub files: Vec<(PathBuf, Vec<u8>)>,
    /// The GEMM's output, row-major.
    pub out: Vec<f32>,
}

/// Fold loop shared by the exporter and the VCD writer: runs every fold back to back on the
/// tick model with `probe`, telling it each fold's start cycle. Returns the folds with their
/// start cycles and phases, and the final accumulators.
pub(crate) fn replay<P: TickProbe>(
    ops: &GemmOperands,
    rows: usize,
    cols: usize,
    probe: &mut P,
    mut set_base: impl FnMut(&mut P, u64),
) -> (Vec<(Fold, u64, PhaseCycles)>, Vec<Accumulator>) {
    let geo = GemmGeometry::of(ops);
    let (xs, ys) = (PlaneStore::new(&ops.x), PlaneStore::new(&ops.y));
    let ctx =
        TickCtx { rows, cols, geo, operands: Some((&xs, &ys)), acc_kind: ops.spec.accumulator, full_width: false };
    let mut psums: Vec<Accumulator> =
        (0..geo.out_rows * geo.out_cols).map(|_| Accumulator::new(ops.spec.accumulator)).collect();
    let mut t = 0u64;
    let mut out = Vec::new();
    for f in plan_folds(&geo, rows, cols) {
        set_base(probe, t);
        let tick = if PassDims::of(&geo).weight_stationary() {
            ws_fold_probed(&ctx, &f, &mut psums, probe)
        } else {
            os_fold_probed(&ctx, &f, &mut psums, probe)
        };
        out.push((f, t, tick.phases));
        t += tick.phases.load + tick.phases.stream + tick.phases.drain;
    }
    (out, psums)
}

/// The GEMM spec of `case` on `arch`, after the checks golden export needs. The vectors always
/// run the fold-by-fold schedule, one fold after another on the tick model, as the reference
/// RTL's sequencer does: the arch's `overlap_folds` and `mapping` do not apply to them.
pub(crate) fn case_spec(arch: &Arch, case: &Case) -> Result<GemmSpec, GoldenError> {
    match arch.array.cell {
        CellKind::Fmac { chunk_bits: 2 } => {}
        other => {
            return Err(GoldenError::Arch {
                arch: arch.name.clone(),
                message: format!(
                "golden vectors are defined for fMAC arrays with 2-bit chunks (DESIGN §4, §5); this arch has {} cells",
                other.name()
            ),
            })
        }
    }
    let mut spec = spec_for(arch, case.pass);
    if let Some(x) = case.x {
        spec.x = x;
    }
    if let Some(y) = case.y {
        spec.y = y;
    }
    if let Some(a) = case.accumulator {
        spec.accumulator = a;
    }
    if let Some(s) = case.seed {
        spec.lfsr.seed = s;
    }
    if let Some(n) = case.noise_bits {
        spec.lfsr.noise_bits = n;
    }
    if spec.accumulator != AccumulatorKind::Fp32 {
        return Err(GoldenError::Arch {
            arch: arch.name.clone(),
            message: "accumulator exact: partial sums cross the Y ports as binary32, so golden vectors need accumulator: fp32 (set it in the case)".into(),
        });
    }
    Ok(spec)
}

/// The case's operands as binary32 matrices `(X, Y)`.
pub(crate) fn case_data(case: &Case) -> Result<(Vec<f32>, Vec<f32>), GoldenError> {
    let (xs, ys) = case.operand_shapes();
    let [xn, yn, _] = case.pass.operand_names();
    match &case.data {
        CaseData::Synthetic { seed } => {
            let scale = |name: &str| if name.starts_with("dO") { GRADIENT_SCALE } else { 1.0 };
            Ok((seeded_normal(*seed, xn, xs.0 * xs.1, scale(xn)), seeded_normal(*seed, yn, ys.0 * ys.1, scale(yn))))
        }
        CaseData::Npy { x, y } => {
            let load = |path: &PathBuf, shape: (usize, usize), name: &str, field: &str| {
                let l = read_npy(path, shape.0 * shape.1)?;
                if l.tensor.shape != [shape.0, shape.1] {
                    return Err(GoldenError::Data {
                        case: case.origin.clone(),
                        message: format!(
                            "{field}: {} has shape {:?}, but the case's {name} is [{}, {}]",
                            path.display(),
                            l.tensor.shape,
                            shape.0,
                            shape.1
                        ),
                    });
                }
                Ok(l.tensor.data)
            };
            Ok((load(x, xs, xn, "data.x")?, load(y, ys, yn, "data.y")?))
        }
    }
}

/// Cycles of the case's golden timeline on `arch`, from the closed forms (no data is read).
pub fn case_cycles(arch: &Arch, case: &Case) -> Result<u64, GoldenError> {
    let spec = case_spec(arch, case)?;
    let chunks = |m: u32| crate::bfp::BfpFormat::new(spec.group, m, spec.exp_bits).map(|f| f.chunks());
    let geo = case.dims().geometry(
        spec.group,
        chunks(spec.x.mantissa_bits).map_err(crate::gemm::GemmError::from)?,
        chunks(spec.y.mantissa_bits).map_err(crate::gemm::GemmError::from)?,
    );
    Ok(timeline_cycles(&geo, arch.array.rows, arch.array.cols))
}

/// Folds back to back: the sum of every fold's closed-form phases.
pub(crate) fn timeline_cycles(geo: &GemmGeometry, rows: usize, cols: usize) -> u64 {
    plan_folds(geo, rows, cols)
        .iter()
        .map(|f| {
            let p = crate::array::closed_form(geo, f, rows, cols);
            p.load + p.stream + p.drain
        })
        .sum()
}

/// The operands' names in conversion errors: the role, and the file for `.npy` data.
fn operand_labels(case: &Case) -> (String, String) {
    let [xn, yn, _] = case.pass.operand_names();
    match &case.data {
        CaseData::Npy { x, y } => (format!("{} ({xn})", x.display()), format!("{} ({yn})", y.display())),
        CaseData::Synthetic { .. } => (xn.to_string(), yn.to_string()),
    }
}

/// The case's converted operands on `arch` (what [`export`] simulates).
pub fn case_operands(arch: &Arch, case: &Case) -> Result<GemmOperands, GoldenError> {
    let spec = case_spec(arch, case)?;
    let (xd, yd) = case_data(case)?;
    let (xs, ys) = case.operand_shapes();
    let (xl, yl) = operand_labels(case);
    Ok(quantize_operands_named(&spec, (&xd, xs.0, xs.1), (&yd, ys.0, ys.1), case.first_job, (&xl, &yl))?)
}

/// Exports `case` on `arch`.
pub fn export(arch: &Arch, case: &Case) -> Result<Golden, GoldenError> {
    let estimate = case_cycles(arch, case)?;
    if estimate > MAX_GOLDEN_CYCLES {
        return Err(GoldenError::TooLarge { case: case.name.clone(), cycles: estimate, limit: MAX_GOLDEN_CYCLES });
    }
    let (r, c) = (arch.array.rows, arch.array.cols);
    // The replay steps every cell every cycle (and the port files grow with the edges).
    let cells = r as u64 * c as u64;
    let work = estimate.saturating_mul(cells);
    let limit = crate::array::estimate::MAX_TICK_CELL_CYCLES;
    if work > limit {
        return Err(GoldenError::TooMuchWork { case: case.name.clone(), cycles: estimate, cells, work, limit });
    }
    let spec = case_spec(arch, case)?;
    let (xd, yd) = case_data(case)?;
    let (xs, ys) = case.operand_shapes();
    let [xn, yn, on] = case.pass.operand_names();
    let (xl, yl) = operand_labels(case);
    let ops = quantize_operands_named(&spec, (&xd, xs.0, xs.1), (&yd, ys.0, ys.1), case.first_job, (&xl, &yl))?;
    debug_assert_eq!(timeline_cycles(&GemmGeometry::of(&ops), r, c), estimate);
    let (px, py) = (PackedTensor::pack(&ops.x), PackedTensor::pack(&ops.y));
    let mut trace = PortTrace::new(r, c, &px, &py);
    let (folds, psums) = replay(&ops, r, c, &mut trace, |t, base| t.base = base);
    let cycles = folds.last().map_or(0, |(_, s, p)| s + p.load + p.stream + p.drain);
    let lines = cycles + 1;

    // The tick model's outputs must be the reference loop's, bit for bit.
    let out: Vec<f32> = psums.iter().map(Accumulator::result).collect();
    let want = reference_gemm(&ops);
    if let Some(i) = out.iter().zip(&want).position(|(a, b)| a.to_bits() != b.to_bits()) {
        return Err(GoldenError::Internal(format!(
            "tick model output {i} is {:#010x}, the reference loop gives {:#010x}",
            out[i].to_bits(),
            want[i].to_bits()
        )));
    }
    let oc = ops.out_shape().1;
    for (e, &o) in trace.expected.iter_mut().zip(&trace.expected_out) {
        e.output = Some([o / oc, o % oc]);
    }

    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut infos = BTreeMap::new();
    let what = [
        "E0: exponent field E_f of the group on M0, per column (bottom edge)",
        "M0: one chunk plane (3 bits per element: sign, 2-bit chunk) per column (bottom edge)",
        "E1: exponent field E_f of the group on M1, per row (left edge)",
        "M1: one chunk plane per row (left edge)",
        "Y0_in: binary32 partial sum entering each column at the top (backward-data)",
        "Y1_in: binary32 partial sum entering each row at the left (forward)",
        "Y0_out: expected binary32 partial sum leaving each column at the bottom (backward-data)",
        "Y1_out: expected binary32 value leaving each row at the right (forward, backward-weight drain)",
    ];
    for (f, w) in trace.files_mut().into_iter().zip(what) {
        f.pad_to(lines as usize);
        infos.insert(f.name.to_string(), file_info(f, w));
        files.push((f.name.into(), f.to_hex()));
    }
    trace.ctl.resize(lines as usize, Default::default());
    let ctl: String = trace.ctl.iter().map(|c| format!("{:05x}\n", ctl_word(c))).collect();
    files.push(("ctl.hex".into(), ctl.into_bytes()));
    infos.insert(
        "ctl.hex".into(),
        FileInfo {
            what: "sequencer word: [1:0] mode (0 idle, 1 load, 2 stream, 3 drain), [2] beat_last, [11:4] phi, [15:12] j (X plane), [19:16] k (Y plane)".into(),
            lanes: 1,
            lane_bits: 20,
            payload_bits: 20,
            line_bits: 20,
            hex_digits: 5,
            lines,
        },
    );

    // The converter.
    let latency = arch.converter_latency_cycles();
    let conv = converter_vectors(&spec, &ops, [(&xd, xs), (&yd, ys)], [&px, &py], case.first_job, latency);
    let g = spec.group;
    infos.insert(
        "conv_in.hex".into(),
        FileInfo {
            what: "converter input per group: [32i+:32] element i, [32g] first, [32g+1+:16] job, [32g+17+:16] E_base, [32g+33+:5] m, [32g+38+:2] rounding".into(),
            lanes: 1,
            lane_bits: 32 * g + 40,
            payload_bits: 32 * g + 40,
            line_bits: 32 * g + 40,
            hex_digits: (32 * g + 40).div_ceil(4),
            lines: conv.groups as u64,
        },
    );
    let out_bits = conv.out_bits;
    infos.insert(
        "conv_out.hex".into(),
        FileInfo {
            what:
                "converter output per group: [3g*j+:3g] plane j, [3g*cmax+:8] E_f, [3g*cmax+8+16i+:16] lane i's noise"
                    .into(),
            lanes: 1,
            lane_bits: out_bits,
            payload_bits: out_bits,
            line_bits: out_bits,
            hex_digits: out_bits.div_ceil(4),
            lines: conv.groups as u64,
        },
    );
    files.push(("conv_in.hex".into(), conv.input));
    files.push(("conv_out.hex".into(), conv.output));

    // Memory images and tensors.
    let mut jobs = Vec::new();
    let mut first_line = 0;
    for (role, bm, packed, name, shape, opspec, data) in
        [("X", &ops.x, &px, xn, xs, spec.x, &xd), ("Y", &ops.y, &py, yn, ys, spec.y, &yd)]
    {
        let dir = PathBuf::from("mem").join(role);
        let (_, mut imgs) = crate::report::packed_images(&dir, packed, &[shape.0, shape.1]);
        files.append(&mut imgs);
        files.push((format!("{}.npy", role.to_lowercase()).into(), encode_npy_f32(&[shape.0, shape.1], data)));
        jobs.push(JobInfo {
            role: role.into(),
            tensor: name.into(),
            job: case.first_job + (role == "Y") as u64,
            rows: shape.0,
            cols: shape.1,
            grouped_along: match bm.axis {
                crate::bfp::GroupAxis::Dim1 => "columns".into(),
                crate::bfp::GroupAxis::Dim0 => "rows".into(),
            },
            mantissa_bits: opspec.mantissa_bits,
            chunk_planes: bm.format.chunks(),
            rounding: opspec.rounding,
            e_base: bm.e_base,
            groups: bm.exps.len(),
            first_line,
            flushed: bm.flags.flushed,
            underflow: bm.flags.underflow,
            saturated: bm.flags.saturated,
            exponents_file: format!("mem/{role}/exponents.hex"),
            mantissa_file: format!("mem/{role}/mantissa.hex"),
        });
        first_line += bm.exps.len();
    }
    let (or, oc) = ops.out_shape();
    files.push(("out.npy".into(), encode_npy_f32(&[or, oc], &out)));

    let (cx, cy) = (ops.x.format.chunks(), ops.y.format.chunks());
    let exp_offset = ops.x.e_base + ops.y.e_base
        - (ops.x.format.padded_mantissa_bits() as i32 - 1)
        - (ops.y.format.padded_mantissa_bits() as i32 - 1);
    let mut expected = trace.expected.clone();
    expected.sort_by_key(|a| (a.cycle, a.row, a.col));
    expected.extend(conv.expected);
    let manifest = Manifest {
        schema_version: GOLDEN_SCHEMA_VERSION,
        generator: format!("fastbfp {}", env!("CARGO_PKG_VERSION")),
        case: case.name.clone(),
        pass: case.pass.name().into(),
        shape_nkb: [case.n, case.k, case.b],
        data: match &case.data {
            CaseData::Synthetic { seed } => format!("synthetic normals, seed {seed} (x.npy, y.npy)"),
            CaseData::Npy { x, y } => format!("{} and {}", x.display(), y.display()),
        },
        arch: arch.name.clone(),
        array: [r, c],
        group: g,
        exp_bits: spec.exp_bits,
        chunk_bits: 2,
        accumulator: spec.accumulator,
        lfsr_seed: spec.lfsr.seed,
        lfsr_mask: spec.lfsr.mask,
        noise_bits: spec.lfsr.noise_bits,
        jobs,
        chunks: [cx, cy],
        beat_cycles: (cx * cy) as u64,
        exp_offset,
        folds: folds
            .iter()
            .map(|(f, s, p)| FoldInfo {
                fold: *f,
                start_cycle: *s,
                load_cycles: p.load,
                stream_cycles: p.stream,
                drain_cycles: p.drain,
            })
            .collect(),
        cycles,
        lines,
        converter_latency_cycles: latency,
        converter_groups: conv.groups,
        converter_max_planes: conv.cmax,
        files: infos,
        output_shape: [or, oc],
        expected,
    };
    files.push(("golden.vh".into(), golden_vh(&manifest, on).into_bytes()));
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| GoldenError::Internal(e.to_string()))? + "\n";
    files.push(("manifest.json".into(), json.into_bytes()));
    Ok(Golden { manifest, files, out })
}

fn file_info(f: &LaneFile, what: &str) -> FileInfo {
    FileInfo {
        what: what.into(),
        lanes: f.lanes,
        lane_bits: f.lane_bits(),
        payload_bits: f.payload_bits,
        line_bits: f.line_bits(),
        hex_digits: f.hex_digits(),
        lines: f.len() as u64,
    }
}

/// The 20-bit sequencer word of `docs/golden.md`.
pub(crate) fn ctl_word(c: &crate::array::probe::Ctl) -> u32 {
    let mode = match c.mode {
        Mode::Idle => 0,
        Mode::Load => 1,
        Mode::Stream => 2,
        Mode::Drain => 3,
    };
    mode | (c.beat_last as u32) << 2 | (c.phi & 0xFF) << 4 | (c.j & 0xF) << 12 | (c.k & 0xF) << 16
}

struct ConverterVectors {
    input: Vec<u8>,
    output: Vec<u8>,
    expected: Vec<Expected>,
    groups: usize,
    cmax: u32,
    out_bits: usize,
}

/// The converter's view of both jobs: per group its binary32 inputs and job settings, its
/// LFSR noise and its packed output; the outputs are expected as port `CV`.
fn converter_vectors(
    spec: &GemmSpec,
    ops: &GemmOperands,
    data: [(&[f32], (usize, usize)); 2],
    packed: [&PackedTensor; 2],
    first_job: u64,
    latency: u64,
) -> ConverterVectors {
    let g = spec.group;
    let cmax = ops.x.format.chunks().max(ops.y.format.chunks());
    let mant_field = 3 * g * cmax as usize;
    let out_bits = mant_field + 8 + 16 * g;
    let (mut input, mut output, mut expected) = (Vec::new(), Vec::new(), Vec::new());
    let mut q_all = 0u64;
    for (idx, (bm, opspec)) in [(&ops.x, spec.x), (&ops.y, spec.y)].into_iter().enumerate() {
        let job = first_job + idx as u64;
        let (src, (_, cols)) = data[idx];
        let pk = packed[idx];
        let bm: &BfpMatrix = bm;
        let mut bank = NoiseBank::for_job(g, spec.lfsr.mask, spec.lfsr.seed, job, spec.lfsr.noise_bits);
        let mut noise = vec![0u32; g];
        let c = bm.format.chunks() as usize;
        let e = bm.format.exp_bits() as usize;
        for (gi, (lane, q)) in bm.job_order().into_iter().enumerate() {
            bank.next_group(&mut noise);
            let mut line = BitVec::<u64, Lsb0>::repeat(false, 32 * g + 40);
            for i in 0..g {
                let v = bm.element_position(lane, q, i).map_or(0, |(r, cc)| src[r * cols + cc].to_bits());
                line[32 * i..32 * i + 32].store_le(v);
            }
            line.set(32 * g, gi == 0);
            line[32 * g + 1..32 * g + 17].store_le(job as u16);
            line[32 * g + 17..32 * g + 33].store_le(bm.e_base as i16 as u16);
            line[32 * g + 33..32 * g + 38].store_le(opspec.mantissa_bits as u8);
            let mode: u8 = match opspec.rounding {
                Rounding::Truncate => 0,
                Rounding::Nearest => 1,
                Rounding::Even => 2,
                Rounding::Stochastic => 3,
            };
            line[32 * g + 38..32 * g + 40].store_le(mode);
            input.extend_from_slice(hex_of(&line).as_bytes());
            input.push(b'\n');

            let mut o = BitVec::<u64, Lsb0>::repeat(false, out_bits);
            let mut group = BitVec::<u64, Lsb0>::repeat(false, 3 * g * c + e);
            for j in 0..c {
                let plane = pk.plane(gi, j);
                o[3 * g * j..3 * g * (j + 1)].copy_from_bitslice(plane);
                group[3 * g * j..3 * g * (j + 1)].copy_from_bitslice(plane);
            }
            let e_f = pk.exponent_field(gi);
            o[mant_field..mant_field + 8].store_le(e_f as u8);
            group[3 * g * c..].store_le(e_f);
            for (i, n) in noise.iter().enumerate() {
                o[mant_field + 8 + 16 * i..mant_field + 24 + 16 * i].store_le(*n as u16);
            }
            output.extend_from_slice(hex_of(&o).as_bytes());
            output.push(b'\n');
            expected.push(Expected {
                cycle: q_all + latency,
                row: job as usize,
                col: gi,
                port: "CV".into(),
                hex: hex_of(&group),
                output: None,
            });
            q_all += 1;
        }
    }
    ConverterVectors { input, output, expected, groups: q_all as usize, cmax, out_bits }
}

/// `golden.vh`: the manifest's static parameters as Verilog defines.
fn golden_vh(m: &Manifest, out_name: &str) -> String {
    let f = |n: &str| m.files.get(n).map_or(0, |i| i.line_bits);
    let pass = match m.pass.as_str() {
        "forward" => 0,
        "backward-data" => 1,
        _ => 2,
    };
    let mut s = format!(
        "// golden.vh -- written by {} for case {} ({} pass, out {out_name}) on {}.\n// Contract: docs/golden.md. Do not edit; re-export instead.\n",
        m.generator, m.case, m.pass, m.arch
    );
    let defs: Vec<(&str, String)> = vec![
        ("FB_ROWS", m.array[0].to_string()),
        ("FB_COLS", m.array[1].to_string()),
        ("FB_G", m.group.to_string()),
        ("FB_E_BITS", m.exp_bits.to_string()),
        ("FB_PASS", pass.to_string()),
        ("FB_CX", m.chunks[0].to_string()),
        ("FB_CY", m.chunks[1].to_string()),
        ("FB_BEAT_CYCLES", m.beat_cycles.to_string()),
        ("FB_EXP_OFFSET", format!("({})", m.exp_offset)),
        ("FB_CYCLES", m.cycles.to_string()),
        ("FB_LINES", m.lines.to_string()),
        ("FB_E0_BITS", f("E0.hex").to_string()),
        ("FB_M0_BITS", f("M0.hex").to_string()),
        ("FB_E1_BITS", f("E1.hex").to_string()),
        ("FB_M1_BITS", f("M1.hex").to_string()),
        ("FB_Y0_BITS", f("Y0_in.hex").to_string()),
        ("FB_Y1_BITS", f("Y1_in.hex").to_string()),
        ("FB_CTL_BITS", "20".into()),
        ("FB_LFSR_SEED", format!("16'h{:04x}", m.lfsr_seed)),
        ("FB_LFSR_MASK", format!("16'h{:04x}", m.lfsr_mask)),
        ("FB_NOISE_BITS", m.noise_bits.to_string()),
        ("FB_CONV_GROUPS", m.converter_groups.to_string()),
        ("FB_CONV_IN_BITS", f("conv_in.hex").to_string()),
        ("FB_CONV_OUT_BITS", f("conv_out.hex").to_string()),
        ("FB_CONV_CMAX", m.converter_max_planes.to_string()),
        ("FB_CONV_LATENCY", m.converter_latency_cycles.to_string()),
        ("FB_N_EXPECTED", m.expected.len().to_string()),
    ];
    for (k, v) in defs {
        s += &format!("`define {k} {v}\n");
    }
    s
}
