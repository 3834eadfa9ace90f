//! The mapper against independent checks: DRAM traffic never below the compulsory bound and
//! equal to it when everything fits on chip; a brute force over every legal mapping of small
//! GEMMs; hand-computed on-chip im2col and spilled partial sums; output bits that do not
//! depend on the mapping.

mod common;
use common::{arch, data, moved, sim, window};
use std::path::Path;

use fastbfp::accel::{simulate_gemm, spec_for, GemmRequest, GemmSim};
use fastbfp::arch::{Im2col, MapperKind, Objective};
use fastbfp::array::Fidelity;
use fastbfp::gemm::{quantize_operands, reference_gemm, Pass};
use fastbfp::mapping::{
    candidates, estimate, score, search, Dim, Mapping, MappingContext, OperandBits, PassDims, Role, ORDERS,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// For random GEMMs (convolutions with on-chip im2col among them) and arches, the mapped
    /// traffic is at least the compulsory traffic, and equals it when every operand fits.
    #[test]
    fn mapped_traffic_is_at_least_compulsory_and_equal_when_all_fits(
        pass in prop::sample::select(Pass::ALL.to_vec()),
        rows in 1usize..=8, cols in 1usize..=8, kib in 1u64..=8, out_kib in 1u64..=4,
        n in 1usize..=40, dense in (1usize..=80, 1usize..=60),
        conv in prop::option::of((1usize..=4, 1usize..=3, 1usize..=2, 0usize..=1, 3usize..=9, 1usize..=2)),
        dbuf in any::<bool>(),
        objective in prop::sample::select(vec![Objective::Cycles, Objective::Energy, Objective::Edp]),
    ) {
        let mut a = arch("fast-4x4.ron");
        a.array.rows = rows;
        a.array.cols = cols;
        a.memory.mantissa_sram.capacity_kib = kib;
        a.memory.exponent_sram.capacity_kib = kib;
        a.memory.double_buffering = dbuf;
        a.mapping.output_buffer_kib = out_kib;
        a.mapping.objective = objective;
        let w = conv.and_then(|(cin, kern, stride, pad, hw, batch)| {
            (hw + 2 * pad >= kern).then(|| window(cin, kern, stride, pad, hw, batch))
        });
        let (k, b) = w.map_or(dense, |w| (w.k(), w.b()));
        let s = sim(&a, pass, (n, k, b), w, None, Fidelity::Fold, false);
        prop_assert!(s.compulsory_dram_bits > 0);
        prop_assert!(moved(&s) >= s.compulsory_dram_bits, "{} < {} ({:?})", moved(&s), s.compulsory_dram_bits, s.mapping);
        // Everything fits: with the energy objective nothing is read twice. (For cycles, and so
        // for energy x cycles, the mapper may re-read halo rows of stream tiles to start
        // computing sooner.)
        a.memory.mantissa_sram.capacity_kib = 1 << 20;
        a.memory.exponent_sram.capacity_kib = 1 << 20;
        a.mapping.output_buffer_kib = 1 << 20;
        a.mapping.objective = Objective::Energy;
        let big = sim(&a, pass, (n, k, b), w, None, Fidelity::Fold, false);
        prop_assert_eq!(moved(&big), big.compulsory_dram_bits, "{:?}", big.mapping);
        prop_assert_eq!(big.compulsory_dram_bits, s.compulsory_dram_bits);
    }

    /// Tick and fold models agree on forced mappings of every kind (stream tiles, every loop
    /// order, streamed operands, spilled partial sums, overlapped folds), and the output bits
    /// are the same whatever the mapping.
    #[test]
    fn fidelities_agree_and_bits_do_not_depend_on_the_mapping(
        pass in prop::sample::select(Pass::ALL.to_vec()),
        rows in 1usize..=5, cols in 1usize..=5,
        dims in (1usize..=12, 1usize..=40, 1usize..=24),
        tile in (1usize..=12, 1usize..=12, 1usize..=24),
        order in prop::sample::select(ORDERS.to_vec()),
        streamed in (any::<bool>(), any::<bool>()),
        overlap in any::<bool>(), kib in 1u64..=2,
    ) {
        let mut a = arch("fast-4x4.ron");
        a.array.rows = rows;
        a.array.cols = cols;
        a.array.overlap_folds = overlap;
        a.memory.mantissa_sram.capacity_kib = kib;
        let m = Mapping { tile: [tile.0, tile.1, tile.2], order, streamed: [streamed.0, streamed.1] };
        let tick = sim(&a, pass, dims, None, Some(m), Fidelity::Cycle, true);
        let fold = sim(&a, pass, dims, None, Some(m), Fidelity::Fold, true);
        prop_assert_eq!(tick.cycles, fold.cycles);
        prop_assert_eq!(&tick.breakdown, &fold.breakdown);
        prop_assert_eq!(&tick.folds, &fold.folds);
        prop_assert_eq!(&tick.busy, &fold.busy);
        prop_assert_eq!(tick.traffic, fold.traffic);
        let bits = |s: &GemmSim| s.out.as_ref().map(|v| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>());
        prop_assert_eq!(bits(&tick), bits(&fold));
        // The bits are DESIGN §6's: the reference loop on the converted operands.
        let d = PassDims::elements(pass, dims.0, dims.1, dims.2);
        let (xs, ys) = (d.shape(Role::X), d.shape(Role::Y));
        let (x, y) = (data(xs.0 * xs.1, 3), data(ys.0 * ys.1, 9));
        let ops = quantize_operands(&spec_for(&a, pass), (&x, xs.0, xs.1), (&y, ys.0, ys.1), 0).unwrap();
        let want: Vec<u32> = reference_gemm(&ops).iter().map(|f| f.to_bits()).collect();
        prop_assert_eq!(bits(&tick), Some(want));
        // The fold-by-fold schedule gives the same bits.
        a.mapping.mapper = MapperKind::Folds;
        let plain = sim(&a, pass, dims, None, None, Fidelity::Cycle, true);
        prop_assert_eq!(bits(&tick), bits(&plain));
    }
}

/// A mapping context for a dense GEMM on a small array, built by hand.
fn context(pass: Pass, (n, k, b): (usize, usize, usize), array: (usize, usize), sram_kib: u64) -> MappingContext {
    let dims = PassDims::elements(pass, n, k, b).grouped(16);
    let bits = OperandBits { exp: 8, mant: 96, group: 16 };
    MappingContext {
        dims,
        array,
        beat_cycles: 4,
        x: bits,
        y: bits,
        out_bits: 7,
        sram_bits: (sram_kib * 8192 / 8, sram_kib * 8192),
        double_buffering: true,
        output_buffer_bits: 8 * 8192,
        dram: (4, 20),
        pj_per_bit: (20.0, 0.5),
        overlap_folds: false,
        conv: None,
    }
}

/// Every legal mapping: every whole number of folds along rows and columns, every stream
/// length (the whole stream for output-stationary passes), every order, every streamed set.
fn every_mapping(ctx: &MappingContext) -> Vec<Mapping> {
    let d = &ctx.dims;
    let sizes = |e: usize, a: usize| -> Vec<usize> { (1..=e.div_ceil(a)).map(|f| (f * a).min(e)).collect() };
    let streams: Vec<usize> = if d.weight_stationary() { (1..=d.extent[2]).collect() } else { vec![d.extent[2]] };
    let mut out = Vec::new();
    for r in sizes(d.extent[0], ctx.array.0) {
        for c in sizes(d.extent[1], ctx.array.1) {
            for &s in &streams {
                for order in ORDERS {
                    for streamed in [[false, false], [false, true], [true, false], [true, true]] {
                        out.push(Mapping { tile: [r, c, s], order, streamed });
                    }
                }
            }
        }
    }
    out
}

#[test]
fn brute_force_finds_nothing_better_than_the_mapper_within_its_pruning_bound() {
    // The mapper tries powers of two and three times powers of two along the stream (not every
    // length): on these GEMMs that costs at most 5 % of the objective against every legal
    // mapping, and nothing among its own candidates beats its choice.
    let mut worst = 1.0f64;
    for pass in Pass::ALL {
        for (dims, array, kib) in
            [((40, 96, 50), (4, 4), 1), ((24, 160, 37), (8, 2), 2), ((7, 48, 90), (2, 4), 1), ((64, 64, 64), (4, 8), 4)]
        {
            let ctx = context(pass, dims, array, kib);
            for objective in [Objective::Cycles, Objective::Energy, Objective::Edp] {
                let chosen = search(&ctx, objective, u64::MAX).expect("some mapping fits");
                let mine = score(objective, &chosen.estimate);
                // Among its own candidates, the choice is the best.
                for m in candidates(&ctx) {
                    if let Some(e) = estimate(&ctx, &m) {
                        assert!(
                            mine <= score(objective, &e),
                            "{pass:?} {dims:?} {objective:?}: {m:?} beats the choice"
                        );
                    }
                }
                // Against every legal mapping, within the bound.
                let best = every_mapping(&ctx)
                    .iter()
                    .filter_map(|m| estimate(&ctx, m))
                    .map(|e| score(objective, &e))
                    .fold(f64::INFINITY, f64::min);
                assert!(best <= mine);
                worst = worst.max(mine / best);
                assert!(mine <= best * 1.05, "{pass:?} {dims:?} {objective:?}: {mine} vs the best {best}");
            }
        }
    }
    eprintln!("mapper / brute force, worst objective ratio: {worst:.4}");
}

#[test]
fn on_chip_im2col_reads_each_tile_once_with_its_halo() {
    // A 3x3, stride 1, pad 1 convolution of 2 channels over one 8x8 image: K = 18, B = 64.
    // Stream tiles of 16 columns (two output rows) read input rows 0..3, 1..5, 3..7, 5..8:
    // 3 + 4 + 4 + 3 = 14 rows of 8 elements for each of the 2 channels.
    let a = arch("fast-4x4.ron");
    assert_eq!((a.mapping.im2col, a.mapping.mapper), (Im2col::OnChip, MapperKind::Search));
    let w = window(2, 3, 1, 1, 8, 1);
    let m = Mapping { tile: [4, 2, 16], order: [Dim::Stream, Dim::Row, Dim::Col], streamed: [false; 2] };
    let s = sim(&a, Pass::Forward, (4, 18, 64), Some(w), Some(m), Fidelity::Fold, false);
    let f = a.bfp_format(fastbfp::arch::TensorClass::Activations);
    let group_bits = f.group_bits();
    // Each stream tile's new elements arrive as whole groups of 16: 48, 64, 64, 48 elements.
    let y_groups: u64 = [3u64, 4, 4, 3].iter().map(|rows| (rows * 2 * 8).div_ceil(16)).sum();
    let x_groups = 4 * 2; // W [4 x 18]: 2 groups per row, fetched once (its loops run once).
    let wf = a.bfp_format(fastbfp::arch::TensorClass::Weights);
    assert_eq!(
        s.traffic.dram_read_exp_bits + s.traffic.dram_read_mant_bits,
        y_groups * group_bits + x_groups * wf.group_bits()
    );
    // The compulsory bound reads the 8 rows of each channel once.
    let out_bits = f.group_bits().div_ceil(16);
    assert_eq!(
        s.compulsory_dram_bits,
        (2 * 8 * 8u64).div_ceil(16) * group_bits + x_groups * wf.group_bits() + 4 * 64 * out_bits
    );
    // The same GEMM with im2col in DRAM reads the lowered matrix: 2 groups x 64 columns.
    let mut dram = a.clone();
    dram.mapping.im2col = Im2col::Dram;
    let d = sim(&dram, Pass::Forward, (4, 18, 64), Some(w), Some(m), Fidelity::Fold, false);
    assert_eq!(
        d.traffic.dram_read_exp_bits + d.traffic.dram_read_mant_bits,
        2 * 64 * group_bits + x_groups * wf.group_bits()
    );
}

#[test]
fn a_reduction_split_outside_the_output_loops_spills_its_partial_sums() {
    // Forward on a 4x4 array: N = 4, K = 128 (8 groups: two column tiles of 4), B = 16 in two
    // stream tiles of 8. With the reduction loop outermost, each output element's partial sum
    // leaves after the first column tile (32 bits) and comes back for the second (32 bits).
    let a = arch("fast-4x4.ron");
    let spill = Mapping { tile: [4, 4, 8], order: [Dim::Col, Dim::Stream, Dim::Row], streamed: [false; 2] };
    let keep = Mapping { tile: [4, 4, 8], order: [Dim::Stream, Dim::Row, Dim::Col], streamed: [false; 2] };
    let s = sim(&a, Pass::Forward, (4, 128, 16), None, Some(spill), Fidelity::Cycle, true);
    let k = sim(&a, Pass::Forward, (4, 128, 16), None, Some(keep), Fidelity::Cycle, true);
    assert_eq!(s.traffic.dram_psum_bits, 4 * 16 * 32 * 2);
    assert_eq!(k.traffic.dram_psum_bits, 0);
    let bits = |g: &GemmSim| g.out.as_ref().unwrap().iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&s), bits(&k));
    // ... and are DESIGN §6's reference loop's.
    let (x, y) = (data(4 * 128, 3), data(128 * 16, 9));
    let ops = quantize_operands(&spec_for(&a, Pass::Forward), (&x, 4, 128), (&y, 128, 16), 0).unwrap();
    assert_eq!(bits(&s), reference_gemm(&ops).iter().map(|f| f.to_bits()).collect::<Vec<_>>());
    // The closed-form model agrees.
    assert_eq!(s.mapping_estimate.unwrap().dram_bits(), moved(&s));
}

#[test]
fn the_mapper_cuts_the_default_layers_traffic_toward_the_bound() {
    // layer1.0.conv1 of ResNet-18 CIFAR at batch 32, forward: fold by fold it reads the
    // im2col matrix once per N-fold; mapped with on-chip im2col it reads each feature map
    // about once.
    let a = arch("fast-32x32.ron");
    let w = window(64, 3, 1, 1, 32, 32);
    let mapped = sim(&a, Pass::Forward, (64, w.k(), w.b()), Some(w), None, Fidelity::Fold, false);
    let mut plain = a.clone();
    plain.mapping.mapper = MapperKind::Folds;
    plain.array.overlap_folds = false;
    let folds = sim(&plain, Pass::Forward, (64, w.k(), w.b()), Some(w), None, Fidelity::Fold, false);
    assert!(moved(&folds) > 8 * moved(&mapped), "{} vs {}", moved(&folds), moved(&mapped));
    assert!((moved(&mapped) as f64) < 1.1 * mapped.compulsory_dram_bits as f64);
    assert!(mapped.cycles < folds.cycles);
}

#[test]
fn run_reports_and_forces_mappings_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_fastbfp");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tmp.path().join("out");
    let wl = root.join("traces/mlp.ron");
    let o = std::process::Command::new(bin)
        .args(["run", "--no-numerics", "-q", "--mapping", "32x0x8:stream>row>col", "-o"])
        .arg(&out)
        .arg(root.join("arch/fast-32x32.ron"))
        .arg(&wl)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("layers.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "mapping").expect("a mapping column");
    for line in csv.lines().skip(1) {
        let m = line.split(',').nth(col).unwrap();
        // Tile sizes are clamped to each GEMM's extents; the order is as forced.
        let (sizes, order) = m.split_once(' ').unwrap();
        assert_eq!(order, "stream>row>col", "{m}");
        let t: Vec<usize> = sizes.split('x').map(|v| v.parse().unwrap()).collect();
        assert!(t[0] <= 32 && t[2] <= 8, "{m}");
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert!(report["gemms"][0]["sim"]["mapping"]["tile"].is_array());
    assert!(report["totals"]["compulsory_dram_bits"].as_u64().unwrap() > 0);
    assert!(out.join("roofline.svg").exists());
    // A malformed mapping is a usage error naming the expected form.
    let bad = std::process::Command::new(bin)
        .args(["run", "--no-numerics", "-q", "--mapping", "32x8:row>col", "-o"])
        .arg(tmp.path().join("bad"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ROWSxCOLSxSTREAM:ORDER"));
    assert!(!tmp.path().join("bad").exists());
}

#[test]
fn a_forced_mapping_with_too_many_folds_is_refused_before_planning() {
    // One-unit tiles on a 4x4 array: 512 x 64 x 4096 units would be 8.6 million folds.
    let a = arch("fast-4x4.ron");
    let d = PassDims::elements(Pass::Forward, 512, 1024, 4096);
    let (xs, ys) = (d.shape(Role::X), d.shape(Role::Y));
    let m = Mapping { tile: [1, 1, 1], order: ORDERS[0], streamed: [false; 2] };
    let req = GemmRequest {
        spec: spec_for(&a, Pass::Forward),
        x: (&[], xs.0, xs.1),
        y: (&[], ys.0, ys.1),
        names: ("X", "Y"),
        fidelity: Fidelity::Fold,
        numerics: false,
        first_job: 0,
        conv: None,
        mapping: Some(m),
    };
    let err = simulate_gemm(&a, &req).unwrap_err().to_string();
    assert!(err.contains("forced mapping") && err.contains("use larger tiles"), "{err}");
}
