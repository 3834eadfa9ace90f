//! The core guarantee of the array model (DESIGN §7): the tick-level model and the fold-level
//! closed forms give identical cycle counts, identical per-cell busy cycles and identical
//! output bits, and those bits equal the reference loop, for random shapes, precisions,
//! roundings, accumulators, array sizes, passes and schedule options.

use fastbfp::array::probe::NoProbe;
use fastbfp::array::{
    footprint, os_fold_probed, plan_folds, run_array, ws_fold_probed, ArrayConfig, Fidelity, Footprint, GemmGeometry,
    PlaneStore, TickCtx,
};
use fastbfp::bfp::{ExpBase, LfsrParams, Rounding};
use fastbfp::fmac::AccumulatorKind;
use fastbfp::gemm::{quantize_operands, reference_gemm, GemmOperands, GemmSpec, OperandSpec, Pass};
use proptest::prelude::*;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[derive(Debug, Clone)]
struct Case {
    spec: GemmSpec,
    cfg: ArrayConfig,
    x: (Vec<f32>, usize, usize),
    y: (Vec<f32>, usize, usize),
}

fn case() -> impl Strategy<Value = Case> {
    let array = prop::sample::select(vec![(1usize, 1usize), (1, 5), (4, 1), (4, 4), (8, 16), (3, 7), (32, 32)]);
    let opts = (array, any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>());
    let fmt = (
        prop::sample::select(vec![1usize, 2, 4, 5, 8, 16]),
        2u32..=8,
        2u32..=8,
        prop::sample::select(Rounding::ALL.to_vec()),
        prop::sample::select(Rounding::ALL.to_vec()),
        prop::sample::select(vec![AccumulatorKind::Fp32, AccumulatorKind::Exact]),
        prop::sample::select(Pass::ALL.to_vec()),
        any::<u16>(),
    );
    (opts, fmt).prop_flat_map(|(((ar, ac), shadow, dbuf, fw, overlap), (g, mx, my, rx, ry, acc, pass, seed))| {
        let spec = GemmSpec {
            pass,
            group: g,
            exp_bits: 8,
            exp_base: ExpBase::PerTensor,
            x: OperandSpec { mantissa_bits: mx, rounding: rx },
            y: OperandSpec { mantissa_bits: my, rounding: ry },
            accumulator: acc,
            lfsr: LfsrParams::new(0xB400, seed, 8).unwrap(),
        };
        let cfg = ArrayConfig {
            rows: ar,
            cols: ac,
            shadow_stationary: shadow,
            double_buffered_accumulators: dbuf,
            full_width: fw,
            overlap_folds: overlap,
        };
        // 1 to 3 folds along every array dimension; sizes not multiples of g.
        let (r_folds, c_folds) = (1usize..=3, 1usize..=3);
        (Just(spec), Just(cfg), r_folds, c_folds, 1usize..=6, 0usize..3).prop_flat_map(
            move |(spec, cfg, rf, cf, t, extra)| {
                let (rows, cols, g) = (cfg.rows, cfg.cols, spec.group);
                // Output rows/cols and reduction length for the pass, so the folds land as asked.
                let span = |folds: usize, width: usize| (folds - 1) * width + 1 + extra.min(width - 1);
                let (xs, ys) = match spec.pass {
                    // rows = N lanes, cols = K groups, stream = B
                    Pass::Forward => {
                        let (n, k) = (span(rf, rows), span(cf, cols) * g - extra.min(g - 1));
                        ((n, k), (k, t))
                    }
                    // rows = N groups, cols = K lanes, stream = B
                    Pass::BackwardData => {
                        let (n, k) = (span(rf, rows) * g - extra.min(g - 1), span(cf, cols));
                        ((n, k), (n, t))
                    }
                    // rows = N lanes, cols = K lanes, stream = B groups
                    Pass::BackwardWeight => {
                        let (n, k, b) = (span(rf, rows), span(cf, cols), t * g - extra.min(g - 1));
                        ((n, b), (k, b))
                    }
                };
                let vals = |n: usize| prop::collection::vec(prop_oneof![4 => -4.0f32..4.0, 1 => Just(0.0f32)], n);
                (Just(spec), Just(cfg), vals(xs.0 * xs.1), vals(ys.0 * ys.1))
                    .prop_map(move |(spec, cfg, xv, yv)| Case { spec, cfg, x: (xv, xs.0, xs.1), y: (yv, ys.0, ys.1) })
            },
        )
    })
}

fn ops(c: &Case) -> GemmOperands {
    quantize_operands(&c.spec, (&c.x.0, c.x.1, c.x.2), (&c.y.0, c.y.1, c.y.2), 0).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn tick_and_fold_fidelities_agree(c in case()) {
        fidelities_agree(&c)?;
    }
}

/// The property of `tick_and_fold_fidelities_agree` for one case.
fn fidelities_agree(c: &Case) -> Result<(), TestCaseError> {
    {
        let o = ops(c);
        // Full-width (bfp_full) cells take one cycle per group pair whatever the widths.
        let geo = if c.cfg.full_width { GemmGeometry::of(&o).full_width() } else { GemmGeometry::of(&o) };
        let tick = run_array(&geo, Some(&o), &c.cfg, Fidelity::Cycle);
        let fold = run_array(&geo, Some(&o), &c.cfg, Fidelity::Fold);
        prop_assert_eq!(tick.cycles, fold.cycles);
        prop_assert_eq!(&tick.folds, &fold.folds);
        prop_assert_eq!(&tick.busy, &fold.busy);
        let want = bits(&reference_gemm(&o));
        prop_assert_eq!(bits(tick.out.as_ref().unwrap()), want.clone());
        prop_assert_eq!(bits(fold.out.as_ref().unwrap()), want);
        // Timing does not depend on the numbers.
        let timing_only = run_array(&geo, None, &c.cfg, Fidelity::Cycle);
        prop_assert_eq!(timing_only.cycles, tick.cycles);
        // Nor do the numbers (or the work per cell) on overlapping the folds.
        let other = ArrayConfig { overlap_folds: !c.cfg.overlap_folds, ..c.cfg };
        let flipped = run_array(&geo, Some(&o), &other, Fidelity::Cycle);
        prop_assert_eq!(bits(flipped.out.as_ref().unwrap()), bits(tick.out.as_ref().unwrap()));
        prop_assert_eq!(&flipped.busy, &tick.busy);
        let (on, off) = if c.cfg.overlap_folds { (&tick, &flipped) } else { (&flipped, &tick) };
        prop_assert!(on.cycles <= off.cycles, "overlap {} > back to back {}", on.cycles, off.cycles);
        // The footprint every overlapped schedule is built from: measured == closed form.
        let (xs, ys) = (PlaneStore::new(&o.x), PlaneStore::new(&o.y));
        let ctx = TickCtx {
            rows: c.cfg.rows,
            cols: c.cfg.cols,
            geo,
            operands: Some((&xs, &ys)),
            acc_kind: o.spec.accumulator,
            full_width: c.cfg.full_width,
        };
        let mut psums: Vec<_> =
            (0..geo.out_rows * geo.out_cols).map(|_| fastbfp::fmac::Accumulator::new(o.spec.accumulator)).collect();
        for f in plan_folds(&geo, c.cfg.rows, c.cfg.cols) {
            let t = match geo.pass {
                Pass::BackwardWeight => os_fold_probed(&ctx, &f, &mut psums, &mut NoProbe),
                _ => ws_fold_probed(&ctx, &f, &mut psums, &mut NoProbe),
            };
            let want = Footprint { after_prev: 0, ..footprint(&geo, &f, c.cfg.rows, c.cfg.cols) };
            prop_assert_eq!(&t.footprint, &want, "fold {}", f.index);
        }
    }
    Ok(())
}

/// A small table of hand-derived cases (DESIGN §7 anchor and its variants; see docs/timing.md).
#[test]
fn closed_forms_on_a_table_of_small_cases() {
    // (pass, array r x c, out rows, out cols, reduction groups, c_x, c_y, expected cycles without overlap)
    let cfg = |r, c| ArrayConfig {
        rows: r,
        cols: c,
        shadow_stationary: false,
        double_buffered_accumulators: false,
        full_width: false,
        overlap_folds: false,
    };
    type Row = (Pass, (usize, usize), usize, usize, usize, u32, u32, u64);
    let cases: &[Row] = &[
        // One forward fold on a full 4x4 array, T = 10, p = 4: load 4*2 + 4*(10+4+4-2) = 8 + 64.
        (Pass::Forward, (4, 4), 4, 10, 4, 2, 2, 8 + 64),
        // Two row tiles x two K tiles, p = 1: each fold 4*1 + (5 + 4 + 4 - 2) = 15; four folds.
        (Pass::Forward, (4, 4), 8, 5, 8, 1, 1, 4 * 15),
        // Partial fold: 3 rows, 2 groups used on 4x4, T = 1, p = 2 (c_x 2, c_y 1): 3*2 + 2*(1+3+4-2).
        (Pass::Forward, (4, 4), 3, 1, 2, 2, 1, 6 + 12),
        // Backward-data: 2 K lanes used, 3 N groups on 4x4, T = 2, p = 1: load 3 + (2 + 2 + 4 - 2).
        (Pass::BackwardData, (4, 4), 2, 2, 3, 1, 1, 3 + 6),
        // Backward-weight: 2x3 outputs on 4x4, 5 B groups, p = 4: 4*(5+2+3-2) + drain 4.
        (Pass::BackwardWeight, (4, 4), 2, 3, 5, 2, 2, 32 + 4),
    ];
    for &(pass, (r, c), out_rows, out_cols, nq, cx, cy, want) in cases {
        let geo = GemmGeometry { pass, out_rows, out_cols, reduction_groups: nq, x_chunks: cx, y_chunks: cy };
        let tick = run_array(&geo, None, &cfg(r, c), Fidelity::Cycle);
        let fold = run_array(&geo, None, &cfg(r, c), Fidelity::Fold);
        assert_eq!(tick.cycles, want, "{pass:?} tick");
        assert_eq!(fold.cycles, want, "{pass:?} fold");
    }
}

#[test]
fn precision_scaling_two_bit_takes_a_quarter_of_the_streaming() {
    for pass in Pass::ALL {
        let geo = |c| GemmGeometry { pass, out_rows: 64, out_cols: 96, reduction_groups: 40, x_chunks: c, y_chunks: c };
        let cfg = ArrayConfig {
            rows: 16,
            cols: 16,
            shadow_stationary: true,
            double_buffered_accumulators: true,
            full_width: false,
            overlap_folds: false,
        };
        let s2 = run_array(&geo(1), None, &cfg, Fidelity::Cycle).breakdown.stream_cycles;
        let s4 = run_array(&geo(2), None, &cfg, Fidelity::Cycle).breakdown.stream_cycles;
        assert_eq!(s4, 4 * s2, "{pass:?}");
    }
}

#[test]
fn shadow_loading_hides_loads_behind_streaming() {
    let geo = GemmGeometry {
        pass: Pass::Forward,
        out_rows: 32,
        out_cols: 64,
        reduction_groups: 32,
        x_chunks: 2,
        y_chunks: 2,
    };
    let plain = ArrayConfig {
        rows: 8,
        cols: 8,
        shadow_stationary: false,
        double_buffered_accumulators: false,
        full_width: false,
        overlap_folds: false,
    };
    let shadow = ArrayConfig { shadow_stationary: true, ..plain };
    let a = run_array(&geo, None, &plain, Fidelity::Cycle);
    let b = run_array(&geo, None, &shadow, Fidelity::Cycle);
    let folds = plan_folds(&geo, 8, 8).len() as u64;
    // Without shadows every load is exposed; with them only the first.
    assert_eq!(a.breakdown.load_cycles, folds * 8 * 2);
    assert_eq!(b.breakdown.load_cycles, 8 * 2);
    assert_eq!(a.cycles - b.cycles, (folds - 1) * 8 * 2);
}

/// The schedule written as a plain recurrence over folds (ideal memory), independent of the
/// event loop `run_array` uses.
fn recurrence_cycles(geo: &GemmGeometry, cfg: &ArrayConfig) -> u64 {
    let folds = plan_folds(geo, cfg.rows, cfg.cols);
    let p = geo.beat_cycles();
    let (r, c) = (cfg.rows as u64, cfg.cols as u64);
    let (mut load_end, mut stream_start, mut stream_end, mut drain_start, mut drain_end) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for f in &folds {
        let (t, ru, cu) = (f.stream_len as u64, f.rows_used as u64, f.cols_used as u64);
        match geo.pass {
            Pass::BackwardWeight => {
                let start = if cfg.double_buffered_accumulators {
                    stream_end.max(drain_start)
                } else {
                    stream_end.max(drain_end)
                };
                stream_start = start;
                stream_end = start + p * (t + ru + cu - 2);
                drain_start = stream_end.max(drain_end);
                drain_end = drain_start + c;
            }
            pass => {
                let load = ru * geo.x_chunks as u64;
                let stream = if pass == Pass::Forward { p * (t + ru + c - 2) } else { p * (t + cu + r - 2) };
                let load_start = if cfg.shadow_stationary { load_end.max(stream_start) } else { stream_end };
                load_end = load_start + load;
                stream_start = load_end.max(stream_end);
                stream_end = stream_start + stream;
                drain_end = stream_end;
            }
        }
    }
    stream_end.max(drain_end)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn event_loop_schedule_equals_the_plain_recurrence(
        pass in prop::sample::select(Pass::ALL.to_vec()),
        rows in 1usize..=40, cols in 1usize..=40, red in 1usize..=40, r in 1usize..=9, c in 1usize..=9,
        cx in 1u32..=4, cy in 1u32..=4, shadow in any::<bool>(), dbuf in any::<bool>(),
    ) {
        let geo = GemmGeometry { pass, out_rows: rows, out_cols: cols, reduction_groups: red, x_chunks: cx, y_chunks: cy };
        let cfg = ArrayConfig { rows: r, cols: c, shadow_stationary: shadow, double_buffered_accumulators: dbuf, full_width: false, overlap_folds: false };
        prop_assert_eq!(run_array(&geo, None, &cfg, Fidelity::Fold).cycles, recurrence_cycles(&geo, &cfg));
    }
}

/// Overlapped folds by hand (docs/timing.md, "Overlapped folds"): three folds on a 4 x 4 array,
/// with and without `overlap_folds`, at both fidelities.
#[test]
fn overlapped_folds_save_the_closed_form_on_three_folds() {
    let cfg = |shadow, dbuf, overlap| ArrayConfig {
        rows: 4,
        cols: 4,
        shadow_stationary: shadow,
        double_buffered_accumulators: dbuf,
        full_width: false,
        overlap_folds: overlap,
    };
    // (pass, out rows, out cols, reduction groups, shadow, dbuf, cycles back to back, overlapped, saving)
    type Row = (Pass, usize, usize, usize, bool, bool, u64, u64, u64);
    let p = 4u64; // c_x = c_y = 2
    let cases: &[Row] = &[
        // Forward, N = 4, K = 12 groups (three K folds of 4), B = T = 10, shadow registers.
        // Back to back: load 8, then three streams of p (T + R_u + C - 2) = 64: 8 + 3 * 64 = 200.
        // Overlapped: stream starts 8, 8 + pT = 48, 48 + pT = 88 (partial sums wait only
        // pC = 16; the loads, 8 each, start at 8 and at 72, when fold 0's last cell released
        // column 3 and its shadow slots: 8 + p (R_u - 1 + 3 + T), and are hidden);
        // 88 + 64 = 152. Saving: p (R_u + C - 2) = 24 per fold after the first.
        (Pass::Forward, 4, 10, 12, true, false, 200, 152, 2 * p * (4 + 4 - 2)),
        // Backward-weight, 4 x 12 outputs (three column tiles), T = 5 groups, single accumulators.
        // Back to back: 3 * (p (T + R_u + C_u - 2) + C) = 3 * (44 + 4) = 144. Overlapped: each fold
        // starts one cycle into the previous drain (column 0 is empty after one drain cycle):
        // saving C - 1 = 3 per fold after the first.
        (Pass::BackwardWeight, 4, 12, 5, false, false, 144, 138, 2 * (4 - 1)),
        // The same with double-buffered accumulators and T = 8 groups (so pT = 32 >= the bank's
        // drain): back to back 3 * 56 + 4 = 172; overlapped stream starts 0, 32, 64, end
        // 64 + 56 + 4 = 124. Saving p (R_u + C_u - 2) = 24 per fold after the first.
        (Pass::BackwardWeight, 4, 12, 8, false, true, 172, 124, 2 * p * (4 + 4 - 2)),
    ];
    for &(pass, out_rows, out_cols, nq, shadow, dbuf, back_to_back, overlapped, saving) in cases {
        let geo = GemmGeometry { pass, out_rows, out_cols, reduction_groups: nq, x_chunks: 2, y_chunks: 2 };
        assert_eq!(plan_folds(&geo, 4, 4).len(), 3);
        for fidelity in [Fidelity::Cycle, Fidelity::Fold] {
            let off = run_array(&geo, None, &cfg(shadow, dbuf, false), fidelity).cycles;
            let on = run_array(&geo, None, &cfg(shadow, dbuf, true), fidelity).cycles;
            assert_eq!((off, on), (back_to_back, overlapped), "{pass:?} {fidelity:?}");
            assert_eq!(off - on, saving, "{pass:?} {fidelity:?}");
        }
    }
}

/// The cases the proptest regression file used to pin, replayed by value: a seed in that file
/// regenerates a different case once the strategy changes (as it did when `ArrayConfig` gained
/// `full_width` and `overlap_folds`), so each is written out here with today's types.
fn pinned(
    pass: Pass,
    group: usize,
    x: (u32, Rounding),
    y: (u32, Rounding),
    acc: AccumulatorKind,
    seed: u16,
) -> GemmSpec {
    GemmSpec {
        pass,
        group,
        exp_bits: 8,
        exp_base: ExpBase::PerTensor,
        x: OperandSpec { mantissa_bits: x.0, rounding: x.1 },
        y: OperandSpec { mantissa_bits: y.0, rounding: y.1 },
        accumulator: acc,
        lfsr: LfsrParams::new(0xB400, seed, 8).unwrap(),
    }
}

/// Pinned (as a proptest seed) when `ArrayConfig` had no `full_width` or `overlap_folds`: a 1x1
/// array, backward-data, g = 16, exact accumulator, stochastic Y. Replayed with both off (the
/// property flips `overlap_folds` itself).
#[test]
fn regression_a_1x1_backward_data_exact_stochastic_y_old_config() {
    #[rustfmt::skip]
    let x = vec![
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -3.146408, -1.2282792, 1.5365672, -0.3148395, 1.2054352, 0.64446336,
        2.642682, 3.444723, 0.0, 0.0, 0.0, 3.4502048, 3.648011, -0.09516275, 0.0, 0.0, 0.0, 2.3648403, 0.0,
        2.8515973, -2.218191, 2.9725559, -2.0407135, -3.7991807, -0.11894456, 2.2014363, 0.29561877, -2.8892503,
        0.67823505, -2.2757912, 0.0, 0.08860725, 0.49933556, -1.172198, 0.48416686, 2.0382261, 0.0, 0.0,
        -3.6096418, 1.3194664, 0.8428192, 0.7500387, 0.097051196, -1.3683219, -2.625975, -1.6850812, -2.5772007,
    ];
    #[rustfmt::skip]
    let y = vec![
        1.8517567, 2.4765813, 1.1840523, -2.7884886, 0.0, -1.2585322, 0.0, -3.5411398, -1.8276042, -3.2275627, 0.0,
        0.5745428, 1.0800848, -2.581827, 0.0, 3.6005192, 0.0, 1.156557, 2.914718, 1.9556732, 3.8813956, -3.8356125,
        0.0, 0.3852408, 1.4387885, 3.4780803, -2.7475855, 0.78369415, -0.65174985, 0.056546435, -0.4319217,
        0.23206073, 0.0, 1.6627549, 2.3391979, 0.0, 2.5030844, 0.0, 0.0, -1.994612, -2.473996, 0.808704, 2.3689811,
        0.50548214, -3.4334438, 0.06598814, 2.5211163, -2.0630605, 2.5402014, 0.0, 3.2473493, 0.0, 0.0, 0.0,
        -3.4696438, 3.142974, -3.1571245, -0.85487914, 0.0, -3.0056705, -2.218365, -0.5267232, 0.0, -3.0669272,
        3.3012419, 0.0, 2.8623364, 2.686743, -3.7701638, 0.0, 0.0, 0.0, 3.7398283, -1.6967107, -0.5846364,
        0.39228022, 2.0051665, -1.5273397, -3.5893028, -1.923607, 1.2106259, 0.0, -2.4897962, 0.8405458, 1.1851679,
        -3.543633, 3.5274346, -2.9920554, -1.0869071, 0.0, -0.48285744, 0.5146406, 3.8722832, 2.1397989, 2.7398753,
        -3.6000462,
    ];
    let spec = pinned(
        Pass::BackwardData,
        16,
        (8, Rounding::Nearest),
        (8, Rounding::Stochastic),
        AccumulatorKind::Exact,
        21340,
    );
    let cfg = ArrayConfig {
        rows: 1,
        cols: 1,
        shadow_stationary: false,
        double_buffered_accumulators: false,
        full_width: false,
        overlap_folds: false,
    };
    let c = Case { spec, cfg, x: (x, 32, 3), y: (y, 32, 3) };
    fidelities_agree(&c).unwrap();
}

/// Pinned when `ArrayConfig` had no `full_width` or `overlap_folds`: a 4x1 array with shadow
/// stationaries and double-buffered accumulators, backward-weight, g = 2, a single output.
/// Replayed with both off (the property flips `overlap_folds` itself).
#[test]
fn regression_a_4x1_backward_weight_shadow_and_double_buffered_old_config() {
    #[rustfmt::skip]
    let x = vec![
        0.0, -2.7118707,
    ];
    #[rustfmt::skip]
    let y = vec![
        0.85816175,
    ];
    let spec =
        pinned(Pass::BackwardWeight, 2, (7, Rounding::Nearest), (8, Rounding::Even), AccumulatorKind::Fp32, 55382);
    let cfg = ArrayConfig {
        rows: 4,
        cols: 1,
        shadow_stationary: true,
        double_buffered_accumulators: true,
        full_width: false,
        overlap_folds: false,
    };
    let c = Case { spec, cfg, x: (x, 2, 1), y: (y, 1, 1) };
    fidelities_agree(&c).unwrap();
}

/// Pinned with today's `ArrayConfig`: an 8x16 array of full-width cells with overlapped folds,
/// backward-data, g = 8 over 79 rows (not a multiple of g), exact accumulator.
#[test]
fn regression_an_8x16_full_width_overlapped_backward_data_exact() {
    #[rustfmt::skip]
    let x = vec![
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.9292578, 0.0, -2.2981207, 0.23140304,
        2.5206406, 0.8776194, 0.0, 0.0, -3.746025, 2.5987277, -2.3625715, 0.23908551, -1.1820623, 2.9394028,
        0.31315, 0.0, -2.0460773, -3.2448573, -2.7150753, 1.8395014, 3.3572693, 0.93547684, 1.493666, -2.8459623,
        0.9396183, 0.40507227, 2.012736, 3.2296977, -2.7380366, -2.08669, 3.053175, 0.24231379, -2.3084028,
        3.6955302, -0.78051203, -3.3531735, 0.76116276, 0.6217598, -1.4733254, -1.477694, -0.15713772, 0.0,
        -2.2877386, 1.5255567, 1.9426976, 0.6510922, -0.6221115, 1.5264633, 3.8205578, 1.1507814, -2.0808215,
        1.8521553, -2.4825041, 1.3797513, 0.62704057, 3.3771474, 2.2935917, 0.54483557, 3.837993, -3.9442124,
        0.15637732, 0.0, 0.0, -0.8068096, -3.852306, 0.4111092, -3.5214574, 0.0, -3.9062655, 0.0, -0.06420616,
        -2.4130867, -3.9760559, -1.5804398, -0.4783985, 3.9146626, 2.8680916, -1.72881, 2.7146435, 0.0, 1.5100607,
        1.1875774, 0.019222034,
    ];
    #[rustfmt::skip]
    let y = vec![
        2.4250815, 0.0, 1.2915256, -0.7710524, -1.533149, -0.469294, 0.0, 2.746104, -2.025076, -3.1079228,
        3.7743886, 0.5855408, 2.7749953, 0.84892607, 3.2259586, -1.814743, -1.4269904, 1.6700398, 2.8563542, 0.0,
        0.0, -2.063411, 0.8453963, 0.0, -2.505486, 0.0, 0.0, 0.0, 0.7696977, 3.5481052, -0.3608666, 0.0, 2.32779,
        -1.6735755, -2.8096235, -2.251055, 1.2290208, -0.52973926, -1.2518965, 2.9745667, 0.0, -1.9540362,
        0.07869461, 3.7887356, 1.4304072, -2.5374079, -0.013406798, 0.9244718, 0.0, -3.0096276, 3.931828,
        0.75723404, 2.2083561, 0.89077985, -1.1843958, 0.09672287, 0.5474233, -0.8788886, 3.4249701, 3.6370726,
        1.5847692, 2.2020597, -0.7279772, -0.26916963, 0.0, -2.3971205, 0.0, 3.1548264, -3.4553664, 3.292312,
        -1.2696935, 2.3258502, -3.1962435, 0.0, 2.580718, 0.0, 1.2351947, -0.589316, -3.6582053,
    ];
    let spec =
        pinned(Pass::BackwardData, 8, (3, Rounding::Even), (2, Rounding::Truncate), AccumulatorKind::Exact, 45136);
    let cfg = ArrayConfig {
        rows: 8,
        cols: 16,
        shadow_stationary: true,
        double_buffered_accumulators: false,
        full_width: true,
        overlap_folds: true,
    };
    let c = Case { spec, cfg, x: (x, 79, 2), y: (y, 79, 1) };
    fidelities_agree(&c).unwrap();
}
