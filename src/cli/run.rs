//! `fastbfp run`: training iterations of a workload on an arch, with the summary, the reports
//! and the plots. With no arguments it runs the embedded default arch on the embedded default
//! workload.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use fastbfp::arch::{default_arch, load_arch, Arch};
use fastbfp::array::Fidelity;
use fastbfp::runner::{run_iterations, RunOptions};
use fastbfp::workload::{default_workload, load_workload, Workload};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Hardware description (RON) [default: the embedded arch/fast-32x32.ron].
    pub arch: Option<PathBuf>,
    /// Workload (RON) [default: the embedded traces/resnet18-cifar.ron].
    pub workload: Option<PathBuf>,
    /// Output folder for report.json, layers.csv and the plots (created if missing).
    #[arg(short, long, default_value = "out")]
    pub out: PathBuf,
    /// Array fidelity: fold (closed forms, fast) or cycle (every cell every cycle).
    #[arg(long, default_value = "fold")]
    pub fidelity: Fidelity,
    /// Timing, area and energy only: skip the numbers and their quality figures.
    #[arg(long)]
    pub no_numerics: bool,
    /// Training iterations [default: the workload's].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub iterations: Option<u64>,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// No progress bar and no summary (files only).
    #[arg(long, short)]
    pub quiet: bool,
}

fn load(a: &RunArgs) -> Result<(Arch, Workload)> {
    let arch = match &a.arch {
        Some(p) => load_arch(p).map_err(|e| {
            // A common slip: the workload given first (or alone).
            let looks_like_workload =
                fastbfp::input::read_text(p, fastbfp::input::MAX_TEXT_BYTES).is_ok_and(|t| t.contains("layers:"));
            if looks_like_workload {
                anyhow::anyhow!(
                    "{e} ({} is a workload; give the arch first: fastbfp run ARCH.ron WORKLOAD.ron)",
                    p.display()
                )
            } else {
                e.into()
            }
        })?,
        None => default_arch(),
    };
    let wl = match &a.workload {
        Some(p) => load_workload(p)?,
        None => default_workload(),
    };
    Ok((arch, wl))
}

pub fn run(a: &RunArgs) -> Result<()> {
    let (arch, wl) = load(a)?;
    let options = RunOptions {
        fidelity: a.fidelity,
        numerics: !a.no_numerics,
        iterations: a.iterations.map_or(wl.iterations, |n| n as usize),
        seed: a.seed,
    };
    let total = (wl.lower().len() * options.iterations) as u64;
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} GEMMs, {elapsed} elapsed, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(format!("{} on {}", wl.name, arch.name));
    let t0 = Instant::now();
    let report = run_iterations(&arch, &wl, &options, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let written =
        fastbfp::report::write_run(&a.out, &report).with_context(|| format!("writing into {}", a.out.display()))?;
    if !a.quiet {
        print!("{}", fastbfp::report::summary(&report));
        println!(
            "\n  wrote {} files into {} (report.json, layers.csv, {} plots as SVG and PNG) in {:.2} s",
            written.files.len(),
            a.out.display(),
            (written.files.len() - 2) / 2,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
