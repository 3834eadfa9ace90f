//! The files of `fastbfp train`: `train.json` (everything, `schema_version`), `epochs.csv`,
//! `precision.csv` (FAST's decision log), `weights.npz` (the final parameters) and the plots;
//! for `--compare`, one such folder per policy and `compare.csv` with the combined plots. Also
//! the terminal summaries. CSV is RFC 4180 (the `csv` crate); every file is written atomically
//! and a run's files as one unit.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::plots::{self, Plot, Series};
use super::{write_all_atomic, ReportError, WriteError, Written};
use crate::arch::TensorClass;
use crate::tensor::encode_npy_f32;
use crate::train::trainer::TrainReport;

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| ReportError::Json(format!("csv: {e}"));
    w.write_record(header).map_err(err)?;
    for r in rows {
        w.write_record(&r).map_err(err)?;
    }
    w.into_inner().map_err(|e| ReportError::Json(format!("csv: {e}")))
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v}"))
}

/// `epochs.csv`: one row per epoch.
pub fn epochs_csv(r: &TrainReport) -> Result<Vec<u8>, ReportError> {
    let header = [
        "epoch",
        "iterations",
        "train_loss",
        "train_accuracy",
        "test_accuracy",
        "cycles",
        "time_s",
        "energy_j",
        "macs",
        "stall_cycles",
        "policy_cycles",
        "policy_converter_groups",
    ];
    csv_bytes(
        &header,
        r.epochs.iter().map(|e| {
            vec![
                e.epoch.to_string(),
                e.iterations.to_string(),
                format!("{}", e.train_loss),
                format!("{}", e.train_accuracy),
                opt(e.test_accuracy),
                e.cost.cycles.to_string(),
                format!("{}", e.time_s),
                format!("{}", e.energy_j),
                e.cost.macs.to_string(),
                e.cost.stalls.total().to_string(),
                e.cost.policy_cycles.to_string(),
                e.cost.policy_converter_groups.to_string(),
            ]
        }),
    )
}

/// `precision.csv`: FAST's decisions (iteration, layer, l, class, ε, every `r_m` as
/// `m:r` separated by `;`, chosen bits); for other policies, every change of a width.
pub fn precision_csv(r: &TrainReport) -> Result<Vec<u8>, ReportError> {
    if r.decisions.is_empty() {
        let header = ["iteration", "layer", "l", "class", "bits"];
        return csv_bytes(
            &header,
            r.precision_changes.iter().map(|c| {
                vec![
                    c.iteration.to_string(),
                    r.gemm_layers.get(c.l - 1).cloned().unwrap_or_default(),
                    c.l.to_string(),
                    c.class.name().to_string(),
                    c.bits.to_string(),
                ]
            }),
        );
    }
    let header = ["iteration", "layer", "l", "class", "epsilon", "r", "bits", "r_norm"];
    let norm = r.options.config.fast.r_norm.name();
    csv_bytes(
        &header,
        r.decisions.iter().map(|d| {
            let rs: Vec<String> = d.r.iter().map(|(m, v)| format!("{m}:{v}")).collect();
            vec![
                d.iteration.to_string(),
                d.layer.clone(),
                d.l.to_string(),
                d.class.name().to_string(),
                format!("{}", d.epsilon),
                rs.join(";"),
                d.bits.to_string(),
                norm.to_string(),
            ]
        }),
    )
}

/// `weights.npz`: one float32 `.npy` member per parameter (uncompressed zip, as `numpy.savez`).
pub fn weights_npz(r: &TrainReport) -> Result<Vec<u8>, ReportError> {
    let err = |e: &dyn std::fmt::Display| ReportError::Json(format!("weights.npz: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    for (name, shape, data) in &r.weights {
        zip.start_file(format!("{name}.npy"), opts).map_err(|e| err(&e))?;
        zip.write_all(&encode_npy_f32(shape, data)).map_err(|e| err(&e))?;
    }
    Ok(zip.finish().map_err(|e| err(&e))?.into_inner())
}

/// Widths per class as `[layers][iterations]` (0 = element-wise cells), from the changes.
pub fn precision_matrix(r: &TrainReport) -> Vec<(TensorClass, Vec<u8>)> {
    let (layers, its) = (r.gemm_layers.len(), r.iterations);
    TensorClass::ALL
        .iter()
        .map(|&c| {
            let mut m = vec![0u8; layers * its];
            let mut changes: Vec<_> = r.precision_changes.iter().filter(|x| x.class == c).collect();
            changes.sort_by_key(|x| (x.l, x.iteration));
            for (k, ch) in changes.iter().enumerate() {
                let end = match changes.get(k + 1) {
                    Some(n) if n.l == ch.l => n.iteration,
                    _ => its,
                };
                let row = ch.l.saturating_sub(1);
                if row < layers {
                    for v in &mut m[row * its + ch.iteration.min(its)..row * its + end.min(its)] {
                        *v = ch.bits.min(255) as u8;
                    }
                }
            }
            (c, m)
        })
        .collect()
}

/// The plots of one run; a plot that cannot be drawn is left out with a note (it never fails
/// the run).
pub fn train_plots(r: &TrainReport, notes: &mut Vec<String>) -> Vec<Plot> {
    let mut out = Vec::new();
    let mut keep = |p: Result<Plot, plots::PlotError>| match p {
        Ok(p) => out.push(p),
        Err(e) => notes.push(format!("plot left out: {e}")),
    };
    let title = format!("{} on {} ({})", r.workload, r.arch.name, r.policy);
    keep(plots::accuracy_vs_time(&format!("Test accuracy: {title}"), &[accuracy_series(r)], None));
    let test_loss = Series {
        label: "test".into(),
        points: r.evaluations.iter().map(|e| (e.iteration as f64, e.test_loss)).collect(),
    };
    let train_loss = Series {
        label: "train".into(),
        points: r.evaluations.iter().filter_map(|e| e.train_loss.map(|l| (e.iteration as f64, l))).collect(),
    };
    keep(plots::loss_curves(&format!("Loss: {title}"), &[train_loss, test_loss]));
    let mats = precision_matrix(r);
    let classes: Vec<(&str, Vec<u8>)> = mats.into_iter().map(|(c, m)| (c.name(), m)).collect();
    // FAST's heat map names the rule's norm (DESIGN §11 r_norm); other policies have no rule.
    let rule =
        if r.decisions.is_empty() { String::new() } else { format!(", r_norm {}", r.options.config.fast.r_norm) };
    keep(plots::precision_heatmap(&format!("Mantissa bits: {title}{rule}"), &r.gemm_layers, r.iterations, &classes));
    keep(plots::energy_per_epoch(&format!("Energy per epoch: {title}"), &[energy_series(r)]));
    out
}

fn accuracy_series(r: &TrainReport) -> Series {
    Series {
        label: r.policy.clone(),
        points: r.evaluations.iter().map(|e| (e.time_s, e.test_accuracy * 100.0)).collect(),
    }
}

fn energy_series(r: &TrainReport) -> Series {
    Series { label: r.policy.clone(), points: r.epochs.iter().map(|e| (e.epoch as f64, e.energy_j)).collect() }
}

fn prepare_dir(dir: &Path) -> Result<super::OutDir, ReportError> {
    if dir.exists() && !dir.is_dir() {
        let error = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it is a file, not a folder");
        return Err(WriteError { path: dir.to_path_buf(), error }.into());
    }
    Ok(super::OutDir::create(dir)?)
}

/// Files to write: `(path, bytes)`.
pub type FileSet = Vec<(PathBuf, Vec<u8>)>;

/// The files of one run, in memory: `(path, bytes)`, plus notes on plots left out.
pub fn train_files(dir: &Path, r: &TrainReport) -> Result<(FileSet, Vec<String>), ReportError> {
    let json = serde_json::to_string_pretty(r).map_err(|e| ReportError::Json(e.to_string()))? + "\n";
    let mut notes = Vec::new();
    let mut files = vec![
        (dir.join("train.json"), json.into_bytes()),
        (dir.join("epochs.csv"), epochs_csv(r)?),
        (dir.join("precision.csv"), precision_csv(r)?),
        (dir.join("weights.npz"), weights_npz(r)?),
    ];
    for p in train_plots(r, &mut notes) {
        files.push((dir.join(format!("{}.svg", p.name)), p.svg.into_bytes()));
        files.push((dir.join(format!("{}.png", p.name)), p.png));
    }
    Ok((files, notes))
}

/// Writes one run's files into `dir` (created if missing) as one atomic unit.
pub fn write_train(dir: &Path, r: &TrainReport) -> Result<(Written, Vec<String>), ReportError> {
    let (files, notes) = train_files(dir, r)?;
    let made = prepare_dir(dir)?;
    write_all_atomic(&files)?;
    made.keep();
    Ok((Written { files: files.into_iter().map(|(p, _)| p).collect(), notes: Vec::new() }, notes))
}

/// One row of `compare.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareTrainRow {
    /// Policy.
    pub policy: String,
    /// Arch the policy ran on.
    pub arch: String,
    /// Final test accuracy (`None`: diverged).
    pub final_test_accuracy: Option<f64>,
    /// Best test accuracy of any evaluation.
    pub best_test_accuracy: f64,
    /// Cycles of the whole run.
    pub total_cycles: u64,
    /// Energy of the whole run, J.
    pub total_energy_j: f64,
    /// Cycles at the first evaluation reaching the target (`None`: never).
    pub cycles_to_target: Option<u64>,
    /// Time at the clock to that evaluation, s.
    pub time_to_target_s: Option<f64>,
    /// Energy to that evaluation, J.
    pub energy_to_target_j: Option<f64>,
    /// `cycles_to_target` of this policy over that of `fast` (how many times faster `fast`
    /// reached the target).
    pub fast_speedup: Option<f64>,
    /// Iteration where training diverged.
    pub diverged_at: Option<usize>,
}

/// The comparison rows against `target` (accuracy in [0, 1]).
pub fn compare_rows(reports: &[TrainReport], target: f64) -> Vec<CompareTrainRow> {
    fn reach(r: &TrainReport, target: f64) -> Option<&crate::train::trainer::Evaluation> {
        r.evaluations.iter().find(|e| e.test_accuracy >= target - 1e-12)
    }
    let fast = reports.iter().find(|r| r.policy == "fast").and_then(|r| reach(r, target).map(|e| e.cycles));
    reports
        .iter()
        .map(|r| {
            let e = reach(r, target);
            let cycles = e.map(|e| e.cycles);
            CompareTrainRow {
                policy: r.policy.clone(),
                arch: r.arch.name.clone(),
                final_test_accuracy: r.final_test_accuracy,
                best_test_accuracy: r.evaluations.iter().map(|e| e.test_accuracy).fold(0.0, f64::max),
                total_cycles: r.total.cycles,
                total_energy_j: r.total_energy_j,
                cycles_to_target: cycles,
                time_to_target_s: e.map(|e| e.time_s),
                energy_to_target_j: e.map(|e| e.energy_j),
                fast_speedup: match (cycles, fast) {
                    (Some(c), Some(f)) if f > 0 => Some(c as f64 / f as f64),
                    _ => None,
                },
                diverged_at: r.diverged.as_ref().map(|d| d.iteration),
            }
        })
        .collect()
}

/// `compare.csv`.
pub fn compare_csv(rows: &[CompareTrainRow], target: f64) -> Result<Vec<u8>, ReportError> {
    let header = [
        "policy",
        "arch",
        "final_test_accuracy",
        "best_test_accuracy",
        "target_accuracy",
        "total_cycles",
        "total_energy_j",
        "cycles_to_target",
        "time_to_target_s",
        "energy_to_target_j",
        "fast_speedup",
        "diverged_at",
    ];
    csv_bytes(
        &header,
        rows.iter().map(|r| {
            vec![
                r.policy.clone(),
                r.arch.clone(),
                opt(r.final_test_accuracy),
                format!("{}", r.best_test_accuracy),
                format!("{target}"),
                r.total_cycles.to_string(),
                format!("{}", r.total_energy_j),
                r.cycles_to_target.map_or(String::new(), |c| c.to_string()),
                opt(r.time_to_target_s),
                opt(r.energy_to_target_j),
                opt(r.fast_speedup),
                r.diverged_at.map_or(String::new(), |i| i.to_string()),
            ]
        }),
    )
}

/// Writes a comparison: one sub-folder per policy (named [`crate::workload::TrainPolicy::folder`]),
/// `compare.csv` and the combined plots, all as one atomic unit.
pub fn write_train_compare(
    dir: &Path,
    reports: &[(String, TrainReport)],
    target: f64,
) -> Result<(Written, Vec<String>), ReportError> {
    let mut files = Vec::new();
    let mut notes = Vec::new();
    for (folder, r) in reports {
        let (f, n) = train_files(&dir.join(folder), r)?;
        files.extend(f);
        notes.extend(n.into_iter().map(|n| format!("{folder}: {n}")));
    }
    let only: Vec<TrainReport> = reports.iter().map(|(_, r)| r.clone()).collect();
    let rows = compare_rows(&only, target);
    files.push((dir.join("compare.csv"), compare_csv(&rows, target)?));
    let title = only.first().map_or(String::new(), |r| format!("{} on {}", r.workload, data_label(&r.data.name)));
    let acc: Vec<Series> = only.iter().map(accuracy_series).collect();
    let mut plots_out = Vec::new();
    let mut keep = |p: Result<Plot, plots::PlotError>| match p {
        Ok(p) => plots_out.push(p),
        Err(e) => notes.push(format!("plot left out: {e}")),
    };
    keep(plots::accuracy_vs_time(
        &format!("Test accuracy against simulated training time: {title}"),
        &acc,
        Some(target * 100.0),
    ));
    let loss: Vec<Series> = only
        .iter()
        .map(|r| Series {
            label: r.policy.clone(),
            points: r.evaluations.iter().filter_map(|e| e.train_loss.map(|l| (e.iteration as f64, l))).collect(),
        })
        .collect();
    keep(plots::loss_curves(&format!("Training loss: {title}"), &loss));
    let energy: Vec<Series> = only.iter().map(energy_series).collect();
    keep(plots::energy_per_epoch(&format!("Energy per epoch: {title}"), &energy));
    for p in plots_out {
        files.push((dir.join(format!("{}.svg", p.name)), p.svg.into_bytes()));
        files.push((dir.join(format!("{}.png", p.name)), p.png));
    }
    let mut made = Vec::new();
    for (folder, _) in reports {
        made.push(prepare_dir(&dir.join(folder))?);
    }
    write_all_atomic(&files)?;
    made.into_iter().for_each(super::OutDir::keep);
    Ok((Written { files: files.into_iter().map(|(p, _)| p).collect(), notes: Vec::new() }, notes))
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.2} %", v * 100.0))
}

/// A data set as titles and headers name it: `digits`, `mnist1d`, or the file or folder name
/// of a path (`~/data/cifar-10-batches-bin` -> `cifar-10-batches-bin`); `train.json` keeps the
/// path as given.
pub fn data_label(name: &str) -> &str {
    let trimmed = name.trim_end_matches('/');
    std::path::Path::new(trimmed).file_name().and_then(|f| f.to_str()).unwrap_or(name)
}

/// The terminal summary of one run.
pub fn train_summary(r: &TrainReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "fastbfp train: {} on {} ({} cells, {} x {}, {} MHz), data {} ({} train / {} test, {} classes), policy {}",
        r.workload,
        r.arch.name,
        r.arch.cell,
        r.arch.array.0,
        r.arch.array.1,
        r.arch.clock_mhz,
        data_label(&r.data.name),
        r.data.train,
        r.data.test,
        r.data.classes,
        r.policy
    );
    let o = &r.options;
    let _ = writeln!(
        s,
        "  {} epochs x {} iterations of batch {}, lr {} ({}), momentum {}, weight decay {}, seed {}\n",
        o.config.epochs,
        r.iterations_per_epoch,
        o.batch,
        o.config.optimizer.lr,
        o.config.lr_schedule,
        o.config.optimizer.momentum,
        o.config.optimizer.weight_decay,
        o.seed
    );
    let _ = writeln!(
        s,
        "  {:>6} {:>10} {:>10} {:>10} {:>14} {:>12} {:>12}",
        "epoch", "loss", "train acc", "test acc", "cycles", "time", "energy"
    );
    for e in &r.epochs {
        let _ = writeln!(
            s,
            "  {:>6} {:>10.4} {:>10} {:>10} {:>14} {:>9.3} ms {:>9.3} mJ",
            e.epoch,
            e.train_loss,
            pct(Some(e.train_accuracy)),
            pct(e.test_accuracy),
            e.cost.cycles,
            e.time_s * 1e3,
            e.energy_j * 1e3
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "  final test accuracy        {}", pct(r.final_test_accuracy));
    if let Some(d) = &r.diverged {
        let _ = writeln!(s, "  DIVERGED at iteration {}: {}", d.iteration, d.message);
    }
    let _ = writeln!(s, "  simulated training cycles  {}", r.total.cycles);
    let _ = writeln!(s, "  time at the clock          {:.3} ms", r.total_time_s * 1e3);
    let _ = writeln!(s, "  energy                     {:.3} mJ", r.total_energy_j * 1e3);
    let _ = writeln!(s, "  MACs                       {}", r.total.macs);
    if r.total.policy_converter_groups > 0 {
        let _ = writeln!(
            s,
            "  FAST's r measurements      {} converter groups, {} cycles ({:.2} % of the cycles), r_norm {}",
            r.total.policy_converter_groups,
            r.total.policy_cycles,
            100.0 * r.total.policy_cycles as f64 / r.total.cycles.max(1) as f64,
            r.options.config.fast.r_norm
        );
    }
    if !r.decisions.is_empty() || !r.precision_changes.is_empty() {
        let _ = writeln!(s, "  mantissa bits per GEMM layer (weights/activations/gradients), first -> last iteration:");
        let mats = precision_matrix(r);
        let its = r.iterations;
        for (l, name) in r.gemm_layers.iter().enumerate() {
            let at = |i: usize| -> String {
                mats.iter()
                    .map(|(_, m)| m.get(l * its + i).copied().unwrap_or(0).to_string())
                    .collect::<Vec<_>>()
                    .join("/")
            };
            if its > 0 {
                let _ = writeln!(s, "    {:<24} {} -> {}", name, at(0), at(its - 1));
            }
        }
    }
    s
}

/// The terminal table of a comparison.
pub fn compare_summary(rows: &[CompareTrainRow], target: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "  target test accuracy {:.2} %\n", target * 100.0);
    let _ = writeln!(
        s,
        "  {:<10} {:>10} {:>10} {:>16} {:>13} {:>14} {:>12}",
        "policy", "final acc", "best acc", "cycles to target", "time", "energy", "fast speedup"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "  {:<10} {:>10} {:>10} {:>16} {:>13} {:>14} {:>12}",
            r.policy,
            if r.diverged_at.is_some() { "diverged".to_string() } else { pct(r.final_test_accuracy) },
            pct(Some(r.best_test_accuracy)),
            r.cycles_to_target.map_or("not reached".into(), |c| c.to_string()),
            r.time_to_target_s.map_or("-".into(), |t| format!("{:.3} ms", t * 1e3)),
            r.energy_to_target_j.map_or("-".into(), |e| format!("{:.3} mJ", e * 1e3)),
            r.fast_speedup.map_or("-".into(), |v| format!("{v:.2}x")),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::data_label;

    #[test]
    fn data_sets_are_named_by_their_file_name_in_titles() {
        assert_eq!(data_label("digits"), "digits");
        assert_eq!(data_label("/home/u/data/cifar-10-batches-bin/"), "cifar-10-batches-bin");
        assert_eq!(data_label("../x/mnist.npz"), "mnist.npz");
        assert_eq!(data_label("/"), "/");
    }
}
