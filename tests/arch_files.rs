//! Arch files: every shipped `arch/*.ron` (and `arch/tech/*.ron`) loads; every file in
//! `tests/data/arch-broken/` fails with a message naming the file, `line:col`, the field path
//! and what is allowed; the compiled-in default equals `arch/fast-32x32.ron`.

use std::path::{Path, PathBuf};

use fastbfp::arch::{
    default_arch, load_arch, load_tech, parse_arch, ArchError, CellKind, Dataflow, TensorClass, Transpose,
};
use fastbfp::bfp::{ExpBase, Rounding};
use fastbfp::fmac::AccumulatorKind;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ron_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_arch_file_parses() {
    let files = ron_files(&root().join("arch"));
    let names: Vec<String> = files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for required in [
        "fast-32x32.ron",
        "fast-4x4.ron",
        "fast-e4-32x32.ron",
        "fast-m2-32x32.ron",
        "fast-32x32-transpose.ron",
        "msfp12-32x32.ron",
        "bf16-32x32.ron",
        "fp32-32x32.ron",
        "int8-32x32.ron",
        "scalesim-32x32-ws.ron",
    ] {
        assert!(names.iter().any(|n| n == required), "arch/{required} is missing");
    }
    for f in &files {
        let arch = load_arch(f).unwrap_or_else(|e| panic!("{e}"));
        let stem = f.file_stem().unwrap().to_string_lossy();
        assert_eq!(arch.name, stem, "{}: name should match the file name", f.display());
        assert_eq!(arch.tech_file, "tech/45nm.ron");
        if arch.array.cell.is_bfp() {
            for class in TensorClass::ALL {
                let spec = arch.convert_spec(class);
                assert_eq!(spec.format.group(), arch.bfp.group);
                assert_eq!(spec.format.mantissa_bits(), arch.precision.get(class).mantissa_bits);
            }
        }
    }
    for f in ron_files(&root().join("arch/tech")) {
        load_tech(&f).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn shipped_designs_have_the_documented_parameters() {
    let load = |name: &str| load_arch(&root().join("arch").join(name)).unwrap();
    let fast = load("fast-32x32.ron");
    assert_eq!((fast.array.rows, fast.array.cols), (32, 32));
    assert_eq!(fast.array.cell, CellKind::Fmac { chunk_bits: 2 });
    assert_eq!((fast.bfp.group, fast.bfp.exp_bits, fast.bfp.exp_base), (16, 8, ExpBase::PerTensor));
    assert_eq!(fast.bfp.accumulator, AccumulatorKind::Fp32);
    let r = |class| (fast.precision.get(class).mantissa_bits, fast.precision.get(class).rounding);
    assert_eq!(r(TensorClass::Weights), (4, Rounding::Nearest));
    assert_eq!(r(TensorClass::Activations), (4, Rounding::Nearest));
    assert_eq!(r(TensorClass::Gradients), (4, Rounding::Stochastic));
    assert_eq!((fast.lfsr.mask, fast.lfsr.seed, fast.lfsr.noise_bits), (0xB400, 0xACE1, 8));
    assert_eq!(fast.converter_latency_cycles(), 7);
    assert_eq!(fast.array.transpose, Transpose::Free);

    let small = load("fast-4x4.ron");
    assert_eq!((small.array.rows, small.array.cols), (4, 4));
    assert_eq!((small.bfp, small.precision, small.lfsr), (fast.bfp, fast.precision, fast.lfsr));
    assert!(small.memory.mantissa_sram.capacity_kib < fast.memory.mantissa_sram.capacity_kib);

    assert_eq!(load("fast-e4-32x32.ron").bfp.exp_bits, 4);
    assert_eq!(load("fast-32x32-transpose.ron").array.transpose, Transpose::Explicit);
    let msfp = load("msfp12-32x32.ron");
    assert_eq!(msfp.array.cell, CellKind::BfpFull);
    assert_eq!((msfp.bfp.group, msfp.bfp.exp_bits, msfp.bfp_format(TensorClass::Weights).mantissa_bits()), (16, 8, 3));
    assert_eq!(load("fp32-32x32.ron").array.cell, CellKind::Fp32);
    assert_eq!(load("bf16-32x32.ron").array.cell, CellKind::Bf16);
    assert_eq!(load("int8-32x32.ron").array.cell, CellKind::Int8);
    assert_eq!(load("scalesim-32x32-ws.ron").array.cell, CellKind::Scalesim { dataflow: Dataflow::Ws });
}

#[test]
fn default_arch_equals_the_file() {
    assert_eq!(default_arch(), load_arch(&root().join("arch/fast-32x32.ron")).unwrap());
    assert_eq!(default_arch(), load_arch(Path::new("arch/fast-32x32.ron")).unwrap());
}

/// (file, `line:col`, field path, other fragments the message must contain).
const BROKEN: &[(&str, &str, &str, &[&str])] = &[
    (
        "unknown-field.ron",
        "9:9",
        "array.shadow_stationery",
        &["unknown field", "allowed fields of array", "shadow_stationary"],
    ),
    ("rows-zero.ron", "6:15", "array.rows", &["array.rows = 0 is out of range: allowed 1..=4096"]),
    ("group-65.ron", "13:18", "bfp.group", &["bfp.group = 65 is out of range: allowed 1..=64"]),
    (
        "missing-tech.ron",
        "29:11",
        "tech",
        &["\"tech/no-such-node.ron\"", "relative to this arch file", "no-such-node.ron: cannot read"],
    ),
    ("syntax-error.ron", "7:9", "array.cols", &["syntax error before array.cols: expected comma"]),
    ("noise-bits-17.ron", "19:68", "lfsr.noise_bits", &["lfsr.noise_bits = 17 is out of range: allowed 1..=16"]),
    ("wrong-type.ron", "7:15", "array.cols", &["wrong type", "integer", "allowed 1..=4096"]),
    ("chunk-bits-4.ron", "8:32", "array.cell.chunk_bits", &["= 4 is out of range: allowed 2..=2"]),
    ("missing-field.ron", "22:34", "memory.dram.latency_cycles", &["missing field", "allowed 0..=1000000"]),
    (
        "unknown-variant.ron",
        "17:49",
        "precision.gradients.rounding",
        &["= random", "allowed nearest, truncate, even, stochastic"],
    ),
    ("missing-bfp.ron", "8:15", "bfp", &["missing section", "required when array.cell is fmac"]),
    (
        "pinned-base.ron",
        "13:45",
        "bfp.exp_base",
        &["= -2000 is out of range: allowed per_tensor or pinned(-1000..=1000)"],
    ),
    (
        "bad-tech.ron",
        "29:11",
        "tech",
        &["negative-energy.ron:12:31: logic.fp32_add.energy_pj = -0.9 is out of range: allowed a finite number > 0"],
    ),
];

#[test]
fn broken_arch_files_fail_with_file_position_field_and_range() {
    let dir = root().join("tests/data/arch-broken");
    let files = ron_files(&dir);
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy();
        assert!(BROKEN.iter().any(|b| b.0 == name), "{name} has no expectation in BROKEN");
    }
    for &(name, pos, field, fragments) in BROKEN {
        let path = dir.join(name);
        let err = load_arch(&path).expect_err(name);
        let msg = err.to_string();
        let prefix = format!("{}:{pos}: ", path.display());
        assert!(msg.starts_with(&prefix), "{name}: expected prefix {prefix:?}, got {msg:?}");
        assert!(msg.contains(field), "{name}: no field {field:?} in {msg:?}");
        assert_eq!(err.field(), Some(field), "{name}: {msg}");
        for frag in fragments {
            assert!(msg.contains(frag), "{name}: no {frag:?} in {msg:?}");
        }
        let (line, col) = pos.split_once(':').unwrap();
        assert_eq!(err.position(), Some((line.parse().unwrap(), col.parse().unwrap())), "{name}");
    }
}

#[test]
fn a_missing_arch_file_names_its_path_and_the_os_error() {
    let path = root().join("arch/no-such-arch.ron");
    let err = load_arch(&path).unwrap_err();
    assert!(matches!(err, ArchError::Io { .. }));
    let msg = err.to_string();
    assert!(msg.contains("no-such-arch.ron") && msg.contains("cannot read"), "{msg}");
    assert!(msg.contains(&std::io::Error::from(std::io::ErrorKind::NotFound).to_string()) || msg.contains("os error"));
}

#[test]
fn parse_arch_resolves_tech_relative_to_its_origin() {
    let text = std::fs::read_to_string(root().join("arch/fast-4x4.ron")).unwrap();
    let arch = parse_arch(&text, &root().join("arch/anything.ron")).unwrap();
    assert_eq!(arch.tech.name, "45nm");
    let err = parse_arch(&text, Path::new("/nonexistent/dir/x.ron")).unwrap_err();
    assert!(err.to_string().starts_with("/nonexistent/dir/x.ron:"), "{err}");
    assert!(err.to_string().contains("/nonexistent/dir/tech/45nm.ron"), "{err}");
}

#[test]
fn implicit_some_and_explicit_latency_are_accepted() {
    let text = std::fs::read_to_string(root().join("arch/fast-4x4.ron")).unwrap();
    let origin = root().join("arch/x.ron");
    for (written, cycles) in [("latency_cycles: 9", 9), ("latency_cycles: Some(12)", 12)] {
        let arch = parse_arch(&text.replace("latency_cycles: None", written), &origin).unwrap();
        assert_eq!(arch.converter_latency_cycles(), cycles);
    }
}

#[test]
fn overlap_folds_defaults_to_false_and_is_refused_with_scalesim_cells() {
    let origin = root().join("arch/x.ron");
    let text = std::fs::read_to_string(root().join("arch/fast-4x4.ron")).unwrap();
    assert!(text.contains("overlap_folds: true"), "bundled arch files list every array option");
    assert!(parse_arch(&text, &origin).unwrap().array.overlap_folds);
    assert!(!parse_arch(&text.replace("overlap_folds: true,", ""), &origin).unwrap().array.overlap_folds);
    let err = parse_arch(&text.replace("overlap_folds: true", "overlap_folds: 1"), &origin).unwrap_err().to_string();
    assert!(err.contains("array.overlap_folds"), "{err}");
    let scalesim = std::fs::read_to_string(root().join("arch/scalesim-32x32-ws.ron")).unwrap();
    let err = parse_arch(&scalesim.replace("overlap_folds: false", "overlap_folds: true"), &origin).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("array.overlap_folds = true is out of range") && msg.contains("scalesim"), "{msg}");
}

#[test]
fn the_mapping_section_is_optional_checked_and_refused_with_scalesim_cells() {
    use fastbfp::arch::{Im2col, MapperKind, Objective};
    let origin = root().join("arch/x.ron");
    let text = std::fs::read_to_string(root().join("arch/fast-32x32.ron"))
        .unwrap()
        .replace("tech/45nm.ron", &root().join("arch/tech/45nm.ron").display().to_string());
    let line = "    mapping: (mapper: search, objective: edp, im2col: on_chip, output_buffer_kib: 128),";
    assert!(text.contains(line), "the default arch maps with the mapper");
    let a = parse_arch(&text, &origin).unwrap();
    assert_eq!(
        (a.mapping.mapper, a.mapping.objective, a.mapping.im2col),
        (MapperKind::Search, Objective::Edp, Im2col::OnChip)
    );
    assert_eq!(a.mapping.output_buffer_kib, 128);
    // Without the section: fold by fold, im2col in DRAM.
    let plain = parse_arch(&text.replace(line, ""), &origin).unwrap();
    assert_eq!((plain.mapping.mapper, plain.mapping.im2col), (MapperKind::Folds, Im2col::Dram));
    for (bad, field) in [
        ("output_buffer_kib: 0", "mapping.output_buffer_kib"),
        ("objective: speed", "mapping.objective"),
        ("mapper: greedy", "mapping.mapper"),
    ] {
        let key = bad.split(':').next().unwrap();
        let good = line
            .split(", ")
            .chain(line.split('('))
            .find(|p| p.trim_start_matches("    mapping: (").starts_with(key))
            .unwrap();
        let good = good.trim_start_matches("    mapping: (").trim_end_matches("),");
        let err = parse_arch(&text.replace(good, bad), &origin).unwrap_err().to_string();
        assert!(err.contains(field) || err.contains(key), "{bad}: {err}");
        assert!(err.contains(":39:"), "{bad}: the message points at the line: {err}");
    }
    let scalesim = std::fs::read_to_string(root().join("arch/scalesim-32x32-ws.ron"))
        .unwrap()
        .replace("tech/45nm.ron", &root().join("arch/tech/45nm.ron").display().to_string());
    let err = parse_arch(&scalesim.replace("mapper: folds", "mapper: search"), &origin).unwrap_err().to_string();
    assert!(err.contains("mapping.mapper") && err.contains("scalesim"), "{err}");
}
