//! The reference RTL in tests/rtl/ co-simulated with Icarus Verilog against the golden vectors
//! of every bundled case (scripts/rtl-cosim), including the negative case: a flipped expected
//! bit must be caught. Without Icarus this test fails with the install command; it never skips.

use std::process::Command;

#[test]
fn reference_rtl_matches_the_golden_vectors_of_every_bundled_case() {
    let root = env!("CARGO_MANIFEST_DIR");
    let have = |tool: &str| Command::new(tool).arg("-V").output().is_ok();
    assert!(
        have("iverilog") && have("vvp"),
        "Icarus Verilog (iverilog, vvp) is not installed, so the RTL co-simulation cannot run.\n\
         Install it with: sudo apt-get update && sudo apt-get install -y iverilog   (Debian/Ubuntu)\n\
         or: brew install icarus-verilog (macOS); then rerun cargo test --release."
    );
    let out = Command::new("bash")
        .arg(format!("{root}/scripts/rtl-cosim"))
        .env("FASTBFP_BIN", env!("CARGO_BIN_EXE_fastbfp"))
        .output()
        .expect("bash runs scripts/rtl-cosim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    let cases = std::fs::read_dir(format!("{root}/traces/golden"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "ron"))
        .count();
    assert!(cases >= 4, "traces/golden should hold the bundled cases");
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        out.status.success() && last == format!("{} passed, 0 failed", cases + 1),
        "rtl-cosim failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("PASS negative: bit flipped"), "{stdout}");
}

fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A finite binary32 from one of several classes: any exponent, subnormal, zero, near 1.
fn operand(s: &mut u64) -> f32 {
    let r = splitmix(s);
    let sign = ((r >> 63) as u32) << 31;
    match r % 8 {
        0 => f32::from_bits(sign | (r >> 8) as u32 & 0x007F_FFFF), // subnormal or zero
        1 => f32::from_bits(sign),                                 // signed zero
        2 | 3 => f32::from_bits(sign | (((r >> 40) as u32 % 20 + 117) << 23) | (r >> 8) as u32 & 0x7F_FFFF),
        _ => f32::from_bits(sign | (((r >> 40) as u32 % 254 + 1) << 23) | (r >> 8) as u32 & 0x7F_FFFF),
    }
}

#[test]
fn rtl_binary32_adder_and_product_rounding_match_ieee_and_the_model() {
    use fastbfp::bfp::softfloat::round_scaled_to_f32;
    let have = |tool: &str| Command::new(tool).arg("-V").output().is_ok();
    assert!(
        have("iverilog") && have("vvp"),
        "Icarus Verilog is not installed: sudo apt-get update && sudo apt-get install -y iverilog"
    );
    let root = env!("CARGO_MANIFEST_DIR");
    let tmp = tempfile::tempdir().unwrap();
    let mut s = 0x5EED_u64;
    let mut lines = String::new();
    let mut want = Vec::new();
    for i in 0..20_000 {
        let a = operand(&mut s);
        let b = match i % 5 {
            0 => -a,                                                              // exact cancellation
            1 => f32::from_bits((-a).to_bits() ^ (splitmix(&mut s) & 7) as u32),  // near-cancellation
            2 => a * f32::from_bits(((splitmix(&mut s) % 60 + 97) as u32) << 23), // ties and gaps
            _ => operand(&mut s),
        };
        let sum = a + b;
        if !sum.is_finite() && !(a + b).is_infinite() {
            continue;
        }
        // A group product: |P| < 2^40, exponent over the whole binary32 range and beyond.
        let r = splitmix(&mut s);
        let p: i64 = match i % 4 {
            0 => (r >> 24) as i64 - (1i64 << 39),
            1 => (r >> 44) as i64 - (1 << 19),
            2 => 0,
            _ => (r >> 62) as i64 * 3 - 5,
        };
        let x = (splitmix(&mut s) % 420) as i32 - 300;
        let rounded = round_scaled_to_f32(p < 0, p.unsigned_abs() as u128, x);
        lines +=
            &format!("{:08x}{:08x}{:012x}{:04x}\n", a.to_bits(), b.to_bits(), p as u64 & 0xFFFF_FFFF_FFFF, x as u16);
        want.push((a, b, sum, p, x, rounded));
    }
    std::fs::write(tmp.path().join("vectors.hex"), lines).unwrap();
    let vvp = tmp.path().join("units.vvp");
    let o = Command::new("iverilog")
        .args(["-g2005", "-o", vvp.to_str().unwrap()])
        .args(["tb_fp32_units.v", "fb_fp32_add.v", "fb_fp32_round.v"].map(|f| format!("{root}/tests/rtl/{f}")))
        .output()
        .unwrap();
    assert!(o.status.success(), "iverilog: {}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new("vvp")
        .current_dir(tmp.path())
        .args(["-n", vvp.to_str().unwrap(), &format!("+n={}", want.len())])
        .output()
        .unwrap();
    assert!(o.status.success(), "vvp: {}", String::from_utf8_lossy(&o.stderr));
    let got = std::fs::read_to_string(tmp.path().join("results.txt")).unwrap();
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got.len(), want.len());
    let mut subnormal_sums = 0;
    for (line, (a, b, sum, p, x, rounded)) in got.iter().zip(&want) {
        let (gs, gr) = line.split_once(' ').unwrap();
        assert_eq!(gs, format!("{:08x}", sum.to_bits()), "{a:e} + {b:e} = {sum:e}");
        assert_eq!(gr, format!("{:08x}", rounded.to_bits()), "round({p} * 2^{x})");
        subnormal_sums += sum.is_subnormal() as usize;
    }
    assert!(subnormal_sums > 100, "the vectors reach subnormal sums ({subnormal_sums})");
}

/// Random shapes, array sizes, group sizes, exponent widths, precisions and roundings: the RTL
/// must match the golden vectors of each (scripts/rtl-cosim on a generated arch and case).
#[test]
fn reference_rtl_matches_random_cases_on_random_arrays() {
    let have = |tool: &str| Command::new(tool).arg("-V").output().is_ok();
    assert!(
        have("iverilog") && have("vvp"),
        "Icarus Verilog is not installed: sudo apt-get update && sudo apt-get install -y iverilog"
    );
    let root = env!("CARGO_MANIFEST_DIR");
    let base = std::fs::read_to_string(format!("{root}/arch/fast-4x4.ron")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("tech")).unwrap();
    std::fs::copy(format!("{root}/arch/tech/45nm.ron"), tmp.path().join("tech/45nm.ron")).unwrap();
    let mut s = 0xC05_u64;
    let shapes = [(1, 1), (1, 5), (5, 1), (3, 7), (2, 2), (6, 3), (4, 4), (8, 8), (2, 5), (7, 2)];
    let passes = ["forward", "backward_data", "backward_weight"];
    let roundings = ["truncate", "nearest", "even", "stochastic"];
    let mut runs = Vec::new();
    // Every pass with every kind of plane-count pair: 1 X plane and several Y planes (the Y
    // plane arriving in the cycle it is used), the reverse, both several, both one.
    for i in 0..15 {
        let (rows, cols) = shapes[(i * 7) % shapes.len()];
        let mut pick = |n: u64| (splitmix(&mut s) % n) as usize;
        let group = [4, 8, 16, 5][pick(4)];
        let exp_bits = [8, 4, 6][pick(3)];
        let arch = base
            .replace("rows: 4", &format!("rows: {rows}"))
            .replace("cols: 4", &format!("cols: {cols}"))
            .replace("group: 16", &format!("group: {group}"))
            .replace("exp_bits: 8", &format!("exp_bits: {exp_bits}"));
        let arch_path = tmp.path().join(format!("arch{i}.ron"));
        std::fs::write(&arch_path, arch).unwrap();
        let pass = passes[i % 3];
        let (few, many) = (pick(2) + 1, pick(6) + 3);
        let (few2, many2) = (pick(2) + 1, pick(6) + 3);
        let (mx, my) = match i / 3 {
            0 => (few, many),
            1 => (many, few),
            2 => (many, many2),
            3 => (few, few2),
            _ => (pick(8) + 1, pick(8) + 1),
        };
        let (rx, ry) = (roundings[pick(4)], roundings[pick(4)]);
        let (n, k, b) = (pick(3 * group) + 1, pick(3 * group) + 1, pick(9) + 1);
        let b = if pass == "backward_weight" { pick(3 * group) + 1 } else { b };
        let case = format!(
            "(name: \"random{i}\", pass: {pass}, n: {n}, k: {k}, b: {b},\n x: (mantissa_bits: {mx}, rounding: {rx}),\n y: (mantissa_bits: {my}, rounding: {ry}),\n seed: {}, data: synthetic(seed: {i}))\n",
            splitmix(&mut s) & 0xFFFF
        );
        let case_path = tmp.path().join(format!("random{i}.ron"));
        std::fs::write(&case_path, &case).unwrap();
        let out = Command::new("bash")
            .arg(format!("{root}/scripts/rtl-cosim"))
            .arg(&case_path)
            .env("FASTBFP_BIN", env!("CARGO_BIN_EXE_fastbfp"))
            .env("COSIM_ARCH", &arch_path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        runs.push(format!("{rows}x{cols} g={group} e={exp_bits} {case}"));
        assert!(
            out.status.success() && stdout.lines().last() == Some("2 passed, 0 failed"),
            "random case {i} on a {rows} x {cols} array, g = {group}, e = {exp_bits}:\n{case}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(runs.len(), 15);
}
