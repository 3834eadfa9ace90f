//! `fastbfp scalesim` and SCALE-Sim topologies as `fastbfp run` workloads, driven through the
//! real binary: the compute report against SCALE-Sim's recorded `COMPUTE_REPORT.csv`s byte for
//! byte, `fastbfp run` on `scalesim` cells against the subcommand layer by layer, and every kind
//! of bad input (one line naming file and line, exit code 1; bad flags 2).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fastbfp"))
}

fn traces() -> PathBuf {
    root().join("traces/scalesim")
}

const TOPOLOGIES: [&str; 4] = ["alexnet_quarter", "gemm_gpt2_small", "gemm_tall_24x8", "mobilenet_mini_8x32"];

fn scalesim(topo: &Path, cfg: &Path, extra: &[&str], out: &Path) -> Output {
    bin().arg("scalesim").arg(topo).arg(cfg).args(extra).arg("-o").arg(out).output().expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code 1 and exactly one line on stderr containing every one of `needles`.
fn fails_with(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
}

/// Column 1, "Total Cycles (incl. prefetch)", is SCALE-Sim's DRAM model and not reproduced:
/// fastbfp leaves it empty. Every other byte must be SCALE-Sim's.
#[test]
fn compute_reports_equal_scalesims_byte_for_byte_but_the_prefetch_column() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = 0;
    for name in TOPOLOGIES {
        let dir = traces().join(name);
        for df in ["ws", "os", "is"] {
            let out = tmp.path().join(format!("{name}-{df}"));
            let o = scalesim(&dir.join("topology.csv"), &dir.join("config.cfg"), &["--dataflow", df], &out);
            assert!(o.status.success(), "{name} {df}: {}", stderr(&o));
            let ours = fs::read_to_string(out.join("COMPUTE_REPORT.csv")).unwrap();
            let theirs = fs::read_to_string(dir.join(format!("compute_report_{df}.csv"))).unwrap();
            assert_eq!(ours.lines().count(), theirs.lines().count(), "{name} {df}");
            assert!(ours.ends_with(",\n") && theirs.ends_with(",\n"));
            let (mut ol, mut tl) = (ours.lines(), theirs.lines());
            assert_eq!(ol.next(), tl.next(), "{name} {df}: header");
            for (a, b) in ol.zip(tl) {
                let (fa, fb): (Vec<&str>, Vec<&str>) = (a.split(", ").collect(), b.split(", ").collect());
                assert_eq!(fa.len(), fb.len(), "{name} {df}: {a} / {b}");
                assert_eq!(fa[1], "", "{name} {df}: prefetch column left empty");
                assert_eq!((fa[0], &fa[2..]), (fb[0], &fb[2..]), "{name} {df}");
                rows += 1;
            }
            let table = String::from_utf8_lossy(&o.stdout);
            assert!(table.contains("compute cycles") && table.contains("total"), "{table}");
        }
    }
    assert_eq!(rows, 3 * (5 + 8 + 6 + 10));
}

#[test]
fn the_configs_dataflow_and_the_default_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = traces().join("alexnet_quarter");
    let o = bin()
        .current_dir(tmp.path())
        .arg("scalesim")
        .arg(dir.join("topology.csv"))
        .arg(dir.join("config.cfg"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let ours = fs::read_to_string(tmp.path().join("out-scalesim/COMPUTE_REPORT.csv")).unwrap();
    let row1 = ours.lines().nth(1).unwrap();
    assert_eq!(row1, "0, , 9889, 0, 58.15837041156841, 73.98097826086956, 54.359936200378115,");
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("Conv1") && table.contains("9889") && table.contains("56045"), "{table}");
    assert!(table.contains("16x16") && table.contains("ws"), "{table}");
}

/// A copy of `arch/scalesim-32x32-ws.ron` with the array and dataflow of a recorded config.
fn scalesim_arch(dir: &Path, rows: usize, cols: usize, df: &str) -> PathBuf {
    let text = fs::read_to_string(root().join("arch/scalesim-32x32-ws.ron")).unwrap();
    let tech = root().join("arch/tech/45nm.ron");
    let text = text
        .replace("rows: 32", &format!("rows: {rows}"))
        .replace("cols: 32", &format!("cols: {cols}"))
        .replace("dataflow: ws", &format!("dataflow: {df}"))
        .replace("\"tech/45nm.ron\"", &format!("{:?}", tech.display().to_string()));
    let path = dir.join(format!("scalesim-{rows}x{cols}-{df}.ron"));
    fs::write(&path, text).unwrap();
    path
}

/// `(layer, pass, cycles)` of every row of a run's layers.csv.
fn run_cycles(out: &Path) -> Vec<(String, String, u64)> {
    let mut r = csv::Reader::from_path(out.join("layers.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (layer, pass, cycles) = (col("layer"), col("pass"), col("cycles"));
    r.records().map(|x| x.unwrap()).map(|x| (x[layer].into(), x[pass].into(), x[cycles].parse().unwrap())).collect()
}

/// `(name, compute cycles)` per layer from the subcommand's table and report.
fn subcommand_cycles(o: &Output, report: &Path) -> Vec<u64> {
    assert!(o.status.success(), "{}", stderr(o));
    let text = fs::read_to_string(report).unwrap();
    text.lines().skip(1).map(|l| l.split(", ").nth(2).unwrap().parse().unwrap()).collect()
}

#[test]
fn run_on_scalesim_cells_gives_the_subcommands_cycles_per_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for name in TOPOLOGIES {
        let dir = traces().join(name);
        let cfg = fs::read_to_string(dir.join("config.cfg")).unwrap();
        let c = fastbfp::array::scalesim::ScaleSimConfig::parse(&cfg).unwrap();
        for df in ["ws", "os", "is"] {
            let out = tmp.path().join(format!("ss-{name}-{df}"));
            let o = scalesim(&dir.join("topology.csv"), &dir.join("config.cfg"), &["--dataflow", df], &out);
            let expected = subcommand_cycles(&o, &out.join("COMPUTE_REPORT.csv"));
            let arch = scalesim_arch(tmp.path(), c.rows, c.cols, df);
            let run_out = tmp.path().join(format!("run-{name}-{df}"));
            let o = bin()
                .args(["run", "-q", "--no-numerics"])
                .arg(&arch)
                .arg(dir.join("topology.csv"))
                .arg("-o")
                .arg(&run_out)
                .output()
                .unwrap();
            assert!(o.status.success(), "{name} {df}: {}", stderr(&o));
            let got = run_cycles(&run_out);
            assert!(got.iter().all(|g| g.1 == "forward"), "forward only by default");
            let got: Vec<u64> = got.iter().map(|g| g.2).collect();
            assert_eq!(got, expected, "{name} {df}");
            compared += got.len();
        }
    }
    assert_eq!(compared, 3 * (5 + 8 + 6 + 10));
}

#[test]
fn run_takes_a_topology_alone_and_all_three_passes_on_the_default_arch() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = bin()
        .args(["run", "--passes", "forward,backward_data,backward_weight"])
        .arg(traces().join("gemm_gpt2_small/topology.csv"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = run_cycles(&out);
    for pass in ["forward", "backward-data", "backward-weight"] {
        assert!(rows.iter().any(|r| r.1 == pass), "{pass}: {rows:?}");
    }
    // 8 GEMM layers: 8 forward, 8 backward-weight, backward-data for all but the first.
    assert_eq!(rows.len(), 8 + 7 + 8, "{rows:?}");
    assert!(!rows.iter().any(|r| r.0 == "QKT" && r.1 == "backward-data"));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("backward-weight") && summary.contains("Linear1"), "{summary}");
    // A misspelt pass is a flag error.
    let o = bin().args(["run", "--passes", "forwards"]).arg(traces().join("gemm_gpt2_small/topology.csv")).output();
    let o = o.unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("backward_data"), "{}", stderr(&o));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

const CFG: &str =
    "[general]\nrun_name = t\n\n[architecture_presets]\nArrayHeight:    16\nArrayWidth:     16\nDataflow : ws\n";
const CONV: &str =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n\
                    Conv1, 8, 8, 3, 3, 2, 4, 1,\n";

#[test]
fn bad_config_names_the_file_the_line_and_what_is_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let topo = write(tmp.path(), "t.csv", CONV);
    let out = tmp.path().join("never");
    for (from, to, needles) in [
        ("ArrayHeight:    16", "ArrayHeight: 0", &[":5:", "ArrayHeight", "allowed a whole number of 1 or more"][..]),
        ("ArrayWidth:     16", "ArrayWidth: sixteen", &[":6:", "ArrayWidth = \"sixteen\""][..]),
        ("Dataflow : ws", "Dataflow : WS", &[":7:", "Dataflow", "allowed ws, os or is"][..]),
        ("ArrayHeight:    16", "ArrayHieght: 16", &["ArrayHeight is missing", "ArrayHieght (line 5)"][..]),
        ("Dataflow : ws", "Dataflow ws", &[":7:", "cannot parse", "allowed `[section]`"][..]),
    ] {
        let cfg = write(tmp.path(), "c.cfg", &CFG.replace(from, to));
        let o = scalesim(&topo, &cfg, &[], &out);
        let mut all = vec!["c.cfg"];
        all.extend_from_slice(needles);
        fails_with(&o, &all);
        assert!(!out.exists(), "no output folder after a failed run");
    }
}

#[test]
fn bad_topology_rows_name_the_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write(tmp.path(), "c.cfg", CFG);
    let out = tmp.path().join("never");
    let gemm = "Layer, M, N, K,\nA, 4, 4, 4,\n";
    for (text, format, needles) in [
        // No trailing comma: SCALE-Sim drops the stride.
        (format!("{CONV}Conv2, 8, 8, 3, 3, 2, 4, 1\n"), "conv", &["t.csv:3:", "7 fields; allowed 8 or 9"][..]),
        (format!("{CONV}Conv2, 8, 8, 3, 3, 0, 4, 1,\n"), "conv", &["t.csv:3:", "channels is 0; allowed 1 or more"][..]),
        (format!("{CONV}Conv2, 8, -8, 3, 3, 2, 4, 1,\n"), "conv", &["t.csv:3:", "field 3 (IFMAP width) = \"-8\""][..]),
        (format!("{CONV}Conv2, 8, 8, 9, 3, 2, 4, 1,\n"), "conv", &["t.csv:3:", "filter height 9 is larger"][..]),
        (format!("{gemm}B, 4, 4,\n"), "gemm", &["t.csv:3:", "3 fields; allowed 4 or more"][..]),
        (format!("{gemm}B, 4294967296, 4294967296, 4,\n"), "gemm", &["t.csv:3:", "overflows 64 bits"][..]),
        ("Layer, M, N, K,\n".to_string(), "gemm", &["t.csv:", "topology has no layer"][..]),
    ] {
        let topo = write(tmp.path(), "t.csv", &text);
        fails_with(&scalesim(&topo, &cfg, &[], &out), needles);
        fails_with(&scalesim(&topo, &cfg, &["--format", format], &out), needles);
        // The same line through `fastbfp run`.
        let o = bin().args(["run", "-q", "--no-numerics"]).arg(&topo).arg("-o").arg(&out).output().unwrap();
        fails_with(&o, needles);
        assert!(!out.exists());
    }
    // Cycles that would overflow 64 bits on the configured array are refused before computing.
    let topo = write(tmp.path(), "t.csv", CONV);
    let huge = write(tmp.path(), "h.cfg", &CFG.replace("ArrayHeight:    16", "ArrayHeight: 9223372036854775807"));
    fails_with(&scalesim(&topo, &huge, &[], &out), &["t.csv:2: layer `Conv1`", "overflows 64 bits"]);
    // A sizes fastbfp's workloads cannot hold: the topology line, in `run` only.
    let topo = write(tmp.path(), "t.csv", &format!("{gemm}Wide, 1, 33554432, 3,\n"));
    assert!(scalesim(&topo, &cfg, &[], &tmp.path().join("ok")).status.success());
    let o = bin().args(["run", "-q", "--no-numerics"]).arg(&topo).arg("-o").arg(&out).output().unwrap();
    fails_with(&o, &["t.csv:3:1: layer `Wide` is too large", "out_features", "allowed 1..=16777216"]);
}

#[test]
fn missing_files_and_bad_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write(tmp.path(), "c.cfg", CFG);
    let topo = write(tmp.path(), "t.csv", CONV);
    let out = tmp.path().join("never");
    fails_with(&scalesim(&tmp.path().join("nope.csv"), &cfg, &[], &out), &["nope.csv: cannot read"]);
    fails_with(&scalesim(&topo, &tmp.path().join("nope.cfg"), &[], &out), &["nope.cfg: cannot read"]);
    fails_with(&scalesim(&topo, Path::new("/dev/zero"), &[], &out), &["/dev/zero", "limit"]);
    assert!(!out.exists());
    for flags in [&["--dataflow", "rs"][..], &["--format", "csv"][..], &["--bogus"][..]] {
        let o = scalesim(&topo, &cfg, flags, &out);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
    }
    let o = bin().args(["scalesim"]).arg(&topo).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "the config is required");
}

#[test]
fn help_names_the_formats() {
    let o = bin().args(["scalesim", "--help"]).output().unwrap();
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for needle in
        ["TOPOLOGY", "CONFIG", "conv", "gemm", "IFMAP height", "name, M, N, K,", "ws", "os", "is", "out-scalesim"]
    {
        assert!(help.contains(needle), "{needle:?} not in:\n{help}");
    }
    let top = bin().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&top.stdout).contains("scalesim"));
    let run = bin().args(["run", "--help"]).output().unwrap();
    let run = String::from_utf8_lossy(&run.stdout);
    assert!(run.contains("SCALE-Sim topology") && run.contains("--passes"), "{run}");
}
