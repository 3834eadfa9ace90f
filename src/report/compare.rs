//! The files of `fastbfp compare`: a side-by-side table of several archs on one workload
//! (`compare.csv`, `compare.json`), its terminal form, and plots (cycles and energy per arch,
//! energy against cycles). Written atomically.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::plots::{self, Plot};
use super::run::{ReportError, Written};
use super::{write_all_atomic, WriteError};
use crate::runner::RunReport;

/// One arch's line of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    /// Arch name.
    pub arch: String,
    /// Cell kind.
    pub cell: &'static str,
    /// Array rows x columns (after `--equal-area` scaling).
    pub array: (usize, usize),
    /// Cycles of the run.
    pub cycles: u64,
    /// Time at the arch's clock, ms.
    pub time_ms: f64,
    /// Energy, mJ.
    pub energy_mj: f64,
    /// Energy per MAC, pJ.
    pub energy_per_mac_pj: f64,
    /// Array area, mm^2.
    pub array_area_mm2: f64,
    /// Total area, mm^2.
    pub area_mm2: f64,
    /// Throughput per area: MACs per second per mm^2 of total area, in GMAC/s/mm^2.
    pub gmacs_per_mm2: f64,
    /// Utilization of the array.
    pub utilization: f64,
    /// Worst SNR over the GEMMs against binary32, dB (numerics on).
    pub worst_snr_db: Option<f64>,
    /// Mean SNR over the GEMMs, dB.
    pub mean_snr_db: Option<f64>,
}

/// The line of one run.
pub fn compare_row(r: &RunReport) -> CompareRow {
    let t = &r.totals;
    let snrs: Vec<f64> = r.gemms.iter().filter_map(|g| g.quality.map(|q| q.snr_db)).filter(|s| s.is_finite()).collect();
    let secs = t.time_us / 1e6;
    CompareRow {
        arch: r.arch.name.clone(),
        cell: r.arch.array.cell.name(),
        array: (r.arch.array.rows, r.arch.array.cols),
        cycles: t.cycles,
        time_ms: t.time_us / 1000.0,
        energy_mj: t.energy.total_pj() / 1e9,
        energy_per_mac_pj: t.energy.total_pj() / t.macs.max(1) as f64,
        array_area_mm2: t.area.array_um2 / 1e6,
        area_mm2: t.area.total_um2() / 1e6,
        gmacs_per_mm2: if secs > 0.0 { t.macs as f64 / secs / 1e9 / (t.area.total_um2() / 1e6) } else { 0.0 },
        utilization: t.utilization,
        worst_snr_db: snrs.iter().copied().reduce(f64::min),
        mean_snr_db: (!snrs.is_empty()).then(|| snrs.iter().sum::<f64>() / snrs.len() as f64),
    }
}

/// The comparison as a terminal table.
pub fn compare_table(workload: &str, rows: &[CompareRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "fastbfp compare: {workload}");
    let _ = writeln!(
        s,
        "  {:<22} {:<9} {:>9} {:>13} {:>10} {:>11} {:>9} {:>9} {:>12} {:>7} {:>10}",
        "arch",
        "cell",
        "array",
        "cycles",
        "time ms",
        "energy mJ",
        "pJ/MAC",
        "area mm2",
        "GMAC/s/mm2",
        "util %",
        "SNR dB"
    );
    for r in rows {
        let snr = match (r.worst_snr_db, r.mean_snr_db) {
            (Some(w), Some(m)) => format!("{w:.1}/{m:.1}"),
            _ => "-".to_string(),
        };
        let _ = writeln!(
            s,
            "  {:<22} {:<9} {:>9} {:>13} {:>10.3} {:>11.3} {:>9.3} {:>9.3} {:>12.2} {:>7.1} {:>10}",
            r.arch,
            r.cell,
            format!("{}x{}", r.array.0, r.array.1),
            r.cycles,
            r.time_ms,
            r.energy_mj,
            r.energy_per_mac_pj,
            r.area_mm2,
            r.gmacs_per_mm2,
            100.0 * r.utilization,
            snr
        );
    }
    let _ = writeln!(s, "  (SNR: worst/mean over the GEMMs against binary32, sampled outputs)");
    s
}

fn csv(rows: &[CompareRow]) -> String {
    let mut t = super::CsvTable::new(
        "arch,cell,rows,cols,cycles,time_ms,energy_mj,energy_per_mac_pj,array_area_mm2,area_mm2,gmacs_per_mm2,utilization,worst_snr_db,mean_snr_db"
            .split(','),
    );
    for r in rows {
        let o = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.4}"));
        let f = |v: f64| format!("{v:.6}");
        t.row([
            r.arch.clone(),
            r.cell.to_string(),
            r.array.0.to_string(),
            r.array.1.to_string(),
            r.cycles.to_string(),
            f(r.time_ms),
            f(r.energy_mj),
            f(r.energy_per_mac_pj),
            f(r.array_area_mm2),
            f(r.area_mm2),
            f(r.gmacs_per_mm2),
            f(r.utilization),
            o(r.worst_snr_db),
            o(r.mean_snr_db),
        ]);
    }
    t.finish()
}

/// Writes `compare.csv`, `compare.json` and the plots into `dir` (created if missing); a plot
/// that cannot be drawn is left out with a note in [`Written::notes`] (it never fails the run).
pub fn write_compare(dir: &Path, workload: &str, rows: &[CompareRow]) -> Result<Written, ReportError> {
    if dir.exists() && !dir.is_dir() {
        let error = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it is a file, not a folder");
        return Err(WriteError { path: dir.to_path_buf(), error }.into());
    }
    let made = super::OutDir::create(dir)?;
    let json =
        serde_json::to_string_pretty(&serde_json::json!({ "schema_version": 1, "workload": workload, "archs": rows }))
            .map_err(|e| ReportError::Json(e.to_string()))?
            + "\n";
    let mut plots_out: Vec<Plot> = Vec::new();
    let mut notes = Vec::new();
    let mut keep = |name: &'static str, p: Result<Plot, plots::PlotError>| match p {
        Ok(mut p) => {
            p.name = name;
            plots_out.push(p);
        }
        Err(e) => notes.push(format!("{name} plot left out: {e}")),
    };
    let cycles: Vec<(String, f64)> = rows.iter().map(|r| (r.arch.clone(), r.cycles as f64)).collect();
    keep("compare_cycles", plots::breakdown_bars(&format!("{workload}: cycles per arch"), "cycles", &cycles));
    let energy: Vec<(String, f64)> = rows.iter().map(|r| (r.arch.clone(), r.energy_mj * 1e9)).collect();
    keep("compare_energy", plots::breakdown_bars(&format!("{workload}: energy per arch"), "pJ", &energy));
    let pts: Vec<(String, f64, f64)> =
        rows.iter().map(|r| (r.arch.clone(), r.cycles as f64, r.energy_mj * 1e9)).collect();
    keep("compare_pareto", plots::pareto(&format!("{workload}: energy against cycles"), &pts));
    let mut files =
        vec![(dir.join("compare.csv"), csv(rows).into_bytes()), (dir.join("compare.json"), json.into_bytes())];
    for p in plots_out {
        files.push((dir.join(format!("{}.svg", p.name)), p.svg.into_bytes()));
        files.push((dir.join(format!("{}.png", p.name)), p.png));
    }
    write_all_atomic(&files)?;
    made.keep();
    Ok(Written { files: files.into_iter().map(|(p, _)| p).collect(), notes })
}
