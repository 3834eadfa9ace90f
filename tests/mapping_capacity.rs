//! Forced mappings against the operand buffers (issue 15): a mapping whose kept tiles do not
//! fit the SRAM runs with an operand streamed, and the simulator never reports traffic below
//! what its buffers can hold. Checked against an independent residency count (tile visits over
//! the folds that ran), hand-computed tile sizes, both fidelities and DESIGN §6's reference
//! loop; and the README's own example from the command line.

mod common;
use common::{arch, data, moved, sim, window};
use std::path::Path;

use fastbfp::accel::{mem_params, spec_for, GemmSim};
use fastbfp::arch::Arch;
use fastbfp::array::{run_folds_with, ArrayConfig, Fidelity, Fold};
use fastbfp::gemm::{quantize_operands, reference_gemm, Pass};
use fastbfp::mapping::{Dim, Mapping, PassDims, Role, ORDERS};
use fastbfp::memory::{MemorySystem, OperandStorage, TiledResidency};
use proptest::prelude::*;

const STREAMED: [[bool; 2]; 4] = [[false, false], [false, true], [true, false], [true, true]];

/// The arch with `exp_kib` and `mant_kib` of operand SRAM on a `rows x cols` array.
fn small(rows: usize, cols: usize, exp_kib: u64, mant_kib: u64, dbuf: bool) -> Arch {
    let mut a = arch("fast-4x4.ron");
    a.array.rows = rows;
    a.array.cols = cols;
    a.memory.exponent_sram.capacity_kib = exp_kib;
    a.memory.mantissa_sram.capacity_kib = mant_kib;
    a.memory.double_buffering = dbuf;
    a
}

/// Room for kept tiles, by hand: each bank, halved with double buffering.
fn room(a: &Arch) -> (u64, u64) {
    let share = if a.memory.double_buffering { 2 } else { 1 };
    (a.memory.exponent_sram.capacity_kib * 8192 / share, a.memory.mantissa_sram.capacity_kib * 8192 / share)
}

/// (exponent, mantissa) bits per group of X and Y of `pass` on `a`.
fn group_bits(a: &Arch, pass: Pass) -> [(u64, u64); 2] {
    let [cx, cy, _] = PassDims::layout(pass).classes();
    [cx, cy].map(|c| {
        let f = a.bfp_format(c);
        (f.exp_bits() as u64, f.group_bits() - f.exp_bits() as u64)
    })
}

/// `tile` made legal by hand: whole folds along rows and columns, clamped to the extents;
/// the whole stream for backward-weight.
fn legal(d: &PassDims, tile: [usize; 3], (r, c): (usize, usize)) -> [usize; 3] {
    let fold = |t: usize, a: usize, e: usize| t.div_ceil(a).saturating_mul(a).min(e);
    let s = if d.pass == Pass::BackwardWeight { d.extent[2] } else { tile[2].min(d.extent[2]) };
    [fold(tile[0], r, d.extent[0]), fold(tile[1], c, d.extent[1]), s]
}

/// Units of `role`'s tile `key` (clamped at the extents).
fn tile_units(d: &PassDims, tile: [usize; 3], role: Role, key: (usize, usize)) -> u64 {
    let [a, b] = d.dims(role);
    let span = |dim: Dim, i: usize| ((i + 1) * tile[dim.index()]).min(d.len(dim)) - i * tile[dim.index()];
    span(a, key.0) as u64 * span(b, key.1) as u64
}

/// (exponent, mantissa) bits of the largest tiles kept with `streamed`.
fn kept_bits(d: &PassDims, tile: [usize; 3], streamed: [bool; 2], bits: [(u64, u64); 2]) -> (u64, u64) {
    let mut kept = (0, 0);
    for (i, role) in [Role::X, Role::Y].into_iter().enumerate() {
        if !streamed[i] {
            let u = tile_units(d, tile, role, (0, 0));
            kept = (kept.0 + u * bits[i].0, kept.1 + u * bits[i].1);
        }
    }
    kept
}

/// Operand bits read from DRAM over `folds` when each kept operand holds one tile at a time
/// (a tile is read whole once per visit: a run of consecutive folds in it) and a streamed
/// operand reads its fold part every fold.
fn reference_reads(d: &PassDims, tile: [usize; 3], folds: &[Fold], streamed: [bool; 2], bits: [(u64, u64); 2]) -> u64 {
    let mut total = 0;
    for (i, role) in [Role::X, Role::Y].into_iter().enumerate() {
        let [a, b] = d.dims(role);
        let per = bits[i].0 + bits[i].1;
        let mut visiting = None;
        for f in folds {
            let (start, len) = ([f.row0, f.col0, f.stream0], [f.rows_used, f.cols_used, f.stream_len]);
            if streamed[i] {
                total += (len[a.index()] * len[b.index()]) as u64 * per;
                continue;
            }
            let key = (start[a.index()] / tile[a.index()], start[b.index()] / tile[b.index()]);
            if visiting != Some(key) {
                visiting = Some(key);
                total += tile_units(d, tile, role, key) * per;
            }
        }
    }
    total
}

fn operand_reads(s: &GemmSim) -> u64 {
    s.traffic.dram_read_exp_bits + s.traffic.dram_read_mant_bits
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Random forced mappings on random GEMMs and small buffers: the bits kept never exceed the
    /// room (exponent and mantissa banks); a mapping that does not fit streams an operand and
    /// says so, one that fits is run as given; the operand traffic is the independent tile
    /// count of the mapping that ran and at least that of the best capacity-respecting choice,
    /// and never below what keeping the over-size tiles would have claimed.
    #[test]
    fn kept_tiles_never_exceed_the_buffers(
        pass in prop::sample::select(Pass::ALL.to_vec()),
        rows in 1usize..=6, cols in 1usize..=6,
        exp_kib in 1u64..=2, mant_kib in 1u64..=16, dbuf in any::<bool>(),
        dims in (1usize..=80, 1usize..=400, 1usize..=1500),
        tile in (1usize..=80, 1usize..=40, 1usize..=1500),
        whole in (any::<bool>(), any::<bool>()),
        order in prop::sample::select(ORDERS.to_vec()),
        streamed in prop::sample::select(STREAMED.to_vec()),
    ) {
        let a = small(rows, cols, exp_kib, mant_kib, dbuf);
        let t = [if whole.0 { usize::MAX } else { tile.0 }, if whole.1 { usize::MAX } else { tile.1 }, tile.2];
        let forced = Mapping { tile: t, order, streamed };
        let s = sim(&a, pass, dims, None, Some(forced), Fidelity::Fold, false);
        let cap = room(&a);
        prop_assert_eq!(s.residency.capacity_bits, cap);
        let peak = s.residency.peak_kept_bits;
        prop_assert!(peak.0 <= cap.0 && peak.1 <= cap.1, "{:?} over {:?}", peak, cap);
        prop_assert_eq!(s.residency.dropped_parts, 0);
        // The mapping that ran: the forced tiles and order, legalised; streamed operands a
        // superset of the forced ones, more only when the forced ones did not fit.
        let d = PassDims::elements(pass, dims.0, dims.1, dims.2).grouped(16);
        let ran = s.mapping.expect("a forced mapping runs");
        let lt = legal(&d, t, (rows, cols));
        prop_assert_eq!(ran.tile, lt);
        prop_assert_eq!(ran.order, order);
        let bits = group_bits(&a, pass);
        let fits = |st: [bool; 2]| { let k = kept_bits(&d, lt, st, bits); k.0 <= cap.0 && k.1 <= cap.1 };
        prop_assert!(fits(ran.streamed));
        prop_assert!((0..2).all(|i| ran.streamed[i] || !streamed[i]));
        if fits(streamed) {
            prop_assert_eq!(ran.streamed, streamed);
            prop_assert!(s.capacity_hold.is_none());
        } else {
            let h = s.capacity_hold.expect("a held mapping says so");
            prop_assert_eq!(h.kept_bits, kept_bits(&d, lt, streamed, bits));
            prop_assert_eq!(h.capacity_bits, cap);
            prop_assert!(ran.streamed != streamed);
        }
        // Traffic against the independent count over the folds that ran.
        let folds: Vec<Fold> = s.folds.iter().map(|r| r.fold).collect();
        prop_assert_eq!(operand_reads(&s), reference_reads(&d, lt, &folds, ran.streamed, bits));
        let best = STREAMED
            .into_iter()
            .filter(|st| (0..2).all(|i| st[i] || !streamed[i]) && fits(*st))
            .map(|st| reference_reads(&d, lt, &folds, st, bits))
            .min()
            .expect("streaming both always fits");
        prop_assert!(operand_reads(&s) >= best);
        prop_assert!(operand_reads(&s) >= reference_reads(&d, lt, &folds, streamed, bits));
        prop_assert!(moved(&s) >= s.compulsory_dram_bits);
    }

    /// The same with convolutions built on chip (halo tiles of whole input rows): the kept bits
    /// never exceed the room, the residency never had to drop a part, and the traffic is at
    /// least compulsory.
    #[test]
    fn kept_halo_tiles_never_exceed_the_buffers(
        pass in prop::sample::select(Pass::ALL.to_vec()),
        rows in 1usize..=6, cols in 1usize..=6, mant_kib in 1u64..=8, dbuf in any::<bool>(),
        n in 1usize..=40,
        conv in (1usize..=8, 1usize..=3, 1usize..=2, 0usize..=1, 3usize..=16, 1usize..=3),
        tile in (1usize..=40, 1usize..=40, 1usize..=600),
        order in prop::sample::select(ORDERS.to_vec()),
        streamed in prop::sample::select(STREAMED.to_vec()),
    ) {
        let (cin, kern, stride, pad, hw, batch) = conv;
        prop_assume!(hw + 2 * pad >= kern);
        let w = window(cin, kern, stride, pad, hw, batch);
        let a = small(rows, cols, 1, mant_kib, dbuf);
        let forced = Mapping { tile: [tile.0, tile.1, tile.2], order, streamed };
        let s = sim(&a, pass, (n, w.k(), w.b()), Some(w), Some(forced), Fidelity::Fold, false);
        let (peak, cap) = (s.residency.peak_kept_bits, room(&a));
        prop_assert!(peak.0 <= cap.0 && peak.1 <= cap.1, "{:?} over {:?}", peak, cap);
        prop_assert_eq!(s.residency.dropped_parts, 0);
        prop_assert!(moved(&s) >= s.compulsory_dram_bits);
        if s.capacity_hold.is_some() {
            prop_assert!(s.mapping.is_some_and(|m| m.streamed != streamed));
        }
    }

    /// Held mappings at both fidelities: the same cycles, timeline, traffic and residency, and
    /// the output bits of DESIGN §6's reference loop.
    #[test]
    fn held_mappings_agree_at_both_fidelities_with_unchanged_bits(
        pass in prop::sample::select(Pass::ALL.to_vec()),
        rows in 1usize..=4, cols in 1usize..=4, mant_kib in 1u64..=4, dbuf in any::<bool>(),
        dims in (1usize..=40, 1usize..=160, 1usize..=200),
        tile in (1usize..=40, 1usize..=12, 1usize..=200),
        order in prop::sample::select(ORDERS.to_vec()),
        streamed in prop::sample::select(STREAMED.to_vec()),
        overlap in any::<bool>(),
    ) {
        let mut a = small(rows, cols, 1, mant_kib, dbuf);
        a.array.overlap_folds = overlap;
        let m = Mapping { tile: [tile.0, tile.1, tile.2], order, streamed };
        let tick = sim(&a, pass, dims, None, Some(m), Fidelity::Cycle, true);
        let fold = sim(&a, pass, dims, None, Some(m), Fidelity::Fold, true);
        prop_assert_eq!(tick.cycles, fold.cycles);
        prop_assert_eq!(&tick.folds, &fold.folds);
        prop_assert_eq!(tick.traffic, fold.traffic);
        prop_assert_eq!(tick.residency, fold.residency);
        prop_assert_eq!(tick.mapping, fold.mapping);
        let cap = room(&a);
        prop_assert!(tick.residency.peak_kept_bits.0 <= cap.0 && tick.residency.peak_kept_bits.1 <= cap.1);
        let bits = |s: &GemmSim| s.out.as_ref().map(|v| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>());
        let d = PassDims::elements(pass, dims.0, dims.1, dims.2);
        let (xs, ys) = (d.shape(Role::X), d.shape(Role::Y));
        let (x, y) = (data(xs.0 * xs.1, 3), data(ys.0 * ys.1, 9));
        let ops = quantize_operands(&spec_for(&a, pass), (&x, xs.0, xs.1), (&y, ys.0, ys.1), 0).unwrap();
        let want: Vec<u32> = reference_gemm(&ops).iter().map(|f| f.to_bits()).collect();
        prop_assert_eq!(bits(&tick), Some(want.clone()));
        prop_assert_eq!(bits(&fold), Some(want));
    }
}

#[test]
fn the_readme_mapping_streams_the_do_stripe_it_cannot_keep() {
    // layer1.0.conv1 of ResNet-18 CIFAR, backward-weight, batch 32 on the default arch:
    // N = 64, K = 576, B = 32768 (2048 groups). The forced 64x32x2048 tile keeps a dO stripe of
    // 64 x 2048 groups: 64 * 2048 * 8 exponent and 64 * 2048 * 96 mantissa bits, against
    // 16 KiB / 2 and 512 KiB / 2.
    let a = arch("fast-32x32.ron");
    let w = window(64, 3, 1, 1, 32, 32);
    let m = Mapping { tile: [64, 32, 2048], order: [Dim::Stream, Dim::Row, Dim::Col], streamed: [false; 2] };
    let s = sim(&a, Pass::BackwardWeight, (64, w.k(), w.b()), Some(w), Some(m), Fidelity::Fold, false);
    let h = s.capacity_hold.expect("the dO stripe does not fit");
    assert_eq!(h.tile_bits[0], (64 * 2048 * 8, 64 * 2048 * 96));
    assert_eq!(h.capacity_bits, (8 * 8192, 256 * 8192));
    assert!(h.streamed[0], "{h:?}");
    // dO streams: every one of the 18 column folds reads its 32-lane part of every row fold,
    // all of dO (64 x 2048 groups of 104 bits) once per column fold.
    assert!(operand_reads(&s) >= 18 * 64 * 2048 * 104, "{}", operand_reads(&s));
    let (peak, cap) = (s.residency.peak_kept_bits, h.capacity_bits);
    assert!(peak.0 <= cap.0 && peak.1 <= cap.1);
    // The mapper's own choice for this GEMM moves no more.
    let mut free = a.clone();
    free.mapping.mapper = fastbfp::arch::MapperKind::Search;
    let chosen = sim(&free, Pass::BackwardWeight, (64, w.k(), w.b()), Some(w), None, Fidelity::Fold, false);
    assert!(chosen.capacity_hold.is_none());
    assert!(moved(&chosen) <= moved(&s), "{} vs {}", moved(&chosen), moved(&s));
}

#[test]
fn the_memory_model_drops_a_tile_that_does_not_fit_at_both_fidelities() {
    // The residency model on its own, given a mapping nobody held: forward on a 4x4 array,
    // W [64 x 1024] (64 x 64 groups) kept whole next to A's 64 x 64-group tile, against
    // 1 KiB of exponents (4096 bits with double buffering: 512 groups). It keeps at most the
    // room, and re-reads what it dropped.
    let a = small(4, 4, 1, 8, true);
    let d = PassDims::elements(Pass::Forward, 64, 1024, 64);
    let geo = d.geometry(16, 2, 2);
    let dims = PassDims::of(&geo);
    let m = Mapping { tile: [64, 64, 64], order: ORDERS[0], streamed: [false; 2] };
    let folds = m.plan_folds(&dims, 4, 4);
    let store = OperandStorage { group: 16, exp_bits: 8, stored_chunks: 2, consumed_chunks: 2, element_bits: 0 };
    let cfg = ArrayConfig {
        rows: 4,
        cols: 4,
        shadow_stationary: true,
        double_buffered_accumulators: true,
        full_width: false,
        overlap_folds: false,
    };
    let cap = room(&a);
    let run = |fidelity: Fidelity| {
        let mut gate = MemorySystem::new(mem_params(&a), geo, store, store, 32)
            .with_mapping(TiledResidency::new(m, dims, None, 16, cap));
        let r = run_folds_with(&geo, None, &cfg, fidelity, &mut gate, &folds);
        (r.cycles, gate.traffic, gate.residency)
    };
    let (tick, fold) = (run(Fidelity::Cycle), run(Fidelity::Fold));
    assert_eq!(tick, fold);
    let (_, traffic, residency) = fold;
    assert_eq!(residency.capacity_bits, cap);
    assert!(residency.peak_kept_bits.0 <= cap.0 && residency.peak_kept_bits.1 <= cap.1, "{residency:?}");
    assert!(residency.dropped_parts > 0);
    // More than keeping both tiles whole would read (each once: 2 x 4096 groups of 104 bits).
    let bits = [(8, 96); 2];
    let kept_whole = reference_reads(&dims, m.tile, &folds, [false; 2], bits);
    assert_eq!(kept_whole, 2 * 4096 * 104);
    assert!(traffic.dram_read_exp_bits + traffic.dram_read_mant_bits > kept_whole);
}

#[test]
fn the_cli_notes_held_gemms_once_and_marks_them_in_layers_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_fastbfp");
    let out = tmp.path().join("m1");
    let o = std::process::Command::new(bin)
        .args(["run", "--no-numerics", "-q", "--mapping", "64x32x2048:stream>row>col", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    let notes: Vec<&str> = err.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(notes.len(), 1, "{err}");
    assert!(notes[0].contains("backward-weight dO tile") && notes[0].contains("against room for"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let csv = std::fs::read_to_string(out.join("layers.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let row = csv
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[col("layer")] == "layer1.0.conv1" && r[col("pass")] == "backward-weight")
        .expect("the layer's backward-weight row");
    assert!(row[col("mapping")].contains("x:streamed"), "{}", row[col("mapping")]);
    // dO re-read for each of the 18 column folds (13.6 Mbit each), not kept (30.7 Mbit before).
    let read: u64 = row[col("dram_read_bits")].parse().unwrap();
    assert!(read >= 18 * 13_631_488, "{read}");
    // Every GEMM kept at most the room, and the residency never had to drop a part; the held
    // ones are recorded in report.json.
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let gemms = report["gemms"].as_array().unwrap();
    within_room(gemms);
    assert!(gemms.iter().any(|g| g["sim"]["capacity_hold"]["streamed"][0] == true));
    // So does the mapper's own choice on the default run, which needs no hold.
    let o = std::process::Command::new(bin)
        .args(["run", "--no-numerics", "-q", "-o"])
        .arg(tmp.path().join("d"))
        .output()
        .unwrap();
    assert!(o.status.success() && !String::from_utf8_lossy(&o.stderr).contains("note:"));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("d/report.json")).unwrap()).unwrap();
    let gemms = report["gemms"].as_array().unwrap();
    within_room(gemms);
    assert!(gemms.iter().all(|g| g["sim"]["capacity_hold"].is_null()));
    // A mapping that fits everywhere is run as given, without a note.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = std::process::Command::new(bin)
        .args(["run", "--no-numerics", "-q", "--mapping", "32x32x8:stream>row>col", "-o"])
        .arg(tmp.path().join("mlp"))
        .arg(root.join("arch/fast-32x32.ron"))
        .arg(root.join("traces/mlp.ron"))
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stderr).contains("note:"));
    let csv = std::fs::read_to_string(tmp.path().join("mlp/layers.csv")).unwrap();
    assert!(!csv.contains("streamed"), "{csv}");
}

/// Every GEMM of a report.json kept at most its room and dropped nothing.
fn within_room(gemms: &[serde_json::Value]) {
    for g in gemms {
        let r = &g["sim"]["residency"];
        let n = |v: &serde_json::Value| v.as_u64().unwrap();
        for bank in 0..2 {
            assert!(n(&r["peak_kept_bits"][bank]) <= n(&r["capacity_bits"][bank]), "{r}");
        }
        assert_eq!(n(&r["dropped_parts"]), 0, "{r}");
    }
}
