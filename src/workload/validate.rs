//! Range checks that turn the RON schema ([`super::schema`]) into typed parts of a workload
//! (everything but the graph, which [`super::graph`] checks), and the table of allowed values
//! that error messages and `docs/workloads.md` quote.

use std::collections::{BTreeMap, HashSet};

use crate::arch::{ClassPrecision, PrecisionConfig};
use crate::gemm::Pass;

use super::data::DataSource;
use super::error::{Reporter, WorkloadError};
use super::model::{Conv2d, Linear, Matmul, Op, Pool, PoolKind, Shape};
use super::precision::{LayerPrecision, PrecisionPolicy, ScheduleStep, SCHEDULE_DEFAULT_ROUNDING};
use super::schema::*;

/// Integer fields (paths with list indices and map keys removed) and their inclusive ranges.
const LIMITS: &[(&str, i64, i64, &str)] = &[
    ("batch", 1, 1 << 16, "1..=65536"),
    ("iterations", 1, 1_000_000_000, "1..=1000000000"),
    ("input.channels", 1, 1 << 20, "1..=1048576"),
    ("input.hw", 1, 1 << 16, "1..=65536 for each of (height, width)"),
    ("input.tokens", 1, 1 << 20, "1..=1048576"),
    ("input.features", 1, 1 << 24, "1..=16777216"),
    ("layers[].op.in_channels", 1, 1 << 20, "1..=1048576"),
    ("layers[].op.out_channels", 1, 1 << 20, "1..=1048576"),
    ("layers[].op.kernel", 1, 1024, "1..=1024 for each of (height, width)"),
    ("layers[].op.stride", 1, 1024, "1..=1024 for each of (vertical, horizontal)"),
    ("layers[].op.padding", 0, 1024, "0..=1024 for each of (vertical, horizontal)"),
    ("layers[].op.input_hw", 1, 1 << 16, "1..=65536 for each of (height, width)"),
    ("layers[].op.groups", 1, 1 << 20, "1..=1048576, dividing in_channels and out_channels"),
    ("layers[].op.in_features", 1, 1 << 24, "1..=16777216"),
    ("layers[].op.out_features", 1, 1 << 24, "1..=16777216"),
    ("layers[].op.tokens", 1, 1 << 20, "1..=1048576"),
    ("layers[].op.heads", 1, 1024, "1..=1024"),
    ("layers[].op.rows", 1, 1 << 20, "1..=1048576"),
    ("layers[].op.inner", 1, 1 << 20, "1..=1048576"),
    ("layers[].op.cols", 1, 1 << 20, "1..=1048576"),
    ("precision[].weights.mantissa_bits", 1, 16, "1..=16"),
    ("precision[].activations.mantissa_bits", 1, 16, "1..=16"),
    ("precision[].gradients.mantissa_bits", 1, 16, "1..=16"),
    ("precision[].mantissa_bits.weights", 1, 16, "1..=16"),
    ("precision[].mantissa_bits.activations", 1, 16, "1..=16"),
    ("precision[].mantissa_bits.gradients", 1, 16, "1..=16"),
    ("precision[].from_iteration", 0, 1_000_000_000, "0..=1000000000, increasing, the first 0"),
];

/// `path` with list indices and map keys removed: `layers[3].op.kernel` -> `layers[].op.kernel`.
fn generic(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                if depth == 0 {
                    out.push_str("[]");
                }
                depth += 1;
            }
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The allowed values of the workload field at `path`, in words (`None` if unknown).
pub(crate) fn allowed(path: &str) -> Option<String> {
    let g = generic(path);
    if let Some(&(_, _, _, text)) = LIMITS.iter().find(|l| l.0 == g) {
        return Some(text.to_string());
    }
    if let Some(text) = super::training::allowed(&g) {
        return Some(text.to_string());
    }
    let text = match g.as_str() {
        "name" | "layers[].name" => "a non-empty string",
        "passes" => "a non-empty list of forward, backward_data, backward_weight",
        "precision" => "fixed, per_layer({ \"layer\": (weights: ..., ...) }), schedule([(from_iteration: 0, ...)])",
        "data" => "synthetic(seed: N) or npy(dir: \"folder relative to the workload file\")",
        "data.seed" => "0..=18446744073709551615",
        "data.dir" => "a folder, relative to the workload file, holding <layer>.<operand>.npy files",
        "input" => "image(channels: C, hw: (H, W)) or tokens(tokens: T, features: F)",
        "layers[].op" => "conv2d(...), linear(...), matmul(...), pool(...), add, relu, gelu, softmax, layer_norm, batch_norm, flatten",
        "layers[].op.bias" => "true, false",
        "layers[].op.kind" => "max, avg",
        "layers[].op.right_transposed" => "true, false",
        "layers[].inputs" => "a list of layer names or `input` (default: the previous layer)",
        p if p.ends_with(".rounding") || p.contains(".rounding.") => "nearest, truncate, even, stochastic",
        _ => return None,
    };
    Some(text.to_string())
}

/// Everything in a workload file but the graph, checked.
pub(crate) struct Parts {
    pub name: String,
    pub batch: usize,
    pub iterations: usize,
    pub passes: Vec<Pass>,
    pub policy: PrecisionPolicy,
    pub data: DataSource,
    pub input: Option<Shape>,
    pub layers: Vec<LayerDraft>,
    pub training: Option<super::training::TrainingConfig>,
}

/// One layer, checked on its own (its connections are checked by [`super::graph`]).
pub(crate) struct LayerDraft {
    pub name: String,
    /// The op; a linear's `tokens` is provisional when `tokens_given` is `None`.
    pub op: Op,
    pub tokens_given: Option<usize>,
    pub inputs: Vec<String>,
}

struct Checker<'r, 'a> {
    rep: &'r Reporter<'a>,
}

impl Checker<'_, '_> {
    fn int(&self, path: &str, value: i64) -> Result<usize, WorkloadError> {
        let g = generic(path);
        let (lo, hi, text) = LIMITS.iter().find(|l| l.0 == g).map_or((0, i64::MAX, "0.."), |l| (l.1, l.2, l.3));
        if (lo..=hi).contains(&value) {
            Ok(value as usize) // lossless: checked against a range within usize
        } else {
            Err(self.rep.out_of_range(path, value, text))
        }
    }

    fn pair(&self, path: &str, (a, b): (i64, i64)) -> Result<(usize, usize), WorkloadError> {
        let g = generic(path);
        let (lo, hi, text) = LIMITS.iter().find(|l| l.0 == g).map_or((0, i64::MAX, "0.."), |l| (l.1, l.2, l.3));
        if (lo..=hi).contains(&a) && (lo..=hi).contains(&b) {
            Ok((a as usize, b as usize))
        } else {
            Err(self.rep.out_of_range(path, format!("({a}, {b})"), text))
        }
    }

    fn class(&self, path: &str, c: &ClassFile) -> Result<ClassPrecision, WorkloadError> {
        let m = self.int(&format!("{path}.mantissa_bits"), c.mantissa_bits)?;
        Ok(ClassPrecision { mantissa_bits: m as u32, rounding: c.rounding })
    }

    fn op(&self, path: &str, op: &OpFile) -> Result<(Op, Option<usize>), WorkloadError> {
        let f = |field: &str| format!("{path}.{field}");
        Ok(match *op {
            OpFile::Conv2d { in_channels, out_channels, kernel, stride, padding, input_hw, groups, bias } => {
                let conv = Conv2d {
                    in_channels: self.int(&f("in_channels"), in_channels)?,
                    out_channels: self.int(&f("out_channels"), out_channels)?,
                    kernel: self.pair(&f("kernel"), kernel)?,
                    stride: self.pair(&f("stride"), stride)?,
                    padding: self.pair(&f("padding"), padding)?,
                    input_hw: self.pair(&f("input_hw"), input_hw)?,
                    groups: self.int(&f("groups"), groups)?,
                    bias,
                };
                if !conv.in_channels.is_multiple_of(conv.groups) || !conv.out_channels.is_multiple_of(conv.groups) {
                    let msg = format!(
                        "{} = {} does not divide in_channels = {} and out_channels = {}; allowed {}",
                        f("groups"),
                        conv.groups,
                        conv.in_channels,
                        conv.out_channels,
                        "a common divisor of both"
                    );
                    return Err(self.rep.message(&f("groups"), msg));
                }
                self.window(&f("kernel"), conv.kernel, conv.input_hw, conv.padding)?;
                (Op::Conv2d(conv), None)
            }
            OpFile::Linear { in_features, out_features, tokens, bias } => {
                let tokens = tokens.map(|t| self.int(&f("tokens"), t)).transpose()?;
                let in_features = self.int(&f("in_features"), in_features)?;
                let out_features = self.int(&f("out_features"), out_features)?;
                (Op::Linear(Linear { in_features, out_features, tokens: tokens.unwrap_or(1), bias }), tokens)
            }
            OpFile::Matmul { heads, rows, inner, cols, right_transposed } => {
                let m = Matmul {
                    heads: self.int(&f("heads"), heads)?,
                    rows: self.int(&f("rows"), rows)?,
                    inner: self.int(&f("inner"), inner)?,
                    cols: self.int(&f("cols"), cols)?,
                    right_transposed,
                };
                (Op::Matmul(m), None)
            }
            OpFile::Pool { kind, kernel, stride, padding } => {
                let kernel = self.pair(&f("kernel"), kernel)?;
                let stride = match stride {
                    Some(s) => self.pair(&f("stride"), s)?,
                    None => kernel,
                };
                let padding = self.pair(&f("padding"), padding)?;
                let kind = match kind {
                    PoolKindFile::Max => PoolKind::Max,
                    PoolKindFile::Avg => PoolKind::Avg,
                };
                (Op::Pool(Pool { kind, kernel, stride, padding }), None)
            }
            OpFile::Add => (Op::Add, None),
            OpFile::Relu => (Op::Relu, None),
            OpFile::Gelu => (Op::Gelu, None),
            OpFile::Softmax => (Op::Softmax, None),
            OpFile::LayerNorm => (Op::LayerNorm, None),
            OpFile::BatchNorm => (Op::BatchNorm, None),
            OpFile::Flatten => (Op::Flatten, None),
        })
    }

    /// A window (kernel) must fit in the padded input.
    pub(crate) fn window(
        &self,
        path: &str,
        k: (usize, usize),
        hw: (usize, usize),
        p: (usize, usize),
    ) -> Result<(), WorkloadError> {
        if k.0 > hw.0 + 2 * p.0 || k.1 > hw.1 + 2 * p.1 {
            let (h, w) = (hw.0 + 2 * p.0, hw.1 + 2 * p.1);
            let msg = format!(
                "{path} = ({}, {}) does not fit the padded input of {h}x{w}; allowed 1..={h} x 1..={w}",
                k.0, k.1
            );
            return Err(self.rep.message(path, msg));
        }
        Ok(())
    }
}

/// Checks a whole file but its graph.
pub(crate) fn validate(file: &WorkloadFile, rep: &Reporter<'_>) -> Result<Parts, WorkloadError> {
    let ck = Checker { rep };
    if file.name.trim().is_empty() {
        return Err(rep.message("name", "name is empty; allowed a non-empty string".into()));
    }
    let batch = ck.int("batch", file.batch)?;
    let iterations = ck.int("iterations", file.iterations)?;
    let passes = passes(file, rep)?;
    let input = match file.input {
        None => None,
        Some(InputFile::Image { channels, hw }) => {
            let channels = ck.int("input.channels", channels)?;
            let (height, width) = ck.pair("input.hw", hw)?;
            Some(Shape::Image { channels, height, width })
        }
        Some(InputFile::Tokens { tokens, features }) => {
            let tokens = ck.int("input.tokens", tokens)?;
            Some(Shape::Tokens { tokens, features: ck.int("input.features", features)? })
        }
    };
    if file.layers.is_empty() {
        return Err(rep.message("layers", "layers is empty; allowed a non-empty list of layers".into()));
    }
    let mut layers = Vec::with_capacity(file.layers.len());
    for (i, l) in file.layers.iter().enumerate() {
        let path = format!("layers[{i}]");
        if l.name.trim().is_empty() || l.name == "input" {
            let msg =
                format!("{path}.name = {:?} is reserved or empty; allowed a non-empty name other than `input`", l.name);
            return Err(rep.message(&format!("{path}.name"), msg));
        }
        let (op, tokens_given) = ck.op(&format!("{path}.op"), &l.op)?;
        let inputs = match &l.inputs {
            Some(v) => v.clone(),
            None if i == 0 => vec!["input".to_string()],
            None => vec![file.layers[i - 1].name.clone()],
        };
        layers.push(LayerDraft { name: l.name.clone(), op, tokens_given, inputs });
    }
    let names: HashSet<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    let policy = policy(&file.precision, &ck, &names)?;
    let data = match &file.data {
        DataFile::Synthetic { seed } => DataSource::Synthetic { seed: *seed },
        DataFile::Npy { dir } if dir.trim().is_empty() => {
            return Err(rep.message(
                "data.dir",
                format!("data.dir is empty; allowed {}", allowed("data.dir").unwrap_or_default()),
            ));
        }
        DataFile::Npy { dir } => DataSource::Npy { dir: dir.clone() },
    };
    let training = file.training.as_ref().map(|t| super::training::validate(t, rep)).transpose()?;
    Ok(Parts { name: file.name.clone(), batch, iterations, passes, policy, data, input, layers, training })
}

fn passes(file: &WorkloadFile, rep: &Reporter<'_>) -> Result<Vec<Pass>, WorkloadError> {
    let Some(list) = &file.passes else { return Ok(Pass::ALL.to_vec()) };
    if list.is_empty() {
        return Err(
            rep.message("passes", format!("passes is empty; allowed {}", allowed("passes").unwrap_or_default()))
        );
    }
    let map = |p: PassFile| match p {
        PassFile::Forward => Pass::Forward,
        PassFile::BackwardData => Pass::BackwardData,
        PassFile::BackwardWeight => Pass::BackwardWeight,
    };
    for (i, p) in list.iter().enumerate() {
        if list[..i].contains(p) {
            let msg = format!("passes[{i}] = {} is given twice; allowed each pass at most once", map(*p));
            return Err(rep.message(&format!("passes[{i}]"), msg));
        }
    }
    Ok(Pass::ALL.into_iter().filter(|p| list.iter().any(|&q| map(q) == *p)).collect())
}

fn policy(p: &PolicyFile, ck: &Checker<'_, '_>, names: &HashSet<&str>) -> Result<PrecisionPolicy, WorkloadError> {
    Ok(match p {
        PolicyFile::Fixed => PrecisionPolicy::Fixed,
        PolicyFile::PerLayer(map) => {
            let mut out = BTreeMap::new();
            for (name, lp) in map {
                let path = format!("precision[{name:?}]");
                if !names.contains(name.as_str()) {
                    let mut known: Vec<&str> = names.iter().copied().collect();
                    known.sort_unstable();
                    let more = if known.len() > 8 { ", ..." } else { "" };
                    known.truncate(8);
                    let msg =
                        format!("{path}: no layer is named {name:?}; allowed layer names ({}{more})", known.join(", "));
                    return Err(ck.rep.message(&path, msg));
                }
                let class = |c: &Option<ClassFile>, k: &str| {
                    c.as_ref().map(|c| ck.class(&format!("{path}.{k}"), c)).transpose()
                };
                let precision = LayerPrecision {
                    weights: class(&lp.weights, "weights")?,
                    activations: class(&lp.activations, "activations")?,
                    gradients: class(&lp.gradients, "gradients")?,
                };
                out.insert(name.clone(), precision);
            }
            PrecisionPolicy::PerLayer(out)
        }
        PolicyFile::Schedule(steps) => {
            if steps.is_empty() {
                return Err(ck.rep.message(
                    "precision",
                    "precision: schedule is empty; allowed at least one step, the first from_iteration: 0".into(),
                ));
            }
            let mut out: Vec<ScheduleStep> = Vec::with_capacity(steps.len());
            for (i, s) in steps.iter().enumerate() {
                let path = format!("precision[{i}]");
                let from = ck.int(&format!("{path}.from_iteration"), s.from_iteration)?;
                let allowed = match out.last() {
                    None if from != 0 => Some("0 (the first step starts at iteration 0)".to_string()),
                    Some(prev) if from <= prev.from_iteration => Some(format!(
                        "{}..=1000000000 (steps in increasing order of from_iteration)",
                        prev.from_iteration + 1
                    )),
                    _ => None,
                };
                if let Some(allowed) = allowed {
                    return Err(ck.rep.out_of_range(&format!("{path}.from_iteration"), from, &allowed));
                }
                let bits = |k: &str, v: i64| ck.int(&format!("{path}.mantissa_bits.{k}"), v).map(|m| m as u32);
                let [rw, ra, rg] =
                    s.rounding.as_ref().map_or(SCHEDULE_DEFAULT_ROUNDING, |r| [r.weights, r.activations, r.gradients]);
                let precision = PrecisionConfig {
                    weights: ClassPrecision { mantissa_bits: bits("weights", s.mantissa_bits.weights)?, rounding: rw },
                    activations: ClassPrecision {
                        mantissa_bits: bits("activations", s.mantissa_bits.activations)?,
                        rounding: ra,
                    },
                    gradients: ClassPrecision {
                        mantissa_bits: bits("gradients", s.mantissa_bits.gradients)?,
                        rounding: rg,
                    },
                };
                out.push(ScheduleStep { from_iteration: from, precision });
            }
            PrecisionPolicy::Schedule(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_paths_and_allowed_values() {
        assert_eq!(generic("layers[3].op.kernel"), "layers[].op.kernel");
        assert_eq!(generic("precision[\"a[1]\"].weights.mantissa_bits"), "precision[].weights.mantissa_bits");
        assert_eq!(allowed("batch").as_deref(), Some("1..=65536"));
        assert_eq!(allowed("precision[2].rounding.gradients").as_deref(), Some("nearest, truncate, even, stochastic"));
        assert_eq!(allowed("layers[0]"), None);
    }
}
