//! `fastbfp run`: training iterations of a workload on an arch, with the summary, the reports
//! and the plots. With no arguments it runs the embedded default arch on the embedded default
//! workload.

use super::out::{errln, out, outln};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use fastbfp::arch::{default_arch, load_arch, Arch};
use fastbfp::array::Fidelity;
use fastbfp::gemm::Pass;
use fastbfp::runner::{run_iterations, RunOptions};
use fastbfp::workload::{default_workload, load_scalesim_topology, load_workload, Workload};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Hardware description (RON) [default: the embedded arch/fast-32x32.ron]. A workload
    /// given alone (a RON file with `layers`, or a .csv topology) runs on the default arch.
    pub arch: Option<PathBuf>,
    /// Workload: a workload file (RON) or a SCALE-Sim topology (.csv, conv or GEMM format: one
    /// layer per SCALE-Sim layer, batch 1, forward only unless --passes) [default: the embedded
    /// traces/resnet18-cifar.ron].
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
    /// Passes to simulate, comma-separated: forward, backward-data, backward-weight (or with
    /// underscores, as workload files write them), run in training order [default: the
    /// workload file's; forward for a SCALE-Sim topology].
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(Pass))]
    pub passes: Option<Vec<Pass>>,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Force one mapping on every GEMM instead of the arch's mapper: tile sizes
    /// ROWSxCOLSxSTREAM (0 = whole extent; rounded to whole folds and clamped per GEMM) and the
    /// loop order outermost first, e.g. '64x32x2048:stream>row>col' (quote it: `>` is a
    /// shell redirection). At most 100000 folds per GEMM. Where the kept tiles do not fit the
    /// operand buffers, that operand streams from DRAM instead (a note says so).
    #[arg(long, value_name = "TILES:ORDER")]
    pub mapping: Option<fastbfp::mapping::ForcedMapping>,
    /// No progress bar and no summary (files only).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Whether `path` names a SCALE-Sim topology (`.csv`, any case).
fn is_topology(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// Whether `path` holds a RON workload rather than an arch: its top-level value has a
/// `layers` field, or, when it does not parse, its text has one (so the workload loader reports
/// what is wrong with it). An unreadable file is not one (loading it as an arch then says why).
fn is_workload_file(path: &std::path::Path) -> bool {
    let Ok(text) = fastbfp::input::read_text(path, fastbfp::input::MAX_TEXT_BYTES) else {
        return false;
    };
    match ron::from_str::<ron::Value>(&text) {
        Ok(ron::Value::Map(m)) => m.iter().any(|(k, _)| matches!(k, ron::Value::String(s) if s == "layers")),
        Ok(_) => false,
        Err(_) => text.contains("layers:"),
    }
}

/// The commands, as clap defines them, for the hint when a lone argument names neither a file
/// nor a command.
fn command_names() -> String {
    use clap::CommandFactory;
    let cli = super::Cli::command();
    let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).filter(|n| *n != "help").collect();
    names.join(", ")
}

fn load(a: &RunArgs) -> Result<(Arch, Workload)> {
    // `fastbfp run TOPOLOGY.csv` or `fastbfp run WORKLOAD.ron`: a workload alone runs on the
    // default arch.
    let (arch_path, workload_path) = match (&a.arch, &a.workload) {
        (Some(p), None) if is_topology(p) || is_workload_file(p) => (None, Some(p)),
        (arch, wl) => (arch.as_ref(), wl.as_ref()),
    };
    if let Some(p) = arch_path {
        // `fastbfp rn`: a mistyped command reads as an arch path when no command is given.
        let bare = p.components().count() == 1 && p.extension().is_none();
        if bare && !p.exists() {
            bail!("{}: no such file, and not a command; commands are {} (see --help)", p.display(), command_names());
        }
    }
    let arch = match arch_path {
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
    let passes = a.passes.clone().unwrap_or_default();
    let mut wl = match workload_path {
        Some(p) if is_topology(p) => load_scalesim_topology(p, None, &passes)?,
        Some(p) => load_workload(p)?,
        None => default_workload(),
    };
    if !passes.is_empty() {
        wl.passes = Pass::ALL.into_iter().filter(|p| passes.contains(p)).collect();
    }
    Ok((arch, wl))
}

pub fn run(a: &RunArgs) -> Result<()> {
    let (arch, wl) = load(a)?;
    let options = RunOptions {
        fidelity: a.fidelity,
        numerics: !a.no_numerics,
        iterations: a.iterations.map_or(wl.iterations, |n| n as usize),
        seed: a.seed,
        mapping: a.mapping.map(|m| m.0),
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
    for n in &written.notes {
        errln!("warning: {n}");
    }
    if let Some(n) = fastbfp::report::capacity_note(&report) {
        eprintln!("note: {n}");
    }
    if !a.quiet {
        out!("{}", fastbfp::report::summary(&report));
        outln!(
            "\n  wrote {} files into {} (report.json, layers.csv, {} plots as SVG and PNG) in {:.2} s",
            written.files.len(),
            a.out.display(),
            written.files.len().saturating_sub(2) / 2,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
