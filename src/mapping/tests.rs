//! Mapping tests: the canonical mapping is the fold-by-fold schedule; every mapping's folds
//! cover each output and reduction group once, in increasing reduction order per output.

use super::*;
use crate::array::{plan_folds, Fold, GemmGeometry};
use crate::gemm::Pass;

/// The fold-by-fold schedule as `array::plan_folds` wrote it per pass before it became the
/// canonical mapping: the reference the canonical mapping is checked against.
fn reference_plan_folds(geo: &GemmGeometry, rows: usize, cols: usize) -> Vec<Fold> {
    let tiles = |n: usize, t: usize| (0..n.div_ceil(t)).map(move |i| (i * t, t.min(n - i * t)));
    let mut folds = Vec::new();
    let mut push = |row0, rows_used, col0, cols_used, stream_len, first, last| {
        let index = folds.len();
        folds.push(Fold {
            index,
            row0,
            rows_used,
            col0,
            cols_used,
            stream0: 0,
            stream_len,
            first_of_reduction: first,
            last_of_reduction: last,
        });
    };
    let nq = geo.reduction_groups;
    match geo.pass {
        Pass::Forward => {
            let last_q = nq.div_ceil(cols) - 1;
            for (r0, ru) in tiles(geo.out_rows, rows) {
                for (i, (c0, cu)) in tiles(nq, cols).enumerate() {
                    push(r0, ru, c0, cu, geo.out_cols, i == 0, i == last_q);
                }
            }
        }
        Pass::BackwardData => {
            let last_q = nq.div_ceil(rows) - 1;
            for (c0, cu) in tiles(geo.out_rows, cols) {
                for (i, (r0, ru)) in tiles(nq, rows).enumerate() {
                    push(r0, ru, c0, cu, geo.out_cols, i == 0, i == last_q);
                }
            }
        }
        Pass::BackwardWeight => {
            for (r0, ru) in tiles(geo.out_rows, rows) {
                for (c0, cu) in tiles(geo.out_cols, cols) {
                    push(r0, ru, c0, cu, nq, true, true);
                }
            }
        }
    }
    folds
}

fn geo(pass: Pass, out_rows: usize, out_cols: usize, q: usize) -> GemmGeometry {
    GemmGeometry { pass, out_rows, out_cols, reduction_groups: q, x_chunks: 2, y_chunks: 1 }
}

#[test]
fn the_canonical_mapping_is_the_fold_schedule() {
    for pass in [Pass::Forward, Pass::BackwardData, Pass::BackwardWeight] {
        for (n, b, q) in [(70, 9, 5), (10, 3, 7), (5, 6, 3), (64, 100, 40), (0, 5, 3), (5, 0, 3), (1, 1, 1)] {
            let g = geo(pass, n, b, q);
            let d = PassDims::of(&g);
            for (r, c) in [(4, 3), (1, 1), (32, 8), (3, 70)] {
                let m = Mapping::canonical(&d, r, c);
                let want = reference_plan_folds(&g, r, c);
                assert_eq!(m.plan_folds(&d, r, c), want, "{pass:?} {n} {b} {q} on {r} x {c}");
                assert_eq!(plan_folds(&g, r, c), want);
                if !d.extent.contains(&0) {
                    assert_eq!(m.fold_count(&d, r, c), want.len() as u64);
                }
            }
        }
    }
}

#[test]
fn every_mapping_covers_each_product_once_in_reduction_order() {
    for pass in [Pass::Forward, Pass::BackwardData, Pass::BackwardWeight] {
        let g = geo(pass, 11, 13, 7);
        let d = PassDims::of(&g);
        for order in search::ORDERS {
            for tile in [[4, 3, 5], [8, 6, 13], [12, 9, 1], [100, 100, 100]] {
                let m = Mapping { tile, order, streamed: [false; 2] }.legalised(&d, 4, 3);
                let folds = m.plan_folds(&d, 4, 3);
                assert_eq!(folds.len() as u64, m.fold_count(&d, 4, 3));
                // (row, col, stream) cells covered, and per output the reduction position seen last.
                let mut seen = std::collections::HashSet::new();
                let mut last_red: std::collections::HashMap<(usize, usize), usize> = Default::default();
                for f in &folds {
                    for r in f.row0..f.row0 + f.rows_used {
                        for c in f.col0..f.col0 + f.cols_used {
                            for s in f.stream0..f.stream0 + f.stream_len {
                                assert!(seen.insert((r, c, s)), "{m:?} covers ({r},{c},{s}) twice");
                                let p = [r, c, s];
                                let red = p[d.reduction.index()];
                                let [oa, ob] = d.dims(Role::Out);
                                let out = (p[oa.index()], p[ob.index()]);
                                if let Some(&prev) = last_red.get(&out) {
                                    assert!(red >= prev || d.reduction == Dim::Stream, "{m:?} reduction out of order");
                                }
                                last_red.insert(out, red);
                            }
                        }
                    }
                }
                assert_eq!(seen.len(), d.extent.iter().product::<usize>());
                // First and last of reduction mark the ends of each output's reduction.
                for f in &folds {
                    let (s, e) = match d.reduction {
                        Dim::Row => (f.row0, f.row0 + f.rows_used),
                        Dim::Col => (f.col0, f.col0 + f.cols_used),
                        Dim::Stream => (0, d.extent[2]),
                    };
                    assert_eq!(f.first_of_reduction, s == 0);
                    assert_eq!(f.last_of_reduction, e == d.len(d.reduction));
                }
            }
        }
    }
}

#[test]
fn refetch_follows_the_loop_order() {
    let g = geo(Pass::Forward, 64, 100, 8);
    let d = PassDims::of(&g);
    // Stream outermost, rows inside: W (rows x cols) is fetched once per stream tile; A (cols x
    // stream) once; outputs never spill (the reduction, cols, is one tile).
    let m = Mapping { tile: [32, 8, 10], order: [Dim::Stream, Dim::Row, Dim::Col], streamed: [false; 2] };
    assert_eq!(m.refetch(&d, Role::X), 10);
    assert_eq!(m.refetch(&d, Role::Y), 1);
    assert!(!m.spills(&d));
    // Rows outermost: A is fetched once per row tile.
    let m = Mapping { tile: [32, 8, 10], order: [Dim::Row, Dim::Stream, Dim::Col], streamed: [false; 2] };
    assert_eq!(m.refetch(&d, Role::Y), 2);
    assert_eq!(m.refetch(&d, Role::X), 1);
    // The reduction split in two tiles, outside the stream loop: partial sums spill.
    let m = Mapping { tile: [64, 4, 10], order: [Dim::Col, Dim::Stream, Dim::Row], streamed: [false; 2] };
    assert!(m.spills(&d));
    assert_eq!(m.refetch(&d, Role::Out), 2);
}

#[test]
fn forced_mappings_parse_and_legalise() {
    let ForcedMapping(m) = "64x0x100:stream>row>col".parse().unwrap();
    assert_eq!(m.order, [Dim::Stream, Dim::Row, Dim::Col]);
    let d = PassDims::of(&geo(Pass::Forward, 50, 1000, 9));
    assert_eq!(m.legalised(&d, 32, 4).tile, [50, 9, 100]);
    for bad in ["64x32:row>col>stream", "1x2x3:row>row>col", "axbxc:row>col>stream", "1x2x3"] {
        assert!(bad.parse::<ForcedMapping>().is_err(), "{bad}");
    }
}
