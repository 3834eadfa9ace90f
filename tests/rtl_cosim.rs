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
