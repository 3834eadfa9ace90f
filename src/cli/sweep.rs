//! `fastbfp sweep`: the points of a sweep file (or one shard of them) in parallel, resumable;
//! `fastbfp merge`: the point files of one or more sweep folders into `merged.csv` and a
//! Pareto plot. The work is in `fastbfp::sweep`; this file parses flags and prints.

use super::out::{errln, out, outln};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use fastbfp::sweep::{load_sweep, merge as merge_dirs, plan_sweep, run_plan, PointRecord, Shard, CONFIRM_POINTS};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Most rows of the table printed after a sweep (larger sweeps: see the CSV).
const TABLE_ROWS: usize = 40;

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Sweep file (RON): base arch and workload, options, and the axes (parameters and their
    /// values) whose cartesian product is run. See docs/sweep.md.
    #[arg(value_name = "SWEEP.ron")]
    pub sweep: PathBuf,
    /// Output folder (created if missing): one JSON per finished point in points/, and
    /// sweep.csv (sweep-shard-I-of-N.csv with --shard). Points already there are skipped.
    #[arg(short, long, default_value = "sweep-out")]
    pub out: PathBuf,
    /// Run only shard I of N (I from 0): the points whose index is I modulo N. For job arrays,
    /// e.g. SLURM's $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT; then `fastbfp merge`.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Threads (points and their GEMMs simulated at once) [default: one per core].
    #[arg(long, short, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub jobs: Option<u64>,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run a sweep of more than 10,000 points (fastbfp::sweep::CONFIRM_POINTS) in one
    /// invocation; without it such a sweep is refused with its size unless --shard is given.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Sweep output folders (each holding points/, or subfolders that do, one per shard).
    #[arg(required = true, num_args = 1.., value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write merged.csv, pareto.svg and pareto.png [default: the first DIR].
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

fn parse_shard(s: &str) -> std::result::Result<Shard, String> {
    s.parse::<Shard>().map_err(|e| e.to_string())
}

pub fn run(a: &SweepArgs) -> Result<()> {
    let t0 = Instant::now();
    let sweep = load_sweep(&a.sweep)?;
    let shard = a.shard.unwrap_or(Shard::ALL);
    // The size first, before any folder is made: a large sweep needs --shard or --yes.
    let size = fastbfp::sweep::size_estimate(&sweep, shard);
    if sweep.len() > CONFIRM_POINTS && a.shard.is_none() && !a.yes {
        // The refusal carries the size, on the error's one line.
        return Err(super::UsageError(format!(
            "{}: {size}: more than {CONFIRM_POINTS} points for one invocation: split it with --shard I/N \
             (e.g. a job array, then fastbfp merge) or confirm with --yes",
            a.sweep.display(),
        ))
        .into());
    }
    if !a.quiet || sweep.len() > CONFIRM_POINTS {
        errln!("fastbfp sweep {}: {size}", a.sweep.display());
    }
    let plan = plan_sweep(&sweep, &a.out, shard)?;
    let (points, skipped) = (plan.points.len(), plan.done.len());
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(points as u64), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} points, {elapsed} elapsed, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(format!("{} on {}", sweep.workload.name, sweep.arch.name));
    bar.set_position(skipped as u64);
    bar.reset_eta();
    let on_point = |r: &PointRecord| {
        bar.inc(1);
        bar.set_message(r.name.clone());
    };
    let result = run_plan(&sweep, plan, a.jobs.map(|j| j as usize), &on_point);
    bar.finish_and_clear();
    let summary = result?;
    if !a.quiet {
        let shard_text = if shard.is_all() { String::new() } else { format!(" (shard {shard})") };
        outln!(
            "fastbfp sweep {}: {} points{shard_text} of {}: {} computed, {} already done (skipped)",
            a.sweep.display(),
            summary.points,
            sweep.len(),
            summary.done,
            summary.skipped
        );
        out!("{}", table(&summary.records));
        outln!(
            "  wrote {} and {} point files in {} in {:.2} s",
            summary.csv.display(),
            summary.done,
            fastbfp::sweep::points_dir(&a.out).display(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The points as a terminal table (at most [`TABLE_ROWS`] rows).
fn table(records: &[PointRecord]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "  {:>6} {:<28} {:>14} {:>11} {:>12} {:>9} {:>7}",
        "index", "point", "cycles", "time ms", "energy uJ", "area mm2", "util %"
    );
    for r in records.iter().take(TABLE_ROWS) {
        let _ = writeln!(
            s,
            "  {:>6} {:<28} {:>14} {:>11.3} {:>12.3} {:>9.3} {:>7.1}",
            r.index,
            r.name,
            r.cycles,
            r.time_us / 1000.0,
            r.energy_pj.total / 1e6,
            r.area_um2.total / 1e6,
            100.0 * r.utilization
        );
    }
    if records.len() > TABLE_ROWS {
        let _ = writeln!(s, "  ... and {} more (see the CSV)", records.len() - TABLE_ROWS);
    }
    s
}

pub fn merge(a: &MergeArgs) -> Result<()> {
    let m = merge_dirs(&a.dirs, a.out.as_deref())?;
    if !m.missing.is_empty() {
        let shown: Vec<String> = m.missing.iter().take(20).map(|i| i.to_string()).collect();
        let more = if m.missing.len() > 20 { format!(" and {} more", m.missing.len() - 20) } else { String::new() };
        errln!(
            "warning: {} of the sweep's {} points are missing (indices {}{more}); run their shards, then merge again",
            m.missing.len(),
            m.total,
            shown.join(", ")
        );
    }
    for n in &m.notes {
        errln!("warning: {n}");
    }
    let files: Vec<String> = m.files.iter().map(|f| f.display().to_string()).collect();
    outln!("fastbfp merge: {} of {} points; wrote {}", m.points, m.total, files.join(", "));
    Ok(())
}
