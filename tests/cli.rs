//! The real `fastbfp` binary, driven as a user would: every design vector through
//! `quantize` and `gemm`, and every kind of bad input (non-zero exit, one clear error line,
//! no panic, no output left behind).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fastbfp::tensor::{encode_npy_f32, read_npy, DEFAULT_MAX_ELEMENTS};
use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fastbfp"))
}

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/design-vectors")
}

fn manifest() -> Value {
    serde_json::from_str(&std::fs::read_to_string(vectors().join("manifest.json")).unwrap()).unwrap()
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn bits(p: &Path) -> Vec<u32> {
    read_npy(p, DEFAULT_MAX_ELEMENTS).unwrap().tensor.data.iter().map(|v| v.to_bits()).collect()
}

fn s(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        other => other.to_string(),
    }
}

#[test]
fn no_arguments_runs_the_default_simulation() {
    // `fastbfp` with no arguments is `fastbfp run` on the embedded defaults, writing into ./out.
    let tmp = tempfile::tempdir().unwrap();
    let o = bin().current_dir(tmp.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    for want in ["resnet18-cifar on fast-32x32", "cycles", "utilization", "area", "energy", "SNR dB"] {
        assert!(out.contains(want), "summary lacks {want}: {out}");
    }
    let dir = tmp.path().join("out");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert!(report["totals"]["cycles"].as_u64().unwrap() > 0);
    assert!(!report["jobs"].as_array().unwrap().is_empty());
    let csv = std::fs::read_to_string(dir.join("layers.csv")).unwrap();
    assert!(csv.lines().count() > 50 && csv.starts_with("iteration,layer,kind,pass"));
    let mut plots = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "png") {
            assert!(p.with_extension("svg").exists());
            assert!(std::fs::read(&p).unwrap().starts_with(b"\x89PNG"));
            plots += 1;
        }
    }
    assert!(plots >= 5, "{plots} plots");
    // Deterministic: a second run with the same (default) seed writes the same report; the
    // report carries no timestamps.
    let again = tmp.path().join("again");
    std::fs::create_dir(&again).unwrap();
    let o2 = bin().current_dir(&again).args(["run", "-q"]).output().unwrap();
    assert!(o2.status.success());
    for f in ["report.json", "layers.csv"] {
        assert_eq!(
            std::fs::read(dir.join(f)).unwrap(),
            std::fs::read(again.join("out").join(f)).unwrap(),
            "{f} differs"
        );
    }
}

#[test]
fn quantize_design_vectors_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    for c in manifest()["quantize"].as_array().unwrap() {
        let name = s(&c["name"]);
        let out = tmp.path().join(format!("{name}.npy"));
        let o = run(&[
            "quantize",
            vectors().join(s(&c["input"])).to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--group",
            &s(&c["group"]),
            "--mantissa",
            &s(&c["mantissa"]),
            "--exp-bits",
            &s(&c["exp_bits"]),
            "--rounding",
            &s(&c["rounding"]),
            "--seed",
            &s(&c["seed"]),
            "--noise-bits",
            &s(&c["noise_bits"]),
        ]);
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(bits(&out), bits(&vectors().join(s(&c["expected"]))), "{name}");
        let f = &c["flags"];
        let want = format!("flushed {}, underflow {}, saturated {}", f["flushed"], f["underflow"], f["saturated"]);
        assert!(String::from_utf8_lossy(&o.stdout).contains(&want), "{name}: flags line missing {want}");
    }
}

#[test]
fn gemm_design_vectors_through_the_cli_both_kernels() {
    let tmp = tempfile::tempdir().unwrap();
    for c in manifest()["gemm"].as_array().unwrap() {
        let name = s(&c["name"]);
        for kernel in ["fast", "reference"] {
            let out = tmp.path().join(format!("{name}.{kernel}.npy"));
            let o = run(&[
                "gemm",
                "--pass",
                &s(&c["pass_"]),
                vectors().join(s(&c["x"])).to_str().unwrap(),
                vectors().join(s(&c["y"])).to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--group",
                &s(&c["group"]),
                "--exp-bits",
                &s(&c["exp_bits"]),
                "--mantissa-x",
                &s(&c["mantissa_x"]),
                "--mantissa-y",
                &s(&c["mantissa_y"]),
                "--rounding-x",
                &s(&c["rounding_x"]),
                "--rounding-y",
                &s(&c["rounding_y"]),
                "--accumulator",
                &s(&c["accumulator"]),
                "--seed",
                &s(&c["seed"]),
                "--noise-bits",
                &s(&c["noise_bits"]),
                "--kernel",
                kernel,
            ]);
            assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
            assert_eq!(bits(&out), bits(&vectors().join(s(&c["expected"]))), "{name} {kernel}");
            let stdout = String::from_utf8_lossy(&o.stdout);
            assert!(stdout.contains("MACs") && stdout.contains("SNR"), "{stdout}");
        }
    }
}

#[test]
fn packed_images_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    for c in manifest()["packed"].as_array().unwrap() {
        let dir = tmp.path().join(s(&c["input"]));
        let out = tmp.path().join("deq.npy");
        let o = run(&[
            "quantize",
            vectors().join(s(&c["input"])).to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--group",
            &s(&c["group"]),
            "--mantissa",
            &s(&c["mantissa"]),
            "--exp-bits",
            &s(&c["exp_bits"]),
            "--rounding",
            &s(&c["rounding"]),
            "--packed",
            dir.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let lines =
            |f: &str| std::fs::read_to_string(dir.join(f)).unwrap().lines().map(String::from).collect::<Vec<_>>();
        let want = |k: &str| c[k].as_array().unwrap().iter().map(s).collect::<Vec<_>>();
        assert_eq!(lines("exponents.hex"), want("exponents_hex"));
        assert_eq!(lines("mantissa.hex"), want("mantissa_planes_hex"));
        let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("packed.json")).unwrap()).unwrap();
        assert_eq!(meta["e_base"], c["e_base"]);
        assert_eq!(meta["group"], c["group"]);
    }
}

/// Runs a command that must fail: non-zero exit, no panic, the error's first line carries
/// every `needles` fragment, at most one line of error text (clap adds a usage tip after a
/// blank line), and `out` does not exist afterwards.
fn must_fail(args: &[&str], needles: &[&str], out: &Path) {
    let o = run(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    let first = err.lines().next().unwrap_or("");
    assert!(first.starts_with("error:"), "{args:?}: {err}");
    for n in needles {
        assert!(first.contains(n), "{args:?}: first line lacks '{n}': {err}");
    }
    let text_lines = err.lines().take_while(|l| !l.is_empty()).count();
    assert_eq!(text_lines, 1, "{args:?}: error is not one line: {err}");
    assert!(!out.exists(), "{args:?} left {}", out.display());
}

struct Files {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Files {
    fn new() -> Self {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().to_path_buf();
        Self { _dir: d, root }
    }
    fn npy(&self, name: &str, shape: &[usize], data: &[f32]) -> String {
        let p = self.root.join(name);
        std::fs::write(&p, encode_npy_f32(shape, data)).unwrap();
        p.to_string_lossy().into_owned()
    }
    fn raw(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.root.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().into_owned()
    }
    fn out(&self) -> PathBuf {
        self.root.join("out.npy")
    }
}

#[test]
fn bad_values_name_the_file_and_the_element() {
    let f = Files::new();
    let out = f.out();
    let o = out.to_str().unwrap();
    let nan = f.npy("nan.npy", &[2, 3], &[1.0, 2.0, 3.0, 4.0, f32::NAN, 6.0]);
    must_fail(&["quantize", &nan, "-o", o], &["nan.npy", "element 4", "NaN"], &out);
    let inf = f.npy("inf.npy", &[4, 2], &[1.0, 2.0, f32::INFINITY, 4.0, 1.0, 2.0, 3.0, 4.0]);
    let good = f.npy("good.npy", &[2, 4], &[1.0; 8]);
    must_fail(&["gemm", "--pass", "forward", &good, &inf, "-o", o], &["inf.npy", "A[K,B]", "element 2", "+inf"], &out);
}

#[test]
fn bad_shapes_are_refused() {
    let f = Files::new();
    let out = f.out();
    let o = out.to_str().unwrap();
    let a = f.npy("a.npy", &[6, 40], &[1.0; 240]);
    let b = f.npy("b.npy", &[39, 5], &[1.0; 195]);
    must_fail(&["gemm", "--pass", "forward", &a, &b, "-o", o], &["6 x 40", "39 x 5", "K (X columns, Y rows)"], &out);
    let c = f.npy("c.npy", &[5, 40], &[1.0; 200]);
    must_fail(&["gemm", "--pass", "backward-data", &a, &c, "-o", o], &["N (X rows, Y rows)", "6 != 5"], &out);
    let one_d = f.npy("one.npy", &[40], &[1.0; 40]);
    must_fail(&["gemm", "--pass", "forward", &one_d, &b, "-o", o], &["one.npy", "2-D", "1 axes"], &out);
    let three_d = f.npy("three.npy", &[2, 3, 4], &[1.0; 24]);
    must_fail(&["gemm", "--pass", "forward", &a, &three_d, "-o", o], &["three.npy", "2-D", "3 axes"], &out);
}

#[test]
fn out_of_range_parameters_are_refused() {
    let f = Files::new();
    let out = f.out();
    let o = out.to_str().unwrap();
    let a = f.npy("a.npy", &[2, 16], &[1.0; 32]);
    let cases: &[(&str, &str, &str)] = &[
        ("--group", "0", "1..=64"),
        ("--group", "65", "1..=64"),
        ("--mantissa", "0", "1..=16"),
        ("--mantissa", "17", "1..=16"),
        ("--exp-bits", "0", "1..=8"),
        ("--exp-bits", "9", "1..=8"),
        ("--noise-bits", "0", "1..=16"),
        ("--noise-bits", "17", "1..=16"),
        ("--seed", "0x10000", "0..=0xffff"),
        ("--rounding", "banker", "stochastic"),
    ];
    for (flag, value, allowed) in cases {
        must_fail(&["quantize", &a, "-o", o, flag, value], &[flag, allowed], &out);
    }
    let b = f.npy("b.npy", &[16, 2], &[1.0; 32]);
    for (flag, value, allowed) in [("--mantissa-x", "17", "1..=16"), ("--group", "65", "1..=64")] {
        must_fail(&["gemm", "--pass", "forward", &a, &b, "-o", o, flag, value], &[flag, allowed], &out);
    }
    must_fail(&["gemm", "--pass", "sideways", &a, &b, "-o", o], &["--pass", "backward-weight"], &out);
}

#[test]
fn bad_files_are_refused() {
    let f = Files::new();
    let out = f.out();
    let o = out.to_str().unwrap();
    let missing = f.root.join("missing.npy");
    must_fail(&["quantize", missing.to_str().unwrap(), "-o", o], &["missing.npy"], &out);
    let good = encode_npy_f32(&[4, 8], &[1.5; 32]);
    let trunc = f.raw("trunc.npy", &good[..good.len() - 7]);
    must_fail(&["quantize", &trunc, "-o", o], &["trunc.npy", "truncated"], &out);
    let corrupt = f.raw("corrupt.npy", b"this is not a numpy file at all");
    must_fail(&["quantize", &corrupt, "-o", o], &["corrupt.npy"], &out);
    // A header that claims 10^12 elements, followed by a few bytes: refused before allocating.
    let mut huge = good.clone();
    let header = String::from_utf8_lossy(&huge[10..]).to_string();
    let pos = header.find("(4, 8)").unwrap();
    let claim = "(1000000, 1000000)";
    let mut h = header[..pos].to_string() + claim + &header[pos + 6..];
    h = h.replacen(&" ".repeat(claim.len() - 6), "", 1);
    huge.truncate(10);
    huge.extend_from_slice(h.as_bytes());
    let big = f.raw("huge.npy", &huge);
    must_fail(&["quantize", &big, "-o", o], &["huge.npy", "1000000000000"], &out);
    // Unsupported dtype (complex): refused with the dtype named.
    let mut cplx = good.clone();
    let at = cplx.windows(3).position(|w| w == b"<f4").unwrap();
    cplx[at + 1..at + 3].copy_from_slice(b"c8");
    let cplx = f.raw("complex.npy", &cplx);
    must_fail(&["quantize", &cplx, "-o", o], &["complex.npy", "<c8"], &out);
    // Integer dtype whose values are not exact in f32: refused, naming the element.
    let mut ints = encode_npy_f32(&[4, 8], &[0.0; 32]);
    let at = ints.windows(3).position(|w| w == b"<f4").unwrap();
    ints[at + 1] = b'i';
    let len = ints.len();
    ints[len - 4..].copy_from_slice(&((1i32 << 24) + 1).to_le_bytes());
    let ints = f.raw("ints.npy", &ints);
    must_fail(&["quantize", &ints, "-o", o], &["ints.npy", "16777217"], &out);
    // Integers binary32 holds exactly are accepted, with a note, and give the same bits as the
    // same values written as float32.
    let values: Vec<i32> = (0..32).map(|i| (i - 16) * 1000).collect();
    let mut ints = encode_npy_f32(&[4, 8], &[0.0; 32]);
    let at = ints.windows(3).position(|w| w == b"<f4").unwrap();
    ints[at + 1] = b'i';
    let len = ints.len();
    for (i, v) in values.iter().enumerate() {
        ints[len - 128 + 4 * i..len - 128 + 4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }
    let ints = f.raw("exact-ints.npy", &ints);
    let floats = f.raw("floats.npy", &encode_npy_f32(&[4, 8], &values.iter().map(|&v| v as f32).collect::<Vec<_>>()));
    let (qi, qf) = (f.root.join("qi.npy"), f.root.join("qf.npy"));
    let oi = run(&["quantize", &ints, "-o", qi.to_str().unwrap()]);
    assert!(oi.status.success(), "{}", String::from_utf8_lossy(&oi.stderr));
    assert!(String::from_utf8_lossy(&oi.stderr).contains("holds integers"), "no note on stderr");
    assert!(run(&["quantize", &floats, "-o", qf.to_str().unwrap()]).status.success());
    assert_eq!(bits(&qi), bits(&qf));
}

#[test]
fn output_in_a_missing_folder_is_refused_before_any_work() {
    let f = Files::new();
    let a = f.npy("a.npy", &[2, 16], &[1.0; 32]);
    let out = f.root.join("no/such/dir/out.npy");
    must_fail(&["quantize", &a, "-o", out.to_str().unwrap()], &["no/such/dir", "does not exist"], &out);
    let b = f.npy("b.npy", &[16, 2], &[1.0; 32]);
    must_fail(
        &["gemm", "--pass", "forward", &a, &b, "-o", out.to_str().unwrap()],
        &["no/such/dir", "does not exist"],
        &out,
    );
}

#[test]
fn failed_packed_quantize_leaves_no_file() {
    let f = Files::new();
    let a = f.npy("a.npy", &[2, 16], &[1.0; 32]);
    let pk = f.root.join("pk");
    std::fs::create_dir_all(pk.join("mantissa.hex")).unwrap(); // a folder where a file must go
    let out = f.out();
    must_fail(
        &["quantize", &a, "-o", out.to_str().unwrap(), "--packed", pk.to_str().unwrap()],
        &["mantissa.hex"],
        &out,
    );
    assert!(!pk.join("exponents.hex").exists() && !pk.join("packed.json").exists());
    // An output that is a folder is refused before any work, with the error said once.
    let dir = f.root.join("odir");
    std::fs::create_dir(&dir).unwrap();
    let o = run(&["quantize", &a, "-o", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("is a folder") && o.stdout.is_empty(), "{err}");
}

#[test]
fn float64_beyond_binary32_is_named() {
    let f = Files::new();
    let mut header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in [1.0f64, 2.0, 1e300] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let p = f.raw("big.npy", &bytes);
    let out = f.out();
    must_fail(&["quantize", &p, "-o", out.to_str().unwrap()], &["big.npy", "element 2", "1e300", "binary32"], &out);
}

#[test]
fn float64_input_is_accepted_with_a_note() {
    let f = Files::new();
    // Hand-built float64 .npy: 1 x 2, values 0.1 and 3.0.
    let mut header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in [0.1f64, 3.0] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let p = f.raw("f64.npy", &bytes);
    let out = f.out();
    let o = run(&["quantize", &p, "-o", out.to_str().unwrap(), "--group", "2", "--mantissa", "16"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("float64"));
    assert!(out.exists());
}

#[test]
fn same_inputs_same_bits() {
    let tmp = tempfile::tempdir().unwrap();
    let x = vectors().join("g04.x.npy");
    let y = vectors().join("g04.y.npy");
    let mut outs = vec![];
    for i in 0..2 {
        let out = tmp.path().join(format!("o{i}.npy"));
        let o = run(&[
            "gemm",
            "--pass",
            "backward-weight",
            x.to_str().unwrap(),
            y.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--rounding-x",
            "stochastic",
            "--seed",
            "12345",
        ]);
        assert!(o.status.success());
        let stdout = String::from_utf8_lossy(&o.stdout).replace(&format!("o{i}.npy"), "o.npy");
        outs.push((std::fs::read(&out).unwrap(), stdout));
    }
    assert_eq!(outs[0], outs[1]);
}

#[test]
fn lfsr_design_vectors_through_the_cli() {
    for c in manifest()["lfsr"].as_array().unwrap() {
        let o = run(&[
            "lfsr",
            "--group",
            &s(&c["group"]),
            "--seed",
            &s(&c["seed"]),
            "--job",
            &s(&c["job"]),
            "--noise-bits",
            &s(&c["noise_bits"]),
            "--groups",
            "6",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout);
        let states: Vec<u16> = out
            .lines()
            .find_map(|l| l.strip_prefix("lane states after reseed: "))
            .unwrap()
            .split(' ')
            .map(|h| u16::from_str_radix(h.trim_start_matches("0x"), 16).unwrap())
            .collect();
        let want: Vec<u16> = c["lane_states_after_reseed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| u16::from_str_radix(s(v).trim_start_matches("0x"), 16).unwrap())
            .collect();
        assert_eq!(states, want);
        for (k, grp) in c["noise_per_group"].as_array().unwrap().iter().enumerate() {
            let line = out.lines().find_map(|l| l.strip_prefix(&format!("group {k}: "))).unwrap();
            let got: Vec<u64> = line.split(' ').map(|v| v.parse().unwrap()).collect();
            let want: Vec<u64> = grp.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
            assert_eq!(got, want, "group {k}");
        }
    }
}

fn arch_path(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("arch").join(name).to_string_lossy().into_owned()
}

fn cycles_of(stdout: &str) -> u64 {
    stdout.lines().find_map(|l| l.strip_prefix("cycles: ")).expect("a cycles line").trim().parse().unwrap()
}

#[test]
fn gemm_on_an_arch_both_fidelities_same_cycles_same_bits_and_stats() {
    let tmp = tempfile::tempdir().unwrap();
    let x = vectors().join("g03.x.npy");
    let y = vectors().join("g03.y.npy");
    let mut seen = vec![];
    for fidelity in ["cycle", "fold"] {
        let out = tmp.path().join(format!("{fidelity}.npy"));
        let stats = tmp.path().join(format!("{fidelity}.json"));
        let o = run(&[
            "gemm",
            "--arch",
            &arch_path("fast-4x4.ron"),
            "--fidelity",
            fidelity,
            "--pass",
            "backward-data",
            x.to_str().unwrap(),
            y.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--stats",
            stats.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let stdout = String::from_utf8_lossy(&o.stdout).to_string();
        for want in ["streaming", "stat. load", "stalls", "utilization", "DRAM", "SRAM"] {
            assert!(stdout.contains(want), "{want} missing: {stdout}");
        }
        let st: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        assert_eq!(st["cycles"].as_u64().unwrap(), cycles_of(&stdout));
        assert_eq!(st["busy_cycles_per_cell"].as_array().unwrap().len(), 4);
        let folds = st["folds"].as_array().unwrap();
        assert!(!folds.is_empty());
        for f in folds {
            let (s, e) = (f["stream"][0].as_u64().unwrap(), f["stream"][1].as_u64().unwrap());
            assert!(e > s && e <= cycles_of(&stdout));
        }
        seen.push((cycles_of(&stdout), bits(&out)));
    }
    assert_eq!(seen[0], seen[1], "fidelities disagree");
    // Timing only needs no output file.
    let o = run(&[
        "gemm",
        "--arch",
        &arch_path("fast-32x32.ron"),
        "--no-numerics",
        "--pass",
        "forward",
        vectors().join("g01.x.npy").to_str().unwrap(),
        vectors().join("g01.y.npy").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("error vs binary32"));
}

#[test]
fn gemm_with_a_bad_arch_names_file_line_and_range() {
    let f = Files::new();
    let out = f.out();
    let o = out.to_str().unwrap();
    let x = vectors().join("g01.x.npy");
    let y = vectors().join("g01.y.npy");
    let (x, y) = (x.to_str().unwrap(), y.to_str().unwrap());
    let broken = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/arch-broken/rows-zero.ron");
    must_fail(
        &["gemm", "--arch", broken.to_str().unwrap(), "--pass", "forward", x, y, "-o", o],
        &["rows-zero.ron:", "array.rows", "1..=4096"],
        &out,
    );
    let missing = f.root.join("nope.ron");
    must_fail(&["gemm", "--arch", missing.to_str().unwrap(), "--pass", "forward", x, y, "-o", o], &["nope.ron"], &out);
    must_fail(&["gemm", "--fidelity", "cycle", "--pass", "forward", x, y, "-o", o], &["--arch"], &out);
}

#[test]
fn outputs_never_replace_inputs_or_devices_and_failures_leave_nothing() {
    let f = Files::new();
    let x = f.npy("x.npy", &[4, 16], &[1.5; 64]);
    let before = std::fs::read(&x).unwrap();
    // The output is the input.
    let nowhere = f.root.join("nothing-here");
    must_fail(&["quantize", &x, "-o", &x], &["x.npy", "is an input of this run"], &nowhere);
    assert_eq!(std::fs::read(&x).unwrap(), before, "the input was changed");
    let y = f.npy("y.npy", &[16, 4], &[0.5; 64]);
    let out = f.out();
    must_fail(
        &[
            "gemm",
            "--pass",
            "forward",
            &x,
            &y,
            "-o",
            out.to_str().unwrap(),
            "--arch",
            &arch_path("fast-4x4.ron"),
            "--stats",
            &x,
        ],
        &["x.npy", "is an input of this run"],
        &out,
    );
    assert_eq!(std::fs::read(&x).unwrap(), before, "the input was changed");
    // A character device is never replaced by a regular file.
    must_fail(&["quantize", &x, "-o", "/dev/null"], &["/dev/null", "not a regular file"], &nowhere);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    // The same path as the output tensor and the packed folder: refused, nothing created.
    let p = f.root.join("p");
    must_fail(&["quantize", &x, "-o", p.to_str().unwrap(), "--packed", p.to_str().unwrap()], &["choose two"], &p);
    // An endless file as an arch: refused at the size limit, one line.
    must_fail(&["run", "/dev/zero", "-o", out.to_str().unwrap()], &["/dev/zero", "limit"], &out);
    // A 250-character output name works (its temporary name stays short).
    let long = f.root.join(format!("{}.npy", "n".repeat(246)));
    let o = run(&["quantize", &x, "-o", long.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(long.is_file());
}

#[test]
fn deeply_nested_ron_is_refused_quickly_for_every_file_kind() {
    let f = Files::new();
    let out = f.out();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let arch = std::fs::read_to_string(arch_path("fast-4x4.ron")).unwrap();
    let at = arch.rfind(')').unwrap();
    let bad_arch = f.raw("deep-arch.ron", format!("{}, zzz: {deep})", &arch[..at]).as_bytes());
    must_fail(&["run", &bad_arch, "-o", out.to_str().unwrap()], &["deep-arch.ron", "nest more than 64"], &out);
    let bad_wl = f.raw("deep-wl.ron", format!("(name: \"x\", layers: {deep})").as_bytes());
    must_fail(
        &["run", &arch_path("fast-4x4.ron"), &bad_wl, "-o", out.to_str().unwrap()],
        &["deep-wl.ron", "nest more than 64"],
        &out,
    );
    let bad_sweep = f.raw("deep-sweep.ron", format!("(axes: {deep})").as_bytes());
    must_fail(&["sweep", &bad_sweep, "-o", out.to_str().unwrap()], &["deep-sweep.ron", "nest more than 64"], &out);
    let bad_case = f.raw("deep-case.ron", format!("(n: {deep})").as_bytes());
    must_fail(
        &["golden", "export", "--arch", &arch_path("fast-4x4.ron"), "--case", &bad_case, "-o", out.to_str().unwrap()],
        &["deep-case.ron", "nest more than 64"],
        &out,
    );
}

/// `lfsr --mask 0` is a bad flag: exit 2 and one line with what is allowed, like clap's own.
#[test]
fn a_zero_lfsr_mask_is_a_usage_error() {
    let o = bin().args(["lfsr", "--mask", "0"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("0 is not a feedback mask: allowed 0x0001..=0xffff"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
