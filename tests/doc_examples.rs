//! The README's and docs' examples, run as a user would and their shown output checked, so
//! that what the documentation shows is what fastbfp does.
//!
//! Every fenced block whose info string starts with `console` is an example: lines starting
//! with `$ ` are commands (a trailing `\` continues one on the next line), the lines after a
//! command up to the next one are its expected output (stdout and stderr together). A block
//! runs in a fresh folder that holds the repository's `arch/`, `traces/`, `tests/`, `docs/` and
//! `scripts/`, its commands one after another (so a later one sees an earlier one's files; a
//! `cd DIR` step changes the folder of the steps after it), with `fastbfp` on the PATH;
//! `cargo run --release --` and `cargo run --release` stand for it.
//!
//! Matching: `...` alone on a line stands for any number of lines, `[..]` within a line for
//! any text; everything else must be equal (trailing spaces aside). Machine-dependent figures are
//! not compared: wall-clock times (`in 0.32 s`, `185 µs to read`) are masked on both sides
//! before matching. A command shown without output has only its exit status checked. A command
//! whose shown output has an `error:` line must fail (exit 1 or 2); every other must succeed.
//!
//! `console slow: REASON` marks an example that takes minutes: it is listed with its reason
//! and run only with `FASTBFP_DOC_SLOW=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use rayon::prelude::*;

/// The Markdown files whose examples are checked.
const DOCS: &[&str] = &[
    "README.md",
    "docs/arch.md",
    "docs/cost.md",
    "docs/golden.md",
    "docs/mapping.md",
    "docs/scalesim.md",
    "docs/sweep.md",
    "docs/timing.md",
    "docs/training.md",
    "docs/workloads.md",
];

/// Repository folders an example may read.
const LINKED: &[&str] = &["arch", "traces", "tests", "docs", "scripts"];

#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
}

#[derive(Debug)]
struct Example {
    file: String,
    line: usize,
    slow: Option<String>,
    steps: Vec<Step>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `console` blocks of one Markdown text.
fn examples(file: &str, text: &str) -> Result<Vec<Example>, String> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```console") else { continue };
        let slow = info.trim().strip_prefix("slow:").map(|r| r.trim().to_string());
        let mut ex = Example { file: file.to_string(), line: i + 1, slow, steps: Vec::new() };
        let mut closed = false;
        while let Some((j, l)) = lines.next() {
            if l.starts_with("```") {
                closed = true;
                break;
            }
            if let Some(cmd) = l.strip_prefix("$ ") {
                let mut command = cmd.to_string();
                while command.ends_with('\\') {
                    command.pop();
                    let Some((_, more)) = lines.next() else {
                        return Err(format!("{file}:{}: a command continues past the end", j + 1));
                    };
                    command = format!("{} {}", command.trim_end(), more.trim_start());
                }
                ex.steps.push(Step { line: j + 1, command, expected: Vec::new() });
            } else {
                match ex.steps.last_mut() {
                    Some(s) => s.expected.push(l.trim_end().to_string()),
                    None => return Err(format!("{file}:{}: a console block must start with a `$ ` command", j + 1)),
                }
            }
        }
        if !closed {
            return Err(format!("{file}:{}: the console block is not closed", i + 1));
        }
        for s in &mut ex.steps {
            while s.expected.last().is_some_and(|l| l.is_empty()) {
                s.expected.pop();
            }
        }
        out.push(ex);
    }
    Ok(out)
}

/// Masks the figures that depend on the machine: wall-clock times.
fn mask(line: &str) -> String {
    let mut s = String::with_capacity(line.len());
    let mut rest = line;
    // "in 0.32 s" / "in 12 s" (wall time of a command)
    while let Some(p) = rest.find("in ") {
        let (head, tail) = rest.split_at(p + 3);
        s.push_str(head);
        let n = tail.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        if n > 0 && tail[n..].starts_with(" s") && !tail[n + 2..].starts_with(|c: char| c.is_alphanumeric()) {
            s.push_str("[time]");
            rest = &tail[n..];
        } else {
            rest = tail;
        }
    }
    s.push_str(rest);
    // "(185 µs to read" (SCALE-Sim's own timing line)
    if let Some(p) = s.find(" µs to read") {
        let start = s[..p].rfind(|c: char| !c.is_ascii_digit()).map_or(0, |q| q + 1);
        s.replace_range(start..p, "[time]");
    }
    s
}

/// Whether one actual line matches an expected line with `[..]` wildcards.
fn line_matches(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split("[..]").collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) || actual.len() < first.len() + last.len() || !actual.ends_with(last) {
        return false;
    }
    let mut at = first.len();
    let end = actual.len() - last.len();
    for mid in &parts[1..parts.len() - 1] {
        match actual[at..end].find(mid) {
            Some(p) => at += p + mid.len(),
            None => return false,
        }
    }
    true
}

/// Whether `actual` matches `expected`, `...` lines standing for any run of lines.
fn lines_match(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e.trim() == "..." => (0..=actual.len()).any(|k| lines_match(rest, &actual[k..])),
        Some((e, rest)) => actual.split_first().is_some_and(|(a, more)| line_matches(e, a) && lines_match(rest, more)),
    }
}

/// Runs one example; `Err` says what differed.
fn run(ex: &Example, bin_dir: &Path) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    for d in LINKED {
        std::os::unix::fs::symlink(root().join(d), dir.path().join(d)).map_err(|e| e.to_string())?;
    }
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut cwd = dir.path().to_path_buf();
    for step in &ex.steps {
        // `cd DIR` changes the folder of the commands after it, as in the shell session shown.
        if let Some(d) = step.command.strip_prefix("cd ") {
            cwd = cwd.join(d.trim());
            if !cwd.is_dir() {
                return Err(format!("{}:{}: `cd {d}`: no such folder", ex.file, step.line));
            }
            continue;
        }
        let cmd = step.command.replacen("cargo run --release -- ", "fastbfp ", 1).replacen(
            "cargo run --release",
            "fastbfp",
            1,
        );
        let o = Command::new("bash")
            .args(["-c", &format!("exec 2>&1; {cmd}")])
            .current_dir(&cwd)
            .env("PATH", &path)
            .env_remove("CI")
            .output()
            .map_err(|e| format!("{}:{}: cannot start bash: {e}", ex.file, step.line))?;
        let text = String::from_utf8_lossy(&o.stdout);
        let actual: Vec<String> = text.lines().map(|l| mask(l.trim_end())).collect();
        let wants_error = step.expected.iter().any(|l| l.starts_with("error:"));
        let code = o.status.code();
        let status_ok = if wants_error { matches!(code, Some(1) | Some(2)) } else { code == Some(0) };
        let expected: Vec<String> = step.expected.iter().map(|l| mask(l)).collect();
        let output_ok = expected.is_empty() || lines_match(&expected, &actual);
        if !status_ok || !output_ok {
            return Err(format!(
                "{}:{}: `{}` exited {code:?}{}\n--- shown ---\n{}\n--- got ---\n{}",
                ex.file,
                step.line,
                step.command,
                if wants_error { " (an error was shown)" } else { "" },
                expected.join("\n"),
                actual.join("\n")
            ));
        }
    }
    Ok(())
}

#[test]
fn every_console_example_in_the_docs_runs_and_shows_what_it_prints() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_fastbfp"));
    let bin_dir = bin.parent().unwrap().to_path_buf();
    let mut all = Vec::new();
    for f in DOCS {
        let text = std::fs::read_to_string(root().join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        all.extend(examples(f, &text).unwrap_or_else(|e| panic!("{e}")));
    }
    assert!(all.len() >= 10, "only {} console examples found: the parser lost them", all.len());
    let run_slow = std::env::var("FASTBFP_DOC_SLOW").is_ok_and(|v| v == "1");
    let (slow, fast): (Vec<&Example>, Vec<&Example>) = all.iter().partition(|e| e.slow.is_some() && !run_slow);
    for e in &slow {
        println!("listed, not run: {}:{} ({}; FASTBFP_DOC_SLOW=1 runs it)", e.file, e.line, e.slow.as_deref().unwrap());
    }
    let failures: Vec<String> = fast.par_iter().filter_map(|e| run(e, &bin_dir).err()).collect();
    let steps: usize = fast.iter().map(|e| e.steps.len()).sum();
    println!("{} examples ({steps} commands) run, {} listed as slow", fast.len(), slow.len());
    assert!(failures.is_empty(), "{} of {} examples differ:\n\n{}", failures.len(), fast.len(), failures.join("\n\n"));
}

#[test]
fn the_matcher_catches_differences() {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(lines_match(&v(&["a", "...", "z"]), &v(&["a", "b", "c", "z"])));
    assert!(lines_match(&v(&["a", "...", "z"]), &v(&["a", "z"])));
    assert!(!lines_match(&v(&["a", "...", "z"]), &v(&["a", "b"])));
    assert!(!lines_match(&v(&["a", "b"]), &v(&["a", "b", "c"])));
    assert!(line_matches("cycles [..] total", "cycles 123 total"));
    assert!(!line_matches("cycles [..] total", "cycles 123 totals"));
    assert!(!line_matches("cycles 124", "cycles 123"));
    assert_eq!(mask("  wrote 3 files into out in 10.35 s"), "  wrote 3 files into out in [time] s");
    assert_eq!(mask("in 3 steps"), "in 3 steps");
    assert_eq!(mask("wrote x (185 µs to read, parse)"), "wrote x ([time] µs to read, parse)");
    let md = "text\n```console\n$ fastbfp a \\\n    --b\nout 1\n\n$ fastbfp c\n```\n```console slow: 2 min\n$ x\n```\n";
    let ex = examples("t.md", md).unwrap();
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].steps[0].command, "fastbfp a --b");
    assert_eq!(ex[0].steps[0].expected, ["out 1"]);
    assert_eq!(ex[0].steps[1].line, 7);
    assert_eq!(ex[1].slow.as_deref(), Some("2 min"));
    assert!(examples("t.md", "```console\noutput first\n```\n").is_err());
    assert!(examples("t.md", "```console\n$ a\n").is_err());
}

/// The README's synopsis lines (in `sh` blocks) that start with `fastbfp CMD`, continuation
/// lines joined.
fn synopses(readme: &str, cmd: &str) -> String {
    let mut out = String::new();
    let mut in_sh = false;
    let mut current: Option<String> = None;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        if let Some(c) = current.as_mut() {
            c.push(' ');
            c.push_str(line.trim());
        } else if line.starts_with(&format!("fastbfp {cmd} ")) {
            current = Some(line.to_string());
        }
        if current.as_ref().is_some_and(|c| !c.ends_with('\\')) {
            out.push_str(&current.take().unwrap());
            out.push('\n');
        }
    }
    out
}

/// The options `fastbfp CMD --help` lists, `--help` aside: each long name with its short
/// form if it has one.
fn options(cmd: &str) -> Vec<(Option<String>, String)> {
    let o = Command::new(env!("CARGO_BIN_EXE_fastbfp")).args(cmd.split(' ')).arg("--help").output().unwrap();
    assert!(o.status.success(), "{cmd} --help failed");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.lines()
        .filter_map(|l| {
            let t = l.trim_start();
            let (short, t) = match t.strip_prefix('-') {
                Some(r) if !r.starts_with('-') => (Some(format!("-{}", r.get(..1)?)), t.get(4..)?),
                _ => (None, t),
            };
            let name: String =
                t.strip_prefix("--")?.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            (!name.is_empty() && name != "help").then(|| (short, format!("--{name}")))
        })
        .collect()
}

/// Whether `flag` stands in `text` as a whole flag.
fn mentions(text: &str, flag: &str) -> bool {
    text.match_indices(flag).any(|(i, _)| {
        let before_ok = i == 0 || text[..i].ends_with(|c: char| " [|'\n".contains(c));
        before_ok && !text[i + flag.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[test]
fn every_option_of_every_command_is_in_its_readme_synopsis() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut missing = Vec::new();
    for cmd in [
        "run",
        "train",
        "compare",
        "sweep",
        "merge",
        "quantize",
        "gemm",
        "lfsr",
        "scalesim",
        "golden export",
        "golden check",
    ] {
        let syn = synopses(&readme, cmd);
        assert!(!syn.is_empty(), "README has no `fastbfp {cmd} ...` synopsis in an sh block");
        let opts = options(cmd);
        assert!(!opts.is_empty(), "{cmd} --help lists no options: the parser lost them");
        for (short, long) in opts {
            if !mentions(&syn, &long) && !short.as_deref().is_some_and(|s| mentions(&syn, s)) {
                missing.push(format!("fastbfp {cmd} {long}"));
            }
        }
    }
    assert!(missing.is_empty(), "options missing from the README's synopses: {}", missing.join(", "));
}

#[test]
fn the_published_training_means_recompute_from_the_per_seed_figures() {
    // docs/train-results.csv (the README's table) holds means and std; every run's own figures
    // are in docs/train-results-per-seed.csv: the one must follow from the other.
    let read = |f: &str| {
        let text = std::fs::read_to_string(root().join(f)).unwrap();
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        let head = rd.headers().unwrap().clone();
        let rows: Vec<std::collections::HashMap<String, String>> = rd
            .records()
            .map(|r| head.iter().zip(r.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect())
            .collect();
        rows
    };
    let means = read("docs/train-results.csv");
    let runs = read("docs/train-results-per-seed.csv");
    assert!(means.len() >= 20 && runs.len() >= 3 * means.len(), "{} means, {} runs", means.len(), runs.len());
    let num = |s: &str| s.parse::<f64>().unwrap();
    for m in &means {
        let own: Vec<_> = runs.iter().filter(|r| r["network"] == m["network"] && r["policy"] == m["policy"]).collect();
        assert_eq!(own.len().to_string(), m["seeds"], "{} {}", m["network"], m["policy"]);
        let acc: Vec<f64> = own.iter().map(|r| num(&r["final_accuracy"])).collect();
        let mean = acc.iter().sum::<f64>() / acc.len() as f64;
        assert!((mean - num(&m["final_acc_mean"])).abs() < 1e-9, "{} {}: mean {mean}", m["network"], m["policy"]);
        let sd = (acc.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (acc.len() - 1) as f64).sqrt();
        assert!((sd - num(&m["final_acc_std"])).abs() < 1e-9, "{} {}: std {sd}", m["network"], m["policy"]);
        let reached: Vec<_> = own.iter().filter(|r| r["reached"] == "1").collect();
        assert_eq!(reached.len().to_string(), m["reached"]);
        if !reached.is_empty() {
            let c = reached.iter().map(|r| num(&r["cycles_to_target"])).sum::<f64>() / reached.len() as f64;
            assert!((c - num(&m["cycles_to_target_mean"])).abs() <= 1e-6 * c, "{} {}", m["network"], m["policy"]);
        }
    }
}
