//! `fastbfp run` and `compare` end to end: determinism, every bundled workload on every bundled
//! arch, and bad input (clear one-line errors, non-zero exit, nothing half-written).

mod common;
use common::svg_texts;

use std::path::{Path, PathBuf};
use std::process::Command;

use fastbfp::arch::load_arch;
use fastbfp::array::Fidelity;
use fastbfp::runner::{run_iterations, RunOptions};
use fastbfp::workload::load_workload;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fastbfp"))
}

fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == ext)).collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn same_seed_same_report_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let mut outs = vec![];
    for i in 0..2 {
        let dir = tmp.path().join(format!("r{i}"));
        let o = bin()
            .args(["run", "-q", "--iterations", "2"])
            .arg(root().join("arch/fast-4x4.ron"))
            .arg(root().join("traces/mlp.ron"))
            .arg("-o")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let report = std::fs::read(dir.join("report.json")).unwrap();
        let csv = std::fs::read(dir.join("layers.csv")).unwrap();
        let svgs: Vec<Vec<u8>> = files_in(&dir, "svg").iter().map(|p| std::fs::read(p).unwrap()).collect();
        outs.push((report, csv, svgs));
    }
    assert_eq!(outs[0].0, outs[1].0, "report.json differs between two runs");
    assert_eq!(outs[0].1, outs[1].1, "layers.csv differs");
    assert_eq!(outs[0].2, outs[1].2, "plots differ");
    // Two iterations: the precision plot joins the five others.
    assert!(outs[0].2.len() >= 6);
    let json: serde_json::Value = serde_json::from_slice(&outs[0].0).unwrap();
    assert_eq!(json["options"]["iterations"], 2);
    let jobs = json["jobs"].as_array().unwrap();
    assert!(jobs.iter().enumerate().all(|(i, j)| j["job"] == i as u64), "jobs numbered in order");
}

#[test]
fn every_bundled_workload_on_every_bundled_arch() {
    let mut archs: Vec<PathBuf> = files_in(&root().join("arch"), "ron");
    archs.retain(|p| !p.to_string_lossy().contains("/tech/"));
    let workloads = files_in(&root().join("traces"), "ron");
    assert!(archs.len() >= 9 && workloads.len() >= 6, "{archs:?} {workloads:?}");
    let options = RunOptions { fidelity: Fidelity::Fold, numerics: false, iterations: 1, seed: 1, mapping: None };
    for w in &workloads {
        let wl = load_workload(w).unwrap();
        for a in &archs {
            let arch = load_arch(a).unwrap();
            let r = run_iterations(&arch, &wl, &options, &|| {}).unwrap();
            let t = &r.totals;
            assert!(t.cycles > 0 && t.macs == wl.total_macs(), "{w:?} on {a:?}");
            assert!(t.utilization > 0.0 && t.utilization <= 1.0, "{w:?} on {a:?}: {}", t.utilization);
            assert!(t.energy.total_pj() > 0.0 && t.area.total_um2() > 0.0);
            let phases = t.stream_cycles + t.load_cycles + t.drain_cycles + t.stalls.total();
            assert!(phases <= t.cycles, "{w:?} on {a:?}: phases {phases} > cycles {}", t.cycles);
        }
    }
}

/// Runs `fastbfp run` expecting failure: non-zero exit, one error line naming `needles`, no
/// report written.
fn run_fails(arch: &Path, workload: &Path, needles: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = bin().args(["run", "-q", "--no-numerics"]).arg(arch).arg(workload).arg("-o").arg(&out).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{workload:?} succeeded");
    assert!(!err.contains("panicked"), "{err}");
    let first = err.lines().next().unwrap_or("");
    assert!(first.starts_with("error:"), "{err}");
    for n in needles {
        assert!(first.contains(n), "{workload:?}: lacks {n}: {err}");
    }
    assert_eq!(err.lines().filter(|l| !l.trim().is_empty()).count(), 1, "{err}");
    assert!(!out.join("report.json").exists() && !out.join("layers.csv").exists());
}

#[test]
fn bad_workloads_and_archs_are_refused_cleanly() {
    let arch = root().join("arch/fast-4x4.ron");
    let mlp = root().join("traces/mlp.ron");
    let bad = root().join("tests/data/workload-broken");
    run_fails(&arch, &bad.join("syntax-error.ron"), &["syntax-error.ron:5:5"]);
    run_fails(&arch, &bad.join("unknown-field.ron"), &["unknown-field.ron:", "kernal", "allowed fields"]);
    run_fails(&arch, &bad.join("cycle.ron"), &["cycle.ron:", "cycle", "fc2 -> fc3"]);
    run_fails(&arch, &bad.join("dangling-input.ron"), &["dangling-input.ron:", "fc0"]);
    run_fails(&arch, &bad.join("channel-mismatch.ron"), &["channel-mismatch.ron:", "conv2", "16 channels"]);
    run_fails(&arch, &bad.join("batch-zero.ron"), &["batch-zero.ron:4:12", "batch = 0", "1..="]);
    run_fails(&arch, &bad.join("missing-npy.ron"), &["missing-npy.ron:", "fc2.w.npy"]);
    run_fails(&root().join("tests/data/arch-broken/missing-tech.ron"), &mlp, &["missing-tech.ron:", "tech"]);
    run_fails(&root().join("no-such-arch.ron"), &mlp, &["no-such-arch.ron"]);
    // The workload given where the arch goes: said so.
    run_fails(&mlp, &arch, &["is a workload"]);
}

#[test]
fn compare_writes_its_table_and_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp");
    let o = bin()
        .arg("compare")
        .arg(root().join("arch/fast-32x32.ron"))
        .arg(root().join("arch/bf16-32x32.ron"))
        .arg(root().join("arch/fp32-32x32.ron"))
        .arg("--equal-area")
        .arg("-w")
        .arg(root().join("traces/mlp.ron"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("fast-32x32") && stdout.contains("bf16-32x32") && stdout.contains("SNR"));
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4);
    assert_eq!(files_in(&out, "png").len(), 3);
    // Every arch is named on the Pareto plot, not only the front.
    let pareto = svg_texts(&std::fs::read_to_string(out.join("compare_pareto.svg")).unwrap());
    for arch in ["fast-32x32", "bf16-32x32", "fp32-32x32"] {
        assert!(pareto.iter().any(|t| t == arch), "{arch} not labelled on the Pareto plot");
    }
    // Equal area: the baselines' total areas are within one row/column of the reference's.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    let areas: Vec<f64> = json["archs"].as_array().unwrap().iter().map(|a| a["area_mm2"].as_f64().unwrap()).collect();
    assert!(areas[1] <= areas[0] * 1.0001 && areas[2] <= areas[0] * 1.0001, "{areas:?}");
    assert!(areas[1] > areas[0] * 0.8 && areas[2] > areas[0] * 0.8, "{areas:?}");
}

#[test]
fn run_on_the_scalesim_arch_and_output_into_a_file_path() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ss");
    let o = bin()
        .args(["run", "-q"])
        .arg(root().join("arch/scalesim-32x32-ws.ron"))
        .arg(root().join("traces/mlp.ron"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("report.json").exists() && !files_in(&out, "png").is_empty());
    // An output path that is a file: one clear line, the OS error said once.
    let file = tmp.path().join("afile");
    std::fs::write(&file, b"x").unwrap();
    let o = bin()
        .args(["run", "-q", "--no-numerics"])
        .arg(root().join("arch/fast-4x4.ron"))
        .arg(root().join("traces/mlp.ron"))
        .arg("-o")
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("not a folder"), "{err}");
    assert_eq!(err.matches("not a folder").count(), 1, "{err}");
}

#[test]
fn layer_names_with_commas_quotes_and_newlines_stay_one_csv_field() {
    let tmp = tempfile::tempdir().unwrap();
    let names = ["fc,1", "relu \"one\"", "fc\n2"];
    let wl = format!(
        r#"(name: "odd", batch: 8, input: tokens(tokens: 1, features: 64), layers: [
            (name: {:?}, op: linear(in_features: 64, out_features: 64)),
            (name: {:?}, op: relu),
            (name: {:?}, op: linear(in_features: 64, out_features: 10)),
        ])"#,
        names[0], names[1], names[2]
    );
    let wl_path = tmp.path().join("odd.ron");
    std::fs::write(&wl_path, wl).unwrap();
    let out = tmp.path().join("out");
    let o = bin()
        .args(["run", "-q", "--no-numerics"])
        .arg(root().join("arch/fast-4x4.ron"))
        .arg(&wl_path)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("layers.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().clone();
    let col = header.iter().position(|h| h == "layer").unwrap();
    let layers: Vec<String> = r.records().map(|rec| rec.unwrap()[col].to_string()).collect();
    assert!(!layers.is_empty());
    for l in &layers {
        assert!(l == names[0] || l == names[2], "unexpected layer field {l:?}");
    }
    assert!(layers.iter().any(|l| l == "fc\n2") && layers.iter().any(|l| l == "fc,1"));
}

#[test]
fn iterations_beyond_memory_are_refused_before_allocating() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = bin().args(["run", "--no-numerics", "--iterations", "1000000", "-o"]).arg(&out).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error:") && err.contains("run fewer iterations (at most"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!out.exists());
}

/// Writes `arch/fast-32x32.ron` with another array size and name into `dir` (its technology
/// table next to it).
fn arch_variant(dir: &Path, rows: usize, cols: usize, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("arch/fast-32x32.ron")).unwrap();
    let text = text
        .replacen("rows: 32,", &format!("rows: {rows},"), 1)
        .replacen("cols: 32,", &format!("cols: {cols},"), 1)
        .replacen("name: \"fast-32x32\"", &format!("name: {name:?}"), 1)
        .replace("\"tech/", &format!("\"{}/", root().join("arch/tech").display()));
    let path = dir.join(format!("a{rows}x{cols}.ron"));
    std::fs::write(&path, text).unwrap();
    path
}

/// A 4096 x 4096 array at cycle fidelity on a tiny GEMM hung (10^11 cell-cycles): refused
/// before starting, with the estimate and the limit.
#[test]
fn tick_work_beyond_the_limit_is_refused_with_its_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let arch = arch_variant(tmp.path(), 4096, 4096, "big");
    let out = tmp.path().join("out");
    let t0 = std::time::Instant::now();
    let mut cmd = bin();
    cmd.args(["run", "--fidelity", "cycle", "-o"]).arg(&out).arg(&arch).arg(root().join("traces/mlp.ron"));
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error:") && err.contains("cycle fidelity would step at least"), "{err}");
    assert!(err.contains("more than the 10000000000 allowed") && err.contains("--fidelity fold"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!out.exists());
    assert!(t0.elapsed().as_secs() < 30, "refused before simulating");
}

/// A 134-layer linear chain (402 lanes in the fold timeline) and a 1 MB arch name: the run
/// succeeds and writes every plot (the timeline groups lanes; long text is cut).
#[test]
fn many_lanes_and_a_huge_name_do_not_fail_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let layers: Vec<String> =
        (0..134).map(|i| format!("(name: \"fc{i}\", op: linear(in_features: 16, out_features: 16))")).collect();
    let wl = tmp.path().join("chain.ron");
    let text = format!(
        "(name: \"chain\", batch: 4, input: tokens(tokens: 1, features: 16), layers: [{}])",
        layers.join(",\n")
    );
    std::fs::write(&wl, text).unwrap();
    let arch = arch_variant(tmp.path(), 32, 32, &"n".repeat(1 << 20));
    let out = tmp.path().join("out");
    let o = bin().args(["run", "-q", "-o"]).arg(&out).arg(&arch).arg(&wl).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("fold_timeline.png").is_file() && out.join("fold_timeline.svg").is_file());
    let svg = std::fs::read_to_string(out.join("fold_timeline.svg")).unwrap();
    assert!(svg.contains("fc0 forward (+1)"), "grouped lanes are named after their first");
    assert!(svg.len() < 4 << 20, "the name is cut in the plots: {} bytes", svg.len());
}

/// The fold timeline's legend gives the run summary's figures: each share in the summary
/// (streaming, exposed load, exposed drain, each stall reason) appears in the legend as the
/// same text, and both are the report's cycle counts over its total cycles.
#[test]
fn fold_timeline_legend_equals_the_summary() {
    let arch = load_arch(&root().join("arch/fast-32x32.ron")).unwrap();
    let wl = load_workload(&root().join("traces/resnet18-cifar.ron")).unwrap();
    let options = RunOptions { fidelity: Fidelity::Fold, numerics: false, iterations: 1, seed: 1, mapping: None };
    let r = run_iterations(&arch, &wl, &options, &|| {}).unwrap();
    let summary = fastbfp::report::summary(&r);
    // "  exposed load cycles     9918    0.03 %" -> "0.03 %"
    let share_of = |label: &str| -> String {
        let line = summary.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("{label}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        words[words.len() - 2..].join(" ")
    };
    let t = &r.totals;
    let mut expected = vec![
        ("exposed load", share_of("exposed load cycles"), t.load_cycles),
        ("streaming", share_of("streaming cycles"), t.stream_cycles),
        ("exposed drain", share_of("exposed drain cycles"), t.drain_cycles),
    ];
    for (reason, c) in &t.stalls.by_reason {
        expected.push((reason.name(), share_of(&format!("{} ", reason.name())), *c));
    }
    assert!(t.stalls.total() > 0 && expected.len() >= 4, "the default run stalls on DRAM");
    let mut notes = Vec::new();
    let plots = fastbfp::report::run_plots(&r, &mut notes);
    let svg = &plots.iter().find(|p| p.name == "fold_timeline").expect("timeline drawn").svg;
    let texts = svg_texts(svg);
    for (name, share, cycles) in &expected {
        let label = if name.starts_with("exposed") || *name == "streaming" {
            format!("{name} {share}")
        } else {
            format!("stall: {name} {share}")
        };
        assert!(texts.contains(&label), "legend lacks {label:?}: {texts:?}");
        // And the figure is the share of the run's cycles, to the printed precision.
        let pct = 100.0 * *cycles as f64 / t.cycles as f64;
        match share.strip_suffix(" %").and_then(|v| v.parse::<f64>().ok()) {
            Some(v) => assert!((v - pct).abs() <= 0.005 + 1e-12, "{name}: {share} against {pct}"),
            None => assert!(share == "<0.01 %" && pct < 0.005 && *cycles > 0, "{name}: {share}"),
        }
    }
    let labels: Vec<String> = fastbfp::report::cycle_shares(&r).legend_labels().into_iter().map(|l| l.1).collect();
    assert_eq!(labels.len(), expected.len(), "{labels:?}");
    assert!(svg.contains("as in the run summary"), "the legend says what it measures");
    assert!(svg.contains("per-fold phase spans"), "the caption says what the bars are");
}

/// GEMMs of more folds than a run keeps timelines for are drawn as one span, and the memory
/// estimate includes the folds being simulated.
#[test]
fn fold_timelines_are_kept_only_for_small_gemms() {
    let tmp = tempfile::tempdir().unwrap();
    let arch = load_arch(&arch_variant(tmp.path(), 1, 1, "one")).unwrap();
    let wl = load_workload(&root().join("traces/mlp.ron")).unwrap();
    let options = RunOptions { fidelity: Fidelity::Fold, numerics: false, iterations: 1, seed: 1, mapping: None };
    let r = run_iterations(&arch, &wl, &options, &|| {}).unwrap();
    for g in &r.gemms {
        let kept = g.sim.fold_count <= fastbfp::runner::TIMELINE_FOLDS_PER_GEMM;
        assert_eq!(g.sim.folds.len(), if kept { g.sim.fold_count } else { 0 }, "{}", g.gemm.layer);
    }
    assert!(r.gemms.iter().any(|g| g.sim.folds.is_empty()), "mlp on 1 x 1 has a GEMM of over 2000 folds");
    let mut notes = Vec::new();
    let plots = fastbfp::report::run_plots(&r, &mut notes);
    assert!(notes.is_empty(), "{notes:?}");
    assert!(plots.iter().any(|p| p.name == "fold_timeline"));
}
