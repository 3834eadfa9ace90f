//! `merge`: the point files of one sweep, from one or more output folders (shards run apart),
//! into one CSV sorted by index and a Pareto plot of energy against cycles.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::SweepError;
use super::record::{csv, PointRecord};
use super::run::{json_files, points_dir};
use crate::report::plots::pareto;
use crate::report::write_all_atomic;

/// The merged CSV's file name.
pub const MERGED_CSV: &str = "merged.csv";

/// What a merge found and wrote.
#[derive(Debug, Clone)]
pub struct MergeSummary {
    /// Distinct points merged.
    pub points: usize,
    /// Points of the whole sweep.
    pub total: usize,
    /// Indices of the sweep's points no folder had, ascending.
    pub missing: Vec<usize>,
    /// Files written: `merged.csv`, `pareto.svg`, `pareto.png` (the plot unless left out).
    pub files: Vec<PathBuf>,
    /// Every point, by index.
    pub records: Vec<PointRecord>,
    /// Plots left out and why (a plot never fails a merge).
    pub notes: Vec<String>,
}

/// The `points/` folders of `dir`: its own, else those of its immediate subfolders (one per
/// shard, say), sorted.
fn point_folders(dir: &Path) -> Result<Vec<PathBuf>, SweepError> {
    if !dir.is_dir() {
        let error = std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder");
        return Err(SweepError::Io { path: dir.to_path_buf(), what: "cannot read", error });
    }
    let own = points_dir(dir);
    if own.is_dir() {
        return Ok(vec![own]);
    }
    let io = |error| SweepError::Io { path: dir.to_path_buf(), what: "cannot list", error };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let sub = points_dir(&entry.map_err(io)?.path());
        if sub.is_dir() {
            found.push(sub);
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(SweepError::Merge(format!(
            "{}: no points/ folder in it or its subfolders: not the output of fastbfp sweep -o DIR",
            dir.display()
        )));
    }
    Ok(found)
}

/// Reads every point file under `dirs`, checks they are of one sweep and agree where they
/// overlap, and writes `merged.csv` (sorted by index, the columns of `sweep.csv`),
/// `pareto.svg` and `pareto.png` into `out` (created if missing), or into `dirs[0]`.
pub fn merge(dirs: &[PathBuf], out: Option<&Path>) -> Result<MergeSummary, SweepError> {
    let Some(first_dir) = dirs.first() else {
        return Err(SweepError::Merge("give at least one sweep output folder".to_string()));
    };
    let mut by_index: BTreeMap<usize, (PathBuf, PointRecord)> = BTreeMap::new();
    let mut first: Option<(PathBuf, String)> = None;
    for dir in dirs {
        for folder in point_folders(dir)? {
            for path in json_files(&folder)? {
                let r = PointRecord::read(&path)?;
                match &first {
                    None => first = Some((path.clone(), r.sweep.clone())),
                    Some((p0, id)) if *id != r.sweep => {
                        return Err(SweepError::Merge(format!(
                            "{} and {} belong to different sweeps (ids {id} and {}); merge one sweep at a time",
                            p0.display(),
                            path.display(),
                            r.sweep
                        )));
                    }
                    Some(_) => {}
                }
                match by_index.get(&r.index) {
                    Some((p0, r0)) if *r0 != r => {
                        return Err(SweepError::Merge(format!(
                            "point {} has two different results: {} and {}",
                            r.index,
                            p0.display(),
                            path.display()
                        )));
                    }
                    Some(_) => {}
                    None => {
                        by_index.insert(r.index, (path, r));
                    }
                }
            }
        }
    }
    let records: Vec<PointRecord> = by_index.into_values().map(|(_, r)| r).collect();
    let Some(head) = records.first() else {
        let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        return Err(SweepError::Merge(format!("no point files in {}", shown.join(", "))));
    };
    let total = head.points;
    if let Some(r) = records.iter().find(|r| r.index >= total) {
        return Err(SweepError::Merge(format!("point {} is beyond its sweep's {total} points", r.index)));
    }
    let have: Vec<usize> = records.iter().map(|r| r.index).collect();
    let missing: Vec<usize> = (0..total).filter(|i| have.binary_search(i).is_err()).collect();
    let out = out.unwrap_or(first_dir);
    let made = crate::report::OutDir::create(out)?;
    let c = &head.config;
    let title = format!("Energy vs cycles: {} on {} (sweep of {} points)", c.workload, c.arch, records.len());
    let points: Vec<(String, f64, f64)> =
        records.iter().map(|r| (r.name.clone(), r.cycles as f64, r.energy_pj.total)).collect();
    let mut files = vec![(out.join(MERGED_CSV), csv(&records).into_bytes())];
    let mut notes = Vec::new();
    match pareto(&title, &points) {
        Ok(plot) => {
            files.push((out.join(format!("{}.svg", plot.name)), plot.svg.into_bytes()));
            files.push((out.join(format!("{}.png", plot.name)), plot.png));
        }
        // A plot never fails the merge: the CSV is written and the plot left out with a note.
        Err(e) => notes.push(format!("pareto plot left out: {e}")),
    }
    write_all_atomic(&files)?;
    made.keep();
    Ok(MergeSummary {
        points: records.len(),
        total,
        missing,
        files: files.into_iter().map(|(p, _)| p).collect(),
        records,
        notes,
    })
}
