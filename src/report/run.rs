//! The files of a training run: `report.json` (everything, stable field names, schema
//! version), `layers.csv` (one row per layer, pass and iteration), the plots (SVG and PNG),
//! and the terminal summary text. Every file is written atomically.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::plots::{self, Plot, PrecisionPoint, SpanKind, TimelineSpan, UtilizationBar};
use super::{write_all_atomic, WriteError};
use crate::gemm::Pass;
use crate::runner::RunReport;

/// Errors while writing a run's files.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A plot could not be drawn.
    #[error("plot {name}: {message}")]
    Plot {
        /// Which plot.
        name: &'static str,
        /// Why.
        message: String,
    },
    /// The report did not serialise.
    #[error("report.json: {0}")]
    Json(String),
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    /// Every file, in order.
    pub files: Vec<PathBuf>,
    /// Plots left out and why (a plot never fails a run).
    pub notes: Vec<String>,
}

/// `layers.csv`: one row per GEMM of the run.
pub fn layers_csv(r: &RunReport) -> String {
    let mut t = super::CsvTable::new(
        "iteration,layer,kind,pass,x_rows,x_cols,y_rows,y_cols,out_rows,out_cols,macs,mantissa_x,mantissa_y,\
start_cycle,cycles,stream_cycles,load_cycles,drain_cycles,stall_cycles,stall_dram,stall_converter,stall_sram,\
stall_transpose,utilization,folds,dram_read_bits,dram_write_bits,sram_read_bits,energy_pj,max_abs_error,\
max_rel_error,snr_db,dram_psum_bits,compulsory_dram_bits,mapping"
            .split(','),
    );
    for g in &r.gemms {
        let b = &g.sim.breakdown;
        let tr = &g.sim.traffic;
        let q = g.quality;
        let qf = |f: fn(&crate::gemm::Quality) -> f64| q.as_ref().map_or(String::new(), |q| format!("{}", f(q)));
        let n = |v: u64| v.to_string();
        let z = |v: usize| v.to_string();
        t.row([
            z(g.iteration),
            g.gemm.layer.clone(),
            g.gemm.kind.to_string(),
            g.gemm.pass.to_string(),
            z(g.gemm.x_shape.0),
            z(g.gemm.x_shape.1),
            z(g.gemm.y_shape.0),
            z(g.gemm.y_shape.1),
            z(g.gemm.out_shape.0),
            z(g.gemm.out_shape.1),
            n(g.gemm.macs),
            g.mantissa_bits.0.to_string(),
            g.mantissa_bits.1.to_string(),
            n(g.start_cycle),
            n(g.sim.cycles),
            n(b.stream_cycles),
            n(b.load_cycles),
            n(b.drain_cycles),
            n(b.stalls.total()),
            n(b.stalls.get(crate::sim::StallReason::Dram)),
            n(b.stalls.get(crate::sim::StallReason::Converter)),
            n(b.stalls.get(crate::sim::StallReason::Sram)),
            n(b.stalls.get(crate::sim::StallReason::Transpose)),
            format!("{:.6}", g.sim.utilization),
            z(g.sim.fold_count),
            n(tr.dram_read_exp_bits + tr.dram_read_mant_bits),
            n(tr.dram_write_bits),
            n(tr.sram_read_exp_bits + tr.sram_read_mant_bits),
            format!("{:.3}", g.energy.total_pj()),
            qf(|q| q.max_abs_error),
            qf(|q| q.max_rel_error),
            qf(|q| q.snr_db),
            n(tr.dram_psum_bits),
            n(g.sim.compulsory_dram_bits),
            g.sim.mapping.map_or_else(|| "folds".to_string(), |m| m.label()),
        ]);
    }
    t.finish()
}

/// The roofline's points (every GEMM of the first iteration, by pass) and roofs (the DRAM
/// channel; the array's peak at each beat length the run used: `R C g / p` MACs per cycle for
/// fMAC cells, `R C g` for full-width BFP cells, `R C` for element-wise cells).
pub fn roofline_data(r: &RunReport) -> (Vec<String>, Vec<plots::RooflinePoint>, plots::Roofs) {
    let series: Vec<String> = Pass::ALL.iter().map(|p| p.name().to_string()).collect();
    let cells = (r.arch.array.rows * r.arch.array.cols) as f64;
    let mut peaks: Vec<(String, f64)> = Vec::new();
    let mut points = Vec::new();
    for g in r.gemms.iter().filter(|g| g.iteration == 0) {
        let geo = &g.sim.geometry;
        let (label, peak) = if r.arch.array.cell.is_bfp() {
            let group = r.arch.bfp.group as f64;
            let p = geo.beat_cycles() as f64;
            (format!("{} cycles per group pair", geo.beat_cycles()), cells * group / p)
        } else {
            ("one MAC per cell".to_string(), cells)
        };
        if !peaks.iter().any(|(l, _)| *l == label) {
            peaks.push((label, peak));
        }
        let bytes = g.sim.traffic.dram_bits() as f64 / 8.0;
        points.push(plots::RooflinePoint {
            series: Pass::ALL.iter().position(|&p| p == g.gemm.pass).unwrap_or(0),
            intensity_macs_per_byte: if bytes > 0.0 { g.sim.macs as f64 / bytes } else { 0.0 },
            macs_per_cycle: g.sim.macs as f64 / g.sim.cycles.max(1) as f64,
        });
    }
    peaks.sort_by(|a, b| b.1.total_cmp(&a.1));
    let roofs = plots::Roofs { dram_bytes_per_cycle: r.arch.memory.dram.bytes_per_cycle as f64, peaks };
    (series, points, roofs)
}

/// Where the run's cycles went, each counted once (the summary's figures, for the timeline's
/// legend).
pub fn cycle_shares(r: &RunReport) -> plots::CycleShares {
    let t = &r.totals;
    plots::CycleShares {
        run_cycles: t.cycles,
        stream_cycles: t.stream_cycles,
        exposed_load_cycles: t.load_cycles,
        exposed_drain_cycles: t.drain_cycles,
        stall_cycles: t.stalls.by_reason.iter().map(|&(reason, c)| (reason.name(), c)).collect(),
    }
}

/// Keeps a drawn plot; a plot with nothing to show (e.g. no fold timeline for SCALE-Sim cells)
/// is left out quietly, one that cannot be drawn is left out with a note: a plot never fails
/// the run.
fn keep(out: &mut Vec<Plot>, notes: &mut Vec<String>, name: &'static str, p: Result<Plot, plots::PlotError>) {
    match p {
        Ok(p) => out.push(p),
        Err(plots::PlotError::NoData { .. }) => {}
        Err(e) => notes.push(format!("{name} plot left out: {e}")),
    }
}

/// The run's plots; a plot that cannot be drawn is left out with a note in `notes`.
pub fn run_plots(r: &RunReport, notes: &mut Vec<String>) -> Vec<Plot> {
    let mut out = Vec::new();
    let first_it: Vec<_> = r.gemms.iter().filter(|g| g.iteration == 0).collect();
    let bars: Vec<UtilizationBar> = first_it
        .iter()
        .map(|g| UtilizationBar {
            layer: g.gemm.layer.clone(),
            pass: g.gemm.pass.to_string(),
            utilization: g.sim.utilization,
        })
        .collect();
    let title = format!("{} on {}: array utilization per layer and pass", r.workload, r.arch.name);
    keep(&mut out, notes, "utilization", plots::utilization_per_layer(&title, &bars));

    let mut spans = Vec::new();
    let mut whole = 0usize;
    for g in &first_it {
        let lane = format!("{} {}", g.gemm.layer, g.gemm.pass);
        if g.sim.folds.is_empty() && g.sim.fold_count > 0 && g.sim.cycles > 0 {
            // A GEMM whose timeline was not kept (too many folds): one span over its cycles.
            let (start_cycle, end_cycle) = (g.start_cycle, g.start_cycle + g.sim.cycles);
            spans.push(TimelineSpan { lane: lane.clone(), start_cycle, end_cycle, kind: SpanKind::Stream });
            whole += 1;
        }
        for f in &g.sim.folds {
            let o = g.start_cycle;
            let mut push = |(s, e): (u64, u64), kind| {
                if e > s {
                    spans.push(TimelineSpan { lane: lane.clone(), start_cycle: o + s, end_cycle: o + e, kind });
                }
            };
            if let (w, Some(reason)) = f.wait {
                let start = if g.gemm.pass == Pass::BackwardWeight { f.stream.0 } else { f.load.0.min(f.stream.0) };
                push((start.saturating_sub(w), start), SpanKind::Stall(reason.name()));
            }
            push(f.load, SpanKind::Load);
            // A stretched stream: the array streamed at full speed for its own cycles and then
            // waited for memory or converters for the rest.
            match f.stretch {
                (n, Some(reason)) if n > 0 => {
                    push((f.stream.0, f.stream.1 - n), SpanKind::Stream);
                    push((f.stream.1 - n, f.stream.1), SpanKind::Stall(reason.name()));
                }
                _ => push(f.stream, SpanKind::Stream),
            }
            push(f.drain, SpanKind::Drain);
        }
    }
    let title = format!("{} on {}: fold timeline (iteration 0)", r.workload, r.arch.name);
    let mut note = Vec::new();
    if whole > 0 {
        let most = crate::runner::TIMELINE_FOLDS_PER_GEMM;
        note.push(format!("{whole} GEMMs of over {most} folds drawn as one span"));
    }
    if r.options.iterations > 1 {
        note.push(format!("legend over all {} iterations", r.options.iterations));
    }
    let note = (!note.is_empty()).then(|| note.join("; "));
    let shares = cycle_shares(r);
    keep(&mut out, notes, "timeline", plots::fold_timeline(&title, note.as_deref(), &spans, &shares));

    let cycles = r.totals.cycles.max(1) as f64;
    let frac: Vec<f64> = r.totals.busy_per_cell.iter().map(|&b| b as f64 / cycles).collect();
    let title = format!("{}: per-cell utilization over the run", r.arch.name);
    if frac.iter().any(|&f| f > 0.0) {
        keep(&mut out, notes, "heatmap", plots::cell_heatmap(&title, r.arch.array.rows, r.arch.array.cols, &frac));
    }

    let (series, points, roofs) = roofline_data(r);
    let title = format!("{} on {}: roofline", r.workload, r.arch.name);
    keep(&mut out, notes, "roofline", plots::roofline(&title, &series, &points, &roofs));

    let e = &r.totals.energy;
    let parts = vec![
        ("array".to_string(), e.array_pj),
        ("converters".to_string(), e.converters_pj),
        ("exponent SRAM".to_string(), e.exponent_sram_pj),
        ("mantissa SRAM".to_string(), e.mantissa_sram_pj),
        ("DRAM".to_string(), e.dram_pj),
        ("transposes".to_string(), e.transpose_pj),
        ("output buffer".to_string(), e.output_buffer_pj),
    ];
    let title = format!("{} on {}: energy by component", r.workload, r.arch.name);
    keep(&mut out, notes, "energy", plots::breakdown_bars(&title, "pJ", &parts));

    let a = &r.totals.area;
    let parts = vec![
        ("array".to_string(), a.array_um2),
        ("converters".to_string(), a.converters_um2),
        ("exponent SRAM".to_string(), a.exponent_sram_um2),
        ("mantissa SRAM".to_string(), a.mantissa_sram_um2),
        ("output buffer".to_string(), a.output_buffer_um2),
        ("im2col".to_string(), a.im2col_um2),
    ];
    let title = format!("{}: area by component", r.arch.name);
    keep(&mut out, notes, "area", plots::breakdown_bars(&title, "um^2", &parts));

    if r.options.iterations > 1 {
        let mut points: Vec<PrecisionPoint> = Vec::new();
        for g in r.gemms.iter().filter(|g| g.gemm.pass == Pass::Forward) {
            points.push(PrecisionPoint {
                layer: g.gemm.layer.clone(),
                iteration: g.iteration,
                mantissa_bits: g.mantissa_bits.0,
            });
        }
        let title = format!("{}: weight mantissa bits per layer over iterations", r.workload);
        keep(&mut out, notes, "precision", plots::precision_over_iterations(&title, &points));
    }
    out
}

/// Writes `report.json`, `layers.csv` and every plot (`<name>.svg`, `<name>.png`) into `dir`
/// (created if missing) as one atomic unit.
pub fn write_run(dir: &Path, r: &RunReport) -> Result<Written, ReportError> {
    if dir.exists() && !dir.is_dir() {
        let error = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it is a file, not a folder");
        return Err(WriteError { path: dir.to_path_buf(), error }.into());
    }
    let made = super::OutDir::create(dir)?;
    let json = serde_json::to_string_pretty(r).map_err(|e| ReportError::Json(e.to_string()))? + "\n";
    let mut files: Vec<(PathBuf, Vec<u8>)> =
        vec![(dir.join("report.json"), json.into_bytes()), (dir.join("layers.csv"), layers_csv(r).into_bytes())];
    let mut notes = Vec::new();
    for p in run_plots(r, &mut notes) {
        files.push((dir.join(format!("{}.svg", p.name)), p.svg.into_bytes()));
        files.push((dir.join(format!("{}.png", p.name)), p.png));
    }
    write_all_atomic(&files)?;
    made.keep();
    Ok(Written { files: files.into_iter().map(|(p, _)| p).collect(), notes })
}

/// The terminal summary.
pub fn summary(r: &RunReport) -> String {
    let t = &r.totals;
    let mut s = String::new();
    let mib = |bits: u64| bits as f64 / 8.0 / 1048576.0;
    let _ = writeln!(
        s,
        "fastbfp run: {} on {} ({} cells, {} x {}, {} MHz), {} iteration(s), fidelity {}, numerics {}",
        r.workload,
        r.arch.name,
        r.arch.array.cell.name(),
        r.arch.array.rows,
        r.arch.array.cols,
        r.arch.clock_mhz,
        r.options.iterations,
        match r.options.fidelity {
            crate::array::Fidelity::Cycle => "cycle",
            crate::array::Fidelity::Fold => "fold",
        },
        if r.options.numerics { "on" } else { "off" }
    );
    let _ = writeln!(s, "\n  {:<24} {:>16}", "cycles", t.cycles);
    for (i, p) in Pass::ALL.iter().enumerate() {
        let _ = writeln!(s, "    {:<22} {:>16}", p.name(), t.cycles_per_pass[i]);
    }
    let _ = writeln!(s, "  {:<24} {:>16.3} ms", "time at the clock", t.time_us / 1000.0);
    let _ = writeln!(s, "  {:<24} {:>16}", "MACs", t.macs);
    let _ = writeln!(s, "  {:<24} {:>15.1} %", "utilization", 100.0 * t.utilization);
    // Each with its share of the cycles, as the fold timeline's legend shows it.
    let share = |c: u64| plots::cycle_share(c, t.cycles);
    let _ = writeln!(s, "  {:<24} {:>16} {:>9}", "streaming cycles", t.stream_cycles, share(t.stream_cycles));
    let _ = writeln!(s, "  {:<24} {:>16} {:>9}", "exposed load cycles", t.load_cycles, share(t.load_cycles));
    let _ = writeln!(s, "  {:<24} {:>16} {:>9}", "exposed drain cycles", t.drain_cycles, share(t.drain_cycles));
    let _ = writeln!(s, "  {:<24} {:>16} {:>9}", "stall cycles", t.stalls.total(), share(t.stalls.total()));
    for (reason, c) in &t.stalls.by_reason {
        let _ = writeln!(s, "    {:<22} {:>16} {:>9}", reason.name(), c, share(*c));
    }
    let _ = writeln!(s, "\n  {:<24} {:>16.4} mm^2", "area", t.area.total_um2() / 1e6);
    for (name, v) in [
        ("array", t.area.array_um2),
        ("converters", t.area.converters_um2),
        ("exponent SRAM", t.area.exponent_sram_um2),
        ("mantissa SRAM", t.area.mantissa_sram_um2),
        ("output buffer", t.area.output_buffer_um2),
        ("im2col", t.area.im2col_um2),
    ] {
        let _ = writeln!(s, "    {:<22} {:>16.4} mm^2", name, v / 1e6);
    }
    let _ = writeln!(s, "  {:<24} {:>16.3} mJ", "energy", t.energy.total_pj() / 1e9);
    for (name, v) in [
        ("array", t.energy.array_pj),
        ("converters", t.energy.converters_pj),
        ("exponent SRAM", t.energy.exponent_sram_pj),
        ("mantissa SRAM", t.energy.mantissa_sram_pj),
        ("DRAM", t.energy.dram_pj),
        ("transposes", t.energy.transpose_pj),
        ("output buffer", t.energy.output_buffer_pj),
    ] {
        let _ = writeln!(s, "    {:<22} {:>16.3} mJ", name, v / 1e9);
    }
    let tr = &t.traffic;
    let _ = writeln!(
        s,
        "\n  traffic (MiB)            DRAM read {:.1} (exp {:.1}, mant {:.1}), write {:.1}, transposes {:.1}",
        mib(tr.dram_read_exp_bits + tr.dram_read_mant_bits),
        mib(tr.dram_read_exp_bits),
        mib(tr.dram_read_mant_bits),
        mib(tr.dram_write_bits),
        mib(tr.dram_transpose_bits)
    );
    let _ = writeln!(
        s,
        "                           SRAM read exp {:.1}, mant {:.1}; write exp {:.1}, mant {:.1}",
        mib(tr.sram_read_exp_bits),
        mib(tr.sram_read_mant_bits),
        mib(tr.sram_write_exp_bits),
        mib(tr.sram_write_mant_bits)
    );
    let _ = writeln!(
        s,
        "                           DRAM (GEMMs) {:.1} against a compulsory {:.1}: {:.2}x; spilled partial sums {:.1}",
        mib(tr.dram_bits() - tr.dram_transpose_bits),
        mib(t.compulsory_dram_bits),
        t.dram_over_compulsory,
        mib(tr.dram_psum_bits)
    );
    if r.options.numerics {
        let _ = writeln!(
            s,
            "\n  numerical quality against binary32 (iteration 0, up to 64 x 256 sampled outputs per GEMM)"
        );
        let _ = writeln!(s, "    {:<20} {:<16} {:>11} {:>11} {:>9}", "layer", "pass", "max abs", "max rel", "SNR dB");
        for g in r.gemms.iter().filter(|g| g.iteration == 0) {
            if let Some(q) = g.quality {
                let _ = writeln!(
                    s,
                    "    {:<20} {:<16} {:>11.3e} {:>11.3e} {:>9.2}",
                    g.gemm.layer,
                    g.gemm.pass.name(),
                    q.max_abs_error,
                    q.max_rel_error,
                    q.snr_db
                );
            }
        }
    }
    s
}
