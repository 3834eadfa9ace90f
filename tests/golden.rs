//! Golden vectors: every bundled case exported, its per-cycle port files read back the way a
//! testbench reads them (an independent parser of docs/golden.md's layout) and checked;
//! final results against the reference loop; a flipped bit, a dropped line and a shifted
//! cycle each reported precisely; exports byte-identical; the VCD read back; the CLI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fastbfp::arch::load_arch;
use fastbfp::gemm::reference_gemm;
use fastbfp::golden::{case_operands, check_dump, export, load_case, parse_dump, write_gemm_vcd, Golden};

const CASES: [&str; 4] = ["forward-multifold", "backward-data", "backward-weight", "forward-wide"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden(case: &str) -> Golden {
    let arch = load_arch(&root().join("arch/fast-4x4.ron")).unwrap();
    let case = load_case(&root().join(format!("traces/golden/{case}.ron"))).unwrap();
    export(&arch, &case).unwrap()
}

fn file<'a>(g: &'a Golden, name: &str) -> &'a str {
    let bytes = &g.files.iter().find(|(p, _)| p == Path::new(name)).unwrap_or_else(|| panic!("no {name}")).1;
    std::str::from_utf8(bytes).unwrap()
}

/// A hex line as bits, least significant first.
fn bits(line: &str) -> Vec<bool> {
    let mut out = Vec::with_capacity(line.len() * 4);
    for ch in line.trim().chars().rev() {
        let v = ch.to_digit(16).expect("hex digit");
        out.extend((0..4).map(|i| (v >> i) & 1 == 1));
    }
    out
}

fn hex(bits: &[bool]) -> String {
    let digits = bits.len().div_ceil(4);
    (0..digits)
        .rev()
        .map(|d| {
            let v = (0..4).filter(|i| bits.get(d * 4 + i).copied().unwrap_or(false)).map(|i| 1 << i).sum::<u32>();
            char::from_digit(v, 16).unwrap()
        })
        .collect()
}

/// The dump a correct RTL writes, built from the exported per-cycle output files and the
/// converter's output file alone.
fn dump_from_files(g: &Golden) -> String {
    let m = &g.manifest;
    let (r, c) = (m.array[0], m.array[1]);
    let mut out = String::from("# cycle row col port hex\n");
    for (name, port, lanes) in [("Y0_out.hex", "Y0", c), ("Y1_out.hex", "Y1", r)] {
        for (t, line) in file(g, name).lines().enumerate() {
            let b = bits(line);
            assert_eq!(b.len(), m.files[name].hex_digits * 4, "{name} line {t}: width");
            for l in 0..lanes {
                let lane = &b[l * 33..l * 33 + 33];
                if lane[32] {
                    let (row, col) = if port == "Y0" { (r - 1, l) } else { (l, c - 1) };
                    out += &format!("{t} {row} {col} {port} {}\n", hex(&lane[..32]));
                }
            }
        }
    }
    let g16 = m.group;
    let mant_field = 3 * g16 * m.converter_max_planes as usize;
    for (q, line) in file(g, "conv_out.hex").lines().enumerate() {
        let b = bits(line);
        let job = m.jobs.iter().find(|j| q >= j.first_line && q < j.first_line + j.groups).unwrap();
        let planes = 3 * g16 * job.chunk_planes as usize;
        let mut group: Vec<bool> = b[..planes].to_vec();
        group.extend_from_slice(&b[mant_field..mant_field + m.exp_bits as usize]);
        let cycle = q as u64 + m.converter_latency_cycles;
        out += &format!("{cycle} {} {} CV {}\n", job.job, q - job.first_line, hex(&group));
    }
    out
}

#[test]
fn every_case_checks_against_its_own_port_files() {
    for case in CASES {
        let g = golden(case);
        let text = dump_from_files(&g);
        let dump = parse_dump(&text, Path::new("dump")).unwrap();
        assert_eq!(dump.len(), g.manifest.expected.len(), "{case}: one dump line per expected value");
        let rep = check_dump(&g.manifest.expected, &dump);
        assert!(rep.passed(), "{case}: {}", rep.summary());
        // Every per-cycle file has one line per cycle plus the idle one.
        for (name, info) in &g.manifest.files {
            if !name.starts_with("conv") {
                assert_eq!(file(&g, name).lines().count() as u64, g.manifest.lines, "{case}: {name}");
                assert_eq!(info.lines, g.manifest.lines);
            }
        }
    }
}

#[test]
fn last_value_of_every_output_is_the_reference_loop_result() {
    for case in CASES {
        let g = golden(case);
        let arch = load_arch(&root().join("arch/fast-4x4.ron")).unwrap();
        let ops = case_operands(&arch, &load_case(&root().join(format!("traces/golden/{case}.ron"))).unwrap()).unwrap();
        let want = reference_gemm(&ops);
        let [rows, cols] = g.manifest.output_shape;
        let mut last: Vec<Option<(u64, String)>> = vec![None; rows * cols];
        for e in g.manifest.expected.iter().filter(|e| e.port != "CV") {
            let [r, c] = e.output.expect("Y values name their output element");
            let slot = &mut last[r * cols + c];
            if slot.as_ref().is_none_or(|(t, _)| e.cycle > *t) {
                *slot = Some((e.cycle, e.hex.clone()));
            }
        }
        for (i, w) in want.iter().enumerate() {
            let (_, h) = last[i].as_ref().unwrap_or_else(|| panic!("{case}: output {i} never leaves the array"));
            assert_eq!(h, &format!("{:08x}", w.to_bits()), "{case}: output {i}");
            assert_eq!(g.out[i].to_bits(), w.to_bits());
        }
        // Several folds along the reduction: some outputs leave more than once (partial sums).
        if case == "forward-multifold" || case == "backward-data" {
            let ys = g.manifest.expected.iter().filter(|e| e.port != "CV").count();
            assert_eq!(ys, 2 * rows * cols, "{case}: two folds along the reduction");
        }
    }
}

#[test]
fn a_flipped_bit_a_dropped_line_and_a_shifted_cycle_are_each_named() {
    let g = golden("backward-weight");
    let good = dump_from_files(&g);
    let lines: Vec<&str> = good.lines().collect();
    // A Y1 value whose row has nothing expected in the next cycle (the end of a drain).
    let free_next = |l: &&str| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() == 5
            && f[3] == "Y1"
            && !g
                .manifest
                .expected
                .iter()
                .any(|e| e.port == "Y1" && e.cycle == f[0].parse::<u64>().unwrap() + 1 && e.row.to_string() == f[1])
    };
    let victim = lines.iter().position(free_next).unwrap();
    let f: Vec<&str> = lines[victim].split_whitespace().collect();
    let (cycle, row, col) = (f[0], f[1], f[2]);

    // Flip the lowest bit of one value.
    let v = u32::from_str_radix(f[4], 16).unwrap() ^ 1;
    let mut flipped = lines.clone();
    let new = format!("{cycle} {row} {col} Y1 {v:08x}");
    flipped[victim] = &new;
    let rep = check_dump(&g.manifest.expected, &parse_dump(&flipped.join("\n"), Path::new("d")).unwrap());
    assert_eq!((rep.mismatches.len(), rep.missing.len(), rep.unexpected.len()), (1, 0, 0));
    let s = rep.summary();
    assert!(
        s.contains(&format!(
            "first mismatch: cycle {cycle}, cell ({row}, {col}), port Y1: expected {}, got {v:x}",
            f[4]
        )),
        "{s}"
    );

    // Drop it.
    let mut dropped = lines.clone();
    dropped.remove(victim);
    let rep = check_dump(&g.manifest.expected, &parse_dump(&dropped.join("\n"), Path::new("d")).unwrap());
    assert_eq!((rep.mismatches.len(), rep.missing.len(), rep.unexpected.len()), (0, 1, 0));
    assert!(
        rep.summary().contains(&format!("first missing: cycle {cycle}, cell ({row}, {col}), port Y1")),
        "{}",
        rep.summary()
    );

    // One cycle late.
    let mut shifted = lines.clone();
    let late = format!("{} {row} {col} Y1 {}", cycle.parse::<u64>().unwrap() + 1, f[4]);
    shifted[victim] = &late;
    let rep = check_dump(&g.manifest.expected, &parse_dump(&shifted.join("\n"), Path::new("d")).unwrap());
    assert_eq!((rep.mismatches.len(), rep.missing.len(), rep.unexpected.len()), (0, 1, 1));
    assert!(rep.summary().contains("(1 cycle late"), "{}", rep.summary());
}

#[test]
fn exports_are_byte_identical_and_depend_on_the_seed() {
    let arch = load_arch(&root().join("arch/fast-4x4.ron")).unwrap();
    let case = load_case(&root().join("traces/golden/forward-multifold.ron")).unwrap();
    let (a, b) = (export(&arch, &case).unwrap(), export(&arch, &case).unwrap());
    assert_eq!(a.files.len(), b.files.len());
    for ((pa, ba), (pb, bb)) in a.files.iter().zip(&b.files) {
        assert_eq!(pa, pb);
        assert!(ba == bb, "{} differs between two exports", pa.display());
    }
    // Another LFSR seed changes the stochastically rounded operand (A), not the nearest one.
    let mut other = case.clone();
    other.seed = Some(0x0BAD);
    let c = export(&arch, &other).unwrap();
    let get = |g: &Golden, n: &str| g.files.iter().find(|(p, _)| p == Path::new(n)).unwrap().1.clone();
    assert_ne!(get(&a, "mem/Y/mantissa.hex"), get(&c, "mem/Y/mantissa.hex"));
    assert_eq!(get(&a, "mem/X/mantissa.hex"), get(&c, "mem/X/mantissa.hex"));
}

/// Values of the named top-level VCD variables at every timestamp where one changes.
fn vcd_trace(bytes: &[u8], names: &[&str]) -> Vec<(u64, Vec<String>)> {
    let mut p = vcd::Parser::new(std::io::BufReader::new(bytes));
    let header = p.parse_header().unwrap();
    let ids: Vec<vcd::IdCode> = names
        .iter()
        .map(|n| header.find_var(&["fastbfp_array", n]).unwrap_or_else(|| panic!("no var {n}")).code)
        .collect();
    let mut cur = vec![String::new(); names.len()];
    let mut out = Vec::new();
    let mut t = 0;
    for cmd in p {
        match cmd.unwrap() {
            vcd::Command::Timestamp(ts) => {
                out.push((t, cur.clone()));
                t = ts;
            }
            vcd::Command::ChangeScalar(id, v) => {
                if let Some(i) = ids.iter().position(|x| *x == id) {
                    cur[i] = v.to_string();
                }
            }
            vcd::Command::ChangeVector(id, v) => {
                if let Some(i) = ids.iter().position(|x| *x == id) {
                    cur[i] = v.iter().map(|b| b.to_string()).collect();
                }
            }
            _ => {}
        }
    }
    out.push((t, cur));
    out
}

#[test]
fn vcd_reads_back_with_the_known_transitions() {
    let arch = load_arch(&root().join("arch/fast-4x4.ron")).unwrap();
    let case = load_case(&root().join("traces/golden/forward-multifold.ron")).unwrap();
    let g = export(&arch, &case).unwrap();
    let ops = case_operands(&arch, &case).unwrap();
    let bytes = write_gemm_vcd(&ops, 4, 4, "test").unwrap();
    let first = g.manifest.expected.iter().find(|e| e.port == "Y1").unwrap();
    let r = first.row;
    let names = ["ctl_mode".to_string(), format!("y1_out_valid_r{r}"), format!("y1_out_r{r}")];
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let tr = vcd_trace(&bytes, &names);
    let at = |time: u64| &tr.iter().rev().find(|(t, _)| *t <= time).unwrap().1;
    // Fold 0 loads first (mode 1), then streams (mode 2) from its load length on.
    let load = g.manifest.folds[0].load_cycles;
    assert_eq!(at(0)[0], "01");
    assert_eq!(at(10 * (load - 1))[0], "01");
    assert_eq!(at(10 * load)[0], "10");
    // The first result is on Y1_out of its row for exactly one cycle, with its value.
    let bin = format!("{:032b}", u32::from_str_radix(&first.hex, 16).unwrap());
    assert_eq!(at(10 * first.cycle - 10)[1], "0");
    assert_eq!(at(10 * first.cycle)[1], "1");
    assert_eq!(at(10 * first.cycle)[2], bin);
    assert_eq!(at(10 * first.cycle + 10)[1], "0");
    // One scope per cell.
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.matches("$scope module cell_r").count(), 16);
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fastbfp"))
}

fn run(args: &[&str]) -> Output {
    bin().current_dir(root()).args(args).output().expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn cli_export_check_and_bad_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("g");
    let vcd = tmp.path().join("w.vcd");
    let d = dir.to_str().unwrap();
    let o = run(&[
        "golden",
        "export",
        "--arch",
        "arch/fast-4x4.ron",
        "--case",
        "traces/golden/backward-data.ron",
        "-o",
        d,
        "--vcd",
        vcd.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(vcd.is_file() && dir.join("mem/X/exponents.hex").is_file() && dir.join("golden.vh").is_file());
    // A second export into another folder is byte-identical.
    let dir2 = tmp.path().join("g2");
    let o = run(&[
        "golden",
        "export",
        "--arch",
        "arch/fast-4x4.ron",
        "--case",
        "traces/golden/backward-data.ron",
        "-o",
        dir2.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            assert_eq!(
                std::fs::read(&p).unwrap(),
                std::fs::read(dir2.join(p.file_name().unwrap())).unwrap(),
                "{}",
                p.display()
            );
        }
    }

    // check: a correct dump passes, a wrong one fails with the first mismatch, a malformed one
    // names its line.
    let g = golden("backward-data");
    let good = tmp.path().join("good.txt");
    std::fs::write(&good, dump_from_files(&g)).unwrap();
    let o = run(&["golden", "check", d, good.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 mismatched, 0 missing, 0 unexpected: PASS"));
    let bad = tmp.path().join("bad.txt");
    let text = dump_from_files(&g).replacen(" Y0 ", " Y0 f", 1);
    std::fs::write(&bad, text).unwrap();
    let o = run(&["golden", "check", d, bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("first mismatch: cycle"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(stderr(&o).contains("golden check failed: 1 mismatched, 0 missing, 0 unexpected"));
    let mal = tmp.path().join("mal.txt");
    std::fs::write(&mal, "# ok\n1 2 3 Y1 ff\n1 2 Y1 ff\n").unwrap();
    let o = run(&["golden", "check", d, mal.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("mal.txt:3: expected 5 fields"), "{}", stderr(&o));
    let o = run(&["golden", "check", tmp.path().to_str().unwrap(), good.to_str().unwrap()]);
    assert!(stderr(&o).contains("manifest.json: cannot read"), "{}", stderr(&o));
    let o = run(&["golden", "check", d, tmp.path().join("none.txt").to_str().unwrap()]);
    assert!(stderr(&o).contains("none.txt: cannot read"), "{}", stderr(&o));

    // Sizes in the manifest are checked before anything is sized by them: a line of the
    // error names the field and the allowed range (payload_bits 2^64-1 panicked in bitvec,
    // lane_bits 2^63 was accepted, an array side of 2^64-1 looped for ever).
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let max = u64::MAX;
    for (edit, want) in [
        (
            "/files/M0.hex/payload_bits",
            format!("files.\"M0.hex\".payload_bits = {max} is out of range: allowed 1..=4096"),
        ),
        ("/files/E1.hex/lane_bits", format!("files.\"E1.hex\".lane_bits = {} is out of range: allowed", 1u64 << 63)),
        ("/array/0", format!("array[0] = {max} is out of range: allowed 1..=4096")),
        ("/cycles", format!("cycles = {max} is out of range: allowed 0..=1000000")),
    ] {
        let mut j = json.clone();
        let value = if edit.ends_with("lane_bits") { 1u64 << 63 } else { max };
        *j.pointer_mut(edit).unwrap() = serde_json::Value::from(value);
        let forged = tmp.path().join("forged");
        std::fs::create_dir_all(&forged).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, forged.join(p.file_name().unwrap())).unwrap();
            }
        }
        std::fs::write(forged.join("manifest.json"), serde_json::to_string(&j).unwrap()).unwrap();
        let o = run(&["golden", "check", forged.to_str().unwrap(), good.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{edit}");
        let e = stderr(&o);
        assert!(e.contains("manifest.json: ") && e.contains(&want), "{edit}: {e}");
        assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    }

    // Bad cases and archs.
    let case = tmp.path().join("c.ron");
    std::fs::write(&case, "(name: \"c\", pass: forward,\n  n: 4, k: 99999, b: 2, data: synthetic(seed: 1))\n").unwrap();
    let o = run(&["golden", "export", "--arch", "arch/fast-4x4.ron", "--case", case.to_str().unwrap(), "-o", d]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("c.ron:2:12: k = 99999 is out of range: allowed 1..=4096"), "{}", stderr(&o));
    std::fs::write(&case, "(name: \"c\", pass: forward, n: 4, k: 9, b: 2, data: npy(x: \"nope.npy\", y: \"y.npy\"))")
        .unwrap();
    let o = run(&["golden", "export", "--arch", "arch/fast-4x4.ron", "--case", case.to_str().unwrap(), "-o", d]);
    assert!(stderr(&o).contains("nope.npy"), "{}", stderr(&o));
    let o = run(&[
        "golden",
        "export",
        "--arch",
        "arch/bf16-32x32.ron",
        "--case",
        "traces/golden/forward-wide.ron",
        "-o",
        d,
    ]);
    assert!(stderr(&o).contains("fMAC arrays") && stderr(&o).contains("bf16"), "{}", stderr(&o));
    // gemm --vcd needs the cycle fidelity.
    let x = dir.join("x.npy");
    let y = dir.join("y.npy");
    let o = run(&[
        "gemm",
        "--pass",
        "backward-data",
        x.to_str().unwrap(),
        y.to_str().unwrap(),
        "--arch",
        "arch/fast-4x4.ron",
        "--no-numerics",
        "--vcd",
        tmp.path().join("g.vcd").to_str().unwrap(),
    ]);
    assert!(stderr(&o).contains("--vcd needs --fidelity cycle"), "{}", stderr(&o));
    let o = run(&[
        "gemm",
        "--pass",
        "backward-data",
        x.to_str().unwrap(),
        y.to_str().unwrap(),
        "--arch",
        "arch/fast-4x4.ron",
        "--fidelity",
        "cycle",
        "--no-numerics",
        "--vcd",
        tmp.path().join("g.vcd").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(tmp.path().join("g.vcd")).unwrap().contains("$scope module cell_r3_c3"));
}

#[test]
fn cases_too_large_are_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("big.ron");
    std::fs::write(&case, "(name: \"big\", pass: forward, n: 4096, k: 4096, b: 4096, data: synthetic(seed: 1))")
        .unwrap();
    let out = tmp.path().join("g");
    let o = run(&[
        "golden",
        "export",
        "--arch",
        "arch/fast-4x4.ron",
        "--case",
        case.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("big: 1075838976 cycles of golden vectors is more than the 1000000 allowed"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "nothing written");
    std::fs::write(&case, "(name: \"wide\", pass: forward, n: 64, k: 512, b: 1024, data: synthetic(seed: 1))").unwrap();
    let vcd = tmp.path().join("w.vcd");
    let o = run(&[
        "golden",
        "export",
        "--arch",
        "arch/fast-32x32.ron",
        "--case",
        case.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--vcd",
        vcd.to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains("a VCD of 8816 cycles x 1024 cells is more than the 4000000 cell-cycles allowed"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists() && !vcd.exists(), "nothing written");
}

#[test]
fn dumped_input_ports_are_checked_against_the_port_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("g");
    let o = run(&[
        "golden",
        "export",
        "--arch",
        "arch/fast-4x4.ron",
        "--case",
        "traces/golden/backward-weight.ron",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let g = golden("backward-weight");
    // The first valid lane of M0 and of E1, read straight from the files.
    let lane = |name: &str, w: usize, lanes: usize| {
        file(&g, name).lines().enumerate().find_map(|(t, l)| {
            let b = bits(l);
            (0..lanes).find(|&i| b[i * w + w - 1]).map(|i| (t, i, hex(&b[i * w..i * w + w - 1])))
        })
    };
    let (tm, cm, vm) = lane("M0.hex", 49, 4).unwrap();
    let (te, re, ve) = lane("E1.hex", 9, 4).unwrap();
    let wrong = u32::from_str_radix(&ve, 16).unwrap() ^ 0x10;
    let mut text = dump_from_files(&g);
    text += &format!("{tm} 3 {cm} M0 {vm}\n{te} {re} 0 E1 {wrong:x}\n");
    let d = tmp.path().join("dump.txt");
    std::fs::write(&d, text).unwrap();
    let o = run(&["golden", "check", dir.to_str().unwrap(), d.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("first mismatch: cycle {te}, cell ({re}, 0), port E1: expected {ve}, got {wrong:x}")),
        "{out}"
    );
    assert!(out.contains("1 mismatched, 0 missing, 0 unexpected"), "{out}");
}

#[test]
fn npy_operands_are_checked_against_the_case() {
    use fastbfp::tensor::encode_npy_f32;
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("c.ron");
    std::fs::write(&case, "(name: \"c\", pass: forward, n: 4, k: 8, b: 2, data: npy(x: \"x.npy\", y: \"y.npy\"))")
        .unwrap();
    let mut x = vec![0.5f32; 32];
    std::fs::write(tmp.path().join("x.npy"), encode_npy_f32(&[3, 3], &x[..9])).unwrap();
    std::fs::write(tmp.path().join("y.npy"), encode_npy_f32(&[8, 2], &[0.25; 16])).unwrap();
    let out = tmp.path().join("g");
    let args = [
        "golden",
        "export",
        "--arch",
        "arch/fast-4x4.ron",
        "--case",
        case.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    let o = run(&args);
    assert!(
        stderr(&o).contains("data.x:") && stderr(&o).contains("has shape [3, 3], but the case's W[N,K] is [4, 8]"),
        "{}",
        stderr(&o)
    );
    x[10] = f32::NAN;
    std::fs::write(tmp.path().join("x.npy"), encode_npy_f32(&[4, 8], &x)).unwrap();
    let o = run(&args);
    assert!(stderr(&o).contains("x.npy (W[N,K]): element 10 (row 1, column 2) is NaN"), "{}", stderr(&o));
    x[10] = 1.0;
    std::fs::write(tmp.path().join("x.npy"), encode_npy_f32(&[4, 8], &x)).unwrap();
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("x.npy")).unwrap(), std::fs::read(tmp.path().join("x.npy")).unwrap());
}

#[test]
fn vectors_ignore_overlapped_folds_and_the_mapper() {
    // The vectors and the reference RTL run the fold-by-fold schedule back to back, whatever
    // the arch says about overlapping folds or mapping GEMMs for `fastbfp run`.
    let mut arch = load_arch(&root().join("arch/fast-4x4.ron")).unwrap();
    let case = load_case(&root().join("traces/golden/forward-multifold.ron")).unwrap();
    let plain = export(&arch, &case).unwrap();
    arch.array.overlap_folds = true;
    arch.mapping.mapper = fastbfp::arch::MapperKind::Search;
    arch.mapping.im2col = fastbfp::arch::Im2col::OnChip;
    let other = export(&arch, &case).unwrap();
    assert_eq!(plain.files, other.files);
}

#[test]
fn a_huge_array_is_refused_before_replaying_its_vectors() {
    // A 4096 x 4096 array on a small case: the replay would step ~10^11 cell-cycles.
    let mut arch = load_arch(&root().join("arch/fast-4x4.ron")).unwrap();
    arch.array.rows = 4096;
    arch.array.cols = 4096;
    let case = load_case(&root().join("traces/golden/forward-multifold.ron")).unwrap();
    let err = export(&arch, &case).err().expect("refused").to_string();
    assert!(err.contains("cell-cycles") && err.contains("smaller array"), "{err}");
}
