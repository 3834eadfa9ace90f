//! Issue 12's hostile-input corpus, made here and run through the real binary: endless files,
//! deep nesting, huge sizes in every file kind, legal-but-huge runs, long names, outputs that
//! name inputs or devices, malformed CSV/RON/JSON and bad flags. Each case runs in a child
//! process under a 4 GiB address-space cap and a 60 s timeout, in an empty working folder, and
//! must end in exit 1 or 2 (never 101, an abort or a signal) with one line of error text
//! starting with `error:`, leaving nothing behind (no output folder, no file).
//!
//! `parsers_never_panic` feeds the library's readers arbitrary bytes and text: the .npy reader,
//! the golden manifest and dump readers, the sweep point reader and the workload graph builder
//! (the SCALE-Sim parsers have theirs in tests/scalesim.rs).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// The address-space cap of every child: 4 GiB.
const AS_BYTES: u64 = 4 << 30;
const TIMEOUT: Duration = Duration::from_secs(60);

/// One hostile invocation: its arguments (paths absolute, outputs relative to its own empty
/// working folder) and its class in issue 12.
struct Case {
    class: &'static str,
    args: Vec<OsString>,
}

fn case(class: &'static str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Case {
    Case { class, args: args.iter().map(|a| a.as_ref().to_os_string()).collect() }
}

/// `prlimit --as=N -- BIN ARGS` when prlimit works here, else the shell's `ulimit -v`.
fn capped(args: &[OsString]) -> Command {
    let bin = env!("CARGO_BIN_EXE_fastbfp");
    let prlimit = Command::new("prlimit")
        .args(["--as=1073741824", "--", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut c = if prlimit {
        let mut c = Command::new("prlimit");
        c.arg(format!("--as={AS_BYTES}")).arg("--").arg(bin);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(format!("ulimit -v {}; exec \"$0\" \"$@\"", AS_BYTES / 1024)).arg(bin);
        c
    };
    c.args(args);
    c
}

/// Runs `c` in `cwd`, killing it after [`TIMEOUT`]; returns its verdict as an `Err` text.
fn check(c: &Case, cwd: &Path) -> Result<(), String> {
    use std::os::unix::process::ExitStatusExt;
    let err_path = cwd.with_extension("stderr");
    let err_file = std::fs::File::create(&err_path).unwrap();
    let mut child = capped(&c.args)
        .current_dir(cwd)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {TIMEOUT:?}: killed"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    let shown = err.chars().take(600).collect::<String>();
    if let Some(sig) = status.signal() {
        return Err(format!("killed by signal {sig}: {shown}"));
    }
    match status.code() {
        Some(1 | 2) => {}
        other => return Err(format!("exit {other:?} (want 1 or 2): {shown}")),
    }
    if err.contains("panicked") || err.contains("memory allocation") {
        return Err(format!("panic or abort: {shown}"));
    }
    if !err.starts_with("error:") {
        return Err(format!("stderr does not start with `error:`: {shown:?}"));
    }
    if err.trim_end().lines().count() != 1 {
        return Err(format!("error is not one line: {shown:?}"));
    }
    let left: Vec<String> =
        std::fs::read_dir(cwd).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    if !left.is_empty() {
        return Err(format!("left behind {left:?}: {shown}"));
    }
    Ok(())
}

fn npy_header(descr: &str, shape: &str) -> Vec<u8> {
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b
}

/// Writes the inputs into `dir` and lists every case.
fn corpus(dir: &Path) -> Vec<Case> {
    let put = |name: &str, bytes: &[u8]| -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let arch4 = root().join("arch/fast-4x4.ron");
    let arch_text = read(&arch4).replace("tech/45nm.ron", &root().join("arch/tech/45nm.ron").to_string_lossy());
    let mlp = root().join("traces/mlp.ron");
    let mlp_text = read(&mlp);
    let x = put("x.npy", &fastbfp::tensor::encode_npy_f32(&[4, 16], &[1.5; 64]));
    let y = put("y.npy", &fastbfp::tensor::encode_npy_f32(&[16, 4], &[0.5; 64]));
    let (zero, full, null) = (Path::new("/dev/zero"), Path::new("/dev/full"), Path::new("/dev/null"));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let at = arch_text.rfind(')').unwrap();
    let with_arch = |name: &str, from: &str, to: &str| -> PathBuf {
        assert!(arch_text.contains(from), "{from}");
        put(name, arch_text.replacen(from, to, 1).as_bytes())
    };
    let with_mlp = |name: &str, from: &str, to: &str| -> PathBuf {
        assert!(mlp_text.contains(from), "{from}");
        put(name, mlp_text.replacen(from, to, 1).as_bytes())
    };
    let sweep = |name: &str, body: &str| -> PathBuf {
        let head = format!("arch: {:?}, workload: {:?}, options: (numerics: false)", arch4, mlp);
        put(name, format!("({head}, {body})").as_bytes())
    };
    let mut cases = Vec::new();
    let mut add = |c: Case| cases.push(c);

    // Endless or device inputs.
    add(case("endless", &[&"run", &zero, &"-o", &"out"]));
    add(case("endless", &[&"run", &arch4, &zero, &"-o", &"out"]));
    add(case("endless", &[&"sweep", &zero, &"-o", &"out"]));
    add(case("endless", &[&"quantize", &zero, &"-o", &"out.npy"]));
    add(case("endless", &[&"gemm", &"--pass", &"forward", &x, &zero, &"-o", &"out.npy"]));
    add(case("endless", &[&"golden", &"export", &"--arch", &arch4, &"--case", &zero, &"-o", &"out"]));
    add(case(
        "endless",
        &[&"scalesim", &zero, &root().join("traces/scalesim/gemm_tall_24x8/config.cfg"), &"-o", &"out"],
    ));
    let endless_tech = with_arch("tech-zero.ron", &root().join("arch/tech/45nm.ron").to_string_lossy(), "/dev/zero");
    add(case("endless", &[&"run", &endless_tech, &"-o", &"out"]));
    add(case("endless", &[&"train", &mlp, &"--data", &zero, &"-o", &"out"]));

    // Deep nesting in every RON file kind.
    let deep_arch = put("deep-arch.ron", format!("{}, zzz: {deep})", &arch_text[..at]).as_bytes());
    add(case("nesting", &[&"run", &deep_arch, &"-o", &"out"]));
    let deep_wl = put("deep-wl.ron", format!("(name: \"x\", layers: {deep})").as_bytes());
    add(case("nesting", &[&"run", &arch4, &deep_wl, &"-o", &"out"]));
    let deep_sweep = put("deep-sweep.ron", format!("(axes: {deep})").as_bytes());
    add(case("nesting", &[&"sweep", &deep_sweep, &"-o", &"out"]));
    let deep_case = put("deep-case.ron", format!("(n: {deep})").as_bytes());
    add(case("nesting", &[&"golden", &"export", &"--arch", &arch4, &"--case", &deep_case, &"-o", &"out"]));

    // Sizes trusted from inputs.
    let rows_max = with_arch("rows-max.ron", "rows: 4,", "rows: 18446744073709551615,");
    add(case("sizes", &[&"run", &rows_max, &"-o", &"out"]));
    let rows_big = with_arch("rows-big.ron", "rows: 4,", "rows: 1e300,");
    add(case("sizes", &[&"run", &rows_big, &"-o", &"out"]));
    let wl_iters = with_mlp("iters.ron", "batch: 8,", "batch: 8, iterations: 1000000000,");
    add(case("sizes", &[&"run", &arch4, &wl_iters, &"--no-numerics", &"-o", &"out"]));
    let wl_batch = with_mlp("batch.ron", "batch: 8,", "batch: 4294967296,");
    add(case("sizes", &[&"run", &arch4, &wl_batch, &"-o", &"out"]));
    let sw_big = sweep("sweep-big.ron", "axes: [(param: \"array.size\", values: [16, 1e300])]");
    add(case("sizes", &[&"sweep", &sw_big, &"-o", &"out"]));
    let sw_iters = sweep("sweep-iters.ron", "options: (iterations: 18446744073709551616), axes: []");
    add(case("sizes", &[&"sweep", &sw_iters, &"-o", &"out"]));
    for (name, shape) in [("huge2d.npy", "(1099511627776, 1099511627776)"), ("huge1d.npy", "(2147483647,)")] {
        let p = put(name, &npy_header("<f4", shape));
        add(case("sizes", &[&"quantize", &p, &"-o", &"out.npy"]));
    }
    let overflow = put("overflow.npy", &npy_header("<f4", "(18446744073709551615, 18446744073709551615)"));
    add(case("sizes", &[&"gemm", &"--pass", &"forward", &overflow, &y, &"-o", &"out.npy"]));
    let short = put("short.npy", &[npy_header("<f4", "(4, 16)"), vec![0u8; 12]].concat());
    add(case("sizes", &[&"quantize", &short, &"-o", &"out.npy"]));
    let complex = put("complex.npy", &[npy_header("<c16", "(2,)"), vec![0u8; 32]].concat());
    add(case("sizes", &[&"quantize", &complex, &"-o", &"out.npy"]));

    // Golden manifests with huge sizes, and hostile dumps (against a real export).
    let gold = dir.join("gold");
    let o = Command::new(env!("CARGO_BIN_EXE_fastbfp"))
        .args(["golden", "export", "--arch"])
        .arg(&arch4)
        .arg("--case")
        .arg(root().join("traces/golden/forward-multifold.ron"))
        .arg("-o")
        .arg(&gold)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: serde_json::Value = serde_json::from_str(&read(&gold.join("manifest.json"))).unwrap();
    type Mutation<'a> = (&'a str, &'a dyn Fn(&mut serde_json::Value));
    let mutations: [Mutation; 5] = [
        ("payload", &|m| m["files"]["M0.hex"]["payload_bits"] = u64::MAX.into()),
        ("lanebits", &|m| m["files"]["M0.hex"]["lane_bits"] = (1u64 << 63).into()),
        ("array", &|m| m["array"] = serde_json::json!([u64::MAX, 4])),
        ("cycles", &|m| m["cycles"] = (u64::MAX - 1).into()),
        ("lanes", &|m| m["files"]["E0.hex"]["lanes"] = (1u64 << 40).into()),
    ];
    let dump = put("dump.txt", b"0 0 0 Y1 3f800000\n");
    for (name, mutate) in mutations {
        let d = dir.join(format!("gold-{name}"));
        std::fs::create_dir(&d).unwrap();
        for e in std::fs::read_dir(&gold).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, d.join(p.file_name().unwrap())).unwrap();
            }
        }
        let mut m = manifest.clone();
        mutate(&mut m);
        std::fs::write(d.join("manifest.json"), serde_json::to_string(&m).unwrap()).unwrap();
        add(case("sizes", &[&"golden", &"check", &d, &dump]));
    }
    add(case("endless", &[&"golden", &"check", &gold, &zero]));
    let bad_dump = put("bad-dump.txt", b"0 0 0 Y1 3f800000\n99999999999999999999999 1 2 Q zz\n");
    add(case("malformed", &[&"golden", &"check", &gold, &bad_dump]));
    let long_line = put("long-dump.txt", &vec![b'7'; 3 << 20]);
    add(case("sizes", &[&"golden", &"check", &gold, &long_line]));

    // Merge point files claiming huge sweeps, or not point files at all.
    for (name, text) in [
        ("points-1e12", "{\"schema_version\": 1, \"points\": 1000000000000, \"index\": 0}"),
        ("points-max", "{\"schema_version\": 1, \"points\": 18446744073709551615, \"index\": 3}"),
        ("points-garbage", "{\"schema_version\": 1, \"points\": [[[[[[[["),
        ("points-none", "not json at all"),
    ] {
        let d = dir.join(name);
        std::fs::create_dir_all(d.join("points")).unwrap();
        std::fs::write(d.join("points/0000-x.json"), text).unwrap();
        add(case("sizes", &[&"merge", &d, &"-o", &"out"]));
    }
    let empty_merge = dir.join("merge-empty");
    std::fs::create_dir_all(empty_merge.join("points")).unwrap();
    add(case("malformed", &[&"merge", &empty_merge, &"-o", &"out"]));

    // Legal but huge: refused with an estimate before starting.
    add(case("huge-run", &[&"run", &arch4, &mlp, &"--iterations", &"1000000", &"-o", &"out"]));
    let a4k = with_arch("a4k.ron", "rows: 4,", "rows: 4096,");
    let a4k = put("a4k.ron", read(&a4k).replacen("cols: 4,", "cols: 4096,", 1).as_bytes());
    add(case(
        "huge-run",
        &[&"gemm", &"--pass", &"forward", &x, &y, &"--arch", &a4k, &"--fidelity", &"cycle", &"-o", &"out.npy"],
    ));
    let values: Vec<String> = (1..=100).map(|v| v.to_string()).collect();
    let many = sweep(
        "sweep-many.ron",
        &format!(
            "axes: [(param: \"array.rows\", values: [{v}]), (param: \"array.cols\", values: [{v}]), (param: \"bfp.group\", values: [4, 8])]",
            v = values.join(", ")
        ),
    );
    add(case("huge-run", &[&"sweep", &many, &"-o", &"out"]));

    // Long names: a 1 MB arch name or layer name in a file that is otherwise wrong, an output
    // name past the file system's limit.
    let long_arch = with_arch("long-arch.ron", "name: \"fast-4x4\"", &format!("name: {:?}", "n".repeat(1 << 20)));
    let long_arch = put("long-arch.ron", read(&long_arch).replacen("rows: 4,", "rows: 0,", 1).as_bytes());
    add(case("long-names", &[&"run", &long_arch, &"-o", &"out"]));
    let long_layer = with_mlp(
        "long-layer.ron",
        "(name: \"fc1\",",
        &format!("(name: {:?}, inputs: [\"nowhere\"],", "l".repeat(1 << 20)),
    );
    add(case("long-names", &[&"run", &arch4, &long_layer, &"-o", &"out"]));
    add(case("long-names", &[&"quantize", &x, &"-o", &format!("{}.npy", "n".repeat(300))]));

    // Outputs that name an input or a device.
    add(case("outputs", &[&"quantize", &x, &"-o", &x]));
    add(case("outputs", &[&"gemm", &"--pass", &"forward", &x, &y, &"-o", &x]));
    add(case(
        "outputs",
        &[&"gemm", &"--pass", &"forward", &x, &y, &"-o", &"out.npy", &"--arch", &arch4, &"--stats", &y],
    ));
    add(case(
        "outputs",
        &[
            &"gemm",
            &"--pass",
            &"forward",
            &x,
            &y,
            &"--arch",
            &arch4,
            &"--fidelity",
            &"cycle",
            &"--no-numerics",
            &"--vcd",
            &arch4,
        ],
    ));
    add(case("outputs", &[&"quantize", &x, &"-o", &null]));
    add(case("outputs", &[&"quantize", &x, &"-o", &full]));
    add(case("outputs", &[&"quantize", &x, &"-o", &"p", &"--packed", &"p"]));
    add(case("outputs", &[&"run", &arch4, &mlp, &"-o", &arch4]));

    // Malformed RON and CSV.
    for (name, text) in [
        ("syntax.ron", "((((,,,::\"\""),
        ("binary.ron", "\u{0}\u{1}\u{2}(name: \u{7f}"),
        ("trunc.ron", &arch_text[..arch_text.len() / 2]),
        ("comment.ron", "/* never closed"),
    ] {
        let p = put(name, text.as_bytes());
        add(case("malformed", &[&"run", &p, &"-o", &"out"]));
        add(case("malformed", &[&"run", &arch4, &p, &"-o", &"out"]));
        add(case("malformed", &[&"sweep", &p, &"-o", &"out"]));
    }
    let cfg = root().join("traces/scalesim/gemm_tall_24x8/config.cfg");
    for (name, text) in [
        ("quote.csv", "Layer, M, N, K,\n\"Square, 48, 48\n"),
        ("huge.csv", "Layer, M, N, K,\nBig, 99999999999999999999, 4, 4,\n"),
        ("cols.csv", "Layer, M, N, K,\nA, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,\n"),
        ("neg.csv", "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nc, -3, 8, 3, 3, 1, 1, 1,\n"),
        ("bin.csv", "\u{0}\u{ff}\n,,,\n"),
    ] {
        let p = put(name, text.as_bytes());
        add(case("malformed", &[&"scalesim", &p, &cfg, &"-o", &"out"]));
    }
    let topo = root().join("traces/scalesim/gemm_tall_24x8/topology.csv");
    let bad_cfg = put("bad.cfg", b"[architecture_presets]\nArrayHeight: 99999999999999999999\n");
    add(case("malformed", &[&"scalesim", &topo, &bad_cfg, &"-o", &"out"]));

    // Bad flags.
    add(case("flags", &[&"run", &arch4, &mlp, &"--iterations", &"0", &"-o", &"out"]));
    add(case("flags", &[&"run", &arch4, &mlp, &"--fidelity", &"exact", &"-o", &"out"]));
    add(case("flags", &[&"run", &arch4, &mlp, &"--mapping", &"9999999999999999999999:xyz", &"-o", &"out"]));
    add(case("flags", &[&"lfsr", &"--mask", &"0"]));
    add(case("flags", &[&"lfsr", &"--groups", &"99999999999999999999"]));
    add(case("flags", &[&"sweep", &sw_big, &"--shard", &"5/4", &"-o", &"out"]));
    add(case("flags", &[&"sweep", &sw_big, &"--jobs", &"0", &"-o", &"out"]));
    add(case("flags", &[&"gemm", &"--pass", &"sideways", &x, &y, &"-o", &"out.npy"]));
    add(case("flags", &[&"quantize", &x, &"-g", &"0", &"-o", &"out.npy"]));
    add(case("flags", &[&"train", &mlp, &"--policy", &"nope", &"-o", &"out"]));
    add(case("flags", &[&"nosuchcommand"]));
    cases
}

#[test]
fn hostile_inputs_end_in_one_line_errors_under_a_memory_cap() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    let cases = corpus(&inputs);
    let classes = ["endless", "nesting", "sizes", "huge-run", "long-names", "outputs", "malformed", "flags"];
    for c in classes {
        assert!(cases.iter().any(|k| k.class == c), "no case of class {c}");
    }
    let next = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(c) = cases.get(i) else { break };
                let cwd = tmp.path().join(format!("case-{i:03}"));
                std::fs::create_dir(&cwd).unwrap();
                if let Err(why) = check(c, &cwd) {
                    let args: Vec<String> =
                        c.args.iter().map(|a| a.to_string_lossy().chars().take(120).collect()).collect();
                    failures.lock().unwrap().push(format!("[{}] fastbfp {}: {why}", c.class, args.join(" ")));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    // Nothing was written beside the inputs: the device nodes and inputs are as they were.
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    assert!(std::fs::metadata("/dev/full").unwrap().file_type().is_char_device());
    assert_eq!(std::fs::read(inputs.join("x.npy")).unwrap(), fastbfp::tensor::encode_npy_f32(&[4, 16], &[1.5; 64]));
}

mod parsers_never_panic {
    use std::path::Path;

    use fastbfp::golden::{load_manifest, parse_dump};
    use fastbfp::sweep::PointRecord;
    use fastbfp::tensor::decode_npy;
    use fastbfp::workload::parse_workload;
    use proptest::prelude::*;

    /// A .npy header with arbitrary fields after a valid magic, or arbitrary bytes.
    fn npy_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            (
                prop_oneof![Just("<f4".to_string()), Just("<f8".to_string()), "[<>|][a-z][0-9]{1,2}"],
                proptest::collection::vec(prop_oneof![0u64..5, any::<u64>()], 0..4),
                any::<bool>(),
                proptest::collection::vec(any::<u8>(), 0..64),
                "(?s).{0,20}",
            )
                .prop_map(|(descr, dims, fortran, data, junk)| {
                    let dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
                    let shape =
                        if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
                    let mut b = super::npy_header(&descr, &shape);
                    if fortran {
                        b = String::from_utf8_lossy(&b).replace("False", "True").into_bytes();
                    }
                    if junk.len() > 10 {
                        let n = b.len().min(30);
                        b.truncate(n);
                        b.extend_from_slice(junk.as_bytes());
                    }
                    b.extend_from_slice(&data);
                    b
                }),
        ]
    }

    /// The manifest of a real export (made once, by the binary).
    fn real_manifest() -> &'static str {
        static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        TEXT.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let root = super::root();
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_fastbfp"))
                .args(["golden", "export", "--arch"])
                .arg(root.join("arch/fast-4x4.ron"))
                .arg("--case")
                .arg(root.join("traces/golden/forward-wide.ron"))
                .arg("-o")
                .arg(dir.path().join("g"))
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            std::fs::read_to_string(dir.path().join("g/manifest.json")).unwrap()
        })
    }

    /// A golden manifest: the real one with one number set to an arbitrary value, or text.
    fn manifest_text() -> impl Strategy<Value = String> {
        let real = Some(real_manifest().to_string());
        let fields =
            ["cycles", "lines", "lanes", "lane_bits", "payload_bits", "line_bits", "hex_digits", "cycle", "row", "col"];
        prop_oneof![
            "(?s).{0,200}",
            (0..fields.len(), any::<u64>(), 0usize..8).prop_map(move |(f, v, nth)| {
                let Some(text) = real.clone() else { return String::from("{}") };
                let key = format!("\"{}\": ", fields[f]);
                let Some((at, _)) = text.match_indices(&key).nth(nth) else { return text };
                let start = at + key.len();
                let end = start + text[start..].find([',', '}', '\n']).unwrap_or(0);
                format!("{}{v}{}", &text[..start], &text[end..])
            }),
        ]
    }

    fn dump_text() -> impl Strategy<Value = String> {
        let field = prop_oneof![
            "[0-9]{1,25}",
            "-[0-9]{1,3}",
            "(E0|M0|E1|M1|Y0|Y1|CV|Q)",
            "(0x)?[0-9a-fA-F]{0,80}",
            "[#\t ]",
            "(?s).{0,4}"
        ];
        prop_oneof![
            "(?s).{0,300}",
            proptest::collection::vec(proptest::collection::vec(field, 0..7), 0..8)
                .prop_map(|lines| lines.iter().map(|l| l.join(" ") + "\n").collect()),
        ]
    }

    fn point_text() -> impl Strategy<Value = String> {
        let keys = ["points", "index", "schema_version", "cycles", "name", "params", "config", "sweep"];
        prop_oneof![
            "(?s).{0,200}",
            proptest::collection::vec(
                (
                    0..keys.len(),
                    prop_oneof![
                        any::<u64>().prop_map(|v| v.to_string()),
                        any::<i64>().prop_map(|v| v.to_string()),
                        Just("1e300".to_string()),
                        Just("[]".to_string()),
                        Just("{}".to_string()),
                        Just("\"x,\\\"y\\n\"".to_string()),
                        Just("null".to_string()),
                    ]
                ),
                0..8,
            )
            .prop_map(move |kv| {
                let body: Vec<String> = kv.iter().map(|(k, v)| format!("\"{}\": {v}", keys[*k])).collect();
                format!("{{\"schema_version\": 1, {}}}", body.join(", "))
            }),
        ]
    }

    /// Workloads whose layer graphs are arbitrary: ops of any size, inputs naming any layer
    /// (cycles, unknown names, duplicates), shapes that fit or not.
    fn workload_text() -> impl Strategy<Value = String> {
        let op = prop_oneof![
            Just("relu".to_string()),
            Just("add".to_string()),
            Just("flatten".to_string()),
            (0i64..70, 0i64..70).prop_map(|(i, o)| format!("linear(in_features: {i}, out_features: {o})")),
            (0i64..9, 0i64..9, 0i64..4, 0i64..3, 0i64..12).prop_map(|(i, o, k, s, hw)| format!(
                "conv2d(in_channels: {i}, out_channels: {o}, kernel: ({k}, {k}), stride: ({s}, {s}), padding: (1, 1), input_hw: ({hw}, {hw}))"
            )),
            (0i64..4, 0i64..3).prop_map(|(k, s)| format!("pool(kind: max, kernel: ({k}, {k}), stride: Some(({s}, {s})))")),
            (0i64..4, 0i64..70, 0i64..70, 0i64..70)
                .prop_map(|(b, r, i, c)| format!("matmul(heads: {b}, rows: {r}, inner: {i}, cols: {c})")),
            any::<i64>().prop_map(|v| format!("linear(in_features: {v}, out_features: 4)")),
        ];
        let layer = (op, proptest::collection::vec(0usize..8, 0..3), 0usize..8);
        (
            prop_oneof![
                Just("tokens(tokens: 1, features: 4)".to_string()),
                Just("image(channels: 3, hw: (8, 8))".to_string()),
                (0i64..9, 0i64..70).prop_map(|(t, f)| format!("tokens(tokens: {t}, features: {f})")),
            ],
            proptest::collection::vec(layer, 0..8),
            0i64..5,
        )
            .prop_map(|(input, layers, batch)| {
                let ls: Vec<String> = layers
                    .iter()
                    .map(|(op, inputs, name)| {
                        let ins: Vec<String> = inputs.iter().map(|i| format!("\"l{i}\"")).collect();
                        let ins =
                            if ins.is_empty() { String::new() } else { format!(", inputs: [{}]", ins.join(", ")) };
                        format!("(name: \"l{name}\", op: {op}{ins})")
                    })
                    .collect();
                format!("(name: \"w\", batch: {batch}, input: {input}, layers: [{}])", ls.join(", "))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn npy_reader(bytes in npy_bytes()) {
            let _ = decode_npy(&bytes, 1 << 16);
        }

        #[test]
        fn golden_manifest_and_dump_readers(manifest in manifest_text(), dump in dump_text()) {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("manifest.json"), &manifest).unwrap();
            if let Ok(m) = load_manifest(dir.path()) {
                let _ = fastbfp::golden::input_port_values(dir.path(), &m);
            }
            let file = dir.path().join("dump.txt");
            if let Ok(lines) = parse_dump(&dump, &file) {
                let _ = fastbfp::golden::check_dump(&[], &lines);
            }
            std::fs::write(&file, &dump).unwrap();
            let _ = fastbfp::golden::check_dump_file(&file, &[], &[]);
        }

        #[test]
        fn sweep_point_reader(text in point_text()) {
            let _ = PointRecord::from_json(&text, Path::new("p.json"));
        }

        #[test]
        fn workload_graph_builder(text in workload_text()) {
            if let Ok(w) = parse_workload(&text, Path::new("w.ron")) {
                let _ = w.lower();
            }
        }
    }
}
