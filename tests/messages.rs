//! Issue 12's message cases: a truncated arch, workload or sweep file says it ends early (with
//! the line and column of its end), a sweep value that is not an integer names its field and
//! allowed range, a NaN in a workload's operand file names the file and the element on one
//! line, no error prints its cause twice, and `gemm` says when outputs overflowed instead of
//! printing a NaN SNR.

use std::path::{Path, PathBuf};
use std::process::Command;

use fastbfp::arch::parse_arch;
use fastbfp::sweep::parse_sweep;
use fastbfp::tensor::encode_npy_f32;
use fastbfp::workload::parse_workload;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fastbfp"))
}

/// Where a text ends: the line and column just past its last character.
fn end_of(text: &str) -> (usize, usize) {
    let line = 1 + text.matches('\n').count();
    (line, 1 + text.rsplit('\n').next().unwrap().chars().count())
}

/// Every cut of `text` that leaves its first `(` open: the error must say the file ends
/// early, at the end of the cut text.
fn every_cut_ends_early(text: &str, origin: &Path, parse: &dyn Fn(&str) -> Result<(), String>) {
    let open = text.find("\n(").expect("a top-level struct") + 2;
    let close = text.rfind(')').unwrap();
    let cuts: Vec<usize> = (open..close).filter(|&k| text.is_char_boundary(k)).collect();
    assert!(cuts.len() > 100);
    for k in cuts {
        let cut = &text[..k];
        let msg = parse(cut).expect_err("a cut file is refused");
        let (l, c) = end_of(cut);
        let want = format!("{}:{l}:{c}: the file ends early (unexpected end of file) inside ", origin.display());
        assert!(msg.starts_with(&want), "cut at byte {k} ({:?}): {msg}", &cut[cut.len().saturating_sub(30)..]);
        assert!(!msg.contains("of the top level:"), "cut at byte {k}: {msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
}

#[test]
fn a_truncated_arch_file_says_it_ends_early_at_its_last_line_and_column() {
    let origin = root().join("arch/fast-4x4.ron");
    let text = std::fs::read_to_string(&origin).unwrap();
    every_cut_ends_early(&text, &origin, &|t| parse_arch(t, &origin).map(|_| ()).map_err(|e| e.to_string()));
    // The case of issue 12: a key cut short inside a nested struct.
    let cut = &text[..text.find("accumulator:").unwrap() + 3];
    let msg = parse_arch(cut, &origin).unwrap_err().to_string();
    assert!(msg.contains("inside bfp: the `(` at 19:10 is never closed"), "{msg}");
    // An empty file or one of comments only says so.
    let msg = parse_arch("// nothing\n", &origin).unwrap_err().to_string();
    assert!(msg.contains(":2:1: the file holds no RON value"), "{msg}");
}

#[test]
fn a_truncated_workload_or_sweep_file_says_it_ends_early() {
    let origin = root().join("traces/mlp.ron");
    let text = std::fs::read_to_string(&origin).unwrap();
    every_cut_ends_early(&text, &origin, &|t| parse_workload(t, &origin).map(|_| ()).map_err(|e| e.to_string()));
    let origin = root().join("traces/sweeps/array-precision.ron");
    let text = std::fs::read_to_string(&origin).unwrap();
    every_cut_ends_early(&text, &origin, &|t| parse_sweep(t, &origin).map(|_| ()).map_err(|e| e.to_string()));
}

#[test]
fn a_sweep_value_that_is_no_integer_names_the_field_and_its_range() {
    let origin = Path::new("s.ron");
    let cases = [
        (
            "(axes: [(param: \"array.size\", values: [16, 1e300])])",
            "s.ron:1:44: axes[0].values[1] (array.size) = 1e300 is out of range: allowed integers 1..=4096",
        ),
        (
            "(axes: [(param: \"bfp.group\", values: [4.5])])",
            "axes[0].values[0] (bfp.group) = 4.5 is out of range: allowed integers 1..=64",
        ),
        (
            "(axes: [(param: \"bfp.group\", values: [99999999999999999999999])])",
            "axes[0].values[0] (bfp.group) = 1e23 is out of range: allowed integers 1..=64",
        ),
        (
            "(options: (iterations: 1e300), axes: [(param: \"bfp.group\", values: [4])])",
            "s.ron:1:24: options.iterations = 1e300 is out of range: allowed 1..=1000000",
        ),
        (
            "(options: (seed: -1), axes: [(param: \"bfp.group\", values: [4])])",
            "options.seed = -1 is out of range: allowed 0..=18446744073709551615",
        ),
        (
            "(options: (iterations: \"x\"), axes: [])",
            "options.iterations: expected a number but found the string \"x\" instead; allowed 1..=1000000",
        ),
    ];
    for (text, want) in cases {
        let msg = parse_sweep(text, origin).unwrap_err().to_string();
        assert!(msg.contains(want), "{text}: want {want:?} in {msg}");
        assert!(!msg.contains("invalid digit"), "{msg}");
    }
}

#[test]
fn a_nan_in_a_workload_operand_file_names_the_file_and_the_element_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/mlp");
    std::fs::create_dir_all(&data).unwrap();
    for e in std::fs::read_dir(root().join("traces/data/mlp")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, data.join(p.file_name().unwrap())).unwrap();
    }
    let mut w = vec![0.5f32; 64 * 64];
    w[64 * 2 + 7] = f32::NAN;
    std::fs::write(data.join("fc2.w.npy"), encode_npy_f32(&[64, 64], &w)).unwrap();
    let wl = dir.path().join("mlp-npy.ron");
    std::fs::copy(root().join("traces/mlp-npy.ron"), &wl).unwrap();
    let out = dir.path().join("out");
    let arch = root().join("arch/fast-4x4.ron");
    let o = bin().arg("run").arg(&arch).arg(&wl).arg("-o").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err.trim_end();
    assert_eq!(line.lines().count(), 1, "{err}");
    let want = format!("{}: element 135 ([2, 7]) is NaN; allowed finite values only", data.join("fc2.w.npy").display());
    assert!(line.starts_with(&format!("error: {want}")), "{err}");
    assert_eq!(line.matches("is NaN").count(), 1, "{err}");
    assert!(!out.exists());
}

/// Errors whose text quotes their cause must not also return it as `source()`: `{:#}` (the
/// CLI's one-line format) would print it twice.
#[test]
fn errors_that_quote_their_cause_do_not_chain_it() {
    use std::error::Error as _;
    let plot = fastbfp::report::plots::pareto("t", &[]).unwrap_err();
    let e = fastbfp::sweep::SweepError::from(plot);
    assert!(e.source().is_none(), "{e}");
    let gemm = fastbfp::gemm::GemmError::Bfp(fastbfp::bfp::BfpError::Empty { tensor: "X".into(), rows: 0, cols: 1 });
    let e = fastbfp::runner::RunError::Gemm {
        layer: "fc1".into(),
        pass: fastbfp::gemm::Pass::Forward,
        error: Box::new(gemm),
    };
    assert!(e.source().is_none(), "{e}");
    assert_eq!(format!("{:#}", anyhow::Error::new(e)), "fc1 forward: X: empty tensor (shape 0 x 1)");
}

#[test]
fn gemm_says_when_outputs_overflow_and_prints_no_nan_snr() {
    let dir = tempfile::tempdir().unwrap();
    let big: Vec<f32> = (0..256).map(|i| if i % 2 == 0 { 3.0e38 } else { 3.3e38 }).collect();
    let x = dir.path().join("big.npy");
    std::fs::write(&x, encode_npy_f32(&[16, 16], &big)).unwrap();
    let out = dir.path().join("o.npy");
    let o = bin().args(["gemm", "--pass", "forward"]).arg(&x).arg(&x).arg("-o").arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("overflow: 256 of 256 outputs overflowed to ±inf"), "{text}");
    assert!(!text.contains("NaN"), "{text}");
    // Finite outputs keep the plain line.
    let small = dir.path().join("small.npy");
    std::fs::write(&small, encode_npy_f32(&[16, 16], &vec![1.0; 256])).unwrap();
    let o = bin().args(["gemm", "--pass", "forward"]).arg(&small).arg(&small).arg("-o").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("error vs binary32 matmul: max abs") && !text.contains("overflow"), "{text}");
}
