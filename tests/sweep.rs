//! Sweeps: sharded runs merged equal the unsharded run, byte for byte; a resumed or killed and
//! restarted sweep redoes only the missing points; results are deterministic whatever the
//! thread count; bad sweep files, shards and output folders give clear errors. Driven through
//! the library and through the real `fastbfp` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use fastbfp::arch::{parse_arch, DEFAULT_ARCH_RON};
use fastbfp::sweep::{
    csv_name, load_sweep, merge, parse_sweep, plan_sweep, points_dir, run_sweep, Param, PointRecord, Shard, Sweep,
    SweepError, SweepOptions, SweepSummary, MERGED_CSV,
};
use fastbfp::workload::parse_workload;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example() -> PathBuf {
    root().join("traces/sweeps/array-precision.ron")
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fastbfp"))
}

fn run_bin(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn sweep_into(s: &Sweep, out: &Path, shard: Shard, jobs: Option<usize>) -> SweepSummary {
    let options = SweepOptions { out: out.to_path_buf(), shard, jobs };
    run_sweep(s, &options, &|_| {}).unwrap()
}

fn point_files(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(points_dir(out))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

/// A small sweep over mlp (8 points, milliseconds each) written into `dir`.
fn small_sweep(dir: &Path) -> PathBuf {
    let text = format!(
        "(\n    arch: {:?},\n    workload: {:?},\n    axes: [\n        (param: \"array.rows\", values: [8, 16]),\n        (param: \"array.cols\", values: [8, 32]),\n        (param: \"workload.batch\", values: [4, 16]),\n    ],\n)\n",
        root().join("arch/fast-32x32.ron"),
        root().join("traces/mlp.ron"),
    );
    let path = dir.join("small.ron");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_example_sweep_loads_and_expands_in_the_documented_order() {
    let s = load_sweep(&example()).unwrap();
    assert_eq!(s.len(), 9);
    let names: Vec<String> = s.points().map(|p| p.name).collect();
    assert_eq!(names[..4], ["size16-m2", "size16-m4", "size16-m8", "size32-m2"]);
    assert!(!s.options.numerics);
    let (arch, wl) = s.configure(&s.point(5));
    assert_eq!((arch.array.rows, arch.array.cols, arch.precision.gradients.mantissa_bits), (32, 32, 8));
    assert_eq!(wl.name, "resnet18-cifar");
}

#[test]
fn two_shards_merged_equal_the_unsharded_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let s = load_sweep(&example()).unwrap();
    let whole = tmp.path().join("whole");
    let summary = sweep_into(&s, &whole, Shard::ALL, None);
    assert_eq!((summary.points, summary.done, summary.skipped), (9, 9, 0));
    assert_eq!(summary.csv, whole.join("sweep.csv"));
    let expected = read(&whole.join("sweep.csv"));
    assert_eq!(expected.lines().count(), 10);
    assert!(expected.starts_with("index,name,array.size,precision.mantissa_bits,cycles,"), "{expected}");

    // Shards in their own folders, merged into a third.
    let (a, b, merged) = (tmp.path().join("s0"), tmp.path().join("s1"), tmp.path().join("merged"));
    let s0 = sweep_into(&s, &a, Shard::new(0, 2).unwrap(), Some(1));
    let s1 = sweep_into(&s, &b, Shard::new(1, 2).unwrap(), Some(2));
    assert_eq!((s0.points, s1.points), (5, 4));
    assert!(s0.records.iter().all(|r| r.index % 2 == 0) && s1.records.iter().all(|r| r.index % 2 == 1));
    assert_eq!(s0.csv, a.join("sweep-shard-0-of-2.csv"));
    let m = merge(&[a.clone(), b.clone()], Some(&merged)).unwrap();
    assert_eq!((m.points, m.total, m.missing.len()), (9, 9, 0));
    assert_eq!(read(&merged.join(MERGED_CSV)), expected);
    assert!(std::fs::read(merged.join("pareto.png")).unwrap().starts_with(b"\x89PNG"));
    assert!(read(&merged.join("pareto.svg")).contains("<svg"));

    // Shards sharing one folder; merging it in place; merging overlapping folders.
    let shared = tmp.path().join("shared");
    sweep_into(&s, &shared, Shard::new(1, 2).unwrap(), None);
    sweep_into(&s, &shared, Shard::new(0, 2).unwrap(), None);
    merge(std::slice::from_ref(&shared), None).unwrap();
    assert_eq!(read(&shared.join(MERGED_CSV)), expected);
    let m = merge(&[shared.clone(), a, whole.clone()], Some(&tmp.path().join("again"))).unwrap();
    assert_eq!(m.points, 9);
    assert_eq!(read(&tmp.path().join("again").join(MERGED_CSV)), expected);
    // A sweep's own folder merges to its own CSV.
    merge(std::slice::from_ref(&whole), None).unwrap();
    assert_eq!(read(&whole.join(MERGED_CSV)), expected);

    // A partial merge says what is missing.
    let m = merge(&[b], Some(&tmp.path().join("half"))).unwrap();
    assert_eq!(m.missing, [0, 2, 4, 6, 8]);
}

#[test]
fn a_resumed_sweep_redoes_only_the_missing_points() {
    let tmp = tempfile::tempdir().unwrap();
    let s = load_sweep(&small_sweep(tmp.path())).unwrap();
    let out = tmp.path().join("out");
    let first = sweep_into(&s, &out, Shard::ALL, None);
    assert_eq!((first.points, first.done, first.skipped), (8, 8, 0));
    let csv = read(&out.join("sweep.csv"));
    let files = point_files(&out);
    assert_eq!(files.len(), 8);
    let bytes: Vec<String> = files.iter().map(|f| read(f)).collect();

    // Nothing to do.
    let again = sweep_into(&s, &out, Shard::ALL, None);
    assert_eq!((again.done, again.skipped), (0, 8));
    assert_eq!(read(&out.join("sweep.csv")), csv);

    // Three points lost, one truncated (as no atomic write would leave it, but still), a stray
    // temporary of a killed writer: exactly those four are recomputed, to the same bytes.
    for f in [&files[1], &files[4], &files[7]] {
        std::fs::remove_file(f).unwrap();
    }
    std::fs::write(&files[2], &bytes[2][..40]).unwrap();
    std::fs::write(points_dir(&out).join(".0003-rows8-cols32-batch16.json.999.tmp"), "{").unwrap();
    let plan = plan_sweep(&s, &out, Shard::ALL).unwrap();
    let todo: Vec<usize> = plan.todo.iter().map(|p| p.index).collect();
    assert_eq!(todo, [1, 2, 4, 7]);
    let counted = std::sync::atomic::AtomicUsize::new(0);
    let options = SweepOptions { out: out.clone(), shard: Shard::ALL, jobs: Some(2) };
    let resumed = run_sweep(&s, &options, &|_| {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!((resumed.done, resumed.skipped, counted.into_inner()), (4, 4, 4));
    assert_eq!(read(&out.join("sweep.csv")), csv);
    for (f, b) in files.iter().zip(&bytes) {
        assert_eq!(&read(f), b, "{}", f.display());
    }
}

#[test]
fn results_do_not_depend_on_threads_or_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let s = load_sweep(&small_sweep(tmp.path())).unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    sweep_into(&s, &a, Shard::ALL, Some(1));
    sweep_into(&s, &b, Shard::ALL, Some(2));
    assert_eq!(read(&a.join("sweep.csv")), read(&b.join("sweep.csv")));
    let (fa, fb) = (point_files(&a), point_files(&b));
    assert_eq!(fa.len(), 8);
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.file_name(), y.file_name());
        assert_eq!(read(x), read(y));
    }
    // The records carry the parameters and sensible figures.
    let r = PointRecord::read(&fa[5]).unwrap();
    assert_eq!(r.name, "rows16-cols8-batch16");
    assert_eq!((r.config.rows, r.config.cols, r.config.batch), (16, 8, 16));
    assert!(r.cycles > 0 && r.energy_pj.total > 0.0 && r.area_um2.total > 0.0 && r.macs > 0);
    let sum = r.energy_pj.array
        + r.energy_pj.converters
        + r.energy_pj.exponent_sram
        + r.energy_pj.mantissa_sram
        + r.energy_pj.dram
        + r.energy_pj.transpose
        + r.energy_pj.output_buffer;
    assert!((sum - r.energy_pj.total).abs() <= 1e-9 * sum);
    assert_eq!(r.stall_cycles.by_reason.values().sum::<u64>(), r.stall_cycles.total);
    assert_eq!(
        r.dram_bits.read_exp + r.dram_bits.read_mant + r.dram_bits.write + r.dram_bits.transpose + r.dram_bits.psum,
        r.dram_bits.total
    );
    // Batch 16 does twice the MACs of batch 4.
    let r4 = PointRecord::read(&fa[4]).unwrap();
    assert_eq!(r.macs, 4 * r4.macs);
}

/// Each bad sweep file gives an error with the file, line and column and what is allowed.
#[test]
fn bad_sweep_files_give_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let arch = format!("{:?}", root().join("arch/fast-32x32.ron"));
    let fp32 = format!("{:?}", root().join("arch/fp32-32x32.ron"));
    let sched = tmp.path().join("sched.ron");
    let mlp = read(&root().join("traces/mlp.ron")).replace(
        "batch: 8,",
        "batch: 8,\n    precision: schedule([(from_iteration: 0, mantissa_bits: (weights: 2, activations: 2, gradients: 4))]),",
    );
    std::fs::write(&sched, mlp).unwrap();
    let ax = |p: &str, v: &str| format!("(axes: [(param: {p:?}, values: [{v}])])");
    type Case = (String, &'static str, Option<(usize, usize)>);
    let cases: Vec<Case> = vec![
        (
            "(axes: [(param: \"array.rows\", values: [4]), ]".into(),
            "the file ends early (unexpected end of file) inside the top level",
            Some((1, 46)),
        ),
        ("(axes: [], colour: 3)".into(), "unknown field `colour`", Some((1, 12))),
        ("(axes: [(param: \"array.rows\", value: [4])])".into(), "unknown field `value`", None),
        ("(arch: \"x.ron\")".into(), "missing field `axes`", None),
        ("(axes: [])".into(), "axes: empty", Some((1, 8))),
        (ax("array.depth", "4"), "\"array.depth\" is not a sweep parameter; allowed array.rows", Some((1, 17))),
        (ax("array.rows", ""), "axes[0].values: empty", Some((1, 39))),
        (
            ax("bfp.group", "16, 65"),
            "axes[0].values[1] (bfp.group) = 65 is out of range: allowed 1..=64",
            Some((1, 43)),
        ),
        (ax("array.size", "0"), "= 0 is out of range: allowed 1..=4096", None),
        (ax("workload.batch", "-2"), "= -2 is out of range: allowed 1..=65536", None),
        (ax("precision.mantissa_bits", "17"), "allowed 1..=16", None),
        (ax("memory.dram.bytes_per_cycle", "4, 8, 4"), "repeats axes[0].values[0]", None),
        (ax("array.rows", "\"4\""), "", None),
        (
            "(axes: [(param: \"array.size\", values: [4]), (param: \"array.cols\", values: [4])])".into(),
            "axes[1].param: array.cols sets a field that axes[0] (array.size) sets too",
            None,
        ),
        (
            "(axes: [(param: \"bfp.group\", values: [4]), (param: \"bfp.group\", values: [8])])".into(),
            "already swept by axes[0]",
            None,
        ),
        ("(arch: \"nope.ron\", axes: [])".into(), "arch = \"nope.ron\" cannot be loaded", Some((1, 8))),
        ("(workload: \"nope.ron\", axes: [])".into(), "workload = \"nope.ron\" cannot be loaded", None),
        ("(options: (iterations: 0), axes: [])".into(), "options.iterations = 0 is out of range", None),
        ("(options: (fidelity: exact), axes: [])".into(), "`exact` is not a known variant; allowed fold, cycle", None),
        (
            format!("(arch: {fp32}, axes: [(param: \"bfp.group\", values: [4])])"),
            "bfp.group means nothing on arch fp32-32x32",
            None,
        ),
        (
            format!("(arch: {arch}, workload: {:?}, axes: [(param: \"precision.mantissa_bits\", values: [4])])", sched),
            "has a precision schedule",
            None,
        ),
    ];
    for (text, want, pos) in cases {
        let origin = tmp.path().join("bad.ron");
        let e = parse_sweep(&text, &origin).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, SweepError::File { .. }), "{text}: {msg}");
        assert!(msg.starts_with(&format!("{}:", origin.display())), "{text}: {msg}");
        assert!(msg.contains(want), "{text}: want {want:?} in {msg}");
        if let Some(p) = pos {
            assert_eq!(e.position(), Some(p), "{text}: {msg}");
        }
    }
    // Multi-line files: the position of the value.
    let text = "(\n    axes: [\n        (param: \"array.size\", values: [16, 32]),\n        (param: \"bfp.group\", values: [8, 128]),\n    ],\n)\n";
    let e = parse_sweep(text, Path::new("multi.ron")).unwrap_err();
    assert!(e.to_string().starts_with("multi.ron:4:42: axes[1].values[1] (bfp.group) = 128"), "{e}");
    // A missing file.
    let e = load_sweep(&tmp.path().join("missing.ron")).unwrap_err();
    assert!(e.to_string().contains("missing.ron: cannot read"), "{e}");
}

#[test]
fn bad_shards_jobs_and_folders_are_refused() {
    for (s, want) in [
        ("2/2", "allowed 0..=1"),
        ("0/0", "allowed 1..="),
        ("1", "expected I/N"),
        ("a/3", "whole numbers"),
        ("-1/3", "whole numbers"),
    ] {
        let e = s.parse::<Shard>().unwrap_err().to_string();
        assert!(e.contains(want), "{s}: {e}");
    }
    assert_eq!("3/4".parse::<Shard>().unwrap(), Shard::new(3, 4).unwrap());
    assert_eq!(csv_name(Shard::ALL), "sweep.csv");

    let tmp = tempfile::tempdir().unwrap();
    let small = load_sweep(&small_sweep(tmp.path())).unwrap();
    let out = tmp.path().join("out");
    let jobs0 = SweepOptions { out: out.clone(), shard: Shard::ALL, jobs: Some(0) };
    assert!(matches!(run_sweep(&small, &jobs0, &|_| {}), Err(SweepError::Jobs(_))));
    // Another sweep's points in the folder: refused, nothing overwritten.
    sweep_into(&small, &out, Shard::ALL, None);
    let other = load_sweep(&example()).unwrap();
    let e = plan_sweep(&other, &out, Shard::ALL).unwrap_err();
    assert!(matches!(e, SweepError::Foreign { .. }), "{e}");
    assert!(e.to_string().contains("another sweep"), "{e}");
    // The output folder is a file.
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    assert!(plan_sweep(&small, &file, Shard::ALL).unwrap_err().to_string().contains("cannot create folder"));
}

#[test]
fn merge_refuses_conflicts_and_mixtures() {
    let tmp = tempfile::tempdir().unwrap();
    let small = load_sweep(&small_sweep(tmp.path())).unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    sweep_into(&small, &a, Shard::ALL, None);
    sweep_into(&small, &b, Shard::new(0, 3).unwrap(), None);
    // Same results twice: fine.
    merge(&[a.clone(), b.clone()], Some(&tmp.path().join("m"))).unwrap();
    // A different result for point 3: refused.
    let p = point_files(&b)[1].clone();
    let edited = read(&p).replacen("\"cycles\": ", "\"cycles\": 1", 1);
    std::fs::write(&p, edited).unwrap();
    let e = merge(&[a.clone(), b.clone()], None).unwrap_err().to_string();
    assert!(e.contains("point 3 has two different results"), "{e}");
    // Points of another sweep: refused.
    let c = tmp.path().join("c");
    sweep_into(&load_sweep(&example()).unwrap(), &c, Shard::new(0, 9).unwrap(), None);
    let e = merge(&[a.clone(), c], None).unwrap_err().to_string();
    assert!(e.contains("different sweeps"), "{e}");
    // Not a sweep folder, an empty one, a missing one, a broken point file.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(merge(std::slice::from_ref(&empty), None).unwrap_err().to_string().contains("no points/ folder"));
    std::fs::create_dir_all(points_dir(&empty)).unwrap();
    assert!(merge(std::slice::from_ref(&empty), None).unwrap_err().to_string().contains("no point files"));
    assert!(merge(&[tmp.path().join("nowhere")], None).is_err());
    std::fs::write(points_dir(&empty).join("0000-x.json"), "{\"schema_version\": 1}").unwrap();
    let e = merge(&[empty], None).unwrap_err().to_string();
    assert!(e.contains("0000-x.json: not a sweep point file"), "{e}");
    assert!(!tmp.path().join("empty").join(MERGED_CSV).exists());
}

/// A point file's `points` and `index` are checked before anything is sized by them: a file
/// claiming 10^12 or 2^64-1 points is refused in one line, not allocated for.
#[test]
fn merge_refuses_point_counts_beyond_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let small = load_sweep(&small_sweep(tmp.path())).unwrap();
    let a = tmp.path().join("a");
    sweep_into(&small, &a, Shard::ALL, None);
    let p = point_files(&a)[0].clone();
    let text = read(&p);
    let points = text.lines().find(|l| l.trim_start().starts_with("\"points\":")).unwrap().to_string();
    for (field, value) in [("points", "1000000000000"), ("points", "18446744073709551615"), ("points", "0")] {
        std::fs::write(&p, text.replacen(&points, &format!("  \"{field}\": {value},"), 1)).unwrap();
        let e = merge(std::slice::from_ref(&a), Some(&tmp.path().join("m"))).unwrap_err().to_string();
        assert!(e.contains("points = ") && e.contains("allowed 1..=1000000"), "{e}");
        assert!(e.contains("not a sweep point file") && !e.contains('\n'), "{e}");
        assert!(!tmp.path().join("m").exists());
    }
    let index = text.lines().find(|l| l.trim_start().starts_with("\"index\":")).unwrap().to_string();
    std::fs::write(&p, text.replacen(&index, "  \"index\": 18446744073709551615,", 1)).unwrap();
    let e = merge(std::slice::from_ref(&a), None).unwrap_err().to_string();
    assert!(e.contains("index = 18446744073709551615 is out of range"), "{e}");
}

/// The ranges the sweep checks are the arch and workload files' own.
#[test]
fn parameter_ranges_match_the_file_validators() {
    let origin = root().join("arch/fast-32x32.ron");
    let arch_ok = |from: &str, to: String| {
        assert!(DEFAULT_ARCH_RON.contains(from), "{from}");
        parse_arch(&DEFAULT_ARCH_RON.replacen(from, &to, 1), &origin).is_ok()
    };
    let fields: [(Param, &str, &str); 11] = [
        (Param::ArrayRows, "rows: 32", "rows: "),
        (Param::ArrayCols, "cols: 32", "cols: "),
        (Param::BfpGroup, "group: 16", "group: "),
        (Param::BfpExpBits, "exp_bits: 8", "exp_bits: "),
        (Param::WeightsMantissaBits, "weights: (mantissa_bits: 4", "weights: (mantissa_bits: "),
        (Param::ActivationsMantissaBits, "activations: (mantissa_bits: 4", "activations: (mantissa_bits: "),
        (Param::GradientsMantissaBits, "gradients: (mantissa_bits: 4", "gradients: (mantissa_bits: "),
        (Param::ExponentSramKib, "exponent_sram: (capacity_kib: 16", "exponent_sram: (capacity_kib: "),
        (Param::MantissaSramKib, "mantissa_sram: (capacity_kib: 512", "mantissa_sram: (capacity_kib: "),
        (Param::DramBytesPerCycle, "bytes_per_cycle: 32", "bytes_per_cycle: "),
        (Param::ConverterCount, "count: 1,", "count: "),
    ];
    for (param, from, prefix) in fields {
        let (lo, hi) = param.range();
        let with = |v: u64| {
            let tail = if from.ends_with(',') { "," } else { "" };
            format!("{prefix}{v}{tail}")
        };
        assert!(arch_ok(from, with(lo)) && arch_ok(from, with(hi)), "{param}");
        assert!(!arch_ok(from, with(lo - 1)) && !arch_ok(from, with(hi + 1)), "{param}");
    }
    assert_eq!(Param::ArraySize.range(), Param::ArrayRows.range());
    assert_eq!(Param::MantissaBits.range(), Param::GradientsMantissaBits.range());
    let mlp = read(&root().join("traces/mlp.ron"));
    let wl_ok =
        |v: u64| parse_workload(&mlp.replacen("batch: 8", &format!("batch: {v}"), 1), Path::new("m.ron")).is_ok();
    let (lo, hi) = Param::Batch.range();
    assert!(wl_ok(lo) && wl_ok(hi) && !wl_ok(lo - 1) && !wl_ok(hi + 1));
    assert_eq!(Param::ALL.len(), 14);
}

#[test]
fn binary_sweep_shards_and_merge_equal_the_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = example();
    let (whole, shared) = (tmp.path().join("whole"), tmp.path().join("shared"));
    let w = whole.to_str().unwrap();
    let o = run_bin(&["sweep", ex.to_str().unwrap(), "-o", w]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("9 points of 9: 9 computed, 0 already done"), "{stdout}");
    assert!(stdout.contains("size64-m8"), "{stdout}");
    for shard in ["0/2", "1/2"] {
        let o = run_bin(&[
            "sweep",
            ex.to_str().unwrap(),
            "-o",
            shared.to_str().unwrap(),
            "--shard",
            shard,
            "-j",
            "1",
            "-q",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stdout.is_empty());
    }
    assert!(shared.join("sweep-shard-0-of-2.csv").exists() && shared.join("sweep-shard-1-of-2.csv").exists());
    let o = run_bin(&["merge", shared.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("9 of 9 points"));
    assert_eq!(read(&shared.join(MERGED_CSV)), read(&whole.join("sweep.csv")));
    assert!(shared.join("pareto.svg").exists() && shared.join("pareto.png").exists());
    // A second run of the whole sweep skips everything.
    let o = run_bin(&["sweep", ex.to_str().unwrap(), "-o", w]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 computed, 9 already done"));
}

#[test]
fn binary_killed_sweep_restarts_without_redoing_done_points() {
    let tmp = tempfile::tempdir().unwrap();
    // Eight points of ~0.2 s each on one thread.
    let text = format!(
        "(workload: {:?}, options: (iterations: 30), axes: [(param: \"memory.dram.bytes_per_cycle\", values: [4, 8, 16, 32, 64, 128, 256, 512])])",
        root().join("traces/resnet18-cifar.ron")
    );
    let file = tmp.path().join("slow.ron");
    std::fs::write(&file, text).unwrap();
    let out = tmp.path().join("out");
    let args = ["sweep", file.to_str().unwrap(), "-o", out.to_str().unwrap(), "-j", "1", "-q"];
    let mut child = bin().args(args).spawn().unwrap();
    let t0 = Instant::now();
    loop {
        let n = std::fs::read_dir(points_dir(&out)).map(|d| d.filter_map(Result::ok).count()).unwrap_or(0);
        if n >= 2 || t0.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    let before = point_files(&out);
    // Every point file left behind is whole.
    for f in &before {
        PointRecord::read(f).unwrap();
    }
    assert!(!before.is_empty());
    let o = run_bin(&args[..6]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    if status.success() {
        // The machine was fast enough to finish before the kill: nothing left to do.
        assert!(stdout.contains("0 computed, 8 already done"), "{stdout}");
    } else {
        let want = format!("{} computed, {} already done", 8 - before.len(), before.len());
        assert!(stdout.contains(&want), "want {want}: {stdout}");
    }
    assert_eq!(point_files(&out).len(), 8);
    // Same results as an uninterrupted run.
    let s = load_sweep(&file).unwrap();
    let fresh = tmp.path().join("fresh");
    sweep_into(&s, &fresh, Shard::ALL, None);
    assert_eq!(read(&out.join("sweep.csv")), read(&fresh.join("sweep.csv")));
}

#[test]
fn binary_bad_input_fails_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.ron");
    std::fs::write(&bad, "(\n  axes: [(param: \"bfp.group\", values: [0])],\n)\n").unwrap();
    let out = tmp.path().join("out");
    let (b, o) = (bad.to_str().unwrap(), out.to_str().unwrap());
    let ex = example();
    let e = ex.to_str().unwrap();
    let cases: [(Vec<&str>, i32, String); 6] = [
        (vec!["sweep", b, "-o", o], 1, format!("{b}:2:40: axes[0].values[0] (bfp.group) = 0 is out of range")),
        (vec!["sweep", e, "-o", o, "--shard", "2/2"], 2, "allowed 0..=1".into()),
        (vec!["sweep", e, "-o", o, "--shard", "x"], 2, "expected I/N".into()),
        (vec!["sweep", e, "-o", o, "--jobs", "0"], 2, "--jobs".into()),
        (vec!["merge", tmp.path().to_str().unwrap()], 1, "no points/ folder".into()),
        (vec!["merge"], 2, "DIR".into()),
    ];
    for (args, code, want) in cases {
        let r = run_bin(&args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(&want), "{args:?}: want {want:?} in {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} left output behind");
    }
}

/// A sweep of 10^6 points says its size and is refused (exit 2, no folder) unless --shard or
/// --yes; a small one prints its size and runs.
#[test]
fn a_huge_sweep_needs_a_shard_or_a_confirmation() {
    let tmp = tempfile::tempdir().unwrap();
    let values: Vec<String> = (1..=1000).map(|v| v.to_string()).collect();
    let values = values.join(", ");
    let text = format!(
        "(arch: {:?}, workload: {:?}, axes: [(param: \"workload.batch\", values: [{values}]), \
         (param: \"array.rows\", values: [{values}])])",
        root().join("arch/fast-32x32.ron"),
        root().join("traces/mlp.ron"),
    );
    let file = tmp.path().join("huge.ron");
    std::fs::write(&file, text).unwrap();
    let out = tmp.path().join("out");
    let o = bin().args(["sweep", "-q", "-o"]).arg(&out).arg(&file).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1000000 points; at the base point's") && err.contains("MB of point files"), "{err}");
    let last = err.trim_end().lines().last().unwrap();
    assert!(last.starts_with("error:") && last.contains("more than 10000") && last.contains("--yes"), "{err}");
    assert!(!out.exists());
}
