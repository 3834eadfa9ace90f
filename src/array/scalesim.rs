//! SCALE-Sim compatibility: the compute cycles (and the other cheap per-layer figures) that
//! SCALE-Sim v3 reports for its `ws`, `os` and `is` dataflows, as closed forms.
//!
//! SCALE-Sim lowers every layer to one matrix product before it maps anything onto the array
//! (im2col for convolutions, the identity for GEMMs):
//!
//! | operand | shape | rows index | columns index |
//! |---|---|---|---|
//! | ifmap | `P x W` | output pixels of one filter | the convolution window |
//! | filter | `W x F` | the convolution window | filters |
//! | ofmap | `P x F` | output pixels of one filter | filters |
//!
//! Each dataflow picks two of `P`, `W`, `F` as the spatial dimensions `Sr` (mapped on the array
//! rows) and `Sc` (on the columns) and streams the third in time (`T`):
//!
//! | dataflow | `Sr` | `Sc` | `T` | one fold takes |
//! |---|---|---|---|---|
//! | `ws` | `W` | `F` | `P` | `2R + C + T - 2` |
//! | `os` | `P` | `F` | `W` | `R + C + T - 2` |
//! | `is` | `W` | `P` | `F` | `2R + C + T - 2` |
//!
//! and a layer takes `ceil(Sr/R) * ceil(Sc/C)` folds back to back. SCALE-Sim reports, as the
//! "Total Cycles" column of `COMPUTE_REPORT.csv` (printed as "Compute cycles"), the index of
//! the cycle of the last output write, so with no memory stalls:
//!
//! ```text
//! compute_cycles = ceil(Sr/R) * ceil(Sc/C) * fold_cycles - 1
//! ```
//!
//! The derivations, the mapping efficiency and utilization figures, and the topology/config
//! formats are written out in `docs/scalesim.md`; `tests/scalesim.rs` checks every figure against
//! SCALE-Sim's own reports recorded under `traces/scalesim/`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of SCALE-Sim's three dataflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataflow {
    /// Weight stationary: the filter operand is held in the array, ifmap rows stream.
    Ws,
    /// Output stationary: every cell accumulates one output, both operands stream.
    Os,
    /// Input stationary: the ifmap operand is held in the array, filter columns stream.
    Is,
}

impl Dataflow {
    /// The three dataflows, in the order the recorded traces use.
    pub const ALL: [Dataflow; 3] = [Dataflow::Ws, Dataflow::Os, Dataflow::Is];

    /// SCALE-Sim's spelling: `ws`, `os` or `is`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dataflow::Ws => "ws",
            Dataflow::Os => "os",
            Dataflow::Is => "is",
        }
    }
}

impl fmt::Display for Dataflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dataflow {
    type Err = ScaleSimError;

    /// Exactly `ws`, `os` or `is` (SCALE-Sim compares the config value case-sensitively).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ws" => Ok(Dataflow::Ws),
            "os" => Ok(Dataflow::Os),
            "is" => Ok(Dataflow::Is),
            other => Err(ScaleSimError::BadDataflow(other.to_string())),
        }
    }
}

/// A layer as SCALE-Sim lowers it: the dimensions of its three operand matrices, ifmap
/// `P x W`, filter `W x F` and ofmap `P x F` (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScaleSimLayer {
    /// `P`: output pixels per filter, `ofmap_h * ofmap_w` (the GEMM `M`); rows of the ifmap and
    /// ofmap operand matrices.
    pub ofmap_px: u64,
    /// `W`: the convolution window, `filter_h * filter_w * channels` (the GEMM `K`); columns of
    /// the ifmap operand matrix and rows of the filter operand matrix.
    pub window: u64,
    /// `F`: the number of filters (the GEMM `N`); columns of the filter and ofmap operand
    /// matrices.
    pub filters: u64,
}

/// Why a layer's dimensions cannot be lowered (SCALE-Sim asserts or divides by zero on these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    /// A dimension that must be at least 1 is 0.
    #[error("{0} is 0; allowed 1 or more")]
    Zero(&'static str),
    /// The filter does not fit in the ifmap (SCALE-Sim asserts against it).
    #[error("filter {what} {filter} is larger than IFMAP {what} {ifmap}; allowed a filter {what} of 1..={ifmap} (no padding)")]
    FilterTooLarge {
        /// `height` or `width`.
        what: &'static str,
        /// The filter extent.
        filter: u64,
        /// The ifmap extent.
        ifmap: u64,
    },
    /// A product of the dimensions does not fit in 64 bits.
    #[error("layer too large: {0} overflows 64 bits; allowed sizes whose product fits")]
    Overflow(&'static str),
    /// A depthwise line expands to more layers than [`MAX_LAYERS`].
    #[error("the topology expands to {0} layers; allowed at most {max} (a depthwise line is one layer per channel)", max = MAX_LAYERS)]
    TooManyLayers(u64),
}

/// The spatial and temporal extents of a layer under one dataflow (SCALE-Sim's `Sr`, `Sc`, `T`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OperandDims {
    /// Extent mapped along the array rows.
    pub sr: u64,
    /// Extent mapped along the array columns.
    pub sc: u64,
    /// Extent streamed in time through one fold.
    pub t: u64,
}

impl ScaleSimLayer {
    /// A convolution as SCALE-Sim's conv topology describes it (one stride for both directions,
    /// no padding, batch 1). The output extent is SCALE-Sim's `ceil((ifmap - filter + stride) /
    /// stride)`, which is one more than the usual `floor((ifmap - filter) / stride) + 1` when the
    /// stride does not divide `ifmap - filter`.
    ///
    /// # Panics
    ///
    /// When [`ScaleSimLayer::try_conv`] would return an error.
    pub fn conv(
        ifmap_h: u64,
        ifmap_w: u64,
        filter_h: u64,
        filter_w: u64,
        channels: u64,
        num_filters: u64,
        stride: u64,
    ) -> Self {
        match Self::try_conv(ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters, stride) {
            Ok(layer) => layer,
            Err(e) => panic!("invalid SCALE-Sim conv layer: {e}"),
        }
    }

    /// [`ScaleSimLayer::conv`] with the validation as an error: every value at least 1 and the
    /// filter no larger than the ifmap.
    pub fn try_conv(
        ifmap_h: u64,
        ifmap_w: u64,
        filter_h: u64,
        filter_w: u64,
        channels: u64,
        num_filters: u64,
        stride: u64,
    ) -> Result<Self, LayerError> {
        for (v, name) in [
            (ifmap_h, "ifmap height"),
            (ifmap_w, "ifmap width"),
            (filter_h, "filter height"),
            (filter_w, "filter width"),
            (channels, "channels"),
            (num_filters, "number of filters"),
            (stride, "stride"),
        ] {
            if v == 0 {
                return Err(LayerError::Zero(name));
            }
        }
        if filter_h > ifmap_h {
            return Err(LayerError::FilterTooLarge { what: "height", filter: filter_h, ifmap: ifmap_h });
        }
        if filter_w > ifmap_w {
            return Err(LayerError::FilterTooLarge { what: "width", filter: filter_w, ifmap: ifmap_w });
        }
        // ceil((i - f + s) / s) = ceil((i - f) / s) + 1, with no overflow on the addition.
        let out = |i: u64, f: u64| (i - f).div_ceil(stride) + 1;
        let ofmap_px =
            out(ifmap_h, filter_h).checked_mul(out(ifmap_w, filter_w)).ok_or(LayerError::Overflow("ofmap pixels"))?;
        let window = filter_h
            .checked_mul(filter_w)
            .and_then(|x| x.checked_mul(channels))
            .ok_or(LayerError::Overflow("window size"))?;
        Self::checked(ofmap_px, window, num_filters)
    }

    /// A GEMM row `M, N, K` of SCALE-Sim's GEMM topology: an `M x K` by `K x N` product, which
    /// SCALE-Sim treats as an `M x K` ifmap with a `1 x K` filter, one channel and `N` filters,
    /// so `P = M`, `W = K`, `F = N`.
    ///
    /// # Panics
    ///
    /// When a dimension is 0.
    pub fn gemm(m: u64, n: u64, k: u64) -> Self {
        match Self::try_gemm(m, n, k) {
            Ok(layer) => layer,
            Err(e) => panic!("invalid SCALE-Sim GEMM layer: {e}"),
        }
    }

    /// [`ScaleSimLayer::gemm`] with the validation as an error.
    pub fn try_gemm(m: u64, n: u64, k: u64) -> Result<Self, LayerError> {
        for (v, name) in [(m, "M"), (n, "N"), (k, "K")] {
            if v == 0 {
                return Err(LayerError::Zero(name));
            }
        }
        Self::checked(m, k, n)
    }

    fn checked(ofmap_px: u64, window: u64, filters: u64) -> Result<Self, LayerError> {
        ofmap_px
            .checked_mul(window)
            .and_then(|x| x.checked_mul(filters))
            .and_then(|x| x.checked_mul(100))
            .ok_or(LayerError::Overflow("the MAC count"))?;
        Ok(ScaleSimLayer { ofmap_px, window, filters })
    }

    /// Multiply-accumulates of the layer, `P * W * F` (SCALE-Sim's `num_compute`).
    pub fn macs(&self) -> u64 {
        self.ofmap_px * self.window * self.filters
    }

    /// `Sr`, `Sc` and `T` under `dataflow` (SCALE-Sim's `calc_spatio_temporal_params`).
    pub fn dims(&self, dataflow: Dataflow) -> OperandDims {
        let (p, w, f) = (self.ofmap_px, self.window, self.filters);
        match dataflow {
            Dataflow::Ws => OperandDims { sr: w, sc: f, t: p },
            Dataflow::Os => OperandDims { sr: p, sc: f, t: w },
            Dataflow::Is => OperandDims { sr: w, sc: p, t: f },
        }
    }
}

/// Row folds and column folds: `(ceil(Sr / rows), ceil(Sc / cols))`.
///
/// # Panics
///
/// When `rows` or `cols` is 0.
pub fn folds(layer: &ScaleSimLayer, dataflow: Dataflow, rows: usize, cols: usize) -> (u64, u64) {
    assert!(rows > 0 && cols > 0, "the array needs at least one row and one column");
    let d = layer.dims(dataflow);
    (d.sr.div_ceil(rows as u64), d.sc.div_ceil(cols as u64))
}

/// Cycles of one fold (every fold of a layer takes the same time in SCALE-Sim, partial or not):
/// `2R + C + T - 2` for `ws` and `is`, `R + C + T - 2` for `os` (saturating at `u64::MAX`).
pub fn fold_cycles(layer: &ScaleSimLayer, dataflow: Dataflow, rows: usize, cols: usize) -> u64 {
    let (r, c, t) = (rows as u128, cols as u128, layer.dims(dataflow).t as u128);
    let cycles = match dataflow {
        Dataflow::Ws | Dataflow::Is => 2 * r + c + t - 2,
        Dataflow::Os => r + c + t - 2,
    };
    u64::try_from(cycles).unwrap_or(u64::MAX)
}

/// SCALE-Sim's compute cycles of a layer (the "Total Cycles" column of `COMPUTE_REPORT.csv`
/// when the memory causes no stall): `row_folds * col_folds * fold_cycles - 1` (saturating at
/// `u64::MAX`).
///
/// # Panics
///
/// When `rows` or `cols` is 0.
pub fn compute_cycles(layer: &ScaleSimLayer, dataflow: Dataflow, rows: usize, cols: usize) -> u64 {
    let (fr, fc) = folds(layer, dataflow, rows, cols);
    let per_fold = fold_cycles(layer, dataflow, rows, cols) as u128;
    (fr as u128 * fc as u128).checked_mul(per_fold).and_then(|x| u64::try_from(x - 1).ok()).unwrap_or(u64::MAX)
}

/// `num / den` rounded once, as Python's true division of two integers does (exact while both
/// are below 2^53, which every layer SCALE-Sim can simulate respects).
fn ratio(num: u128, den: u128) -> f64 {
    num as f64 / den as f64
}

/// Above this many folds the per-fold averages are computed from their exact rational value
/// instead of SCALE-Sim's fold-by-fold float sum (which can differ in the last bits); SCALE-Sim
/// itself would need days for such a layer.
pub const EXACT_FOLD_LIMIT: u64 = 1 << 22;

/// The mean over folds that SCALE-Sim reports, times 100. `per_fold(used)` is one fold's value
/// for `used = rows_used * cols_used` cells; `mean(sr * sc, folds)` the exact mean for the
/// fallback. Up to [`EXACT_FOLD_LIMIT`] folds the sum runs in SCALE-Sim's order (column folds
/// outer, row folds inner) with its float operations, so that the result is bit-identical.
fn fold_average(
    layer: &ScaleSimLayer,
    dataflow: Dataflow,
    rows: usize,
    cols: usize,
    per_fold: impl Fn(u128) -> f64,
    mean: impl Fn(u128, u128) -> f64,
) -> f64 {
    let d = layer.dims(dataflow);
    let (r, c) = (rows as u64, cols as u64);
    let (fr, fc) = folds(layer, dataflow, rows, cols);
    let n = fr as u128 * fc as u128;
    if n > EXACT_FOLD_LIMIT as u128 {
        return mean(d.sr as u128 * d.sc as u128, n) * 100.0;
    }
    let mut sum = 0.0f64;
    for j in 0..fc {
        let col_used = c.min(d.sc - j * c) as u128;
        for i in 0..fr {
            let row_used = r.min(d.sr - i * r) as u128;
            sum += per_fold(row_used * col_used);
        }
    }
    sum / n as f64 * 100.0
}

/// SCALE-Sim's "Mapping Efficiency %": the mean over folds of the fraction of cells holding
/// data, `rows_used * cols_used / (R * C)`, times 100.
pub fn mapping_efficiency(layer: &ScaleSimLayer, dataflow: Dataflow, rows: usize, cols: usize) -> f64 {
    let cells = rows as u128 * cols as u128;
    fold_average(layer, dataflow, rows, cols, |used| ratio(used, cells), |all, n| ratio(all, n * cells))
}

/// SCALE-Sim's "Compute Util %": the mean over folds of `rows_used * cols_used * T / (R * C *
/// span)`, times 100, where `span` is SCALE-Sim's per-fold window: `2R + 2C + T - 3` for `ws` and
/// `is`, `R + C + T - 2` for `os`.
pub fn compute_utilization(layer: &ScaleSimLayer, dataflow: Dataflow, rows: usize, cols: usize) -> f64 {
    let (r, c, t) = (rows as u128, cols as u128, layer.dims(dataflow).t as u128);
    let span = match dataflow {
        Dataflow::Ws | Dataflow::Is => 2 * r + 2 * c + t - 3,
        Dataflow::Os => r + c + t - 2,
    };
    let den = |k: u128| (r * c).checked_mul(span).and_then(|x| x.checked_mul(k));
    let div = |num: u128, k: u128| match (num.checked_mul(t), den(k)) {
        (Some(a), Some(b)) => ratio(a, b),
        _ => num as f64 * t as f64 / (k as f64 * (r * c) as f64 * span as f64),
    };
    fold_average(layer, dataflow, rows, cols, |used| div(used, 1), div)
}

/// SCALE-Sim's "Overall Util %": `macs * 100 / (total_cycles * R * C)` for the reported total
/// cycles (stalls included), which with no stall is [`compute_cycles`].
pub fn overall_utilization(layer: &ScaleSimLayer, total_cycles: u64, rows: usize, cols: usize) -> f64 {
    let num = layer.macs() as u128 * 100;
    match (total_cycles as u128 * rows as u128).checked_mul(cols as u128) {
        Some(den) => ratio(num, den),
        None => num as f64 / (total_cycles as f64 * rows as f64 * cols as f64),
    }
}

/// Everything [`report`] reproduces of one `COMPUTE_REPORT.csv` row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LayerReport {
    /// Row folds times column folds.
    pub folds: u64,
    /// [`compute_cycles`].
    pub compute_cycles: u64,
    /// [`overall_utilization`] at [`compute_cycles`].
    pub overall_util_pct: f64,
    /// [`mapping_efficiency`].
    pub mapping_efficiency_pct: f64,
    /// [`compute_utilization`].
    pub compute_util_pct: f64,
}

/// All the per-layer figures of SCALE-Sim's compute report that do not depend on its memory
/// model.
pub fn report(layer: &ScaleSimLayer, dataflow: Dataflow, rows: usize, cols: usize) -> LayerReport {
    let (fr, fc) = folds(layer, dataflow, rows, cols);
    let cycles = compute_cycles(layer, dataflow, rows, cols);
    LayerReport {
        folds: fr * fc,
        compute_cycles: cycles,
        overall_util_pct: overall_utilization(layer, cycles, rows, cols),
        mapping_efficiency_pct: mapping_efficiency(layer, dataflow, rows, cols),
        compute_util_pct: compute_utilization(layer, dataflow, rows, cols),
    }
}

/// Errors of the topology and config parsers. Line numbers count from 1.
///
/// `Display` starts with `line N: ` (`config line N: ` for the config) when the error has a
/// line; [`ScaleSimError::located`] puts the file name in front instead (`FILE:N: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScaleSimError {
    /// The topology has no header line, or no layer after it.
    NoLayers,
    /// The format of a topology could not be told from its first layer line.
    UnknownFormat {
        /// The line looked at.
        line: usize,
        /// Its number of fields.
        found: usize,
    },
    /// A topology line has the wrong number of fields.
    FieldCount {
        /// The line.
        line: usize,
        /// What the format allows.
        expected: &'static str,
        /// What the line has before its last comma.
        found: usize,
    },
    /// A field that must be a positive integer is not a non-negative integer.
    BadInt {
        /// The line.
        line: usize,
        /// The field's 1-based position on the line.
        index: usize,
        /// The column's meaning.
        field: &'static str,
        /// The text found.
        value: String,
    },
    /// A sparsity ratio that is not `N:M` with integers.
    BadSparsity {
        /// The line.
        line: usize,
        /// The text found.
        value: String,
    },
    /// A layer whose dimensions cannot be lowered (or whose cycles overflow 64 bits).
    Layer {
        /// The line.
        line: usize,
        /// What is wrong.
        source: LayerError,
    },
    /// A config line that is neither a section, a `key: value` / `key = value` pair, a comment
    /// nor blank.
    ConfigSyntax {
        /// The line.
        line: usize,
        /// Its text.
        text: String,
    },
    /// A config key that SCALE-Sim requires is missing.
    MissingKey {
        /// The section.
        section: &'static str,
        /// The key.
        key: &'static str,
        /// What the key takes.
        allowed: &'static str,
        /// Keys of that section that SCALE-Sim does not know, with their lines (likely
        /// misspellings of the missing key).
        unknown: Vec<(usize, String)>,
    },
    /// A config value that is not valid for its key.
    BadValue {
        /// The line.
        line: usize,
        /// The section.
        section: &'static str,
        /// The key.
        key: &'static str,
        /// The text found.
        value: String,
        /// What is allowed.
        why: &'static str,
    },
    /// A dataflow other than `ws`, `os` or `is` (from [`Dataflow::from_str`]).
    BadDataflow(String),
}

impl ScaleSimError {
    /// The 1-based line of the topology or config the error is about, if there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ScaleSimError::UnknownFormat { line, .. }
            | ScaleSimError::FieldCount { line, .. }
            | ScaleSimError::BadInt { line, .. }
            | ScaleSimError::BadSparsity { line, .. }
            | ScaleSimError::Layer { line, .. }
            | ScaleSimError::ConfigSyntax { line, .. }
            | ScaleSimError::BadValue { line, .. } => Some(*line),
            ScaleSimError::NoLayers | ScaleSimError::MissingKey { .. } | ScaleSimError::BadDataflow(_) => None,
        }
    }

    /// The message without its line prefix.
    pub fn detail(&self) -> String {
        const TAIL: &str = "SCALE-Sim ignores the text after the last comma of a line, so every line ends with a comma";
        match self {
            ScaleSimError::NoLayers => {
                "topology has no layer (the first line is a header, then one layer per line)".into()
            }
            ScaleSimError::UnknownFormat { found, .. } => format!(
                "cannot tell conv from GEMM topology by {found} fields; allowed 8 or 9 (conv: name, IFMAP height, \
                 IFMAP width, filter height, filter width, channels, filters, stride, [N:M]) or 4 to 7 (GEMM: name, \
                 M, N, K, [N:M]); {TAIL}"
            ),
            ScaleSimError::FieldCount { expected, found, .. } => {
                format!("{found} fields; allowed {expected}; {TAIL}")
            }
            ScaleSimError::BadInt { index, field, value, .. } => {
                format!("field {index} ({field}) = {value:?} is not a whole number; allowed 1..={}", u64::MAX)
            }
            ScaleSimError::BadSparsity { value, .. } => {
                format!("sparsity ratio {value:?} is not N:M; allowed two whole numbers N:M (e.g. 2:4)")
            }
            ScaleSimError::Layer { source, .. } => source.to_string(),
            ScaleSimError::ConfigSyntax { text, .. } => format!(
                "cannot parse {text:?}; allowed `[section]`, `key: value`, `key = value`, a `#` or `;` comment, \
                 or a blank line"
            ),
            ScaleSimError::MissingKey { section, key, allowed, unknown } => {
                let mut m = format!("[{section}] {key} is missing; allowed {key}: {allowed}");
                if !unknown.is_empty() {
                    let list: Vec<String> = unknown.iter().map(|(l, k)| format!("{k} (line {l})")).collect();
                    m.push_str(&format!("; unknown keys in [{section}]: {}", list.join(", ")));
                }
                m
            }
            ScaleSimError::BadValue { section, key, value, why, .. } => {
                format!("[{section}] {key} = {value:?} is invalid; allowed {why}")
            }
            ScaleSimError::BadDataflow(v) => format!("unknown dataflow {v:?}; allowed ws, os or is"),
        }
    }

    /// `FILE:LINE: message` (or `FILE: message` without a line), the crate's style for errors
    /// about an input file.
    pub fn located(&self, file: &str) -> String {
        match self.line() {
            Some(line) => format!("{file}:{line}: {}", self.detail()),
            None => format!("{file}: {}", self.detail()),
        }
    }
}

impl fmt::Display for ScaleSimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScaleSimError::ConfigSyntax { line, .. } | ScaleSimError::BadValue { line, .. } => {
                write!(f, "config line {line}: {}", self.detail())
            }
            ScaleSimError::MissingKey { .. } => write!(f, "config: {}", self.detail()),
            _ => match self.line() {
                Some(line) => write!(f, "line {line}: {}", self.detail()),
                None => f.write_str(&self.detail()),
            },
        }
    }
}

impl std::error::Error for ScaleSimError {}

/// The two topology CSV formats SCALE-Sim reads (`-i conv`, the default, and `-i gemm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TopologyFormat {
    /// `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num
    /// Filter, Strides, [Sparsity N:M]`.
    Conv,
    /// `Layer, M, N, K, [Sparsity N:M]`.
    Gemm,
}

/// The fields of a topology line as SCALE-Sim reads them: split at commas with the text after
/// the last comma dropped (so every line must end with a comma; `#dw` notes after it are
/// ignored), each field trimmed.
fn fields(row: &str) -> Vec<&str> {
    let mut f: Vec<&str> = row.split(',').map(str::trim).collect();
    f.pop();
    f
}

/// The layer lines of a topology, with their 1-based numbers: the first line is the header and
/// blank lines are skipped, as SCALE-Sim does.
fn layer_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().skip(1).map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty())
}

impl TopologyFormat {
    /// Tells the format from the number of fields of the first layer line (8 or 9: conv; 4 to
    /// 7: GEMM).
    pub fn detect(text: &str) -> Result<Self, ScaleSimError> {
        let (line, row) = layer_lines(text).next().ok_or(ScaleSimError::NoLayers)?;
        match fields(row).len() {
            8 | 9 => Ok(TopologyFormat::Conv),
            4..=7 => Ok(TopologyFormat::Gemm),
            found => Err(ScaleSimError::UnknownFormat { line, found }),
        }
    }
}

fn int(line: usize, index: usize, field: &'static str, value: &str) -> Result<u64, ScaleSimError> {
    value.parse::<u64>().map_err(|_| ScaleSimError::BadInt { line, index, field, value: value.to_string() })
}

fn sparsity(line: usize, value: Option<&&str>) -> Result<(), ScaleSimError> {
    let Some(value) = value else { return Ok(()) };
    let ok = match value.split_once(':') {
        Some((n, m)) => n.trim().parse::<u64>().is_ok() && m.trim().parse::<u64>().is_ok(),
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ScaleSimError::BadSparsity { line, value: value.to_string() })
    }
}

/// The dimensions of one SCALE-Sim layer as its topology line gives them (for a depthwise
/// line, those of one channel: `channels` is 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowShape {
    /// A conv line: no padding, batch 1, one stride for both directions.
    Conv {
        /// IFMAP height.
        ifmap_h: u64,
        /// IFMAP width.
        ifmap_w: u64,
        /// Filter height.
        filter_h: u64,
        /// Filter width.
        filter_w: u64,
        /// Channels.
        channels: u64,
        /// Number of filters.
        filters: u64,
        /// Stride.
        stride: u64,
    },
    /// A GEMM line: `M x K` times `K x N`.
    Gemm {
        /// Rows of the left operand and the output.
        m: u64,
        /// Columns of the right operand and the output.
        n: u64,
        /// The reduction.
        k: u64,
    },
}

impl RowShape {
    /// The conv's output extent `(height, width)`, SCALE-Sim's `ceil((ifmap - filter + stride) /
    /// stride)` per direction; `(M, 1)` for a GEMM.
    pub fn ofmap_hw(&self) -> (u64, u64) {
        match *self {
            RowShape::Conv { ifmap_h, ifmap_w, filter_h, filter_w, stride, .. } => {
                let out = |i: u64, f: u64| i.saturating_sub(f).div_ceil(stride.max(1)) + 1;
                (out(ifmap_h, filter_h), out(ifmap_w, filter_w))
            }
            RowShape::Gemm { m, .. } => (m, 1),
        }
    }
}

/// One SCALE-Sim layer of a topology: its line, its name (`<name>Channel_<i>` for the channels
/// of a depthwise line), its dimensions as written and as lowered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopologyLayer {
    /// The 1-based line of the topology it comes from.
    pub line: usize,
    /// The layer's name, as SCALE-Sim names it.
    pub name: String,
    /// Its dimensions as the line gives them.
    pub shape: RowShape,
    /// Its operand matrices.
    pub layer: ScaleSimLayer,
}

/// Parses a SCALE-Sim topology CSV into its layers, in SCALE-Sim's layer order.
///
/// As in SCALE-Sim: the first line is a header; blank lines are skipped; the text after the last
/// comma of a line is ignored (lines end with a comma); fields are trimmed; a conv layer whose
/// name contains `DP` (depthwise) becomes one single-channel layer per channel, named
/// `<name>Channel_<i>`; GEMM fields after the sparsity ratio are ignored; the optional sparsity
/// ratio is checked for form and otherwise ignored (this module models dense arrays). Where
/// SCALE-Sim would crash or assert, this returns an error naming the line.
pub fn parse_topology_layers(text: &str, format: TopologyFormat) -> Result<Vec<TopologyLayer>, ScaleSimError> {
    let mut layers = Vec::new();
    for (line, row) in layer_lines(text) {
        let f = fields(row);
        let layer_err = |source| ScaleSimError::Layer { line, source };
        match format {
            TopologyFormat::Gemm => {
                if f.len() < 4 {
                    return Err(ScaleSimError::FieldCount {
                        line,
                        expected: "4 or more (name, M, N, K, [sparsity N:M])",
                        found: f.len(),
                    });
                }
                let m = int(line, 2, "M", f[1])?;
                let n = int(line, 3, "N", f[2])?;
                let k = int(line, 4, "K", f[3])?;
                sparsity(line, f.get(4))?;
                let layer = ScaleSimLayer::try_gemm(m, n, k).map_err(layer_err)?;
                layers.push(TopologyLayer { line, name: f[0].to_string(), shape: RowShape::Gemm { m, n, k }, layer });
            }
            TopologyFormat::Conv => {
                if !(8..=9).contains(&f.len()) {
                    return Err(ScaleSimError::FieldCount {
                        line,
                        expected: "8 or 9 (name, IFMAP height, IFMAP width, filter height, filter width, channels, \
                                   filters, stride, [sparsity N:M])",
                        found: f.len(),
                    });
                }
                let name = f[0];
                const NAMES: [&str; 7] =
                    ["IFMAP height", "IFMAP width", "filter height", "filter width", "channels", "filters", "stride"];
                let mut v = [0u64; 7];
                for (i, slot) in v.iter_mut().enumerate() {
                    *slot = int(line, i + 2, NAMES[i], f[i + 1])?;
                }
                sparsity(line, f.get(8))?;
                let [h, w, fh, fw, ch, nf, s] = v;
                let depthwise = name.contains("DP");
                let lowered_ch = if depthwise { 1 } else { ch };
                let layer = ScaleSimLayer::try_conv(h, w, fh, fw, lowered_ch, nf, s).map_err(layer_err)?;
                let shape = RowShape::Conv {
                    ifmap_h: h,
                    ifmap_w: w,
                    filter_h: fh,
                    filter_w: fw,
                    channels: lowered_ch,
                    filters: nf,
                    stride: s,
                };
                if depthwise {
                    if ch == 0 {
                        return Err(layer_err(LayerError::Zero("channels")));
                    }
                    // Each channel is one layer: refuse a count no list can hold before
                    // allocating it.
                    if ch > MAX_LAYERS as u64 || layers.len() as u64 + ch > MAX_LAYERS as u64 {
                        return Err(layer_err(LayerError::TooManyLayers(ch)));
                    }
                    layers.extend((0..ch).map(|c| TopologyLayer {
                        line,
                        name: format!("{name}Channel_{c}"),
                        shape,
                        layer,
                    }));
                } else {
                    layers.push(TopologyLayer { line, name: name.to_string(), shape, layer });
                }
            }
        }
        if layers.len() > MAX_LAYERS {
            return Err(ScaleSimError::Layer { line, source: LayerError::TooManyLayers(layers.len() as u64) });
        }
    }
    if layers.is_empty() {
        return Err(ScaleSimError::NoLayers);
    }
    Ok(layers)
}

/// Most layers a topology may expand to (depthwise lines count one layer per channel).
pub const MAX_LAYERS: usize = 1 << 20;

/// [`parse_topology_layers`] as `(name, layer)` pairs.
pub fn parse_topology(text: &str, format: TopologyFormat) -> Result<Vec<(String, ScaleSimLayer)>, ScaleSimError> {
    Ok(parse_topology_layers(text, format)?.into_iter().map(|l| (l.name, l.layer)).collect())
}

/// [`parse_topology`] with the format from [`TopologyFormat::detect`].
pub fn parse_topology_auto(text: &str) -> Result<(TopologyFormat, Vec<(String, ScaleSimLayer)>), ScaleSimError> {
    let format = TopologyFormat::detect(text)?;
    Ok((format, parse_topology(text, format)?))
}

/// The parts of a SCALE-Sim `.cfg` file that decide compute cycles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScaleSimConfig {
    /// `[general] run_name`.
    pub run_name: String,
    /// `[architecture_presets] ArrayHeight`: array rows `R`.
    pub rows: usize,
    /// `[architecture_presets] ArrayWidth`: array columns `C`.
    pub cols: usize,
    /// `[architecture_presets] Dataflow`.
    pub dataflow: Dataflow,
    /// `[sparsity] SparsitySupport` (absent means off). Sparse mappings change the fold
    /// structure and are not modelled here.
    pub sparsity_support: bool,
}

/// The keys of SCALE-Sim 3's `[architecture_presets]` section (a key not in this list is
/// reported when a required key is missing: it is likely a misspelling).
pub const ARCHITECTURE_KEYS: [&str; 13] = [
    "ArrayHeight",
    "ArrayWidth",
    "IfmapSramSzkB",
    "FilterSramSzkB",
    "OfmapSramSzkB",
    "IfmapOffset",
    "FilterOffset",
    "OfmapOffset",
    "Bandwidth",
    "Dataflow",
    "MemoryBanks",
    "ReadRequestBuffer",
    "WriteRequestBuffer",
];

/// One `key: value` line of a config.
struct Entry {
    section: String,
    key: String,
    value: String,
    line: usize,
}

impl ScaleSimConfig {
    /// Parses the INI text the way Python's `configparser` reads SCALE-Sim configs: sections in
    /// brackets, `key: value` or `key = value`, keys case-insensitive, whole-line comments
    /// starting with `#` or `;`. Errors name the line and say what is allowed.
    pub fn parse(text: &str) -> Result<Self, ScaleSimError> {
        let mut section = String::new();
        let mut entries: Vec<Entry> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
                continue;
            }
            if let Some(rest) = l.strip_prefix('[') {
                match rest.strip_suffix(']') {
                    Some(s) => section = s.trim().to_string(),
                    None => return Err(ScaleSimError::ConfigSyntax { line: i + 1, text: raw.to_string() }),
                }
                continue;
            }
            let at = match (l.find(':'), l.find('=')) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => return Err(ScaleSimError::ConfigSyntax { line: i + 1, text: raw.to_string() }),
            };
            let key = l[..at].trim().to_string();
            if key.is_empty() {
                return Err(ScaleSimError::ConfigSyntax { line: i + 1, text: raw.to_string() });
            }
            entries.push(Entry { section: section.clone(), key, value: l[at + 1..].trim().to_string(), line: i + 1 });
        }
        let get = |s: &str, k: &str| entries.iter().rev().find(|e| e.section == s && e.key.eq_ignore_ascii_case(k));
        let need = |s: &'static str, k: &'static str, allowed: &'static str| {
            get(s, k).ok_or_else(|| {
                let unknown = entries
                    .iter()
                    .filter(|e| e.section == s && !ARCHITECTURE_KEYS.iter().any(|a| a.eq_ignore_ascii_case(&e.key)))
                    .map(|e| (e.line, e.key.clone()))
                    .collect();
                ScaleSimError::MissingKey { section: s, key: k, allowed, unknown }
            })
        };
        const POSITIVE: &str = "a whole number of 1 or more";
        let dim = |k: &'static str| -> Result<usize, ScaleSimError> {
            let e = need("architecture_presets", k, POSITIVE)?;
            match e.value.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ScaleSimError::BadValue {
                    line: e.line,
                    section: "architecture_presets",
                    key: k,
                    value: e.value.clone(),
                    why: POSITIVE,
                }),
            }
        };
        const DATAFLOWS: &str = "ws, os or is (lower case, as SCALE-Sim compares it)";
        let df = need("architecture_presets", "Dataflow", DATAFLOWS)?;
        let dataflow = df.value.parse::<Dataflow>().map_err(|_| ScaleSimError::BadValue {
            line: df.line,
            section: "architecture_presets",
            key: "Dataflow",
            value: df.value.clone(),
            why: DATAFLOWS,
        })?;
        let sparsity_support = match get("sparsity", "SparsitySupport") {
            None => false,
            Some(e) => e.value.eq_ignore_ascii_case("true"),
        };
        Ok(ScaleSimConfig {
            run_name: get("general", "run_name").map_or(String::new(), |e| e.value.clone()),
            rows: dim("ArrayHeight")?,
            cols: dim("ArrayWidth")?,
            dataflow,
            sparsity_support,
        })
    }
}

/// [`report`] with every count checked first: the folds, the cycles of one fold and their
/// product must fit in 64 bits (SCALE-Sim's own figures are Python integers; past 2^64 fastbfp
/// refuses rather than saturates).
///
/// # Panics
///
/// When `rows` or `cols` is 0.
pub fn try_report(
    layer: &ScaleSimLayer,
    dataflow: Dataflow,
    rows: usize,
    cols: usize,
) -> Result<LayerReport, LayerError> {
    let (fr, fc) = folds(layer, dataflow, rows, cols);
    let n = fr.checked_mul(fc).ok_or(LayerError::Overflow("the fold count"))?;
    let (r, c, t) = (rows as u128, cols as u128, layer.dims(dataflow).t as u128);
    let per_fold = match dataflow {
        Dataflow::Ws | Dataflow::Is => 2 * r + c + t - 2,
        Dataflow::Os => r + c + t - 2,
    };
    let per_fold = u64::try_from(per_fold).map_err(|_| LayerError::Overflow("the cycle count of one fold"))?;
    n.checked_mul(per_fold).ok_or(LayerError::Overflow("the compute cycle count"))?;
    Ok(report(layer, dataflow, rows, cols))
}

/// The header of SCALE-Sim 3's `COMPUTE_REPORT.csv`.
pub const COMPUTE_REPORT_HEADER: &str = "LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, \
                                         Overall Util %, Mapping Efficiency %, Compute Util %,";

/// One row of `COMPUTE_REPORT.csv` in SCALE-Sim's formatting (`, ` between fields, a trailing
/// comma, floats as Python's `repr`). "Total Cycles (incl. prefetch)" belongs to SCALE-Sim's
/// DRAM model and is left empty; "Stall Cycles" is 0 (this model has no memory stalls, as
/// SCALE-Sim with `InterfaceBandwidth: CALC`), so "Total Cycles" is the compute cycles.
pub fn compute_report_row(layer_id: usize, r: &LayerReport) -> String {
    format!(
        "{layer_id}, , {}, 0, {}, {}, {},",
        r.compute_cycles,
        python_repr(r.overall_util_pct),
        python_repr(r.mapping_efficiency_pct),
        python_repr(r.compute_util_pct)
    )
}

/// A float as Python's `repr` prints it: the shortest digits that round-trip, positional for
/// decimal exponents -4..=15 (always with a fractional part, `100.0`), otherwise scientific with
/// a signed exponent of at least two digits (`1e-05`, `1.5e+16`).
pub fn python_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits too: `d.ddde[-]x`.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let body = if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                format!("{digits}{}.0", "0".repeat(int_len - digits.len()))
            } else {
                format!("{}.{}", &digits[..int_len], &digits[int_len..])
            }
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        };
        format!("{sign}{body}")
    } else {
        let frac = if digits.len() > 1 { format!(".{}", &digits[1..]) } else { String::new() };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{}{frac}e{esign}{:02}", &digits[..1], exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr() {
        for (x, py) in [
            (100.0, "100.0"),
            (0.0, "0.0"),
            (58.15837041156841, "58.15837041156841"),
            (6.1538461538461355, "6.1538461538461355"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.000012345, "1.2345e-05"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (0.5, "0.5"),
            (-2.25, "-2.25"),
            (1e-300, "1e-300"),
        ] {
            assert_eq!(python_repr(x), py, "{x:e}");
        }
    }

    #[test]
    fn cycles_past_64_bits_are_refused() {
        let layer = ScaleSimLayer::gemm(1, 1, 1);
        let huge = usize::MAX / 2 + 1; // 2R + C + T - 2 = 2^64
        assert!(matches!(try_report(&layer, Dataflow::Ws, huge, 1), Err(LayerError::Overflow(_))));
        assert_eq!(try_report(&layer, Dataflow::Os, huge, 1).map(|r| r.compute_cycles), Ok(huge as u64 - 1));
    }
}
