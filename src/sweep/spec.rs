//! A validated sweep ([`Sweep`]): the base arch and workload, the run options, the axes; the
//! points it expands to ([`Point`], the cartesian product in a fixed order) and the sweep's
//! identity (so results of different sweeps are never mixed).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::SweepError;
use super::param::Param;
use super::schema::{ron_options, AxisFile, FidelityFile, Num, SweepFile};
use crate::arch::{default_arch, load_arch, Arch};
use crate::array::Fidelity;
use crate::ronpos::Locator;
use crate::runner::RunOptions;
use crate::workload::{default_workload, load_workload, DataSource, PrecisionPolicy, Workload};

/// Most points one sweep may have.
pub const MAX_POINTS: usize = 1_000_000;

/// Most training iterations per point.
pub const MAX_ITERATIONS: i64 = 1_000_000;

/// One axis: a parameter and the values it takes, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis {
    /// The parameter.
    pub param: Param,
    /// Its values (non-empty, distinct, in range).
    pub values: Vec<u64>,
}

/// A sweep file, loaded and checked.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The sweep file (names it in messages).
    pub origin: PathBuf,
    /// The base arch every point starts from.
    pub arch: Arch,
    /// The base workload every point starts from.
    pub workload: Workload,
    /// How every point runs.
    pub options: RunOptions,
    /// The axes, outermost (slowest-varying) first.
    pub axes: Vec<Axis>,
    /// Identity of the sweep: 16 hex digits hashing the base arch and workload, the options
    /// and the axes. Every point file carries it; resuming and merging refuse other sweeps'.
    pub id: String,
}

/// One design point of a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// Its index in the sweep's order, `0..sweep.len()`.
    pub index: usize,
    /// Its name: each axis's label and value, joined by `-` (`size32-m4`).
    pub name: String,
    /// The value of each axis, in axis order.
    pub values: Vec<(Param, u64)>,
}

impl Point {
    /// The point file's name under `points/`: `<index, 4 digits or more>-<name>.json`.
    pub fn file_name(&self) -> String {
        format!("{:04}-{}.json", self.index, self.name)
    }
}

/// Reads, parses and checks the sweep file at `path`, and the base arch and workload it names.
pub fn load_sweep(path: &Path) -> Result<Sweep, SweepError> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES).map_err(|error| SweepError::Io {
        path: path.to_path_buf(),
        what: "cannot read",
        error,
    })?;
    parse_sweep(&text, path)
}

/// Parses and checks a sweep file's text. `origin` is its path: it names the file in messages
/// and the `arch` and `workload` paths are resolved against its folder (and read from disk).
pub fn parse_sweep(text: &str, origin: &Path) -> Result<Sweep, SweepError> {
    if let Some(((line, col), message)) = crate::ronpos::too_deep(text) {
        return Err(SweepError::File { file: origin.to_path_buf(), line, col, field: String::new(), message });
    }
    let rep = Rep { file: origin, text, locator: Locator::new(text) };
    let file: SweepFile = ron_options().from_str(text).map_err(|e| rep.ron(&e))?;
    let dir = origin.parent().unwrap_or(Path::new(""));
    let arch = match &file.arch {
        Some(p) => {
            load_arch(&dir.join(p)).map_err(|e| rep.at("arch", format!("arch = {p:?} cannot be loaded: {e}")))?
        }
        None => default_arch(),
    };
    let workload = match &file.workload {
        Some(p) => load_workload(&dir.join(p))
            .map_err(|e| rep.at("workload", format!("workload = {p:?} cannot be loaded: {e}")))?,
        None => default_workload(),
    };
    let o = &file.options;
    let Some(iterations) = o.iterations.within(1, MAX_ITERATIONS as i128) else {
        let msg = format!("options.iterations = {} is out of range: allowed 1..={MAX_ITERATIONS}", o.iterations);
        return Err(rep.at("options.iterations", msg));
    };
    let Some(seed) = o.seed.within(0, u64::MAX.into()) else {
        let msg = format!("options.seed = {} is out of range: allowed 0..={}", o.seed, u64::MAX);
        return Err(rep.at("options.seed", msg));
    };
    let options = RunOptions {
        fidelity: match o.fidelity {
            FidelityFile::Fold => Fidelity::Fold,
            FidelityFile::Cycle => Fidelity::Cycle,
        },
        numerics: o.numerics,
        iterations: iterations as usize,
        seed: seed as u64,
        mapping: None,
    };
    if file.axes.is_empty() {
        return Err(rep.at(
            "axes",
            format!(
                "axes: empty; give at least one, e.g. (param: \"array.size\", values: [16, 32]); parameters: {}",
                Param::all_paths()
            ),
        ));
    }
    let mut axes: Vec<Axis> = Vec::with_capacity(file.axes.len());
    for (i, a) in file.axes.iter().enumerate() {
        axes.push(check_axis(i, a, &axes, &arch, &workload, &options, &rep)?);
    }
    let count = axes.iter().try_fold(1usize, |n, a| n.checked_mul(a.values.len()).filter(|&n| n <= MAX_POINTS));
    if count.is_none() {
        let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
        let msg = format!("axes: {} points is too many: allowed at most {MAX_POINTS}", sizes.join(" x "));
        return Err(rep.at("axes", msg));
    }
    let id = sweep_id(&arch, &workload, &options, &axes);
    Ok(Sweep { origin: origin.to_path_buf(), arch, workload, options, axes, id })
}

fn check_axis(
    i: usize,
    a: &AxisFile,
    before: &[Axis],
    arch: &Arch,
    wl: &Workload,
    options: &RunOptions,
    rep: &Rep<'_>,
) -> Result<Axis, SweepError> {
    let at = format!("axes[{i}].param");
    let Some(param) = Param::from_path(a.param.trim()) else {
        let msg = format!("{at} = {:?} is not a sweep parameter; allowed {}", a.param, Param::all_paths());
        return Err(rep.at(&at, msg));
    };
    if let Some((j, other)) = before.iter().enumerate().find(|(_, b)| b.param.overlaps(param)) {
        let msg = if other.param == param {
            format!("{at}: {param} is already swept by axes[{j}]; give each parameter one axis")
        } else {
            format!("{at}: {param} sets a field that axes[{j}] ({}) sets too; sweep one or the other", other.param)
        };
        return Err(rep.at(&at, msg));
    }
    if param.needs_bfp() && !arch.array.cell.is_bfp() {
        let msg = format!(
            "{at}: {param} means nothing on arch {} (cell {}, element-wise); BFP parameters need an fmac or bfp_full cell",
            arch.name,
            arch.array.cell.name()
        );
        return Err(rep.at(&at, msg));
    }
    if param.is_mantissa() && matches!(wl.precision, PrecisionPolicy::Schedule(_)) {
        let msg = format!(
            "{at}: workload {} has a precision schedule, which sets every mantissa width; sweeping {param} would change nothing",
            wl.name
        );
        return Err(rep.at(&at, msg));
    }
    if param == Param::Batch && options.numerics && matches!(wl.data, DataSource::Npy { .. }) {
        let msg = format!(
            "{at}: workload {} reads its operands from .npy files, whose shapes fix the batch; sweep the batch with numerics: false",
            wl.name
        );
        return Err(rep.at(&at, msg));
    }
    let list = format!("axes[{i}].values");
    if a.values.is_empty() {
        let (lo, hi) = param.range();
        return Err(rep.at(&list, format!("{list}: empty; give at least one value of {param} ({lo}..={hi})")));
    }
    let mut values = Vec::with_capacity(a.values.len());
    for (j, &v) in a.values.iter().enumerate() {
        let here = format!("{list}[{j}]");
        let (lo, hi) = param.range();
        let Some(v) = v.within(lo.into(), hi.into()) else {
            let what = if matches!(v, Num::Float(_)) { "integers " } else { "" };
            return Err(rep.at(&here, format!("{here} ({param}) = {v} is out of range: allowed {what}{lo}..={hi}")));
        };
        if let Some(k) = a.values[..j].iter().position(|&w| w == Num::Int(v)) {
            return Err(rep.at(&here, format!("{here} ({param}) = {v} repeats {list}[{k}]; give each value once")));
        }
        values.push(v as u64);
    }
    Ok(Axis { param, values })
}

/// 64-bit FNV-1a of the base arch and workload (without the workload's file path, which
/// depends on the working directory), the options and the axes, in hex.
fn sweep_id(arch: &Arch, wl: &Workload, options: &RunOptions, axes: &[Axis]) -> String {
    #[derive(Serialize)]
    struct Identity<'a> {
        arch: &'a Arch,
        workload: &'a Workload,
        options: &'a RunOptions,
        axes: Vec<(&'static str, &'a [u64])>,
    }
    let mut workload = wl.clone();
    workload.origin = PathBuf::new();
    let axes = axes.iter().map(|a| (a.param.path(), a.values.as_slice())).collect();
    let bytes = serde_json::to_vec(&Identity { arch, workload: &workload, options, axes }).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Sweep {
    /// Number of points: the product of the axes' lengths.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Whether the sweep has no points (never, once loaded: every axis has a value).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The point at `index` (`0..len()`). Points are ordered like nested loops over the axes
    /// in file order: the last axis varies fastest, so index = sum of each axis's value
    /// position times the product of the lengths of the axes after it.
    ///
    /// # Panics
    /// If `index >= len()`.
    pub fn point(&self, index: usize) -> Point {
        assert!(index < self.len(), "point {index} of a {}-point sweep", self.len());
        let mut rest = index;
        let mut values = vec![(Param::Batch, 0); self.axes.len()];
        for (k, a) in self.axes.iter().enumerate().rev() {
            values[k] = (a.param, a.values[rest % a.values.len()]);
            rest /= a.values.len();
        }
        let name = values.iter().map(|(p, v)| format!("{}{v}", p.label())).collect::<Vec<_>>().join("-");
        Point { index, name, values }
    }

    /// Every point, in index order.
    pub fn points(&self) -> impl Iterator<Item = Point> + '_ {
        (0..self.len()).map(|i| self.point(i))
    }

    /// The arch and workload of `point`: the base ones with the point's values applied.
    pub fn configure(&self, point: &Point) -> (Arch, Workload) {
        let (mut arch, mut wl) = (self.arch.clone(), self.workload.clone());
        for &(p, v) in &point.values {
            p.apply(v, &mut arch, &mut wl);
        }
        (arch, wl)
    }
}

/// Builds errors for the sweep file.
struct Rep<'a> {
    file: &'a Path,
    text: &'a str,
    locator: Locator,
}

impl Rep<'_> {
    fn at(&self, field: &str, message: String) -> SweepError {
        let (line, col) = self.locator.value_pos(field);
        SweepError::File { file: self.file.to_path_buf(), line, col, field: field.to_string(), message }
    }

    /// Rewords RON's errors that name Rust types; names the field for the others; says so
    /// when the file ends early.
    fn ron(&self, e: &ron::error::SpannedError) -> SweepError {
        use ron::Error as E;
        let file = self.file.to_path_buf();
        let pos = crate::ronpos::skip_blank(self.text, (e.span.start.line, e.span.start.col));
        if let Some(((line, col), field, message)) = self.locator.ends_early(pos) {
            return SweepError::File { file, line, col, field, message };
        }
        let here = self.locator.path_at(pos).to_string();
        let message = match &e.code {
            E::NoSuchStructField { expected, found, .. } => {
                format!("unknown field `{found}`; allowed fields here: {}", expected.join(", "))
            }
            E::MissingStructField { field, .. } => format!("missing field `{field}`"),
            E::NoSuchEnumVariant { expected, found, .. } => {
                format!("`{found}` is not a known variant; allowed {}", expected.join(", "))
            }
            E::DuplicateStructField { field, .. } => format!("field `{field}` given twice"),
            other => {
                let s = other.to_string();
                let mut c = s.chars();
                let what: String = c.next().map_or(String::new(), |f| f.to_lowercase().chain(c).collect());
                match allowed(&here) {
                    Some(a) => format!("{here}: {what}; allowed {a}"),
                    None if !here.is_empty() => format!("{here}: {what}"),
                    None => what,
                }
            }
        };
        let (line, col) = (e.span.start.line, e.span.start.col);
        SweepError::File { file, line, col, field: here, message }
    }
}

/// The allowed values of a sweep-file field, for RON's type errors.
fn allowed(path: &str) -> Option<String> {
    let tail = path.rsplit('.').next().unwrap_or(path);
    Some(match tail {
        "arch" | "workload" => "a path (string) relative to this file, or leave the field out".into(),
        "fidelity" => "fold, cycle".into(),
        "numerics" => "true, false".into(),
        "iterations" => format!("1..={MAX_ITERATIONS}"),
        "seed" => format!("0..={}", u64::MAX),
        "axes" => "a list of (param: \"...\", values: [...])".into(),
        "param" => format!("a parameter name (string): {}", Param::all_paths()),
        _ if tail.starts_with("values") => "integers in the parameter's range (docs/sweep.md)".into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(text: &str) -> Result<Sweep, SweepError> {
        parse_sweep(text, Path::new("s.ron"))
    }

    #[test]
    fn points_are_the_cartesian_product_last_axis_fastest() {
        let s =
            sweep("(axes: [(param: \"array.size\", values: [16, 32]), (param: \"bfp.group\", values: [8, 16, 4])])")
                .unwrap();
        assert_eq!(s.len(), 6);
        let names: Vec<String> = s.points().map(|p| p.name).collect();
        assert_eq!(names, ["size16-g8", "size16-g16", "size16-g4", "size32-g8", "size32-g16", "size32-g4"]);
        let p = s.point(4);
        assert_eq!(p.file_name(), "0004-size32-g16.json");
        let (a, _) = s.configure(&p);
        assert_eq!((a.array.rows, a.array.cols, a.bfp.group), (32, 32, 16));
        assert_eq!(s.options.iterations, 1);
        assert!(!s.options.numerics);
    }

    #[test]
    fn the_id_follows_the_content() {
        let a = sweep("(axes: [(param: \"array.rows\", values: [16, 32])])").unwrap();
        let b = sweep("// same\n(axes: [(param: \"array.rows\", values: [16, 32])], options: (seed: 1))").unwrap();
        let c = sweep("(axes: [(param: \"array.rows\", values: [16, 64])])").unwrap();
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
    }

    #[test]
    fn errors_point_at_the_value() {
        let e = sweep("(\n axes: [\n  (param: \"bfp.group\", values: [4, 65]),\n ],\n)").unwrap_err();
        assert_eq!(e.position(), Some((3, 36)));
        assert!(e.to_string().contains("65 is out of range: allowed 1..=64"), "{e}");
        let e =
            sweep("(axes: [(param: \"array.size\", values: [4]), (param: \"array.rows\", values: [2])])").unwrap_err();
        assert!(e.to_string().contains("axes[1].param"), "{e}");
    }
}
