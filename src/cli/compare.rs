//! `fastbfp compare`: the same workload on several archs, side by side.

use super::out::{errln, out, outln};
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use fastbfp::arch::load_arch;
use fastbfp::array::Fidelity;
use fastbfp::cost::equal_area_shape;
use fastbfp::runner::{run_iterations, RunOptions};
use fastbfp::workload::{default_workload, load_workload};
use indicatif::{ProgressBar, ProgressDrawTarget};

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Arch files to compare (the first is the reference for --equal-area).
    #[arg(required = true, num_args = 1..)]
    pub archs: Vec<PathBuf>,
    /// Workload (RON) [default: the embedded traces/resnet18-cifar.ron].
    #[arg(long, short)]
    pub workload: Option<PathBuf>,
    /// Output folder for compare.csv, compare.json and the plots (created if missing).
    #[arg(short, long, default_value = "out-compare")]
    pub out: PathBuf,
    /// Scale every other arch's array (rows and columns alike) to the first arch's total area.
    #[arg(long)]
    pub equal_area: bool,
    /// Skip the numbers (no SNR column; much faster on large workloads).
    #[arg(long)]
    pub no_numerics: bool,
    /// Array fidelity.
    #[arg(long, default_value = "fold")]
    pub fidelity: Fidelity,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(a: &CompareArgs) -> Result<()> {
    if a.archs.is_empty() {
        bail!("give at least one arch file");
    }
    let wl = match &a.workload {
        Some(p) => load_workload(p)?,
        None => default_workload(),
    };
    let mut archs = a.archs.iter().map(|p| load_arch(p)).collect::<Result<Vec<_>, _>>()?;
    if a.equal_area {
        let reference = archs[0].clone();
        for arch in archs.iter_mut().skip(1) {
            let (r, c) = equal_area_shape(arch, &reference);
            arch.array.rows = r;
            arch.array.cols = c;
        }
    }
    let options = RunOptions {
        fidelity: a.fidelity,
        numerics: !a.no_numerics,
        iterations: wl.iterations,
        seed: a.seed,
        mapping: None,
    };
    let total = (wl.lower().len() * options.iterations * archs.len()) as u64;
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let mut rows = Vec::new();
    for arch in &archs {
        bar.set_message(arch.name.clone());
        let r = run_iterations(arch, &wl, &options, &|| bar.inc(1))?;
        rows.push(fastbfp::report::compare_row(&r));
    }
    bar.finish_and_clear();
    let written = fastbfp::report::write_compare(&a.out, &wl.name, &rows)?;
    for n in &written.notes {
        errln!("warning: {n}");
    }
    out!("{}", fastbfp::report::compare_table(&wl.name, &rows));
    outln!("  wrote {} files into {}", written.files.len(), a.out.display());
    Ok(())
}
