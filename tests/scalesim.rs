//! SCALE-Sim compatibility: the closed forms of `fastbfp::array::scalesim` against SCALE-Sim
//! v3's own `COMPUTE_REPORT.csv`s recorded under `traces/scalesim/` (no Python, no network), and
//! the topology/config parsers on malformed input.

use std::fs;
use std::path::{Path, PathBuf};

use fastbfp::array::scalesim::{
    compute_cycles, folds, mapping_efficiency, overall_utilization, parse_topology, parse_topology_auto, report,
    Dataflow, LayerError, ScaleSimConfig, ScaleSimError, ScaleSimLayer, TopologyFormat,
};
use proptest::prelude::*;

fn traces() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/scalesim")
}

fn recorded_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(traces())
        .expect("traces/scalesim exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.join("topology.csv").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// One row of a recorded `COMPUTE_REPORT.csv` (SCALE-Sim 3.0.0 columns).
struct Row {
    layer_id: usize,
    total_cycles: u64,
    stall_cycles: u64,
    overall_util: f64,
    mapping_eff: f64,
    compute_util: f64,
}

fn read_report(path: &Path) -> Vec<Row> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles"), "{header}");
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            let num = |i: usize| f[i].parse::<f64>().unwrap_or_else(|e| panic!("{}: {l}: {e}", path.display()));
            Row {
                layer_id: f[0].parse().unwrap(),
                total_cycles: f[2].parse().unwrap(),
                stall_cycles: f[3].parse().unwrap(),
                overall_util: num(4),
                mapping_eff: num(5),
                compute_util: num(6),
            }
        })
        .collect()
}

#[test]
fn recorded_topologies_match_scalesim_exactly() {
    let dirs = recorded_dirs();
    let mut formats = Vec::new();
    let mut non_square = false;
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let topo = fs::read_to_string(dir.join("topology.csv")).unwrap();
        let cfg = ScaleSimConfig::parse(&fs::read_to_string(dir.join("config.cfg")).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (format, layers) = parse_topology_auto(&topo).unwrap_or_else(|e| panic!("{name}: {e}"));
        formats.push(format);
        non_square |= cfg.rows != cfg.cols;
        for df in Dataflow::ALL {
            let rows = read_report(&dir.join(format!("compute_report_{df}.csv")));
            assert_eq!(rows.len(), layers.len(), "{name} {df}: layer count");
            for (i, (row, (layer_name, layer))) in rows.iter().zip(&layers).enumerate() {
                assert_eq!(row.layer_id, i);
                assert_eq!(row.stall_cycles, 0, "{name} {df} {layer_name}: recorded with stalls");
                let ours = report(layer, df, cfg.rows, cfg.cols);
                let theirs = (row.total_cycles, row.overall_util, row.mapping_eff, row.compute_util);
                let mine =
                    (ours.compute_cycles, ours.overall_util_pct, ours.mapping_efficiency_pct, ours.compute_util_pct);
                // Floats compared bit for bit: SCALE-Sim prints Python's round-trip repr.
                if theirs.0 != mine.0
                    || theirs.1.to_bits() != mine.1.to_bits()
                    || theirs.2.to_bits() != mine.2.to_bits()
                    || theirs.3.to_bits() != mine.3.to_bits()
                {
                    mismatches.push(format!("{name} {df} {layer_name}: SCALE-Sim {theirs:?}, fastbfp {mine:?}"));
                }
                checked += 1;
            }
        }
    }
    assert!(mismatches.is_empty(), "{} of {checked} layer runs differ:\n{}", mismatches.len(), mismatches.join("\n"));
    assert!(dirs.len() >= 3, "at least three recorded topologies");
    assert!(formats.contains(&TopologyFormat::Conv) && formats.contains(&TopologyFormat::Gemm));
    assert!(non_square, "one recording on a non-square array");
    eprintln!("{checked} layer runs over {} topologies match SCALE-Sim", dirs.len());
}

/// AlexNet Conv3 (13x13x256, 3x3, 384 filters) on a 32x32 array, from a SCALE-Sim 3.0.0 run too
/// large to record (about 20 s per dataflow): "Total Cycles" of COMPUTE_REPORT.csv.
#[test]
fn alexnet_conv3_32x32() {
    let layer = ScaleSimLayer::conv(13, 13, 3, 3, 256, 384, 1);
    assert_eq!((layer.ofmap_px, layer.window, layer.filters), (121, 2304, 384));
    assert_eq!(compute_cycles(&layer, Dataflow::Ws, 32, 32), 185_759);
    assert_eq!(compute_cycles(&layer, Dataflow::Os, 32, 32), 113_567);
    assert_eq!(compute_cycles(&layer, Dataflow::Is, 32, 32), 137_663);
    assert_eq!(folds(&layer, Dataflow::Ws, 32, 32), (72, 12));
    assert_eq!(mapping_efficiency(&layer, Dataflow::Os, 32, 32), 94.53125);
    assert_eq!(overall_utilization(&layer, 113_567, 32, 32), 92.05491031725765);
}

#[test]
fn conv_output_extent_is_scalesims_ceiling() {
    // ceil((14 - 3 + 3) / 3) = 5 rows, ceil((9 - 2 + 3) / 3) = 4 columns.
    let layer = ScaleSimLayer::conv(14, 9, 3, 2, 3, 20, 3);
    assert_eq!((layer.ofmap_px, layer.window, layer.filters), (20, 18, 20));
    assert_eq!(ScaleSimLayer::gemm(7, 5, 3), ScaleSimLayer { ofmap_px: 7, window: 3, filters: 5 });
}

const CONV_HEADER: &str =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";

#[test]
fn depthwise_layers_expand_per_channel() {
    let text = format!("{CONV_HEADER}\n\tDPConv, 8, 8, 3, 3, 3, 2, 1,#dw\nPW, 6, 6, 1, 1, 3, 4, 1, 1:1,\n");
    let layers = parse_topology(&text, TopologyFormat::Conv).unwrap();
    let names: Vec<&str> = layers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["DPConvChannel_0", "DPConvChannel_1", "DPConvChannel_2", "PW"]);
    assert_eq!(layers[0].1, ScaleSimLayer { ofmap_px: 36, window: 9, filters: 2 });
}

#[test]
fn malformed_topologies_are_typed_errors() {
    let conv = |rows: &str| parse_topology(&format!("{CONV_HEADER}{rows}"), TopologyFormat::Conv);
    let gemm = |rows: &str| parse_topology(&format!("Layer, M, N, K,\n{rows}"), TopologyFormat::Gemm);
    assert_eq!(conv(""), Err(ScaleSimError::NoLayers));
    assert_eq!(parse_topology("", TopologyFormat::Gemm), Err(ScaleSimError::NoLayers));
    // No trailing comma: SCALE-Sim drops the last field, so the stride is missing.
    assert!(matches!(conv("C, 8, 8, 3, 3, 1, 1, 1"), Err(ScaleSimError::FieldCount { line: 2, found: 7, .. })));
    assert!(matches!(gemm("G, 1, 2, 3"), Err(ScaleSimError::FieldCount { line: 2, found: 3, .. })));
    assert!(matches!(conv("C, 8, x, 3, 3, 1, 1, 1,"), Err(ScaleSimError::BadInt { field: "IFMAP width", .. })));
    assert!(matches!(gemm("G, 1, -2, 3,"), Err(ScaleSimError::BadInt { field: "N", .. })));
    assert!(matches!(gemm("G, 1, 2, 3, 2-4,"), Err(ScaleSimError::BadSparsity { .. })));
    assert!(matches!(
        conv("C, 8, 8, 9, 3, 1, 1, 1,"),
        Err(ScaleSimError::Layer { line: 2, source: LayerError::FilterTooLarge { what: "height", .. } })
    ));
    assert!(matches!(
        conv("C, 8, 8, 3, 3, 1, 1, 0,"),
        Err(ScaleSimError::Layer { source: LayerError::Zero("stride"), .. })
    ));
    assert!(matches!(gemm("G, 0, 2, 3,"), Err(ScaleSimError::Layer { source: LayerError::Zero("M"), .. })));
    assert!(matches!(
        gemm("G, 4294967296, 4294967296, 4,"),
        Err(ScaleSimError::Layer { source: LayerError::Overflow(_), .. })
    ));
    assert!(matches!(TopologyFormat::detect("h\nA, 1, 2,\n"), Err(ScaleSimError::UnknownFormat { found: 3, .. })));
    assert_eq!(TopologyFormat::detect("h\n\nA, 1, 2, 3,\n"), Ok(TopologyFormat::Gemm));
}

const CFG: &str = "[general]\nrun_name = r\n\n[architecture_presets]\nArrayHeight:    8\nArrayWidth:     32\n\
                   Dataflow : is\n# comment\n\n[sparsity]\nSparsitySupport : false\n";

#[test]
fn config_parses_and_rejects() {
    let c = ScaleSimConfig::parse(CFG).unwrap();
    assert_eq!(
        (c.rows, c.cols, c.dataflow, c.sparsity_support, c.run_name.as_str()),
        (8, 32, Dataflow::Is, false, "r")
    );
    let err = |from: &str, to: &str| ScaleSimConfig::parse(&CFG.replace(from, to)).unwrap_err();
    assert!(matches!(err("ArrayHeight:    8\n", ""), ScaleSimError::MissingKey { key: "ArrayHeight", .. }));
    assert!(matches!(err("ArrayWidth:     32", "ArrayWidth: 0"), ScaleSimError::BadValue { key: "ArrayWidth", .. }));
    assert!(matches!(err("Dataflow : is", "Dataflow : rs"), ScaleSimError::BadValue { key: "Dataflow", line: 7, .. }));
    assert!(
        matches!(err("ArrayWidth:     32", "ArrayWidht: 32"), ScaleSimError::MissingKey { key: "ArrayWidth", unknown, .. } if unknown == [(6, "ArrayWidht".to_string())])
    );
    let e = err("ArrayWidth:     32", "ArrayWidth: -3");
    assert_eq!(e.line(), Some(6));
    assert_eq!(
        e.located("c.cfg"),
        "c.cfg:6: [architecture_presets] ArrayWidth = \"-3\" is invalid; allowed a whole number of 1 or more"
    );
    assert!(matches!(err("# comment", "nonsense"), ScaleSimError::ConfigSyntax { line: 8, .. }));
    assert!(ScaleSimConfig::parse(&CFG.replace("false", "True")).unwrap().sparsity_support);
}

proptest! {
    #[test]
    fn parsers_never_panic(text in "(?s).{0,300}", lines in proptest::collection::vec(
        proptest::collection::vec(prop_oneof![Just(String::new()), "[0-9]{1,3}", "-?[0-9]{1,25}", "DP[a-z]?", "[ :,#=x]"], 0..11),
        0..5,
    )) {
        let _ = parse_topology_auto(&text);
        let _ = ScaleSimConfig::parse(&text);
        let built: String = lines.iter().map(|l| l.join(",") + ",\n").collect();
        let body = format!("header\n{built}");
        for fmt in [TopologyFormat::Conv, TopologyFormat::Gemm] {
            if let Ok(layers) = parse_topology(&body, fmt) {
                for (_, layer) in layers.iter().take(4) {
                    for df in Dataflow::ALL {
                        let _ = report(layer, df, 3, 5);
                    }
                }
            }
        }
    }
}
