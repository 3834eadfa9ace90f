//! Every subcommand with its stdout (and, separately, its stderr) a pipe whose reader is already
//! gone, as `fastbfp gemm ... | head -1` leaves it: no panic, the command's own exit status, and
//! its files written as usual. Also the CLI spellings fixed with them: pass names in either
//! spelling everywhere, a lone workload on the default arch.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fastbfp"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn path(rel: &str) -> String {
    root().join(rel).display().to_string()
}

/// Which standard stream is a pipe closed before the command writes anything.
#[derive(Clone, Copy, Debug)]
enum Closed {
    Stdout,
    Stderr,
}

/// Runs `args` in `dir` with one stream a pipe whose read end is closed at once; returns the
/// exit code and what the other stream held.
fn run_closed(dir: &Path, args: &[String], closed: Closed) -> (Option<i32>, String) {
    let mut c = bin();
    c.current_dir(dir).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("binary starts");
    // Close the chosen stream's read end before the child can write to it.
    use std::io::Read;
    let mut text = String::new();
    match closed {
        Closed::Stdout => {
            drop(child.stdout.take());
            child.stderr.take().unwrap().read_to_string(&mut text).unwrap();
        }
        Closed::Stderr => {
            drop(child.stderr.take());
            child.stdout.take().unwrap().read_to_string(&mut text).unwrap();
        }
    }
    let status = child.wait().unwrap();
    (status.code(), text)
}

fn npy(path: &Path, shape: &[usize], seed: u32) {
    let n: usize = shape.iter().product();
    let data: Vec<f32> =
        (0..n as u32).map(|i| ((i.wrapping_mul(2654435761) ^ seed) % 2000) as f32 / 1000.0 - 1.0).collect();
    std::fs::write(path, fastbfp::tensor::encode_npy_f32(shape, &data)).unwrap();
}

/// Each subcommand with arguments that make it print, and the file it must still write.
fn commands(dir: &Path) -> Vec<(Vec<String>, Option<&'static str>)> {
    npy(&dir.join("w.npy"), &[32, 64], 1);
    npy(&dir.join("a.npy"), &[64, 16], 2);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        (s(&["--help"]), None),
        (s(&["run", "--help"]), None),
        (s(&["run", &path("traces/mlp.ron"), "--no-numerics", "-o", "run"]), Some("run/report.json")),
        (
            s(&["gemm", "--pass", "forward", "w.npy", "a.npy", "-o", "o.npy", "--arch", &path("arch/fast-4x4.ron")]),
            Some("o.npy"),
        ),
        (s(&["quantize", "w.npy", "-o", "q.npy"]), Some("q.npy")),
        (s(&["lfsr"]), None),
        (
            s(&["compare", &path("arch/fast-4x4.ron"), "-w", &path("traces/mlp.ron"), "--no-numerics", "-o", "cmp"]),
            Some("cmp/compare.csv"),
        ),
        (s(&["train", "--iterations", "3", "-o", "tr"]), Some("tr/train.json")),
        (s(&["train", "--iterations", "2", "--compare", "fp32,fixed:2", "-o", "trc"]), Some("trc/compare.csv")),
        (
            s(&["sweep", &path("traces/sweeps/array-precision.ron"), "-o", "sw", "--shard", "0/9"]),
            Some("sw/sweep-shard-0-of-9.csv"),
        ),
        (
            s(&[
                "scalesim",
                &path("traces/scalesim/alexnet_quarter/topology.csv"),
                &path("traces/scalesim/alexnet_quarter/config.cfg"),
                "-o",
                "ss",
            ]),
            Some("ss/COMPUTE_REPORT.csv"),
        ),
        (
            s(&[
                "golden",
                "export",
                "--arch",
                &path("arch/fast-4x4.ron"),
                "--case",
                &path("traces/golden/forward-multifold.ron"),
                "-o",
                "gold",
            ]),
            Some("gold/manifest.json"),
        ),
    ]
}

#[test]
fn a_closed_stdout_or_stderr_never_panics_and_keeps_the_exit_status() {
    for closed in [Closed::Stdout, Closed::Stderr] {
        let tmp = tempfile::tempdir().unwrap();
        for (args, writes) in commands(tmp.path()) {
            let (code, other) = run_closed(tmp.path(), &args, closed);
            assert!(!other.contains("panicked"), "{closed:?} closed, {args:?}: {other}");
            assert_eq!(code, Some(0), "{closed:?} closed, {args:?} exit {code:?}: {other}");
            if let Some(f) = writes {
                assert!(tmp.path().join(f).exists(), "{closed:?} closed, {args:?} did not write {f}");
            }
        }
        // merge reads the sweep's shard written above.
        let (code, other) = run_closed(tmp.path(), &["merge".into(), "sw".into(), "-o".into(), "mg".into()], closed);
        assert_eq!(code, Some(0), "{closed:?} closed, merge: {other}");
        assert!(tmp.path().join("mg/merged.csv").exists());
    }
}

#[test]
fn a_failing_command_keeps_its_status_with_a_closed_stdout() {
    // A golden check that finds a mismatch exits 1 even when nobody reads its report.
    let tmp = tempfile::tempdir().unwrap();
    let gold = tmp.path().join("gold");
    let o = bin()
        .args(["golden", "export", "--arch", &path("arch/fast-4x4.ron"), "--case"])
        .arg(path("traces/golden/forward-multifold.ron"))
        .arg("-o")
        .arg(&gold)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(tmp.path().join("dump.txt"), "0 0 0 Y1 00000001\n").unwrap();
    let args = ["golden".into(), "check".into(), gold.display().to_string(), "dump.txt".into()];
    let (code, _) = run_closed(tmp.path(), &args, Closed::Stdout);
    assert_eq!(code, Some(1));
    // A bad flag is still a usage error (2) with its message on a closed stdout.
    let (code, err) = run_closed(tmp.path(), &["gemm".into(), "--pass".into(), "sideways".into()], Closed::Stdout);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("backward-data") && err.contains("backward_data"), "{err}");
}

#[test]
fn stdout_errors_other_than_a_closed_pipe_are_reported() {
    // /dev/full: every write fails with ENOSPC, which is not a closed reader.
    let full = Path::new("/dev/full");
    if !full.exists() {
        panic!("/dev/full is missing on this machine: this test needs it (Linux)");
    }
    let o = bin().arg("lfsr").stdout(std::fs::File::create(full).unwrap()).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error: writing to stdout"), "{err}");
}

#[test]
fn pass_names_are_accepted_in_both_spellings_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    npy(&tmp.path().join("w.npy"), &[32, 64], 1);
    npy(&tmp.path().join("d.npy"), &[32, 16], 3);
    let mut outs = Vec::new();
    for pass in ["backward-data", "backward_data"] {
        let out = tmp.path().join(format!("{pass}.npy"));
        let o = bin()
            .current_dir(tmp.path())
            .args(["gemm", "--pass", pass, "w.npy", "d.npy", "-o"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{pass}: {}", String::from_utf8_lossy(&o.stderr));
        outs.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(outs[0], outs[1], "the two spellings computed different things");
    for passes in ["forward,backward-weight", "forward,backward_weight"] {
        let o = bin()
            .current_dir(tmp.path())
            .args(["run", &path("traces/mlp.ron"), "--no-numerics", "--quiet", "--passes", passes, "-o", "r"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{passes}: {}", String::from_utf8_lossy(&o.stderr));
        let csv = std::fs::read_to_string(tmp.path().join("r/layers.csv")).unwrap();
        assert!(csv.contains(",backward-weight,") && !csv.contains(",backward-data,"), "{passes}: {csv}");
    }
}

#[test]
fn a_lone_workload_runs_on_the_default_arch() {
    let tmp = tempfile::tempdir().unwrap();
    let lone = bin()
        .current_dir(tmp.path())
        .args(["run", &path("traces/mlp.ron"), "--no-numerics", "-o", "lone"])
        .output()
        .unwrap();
    assert!(lone.status.success(), "{}", String::from_utf8_lossy(&lone.stderr));
    let both = bin()
        .current_dir(tmp.path())
        .args(["run", &path("arch/fast-32x32.ron"), &path("traces/mlp.ron"), "--no-numerics", "-o", "both"])
        .output()
        .unwrap();
    assert!(both.status.success(), "{}", String::from_utf8_lossy(&both.stderr));
    let stdout = String::from_utf8_lossy(&lone.stdout);
    assert!(stdout.contains("mlp on fast-32x32"), "{stdout}");
    // The same simulation: the same report, byte for byte, but for the paths it names.
    let read = |d: &str| std::fs::read_to_string(tmp.path().join(d).join("layers.csv")).unwrap();
    assert_eq!(read("lone"), read("both"));
    // An arch alone is still an arch (on the default workload), and a file that is neither
    // names what it expected.
    let bad = tmp.path().join("neither.ron");
    std::fs::write(&bad, "(name: \"x\", colour: 3)").unwrap();
    let o = bin().current_dir(tmp.path()).args(["run", "neither.ron", "--no-numerics"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("neither.ron") && err.lines().count() == 1, "{err}");
    // A truncated workload alone is reported as the workload it is, where it ends.
    std::fs::write(tmp.path().join("trunc.ron"), "(name: \"x\", layers: [").unwrap();
    let o = bin().current_dir(tmp.path()).args(["run", "trunc.ron"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("trunc.ron:1:") && !err.contains("give the arch first"), "{err}");
    // A mistyped command is not read as a missing arch file without a hint.
    let o = bin().current_dir(tmp.path()).arg("rn").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("rn: no such file, and not a command; commands are run,"), "{err}");
}
