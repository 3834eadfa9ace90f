//! A SCALE-Sim topology CSV as a [`Workload`]: every SCALE-Sim layer becomes one layer of
//! batch 1 whose forward GEMM has SCALE-Sim's shape, built through the same validation and
//! graph checks as a workload file (`docs/scalesim.md`, "Topologies as `fastbfp run`
//! workloads").
//!
//! | topology line | layer | forward GEMM `N x K x B` |
//! |---|---|---|
//! | conv `name, H, W, R, S, C, F, stride` | `conv2d`, no padding, input `(Ho-1)*stride + R` x `(Wo-1)*stride + S` | `F x RSC x HoWo` |
//! | GEMM `name, M, N, K` | `linear(in_features: K, out_features: N, tokens: M)` | `N x K x M` |
//!
//! `Ho`, `Wo` are SCALE-Sim's `ceil((H - R + stride) / stride)`; when the stride does not divide
//! `H - R` that is one more row than the ifmap gives, so the input is taken that much larger
//! (SCALE-Sim's last window reads past the ifmap edge). A depthwise (`DP`) line is one
//! single-channel layer per channel, named `<name>Channel_<i>` as SCALE-Sim names them.

use std::path::Path;

use crate::array::scalesim::{parse_topology_layers, RowShape, ScaleSimError, TopologyFormat, TopologyLayer};
use crate::gemm::Pass;

use super::error::{Reporter, WorkloadError};
use super::schema::{DataFile, LayerFile, OpFile, PassFile, PolicyFile, WorkloadFile};
use super::{graph, validate, Workload, INPUT};

/// Reads the topology at `path` (size-limited, as every text input) and builds its workload;
/// see [`from_scalesim_topology`].
pub fn load_scalesim_topology(
    path: &Path,
    format: Option<TopologyFormat>,
    passes: &[Pass],
) -> Result<Workload, WorkloadError> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES)
        .map_err(|error| WorkloadError::Io { path: path.to_path_buf(), error })?;
    from_scalesim_topology(&text, path, format, passes)
}

/// The workload of a SCALE-Sim topology's text (`origin` names it in messages and gives the
/// workload's name: the file stem, `<folder>/topology` for a file named `topology.csv`): one layer per
/// SCALE-Sim layer, in order, batch 1, one iteration, the fixed precision policy, synthetic
/// data, and `passes` (training order whatever the order given; empty means forward only).
/// `format` is detected from the first layer line when `None`.
///
/// The rows are taken as the layers of one network, in order: the first reads the network
/// input (so it has no backward-data pass, like any network's first layer) and every later
/// one has its input gradient computed. Names that are empty, `input` or used before get
/// `_<LayerID>` appended. Errors name the topology's line.
pub fn from_scalesim_topology(
    text: &str,
    origin: &Path,
    format: Option<TopologyFormat>,
    passes: &[Pass],
) -> Result<Workload, WorkloadError> {
    let at = |e: ScaleSimError| {
        let line = e.line().unwrap_or(1);
        let col = match &e {
            ScaleSimError::BadInt { index, .. } => field_column(text, line, *index),
            _ => 1,
        };
        WorkloadError::Parse { file: origin.to_path_buf(), line, col, field: String::new(), message: e.detail() }
    };
    let format = match format {
        Some(f) => f,
        None => TopologyFormat::detect(text).map_err(at)?,
    };
    let rows = parse_topology_layers(text, format).map_err(at)?;
    let names = unique_names(&rows);
    let layers: Vec<LayerFile> = rows
        .iter()
        .zip(&names)
        .map(|(row, name)| LayerFile { name: name.clone(), op: op(row), inputs: Some(vec![INPUT.to_string()]) })
        .collect();
    let mut pass_files: Vec<PassFile> = Vec::new();
    for p in passes {
        let pf = match p {
            Pass::Forward => PassFile::Forward,
            Pass::BackwardData => PassFile::BackwardData,
            Pass::BackwardWeight => PassFile::BackwardWeight,
        };
        if !pass_files.contains(&pf) {
            pass_files.push(pf);
        }
    }
    if pass_files.is_empty() {
        pass_files.push(PassFile::Forward);
    }
    let mut stem = origin.file_stem().map_or("scalesim".into(), |s| s.to_string_lossy().into_owned());
    // `traces/scalesim/<net>/topology.csv`: the folder names the network.
    if stem == "topology" {
        if let Some(dir) = origin.parent().and_then(Path::file_name) {
            stem = format!("{}/{stem}", dir.to_string_lossy());
        }
    }
    let file = WorkloadFile {
        name: if stem.trim().is_empty() { "scalesim".into() } else { stem },
        batch: 1,
        iterations: 1,
        passes: Some(pass_files),
        precision: PolicyFile::Fixed,
        data: DataFile::Synthetic { seed: 1 },
        input: None,
        layers,
        training: None,
    };
    // The checks of a workload file; their field paths (`layers[3].op.kernel`) are turned into
    // the topology line of that layer.
    let rep = Reporter::new(origin, "");
    let relocate = |e: WorkloadError| relocate(e, origin, &rows, &names);
    let parts = validate::validate(&file, &rep).map_err(relocate)?;
    let mut layers = graph::build(parts.layers, parts.input, &rep).map_err(relocate)?;
    for l in layers.iter_mut().skip(1) {
        l.input_grads = vec![true];
    }
    Ok(Workload {
        name: parts.name,
        batch: parts.batch,
        iterations: parts.iterations,
        passes: parts.passes,
        layers,
        input: parts.input,
        precision: parts.policy,
        data: parts.data,
        training: parts.training,
        origin: origin.to_path_buf(),
    })
}

/// The schema op of one SCALE-Sim layer (sizes past `i64` saturate; validation refuses them).
fn op(row: &TopologyLayer) -> OpFile {
    let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    match row.shape {
        RowShape::Conv { filter_h, filter_w, channels, filters, stride, .. } => {
            let (ho, wo) = row.shape.ofmap_hw();
            let extent =
                |o: u64, f: u64| (o - 1).checked_mul(stride).and_then(|x| x.checked_add(f)).unwrap_or(u64::MAX);
            OpFile::Conv2d {
                in_channels: i(channels),
                out_channels: i(filters),
                kernel: (i(filter_h), i(filter_w)),
                stride: (i(stride), i(stride)),
                padding: (0, 0),
                input_hw: (i(extent(ho, filter_h)), i(extent(wo, filter_w))),
                groups: 1,
                bias: false,
            }
        }
        RowShape::Gemm { m, n, k } => {
            OpFile::Linear { in_features: i(k), out_features: i(n), tokens: Some(i(m)), bias: false }
        }
    }
}

/// Layer names as SCALE-Sim gives them, made valid for a workload: empty, `input` or repeated
/// names get `_<LayerID>` appended (more underscores until unique).
fn unique_names(rows: &[TopologyLayer]) -> Vec<String> {
    let mut used = std::collections::HashSet::with_capacity(rows.len());
    rows.iter()
        .enumerate()
        .map(|(id, row)| {
            let mut name = row.name.clone();
            if name.trim().is_empty() || name == INPUT || used.contains(&name) {
                name = format!("{name}_{id}");
                while used.contains(&name) {
                    name.push('_');
                }
            }
            used.insert(name.clone());
            name
        })
        .collect()
}

/// A validation error about `layers[i]...` placed on the topology line of layer `i`.
fn relocate(e: WorkloadError, origin: &Path, rows: &[TopologyLayer], names: &[String]) -> WorkloadError {
    let Some(field) = e.field().map(str::to_string) else { return e };
    let index = field.strip_prefix("layers[").and_then(|r| r.split(']').next()).and_then(|n| n.parse::<usize>().ok());
    let message = match &e {
        WorkloadError::Parse { message, .. } | WorkloadError::Graph { message, .. } => message.clone(),
        _ => e.to_string(),
    };
    match index.and_then(|i| Some((rows.get(i)?, names.get(i)?))) {
        Some((row, name)) => WorkloadError::Parse {
            file: origin.to_path_buf(),
            line: row.line,
            col: 1,
            field,
            message: format!("layer `{name}` is too large for fastbfp's workloads: {message}"),
        },
        None => WorkloadError::Parse { file: origin.to_path_buf(), line: 1, col: 1, field, message },
    }
}

/// The 1-based column (in characters) where field `index` (1-based) of line `line` starts.
fn field_column(text: &str, line: usize, index: usize) -> usize {
    let Some(row) = text.lines().nth(line.saturating_sub(1)) else { return 1 };
    let mut col = 0;
    for (i, f) in row.split(',').enumerate() {
        if i + 1 == index {
            let lead = f.chars().take_while(|c| c.is_whitespace()).count();
            return col + lead + 1;
        }
        col += f.chars().count() + 1;
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONV: &str = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n\
                        Conv1, 56, 56, 11, 11, 3, 24, 4,\nDPConv2, 16, 16, 3, 3, 2, 1, 1,\nConv1, 4, 4, 3, 3, 64, 96, 1,\n";

    #[test]
    fn forward_gemms_have_scalesims_shapes() {
        let wl = from_scalesim_topology(CONV, Path::new("t.csv"), None, &[]).unwrap();
        let names: Vec<&str> = wl.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Conv1", "DPConv2Channel_0", "DPConv2Channel_1", "Conv1_3"]);
        let gemms = wl.lower();
        assert_eq!(gemms.len(), 4, "forward only by default");
        // (N, K, B) = (F, W, P): Conv1 has SCALE-Sim's 13 x 13 outputs (stride 4 does not divide 45).
        assert_eq!(gemms[0].dims(), (24, 363, 169));
        assert_eq!(gemms[1].dims(), (1, 9, 196));
        assert_eq!(gemms[3].dims(), (96, 576, 4));
    }

    #[test]
    fn gemm_rows_and_training_passes() {
        let text = "Layer, M, N, K,\nA, 64, 300, 100,\nB, 1, 77, 33,\n";
        let all = [Pass::BackwardWeight, Pass::Forward, Pass::BackwardData];
        let wl = from_scalesim_topology(text, Path::new("g.csv"), None, &all).unwrap();
        assert_eq!(wl.passes, Pass::ALL.to_vec());
        let g: Vec<(String, Pass, (usize, usize, usize))> =
            wl.lower().into_iter().map(|g| (g.layer.clone(), g.pass, g.dims())).collect();
        assert_eq!(g[0], ("A".into(), Pass::Forward, (300, 100, 64)));
        // The first layer reads the network input: no backward-data; the second has all three.
        assert_eq!(g.len(), 5, "{g:?}");
        assert!(g.iter().any(|x| x.0 == "B" && x.1 == Pass::BackwardData));
        assert!(!g.iter().any(|x| x.0 == "A" && x.1 == Pass::BackwardData));
    }

    #[test]
    fn errors_name_the_topology_line() {
        let bad = "Layer, M, N, K,\nA, 64, 300, 100,\nB, 1, x, 33,\n";
        let e = from_scalesim_topology(bad, Path::new("g.csv"), None, &[]).unwrap_err().to_string();
        assert!(e.starts_with("g.csv:3:7: field 3 (N)"), "{e}");
        let big = "Layer, M, N, K,\nA, 64, 300, 100,\nHuge, 1, 33554432, 3,\n";
        let e = from_scalesim_topology(big, Path::new("g.csv"), None, &[]).unwrap_err().to_string();
        assert!(e.starts_with("g.csv:3:1: layer `Huge` is too large") && e.contains("out_features"), "{e}");
    }
}
