//! Running (a shard of) a sweep into an output folder: which points are already done
//! ([`plan_sweep`]), the others in parallel on a bounded thread pool ([`run_plan`]), each
//! written atomically as soon as it finishes, then the shard's CSV.
//!
//! Resuming is free: a point counts as done when its file exists and parses and belongs to
//! this sweep. Point files are written with temp + rename, so a killed run leaves finished
//! points whole and unfinished ones absent (at worst a stray hidden `.fastbfp-<pid>-<n>.tmp`, ignored).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::error::SweepError;
use super::record::{csv, PointRecord};
use super::shard::Shard;
use super::spec::{Point, Sweep};
use crate::report::write_atomic;
use crate::runner::run_iterations;

/// Where and how much of a sweep to run.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Output folder (created if missing): `points/` and the shard's CSV.
    pub out: PathBuf,
    /// Which points.
    pub shard: Shard,
    /// Points and GEMMs simulated at once (threads of a local pool); `None`: one per core.
    pub jobs: Option<usize>,
}

/// The points of one shard, split into those already done and those to run.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    /// The output folder.
    pub out: PathBuf,
    /// The shard.
    pub shard: Shard,
    /// Every point of the shard, in index order.
    pub points: Vec<Point>,
    /// Records of the points already done, read from their files.
    pub done: Vec<PointRecord>,
    /// Points still to run, in index order.
    pub todo: Vec<Point>,
}

/// What a sweep invocation did.
#[derive(Debug, Clone)]
pub struct SweepSummary {
    /// Points of the shard.
    pub points: usize,
    /// Points simulated by this invocation.
    pub done: usize,
    /// Points skipped because an earlier run had finished them.
    pub skipped: usize,
    /// The CSV written.
    pub csv: PathBuf,
    /// Every point of the shard, in index order.
    pub records: Vec<PointRecord>,
}

/// The folder of point files under `out`.
pub fn points_dir(out: &Path) -> PathBuf {
    out.join("points")
}

/// The CSV a shard writes: `sweep.csv` for the whole sweep, `sweep-shard-I-of-N.csv` for a
/// shard (so shards sharing one output folder do not overwrite each other's).
pub fn csv_name(shard: Shard) -> String {
    if shard.is_all() {
        "sweep.csv".to_string()
    } else {
        format!("sweep-shard-{}-of-{}.csv", shard.index, shard.count)
    }
}

/// The index a point file's name starts with (`0042-size32-m4.json` -> 42), for `.json` files
/// that are not hidden (temporaries are `.fastbfp-<pid>-<n>.tmp`).
pub(crate) fn point_file_index(path: &Path) -> Option<usize> {
    let name = path.file_name()?.to_str()?;
    if name.starts_with('.') || !name.ends_with(".json") {
        return None;
    }
    name.split(['-', '.']).next()?.parse().ok()
}

/// The non-hidden `.json` files of `dir`, sorted by name.
pub(crate) fn json_files(dir: &Path) -> Result<Vec<PathBuf>, SweepError> {
    let io = |error| SweepError::Io { path: dir.to_path_buf(), what: "cannot list", error };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.starts_with('.') && name.ends_with(".json") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Creates `out/points` and sorts the shard's points into done and to do.
///
/// Fails ([`SweepError::Foreign`]) when a point file there belongs to another sweep or
/// another point, and when two files claim one point. A file that does not parse is redone
/// (and overwritten) if it has the point's own file name.
pub fn plan_sweep(sweep: &Sweep, out: &Path, shard: Shard) -> Result<SweepPlan, SweepError> {
    let dir = points_dir(out);
    std::fs::create_dir_all(&dir).map_err(|error| SweepError::Io {
        path: dir.clone(),
        what: "cannot create folder",
        error,
    })?;
    let mut existing: BTreeMap<usize, Vec<PathBuf>> = BTreeMap::new();
    for path in json_files(&dir)? {
        if let Some(i) = point_file_index(&path) {
            existing.entry(i).or_default().push(path);
        }
    }
    let points: Vec<Point> = (shard.index..sweep.len()).step_by(shard.count).map(|i| sweep.point(i)).collect();
    let (mut done, mut todo) = (Vec::new(), Vec::new());
    for p in &points {
        let files = existing.get(&p.index).map_or(&[][..], Vec::as_slice);
        let own = dir.join(p.file_name());
        match files {
            [] => todo.push(p.clone()),
            [path] => match PointRecord::read(path) {
                Ok(r) if r.sweep != sweep.id => {
                    let reason = format!(
                        "holds point {} of another sweep (sweep id {}; this one, {}, is {}: its base arch, workload, options or axes differ)",
                        r.index,
                        r.sweep,
                        sweep.origin.display(),
                        sweep.id
                    );
                    return Err(SweepError::Foreign { path: path.clone(), reason });
                }
                Ok(r) if r.index != p.index || r.name != p.name || *path != own => {
                    let reason =
                        format!("holds point {} {}, but this sweep's point {} is {}", r.index, r.name, p.index, p.name);
                    return Err(SweepError::Foreign { path: path.clone(), reason });
                }
                Ok(r) => done.push(r),
                Err(_) if *path == own => todo.push(p.clone()),
                Err(e) => {
                    return Err(SweepError::Foreign { path: path.clone(), reason: format!("unreadable ({e})") });
                }
            },
            [a, b, ..] => {
                let reason = format!("point {} also has {}", p.index, b.display());
                return Err(SweepError::Foreign { path: a.clone(), reason });
            }
        }
    }
    Ok(SweepPlan { out: out.to_path_buf(), shard, points, done, todo })
}

/// Runs the plan's remaining points in parallel on a pool of `jobs` threads (`None`: one per
/// core), writing each point's file as soon as it finishes and calling `progress` with its
/// record, then writes the shard's CSV ([`csv_name`]) over all its points.
///
/// A point that fails does not stop the others; they are all saved, and the error
/// ([`SweepError::PointsFailed`]) lists the failed ones. The CSV is written only when every
/// point of the shard is done.
pub fn run_plan(
    sweep: &Sweep,
    plan: SweepPlan,
    jobs: Option<usize>,
    progress: &(dyn Fn(&PointRecord) + Sync),
) -> Result<SweepSummary, SweepError> {
    if jobs == Some(0) {
        return Err(SweepError::Jobs("0 threads: allowed 1 or more".to_string()));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .thread_name(|i| format!("sweep-{i}"))
        .build()
        .map_err(|e| SweepError::Jobs(e.to_string()))?;
    let dir = points_dir(&plan.out);
    let results: Vec<Result<PointRecord, String>> = pool.install(|| {
        plan.todo
            .par_iter()
            .map(|p| {
                let r = run_point(sweep, p, &dir).map_err(|e| format!("{} {}: {e}", p.index, p.name))?;
                progress(&r);
                Ok(r)
            })
            .collect()
    });
    let skipped = plan.done.len();
    let mut records = plan.done;
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(r) => records.push(r),
            Err(e) => failed.push(e),
        }
    }
    if !failed.is_empty() {
        return Err(SweepError::PointsFailed { total: plan.points.len(), failed });
    }
    records.sort_by_key(|r| r.index);
    let path = plan.out.join(csv_name(plan.shard));
    write_atomic(&path, csv(&records).as_bytes())?;
    Ok(SweepSummary { points: plan.points.len(), done: plan.todo.len(), skipped, csv: path, records })
}

/// Simulates one point and writes its file; returns the record as read back from the text
/// written, so a fresh record and one read from disk later are identical.
fn run_point(sweep: &Sweep, p: &Point, dir: &Path) -> Result<PointRecord, String> {
    let (arch, wl) = sweep.configure(p);
    let report = run_iterations(&arch, &wl, &sweep.options, &|| {}).map_err(|e| e.to_string())?;
    let json = PointRecord::new(sweep, p, &arch, &wl, &report).to_json();
    let path = dir.join(p.file_name());
    write_atomic(&path, json.as_bytes()).map_err(|e| e.to_string())?;
    PointRecord::from_json(&json, &path).map_err(|e| e.to_string())
}

/// [`plan_sweep`] then [`run_plan`].
pub fn run_sweep(
    sweep: &Sweep,
    options: &SweepOptions,
    progress: &(dyn Fn(&PointRecord) + Sync),
) -> Result<SweepSummary, SweepError> {
    let plan = plan_sweep(sweep, &options.out, options.shard)?;
    run_plan(sweep, plan, options.jobs, progress)
}
