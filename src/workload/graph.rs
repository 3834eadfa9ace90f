//! The layer graph: names resolved to a `petgraph` DAG (producer -> consumer), checked for
//! duplicates, unknown input names and cycles, ordered topologically (file order wherever
//! the edges allow), and walked in that order to infer every tensor's shape and check that
//! connected layers agree, and which gradients training needs.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use super::error::{Reporter, WorkloadError};
use super::model::{Layer, Op, Shape};
use super::validate::LayerDraft;

/// The name that stands for the network input.
pub const INPUT: &str = "input";

/// Checks the graph of `drafts` and returns the layers in topological order with their
/// shapes. `input` is the declared network input, if any.
pub(crate) fn build(
    drafts: Vec<LayerDraft>,
    input: Option<Shape>,
    rep: &Reporter<'_>,
) -> Result<Vec<Layer>, WorkloadError> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(drafts.len());
    for (i, d) in drafts.iter().enumerate() {
        if let Some(&first) = index.get(d.name.as_str()) {
            let msg = format!(
                "layers[{i}].name: layer name `{}` is already used by layers[{first}]; allowed a unique name",
                d.name
            );
            return Err(rep.graph(&format!("layers[{i}].name"), &[&d.name], msg));
        }
        index.insert(&d.name, i);
    }
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(drafts.len(), drafts.len());
    let nodes: Vec<NodeIndex> = (0..drafts.len()).map(|i| graph.add_node(i)).collect();
    for (i, d) in drafts.iter().enumerate() {
        check_arity(i, d, rep)?;
        for (j, name) in d.inputs.iter().enumerate() {
            if name == INPUT {
                continue;
            }
            let Some(&p) = index.get(name.as_str()) else {
                let msg = format!(
                    "layers[{i}].inputs[{j}]: layer `{}` takes input `{name}`, but no layer has that name; allowed `input` or the name of a layer",
                    d.name
                );
                return Err(rep.graph(&format!("layers[{i}].inputs[{j}]"), &[&d.name, name], msg));
            };
            graph.add_edge(nodes[p], nodes[i], ());
        }
    }
    if toposort(&graph, None).is_err() {
        return Err(cycle_error(&graph, &drafts, rep));
    }
    let order = stable_order(&graph, &nodes);
    let mut shapes: HashMap<&str, Shape> = HashMap::with_capacity(drafts.len());
    let mut grads: HashMap<&str, bool> = HashMap::with_capacity(drafts.len());
    let mut layers = Vec::with_capacity(drafts.len());
    for &i in &order {
        let d = &drafts[i];
        let input_shapes: Vec<Option<Shape>> =
            d.inputs.iter().map(|n| if n == INPUT { input } else { shapes.get(n.as_str()).copied() }).collect();
        let (op, output) = infer(i, d, &input_shapes, rep)?;
        let input_grads: Vec<bool> = d.inputs.iter().map(|n| n != INPUT && grads[n.as_str()]).collect();
        let trainable = matches!(op, Op::Conv2d(_) | Op::Linear(_) | Op::BatchNorm);
        grads.insert(&d.name, trainable || input_grads.iter().any(|&g| g));
        shapes.insert(&d.name, output);
        layers.push(Layer {
            name: d.name.clone(),
            op,
            inputs: d.inputs.clone(),
            input_shapes,
            input_grads,
            output,
            file_index: i,
        });
    }
    Ok(layers)
}

fn check_arity(i: usize, d: &LayerDraft, rep: &Reporter<'_>) -> Result<(), WorkloadError> {
    let n = d.inputs.len();
    let (ok, want) = match d.op {
        Op::Matmul(_) => (n == 2, "exactly 2 inputs: [left, right]"),
        Op::Add => (n >= 2, "2 or more inputs"),
        _ => (n == 1, "exactly 1 input"),
    };
    if ok {
        return Ok(());
    }
    let msg = format!("layers[{i}].inputs: layer `{}` ({}) has {n} inputs; allowed {want}", d.name, d.op.kind());
    Err(rep.graph(&format!("layers[{i}].inputs"), &[&d.name], msg))
}

/// A cycle of `graph` (which has one), as an error listing its layers in order.
fn cycle_error(graph: &DiGraph<usize, ()>, drafts: &[LayerDraft], rep: &Reporter<'_>) -> WorkloadError {
    let sccs = tarjan_scc(graph);
    let scc = sccs
        .iter()
        .filter(|c| c.len() > 1 || graph.contains_edge(c[0], c[0]))
        .min_by_key(|c| c.iter().map(|n| graph[*n]).min())
        .cloned()
        .unwrap_or_default();
    // Walk from the member that comes first in the file along edges inside the component
    // until a layer repeats: the walk's tail is a cycle.
    let mut path: Vec<NodeIndex> = Vec::new();
    let mut at = scc.iter().copied().min_by_key(|n| graph[*n]);
    while let Some(n) = at {
        if let Some(k) = path.iter().position(|&p| p == n) {
            path.drain(..k);
            break;
        }
        path.push(n);
        at = graph.neighbors(n).filter(|m| scc.contains(m)).min_by_key(|m| graph[*m]);
    }
    let names: Vec<&str> = path.iter().map(|n| drafts[graph[*n]].name.as_str()).collect();
    let mut shown = names.clone();
    shown.extend(names.first());
    let first = path.first().map_or(0, |n| graph[*n]);
    let msg = format!(
        "layers[{first}].inputs: layers form a cycle: {}; allowed a directed acyclic graph (each layer's inputs computed before it)",
        shown.join(" -> ")
    );
    rep.graph(&format!("layers[{first}].inputs"), &names, msg)
}

/// Kahn's algorithm taking, among the ready layers, the one first in the file.
fn stable_order(graph: &DiGraph<usize, ()>, nodes: &[NodeIndex]) -> Vec<usize> {
    let mut indegree: Vec<usize> =
        nodes.iter().map(|&n| graph.neighbors_directed(n, petgraph::Direction::Incoming).count()).collect();
    let mut ready: BinaryHeap<Reverse<usize>> = (0..nodes.len()).filter(|&i| indegree[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for m in graph.neighbors(nodes[i]) {
            let j = graph[m];
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(Reverse(j));
            }
        }
    }
    order
}

/// Checks `d` against its inputs' shapes; returns its op (a linear's tokens resolved) and
/// output shape.
fn infer(i: usize, d: &LayerDraft, inputs: &[Option<Shape>], rep: &Reporter<'_>) -> Result<(Op, Shape), WorkloadError> {
    let name = d.name.as_str();
    let src = |j: usize| d.inputs[j].as_str();
    let op_path = |f: &str| format!("layers[{i}].op.{f}");
    let mismatch = |field: &str, j: usize, what: String, have: String, allowed: String| {
        let msg = format!(
            "{}: layer `{name}` ({}) {what}, but its input `{}` produces {have}; allowed {allowed}",
            op_path(field),
            d.op.kind(),
            src(j)
        );
        rep.graph(&op_path(field), &[name, src(j)], msg)
    };
    let need_shape = |j: usize| {
        let path = format!("layers[{i}].inputs[{j}]");
        let msg = format!(
            "{path}: layer `{name}` ({}) needs the shape of its input `input`; allowed: declare it at the top level, e.g. `input: image(channels: 3, hw: (32, 32))`",
            d.op.kind()
        );
        rep.graph(&path, &[name], msg)
    };
    let out = match d.op {
        Op::Conv2d(c) => {
            match inputs[0] {
                Some(Shape::Image { channels, height, width }) => {
                    if channels != c.in_channels {
                        let what = format!("has in_channels = {}", c.in_channels);
                        return Err(mismatch(
                            "in_channels",
                            0,
                            what,
                            format!("{channels} channels"),
                            format!("in_channels = {channels}"),
                        ));
                    }
                    if (height, width) != c.input_hw {
                        let what = format!("has input_hw = ({}, {})", c.input_hw.0, c.input_hw.1);
                        return Err(mismatch(
                            "input_hw",
                            0,
                            what,
                            format!("{height}x{width} maps"),
                            format!("input_hw = ({height}, {width})"),
                        ));
                    }
                }
                Some(s @ Shape::Tokens { .. }) => {
                    return Err(mismatch(
                        "in_channels",
                        0,
                        "takes an image".into(),
                        s.to_string(),
                        "an image-producing input".into(),
                    ))
                }
                None => {}
            }
            let (height, width) = c.output_hw();
            (d.op, Shape::Image { channels: c.out_channels, height, width })
        }
        Op::Linear(mut l) => {
            let tokens = match inputs[0] {
                Some(s @ Shape::Image { .. }) => {
                    if l.in_features as u64 != s.elements() {
                        let what = format!("has in_features = {}", l.in_features);
                        let allowed = format!("in_features = {} (the input flattened)", s.elements());
                        return Err(mismatch("in_features", 0, what, s.to_string(), allowed));
                    }
                    if d.tokens_given.is_some_and(|t| t != 1) {
                        return Err(mismatch(
                            "tokens",
                            0,
                            format!("has tokens = {}", l.tokens),
                            s.to_string(),
                            "tokens = 1".into(),
                        ));
                    }
                    1
                }
                Some(s @ Shape::Tokens { tokens, features }) => {
                    if l.in_features != features {
                        let what = format!("has in_features = {}", l.in_features);
                        return Err(mismatch(
                            "in_features",
                            0,
                            what,
                            s.to_string(),
                            format!("in_features = {features}"),
                        ));
                    }
                    match d.tokens_given {
                        Some(t) if t > tokens => {
                            let what = format!("has tokens = {t}");
                            return Err(mismatch("tokens", 0, what, s.to_string(), format!("tokens <= {tokens}")));
                        }
                        Some(t) => t,
                        None => tokens,
                    }
                }
                None => d.tokens_given.unwrap_or(1),
            };
            l.tokens = tokens;
            (Op::Linear(l), Shape::Tokens { tokens, features: l.out_features })
        }
        Op::Matmul(m) => {
            let (lr, lf) = (m.rows, m.heads * m.inner);
            let (rr, rf) = if m.right_transposed { (m.cols, m.heads * m.inner) } else { (m.inner, m.heads * m.cols) };
            for (j, (want_t, want_f), field) in
                [(0, (lr, lf), "rows"), (1, (rr, rf), if m.right_transposed { "cols" } else { "inner" })]
            {
                match inputs[j] {
                    Some(Shape::Tokens { tokens, features }) if (tokens, features) == (want_t, want_f) => {}
                    None => {}
                    Some(s) => {
                        let side = if j == 0 { "left" } else { "right" };
                        let what = format!(
                            "needs a {side} operand of {want_t} tokens x {want_f} features (heads x per-head size)"
                        );
                        return Err(mismatch(
                            field,
                            j,
                            what,
                            s.to_string(),
                            "matching rows, inner, cols, heads".into(),
                        ));
                    }
                }
            }
            (d.op, Shape::Tokens { tokens: m.rows, features: m.heads * m.cols })
        }
        Op::Pool(p) => match inputs[0] {
            Some(Shape::Image { channels, height, width }) => {
                let window_ok = p.kernel.0 <= height + 2 * p.padding.0 && p.kernel.1 <= width + 2 * p.padding.1;
                if !window_ok {
                    let what = format!("has kernel = ({}, {})", p.kernel.0, p.kernel.1);
                    return Err(mismatch(
                        "kernel",
                        0,
                        what,
                        format!("{height}x{width} maps"),
                        "a window that fits the padded input".into(),
                    ));
                }
                let o = |i: usize, pad: usize, k: usize, s: usize| (i + 2 * pad - k) / s + 1;
                let (oh, ow) =
                    (o(height, p.padding.0, p.kernel.0, p.stride.0), o(width, p.padding.1, p.kernel.1, p.stride.1));
                (d.op, Shape::Image { channels, height: oh, width: ow })
            }
            Some(s) => {
                return Err(mismatch(
                    "kind",
                    0,
                    "takes an image".into(),
                    s.to_string(),
                    "an image-producing input".into(),
                ))
            }
            None => return Err(need_shape(0)),
        },
        Op::Add => {
            let Some(first) = inputs[0] else { return Err(need_shape(0)) };
            for (j, s) in inputs.iter().enumerate().skip(1) {
                match s {
                    None => return Err(need_shape(j)),
                    Some(s) if *s != first => {
                        let path = format!("layers[{i}].inputs[{j}]");
                        let msg = format!(
                            "{path}: layer `{name}` (add) sums `{}` ({first}) and `{}` ({s}); allowed inputs of one shape",
                            src(0),
                            src(j)
                        );
                        return Err(rep.graph(&path, &[name, src(0), src(j)], msg));
                    }
                    Some(_) => {}
                }
            }
            (d.op, first)
        }
        Op::Relu | Op::Gelu | Op::Softmax | Op::LayerNorm | Op::BatchNorm => match inputs[0] {
            Some(s) => (d.op, s),
            None => return Err(need_shape(0)),
        },
        Op::Flatten => match inputs[0] {
            Some(s) => (d.op, Shape::Tokens { tokens: 1, features: s.elements() as usize }),
            None => return Err(need_shape(0)),
        },
    };
    Ok(out)
}
