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
