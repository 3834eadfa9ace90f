//! `fastbfp run` and `compare` end to end: determinism, every bundled workload on every bundled
//! arch, and bad input (clear one-line errors, non-zero exit, nothing half-written).

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
