//! `fastbfp scalesim`: SCALE-Sim's compute report from SCALE-Sim's own inputs (a topology CSV
//! and a `.cfg`), by the closed forms of `fastbfp::array::scalesim`: `DIR/COMPUTE_REPORT.csv`
//! in SCALE-Sim's columns and formatting, and a table on stdout.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use fastbfp::array::scalesim::{
    compute_report_row, parse_topology_layers, try_report, Dataflow, LayerReport, ScaleSimConfig, ScaleSimError,
    TopologyFormat, COMPUTE_REPORT_HEADER,
};
use fastbfp::input::{read_text, MAX_TEXT_BYTES};
use fastbfp::report::{write_atomic, OutDir};

#[derive(Debug, Args)]
#[command(after_help = "\
Formats: a conv topology line is `name, IFMAP height, IFMAP width, filter height, filter width, \
channels, filters, stride,` (a name containing DP is depthwise: one layer per channel); a GEMM line \
is `name, M, N, K,`; either may end with a sparsity ratio `N:M,` (checked, ignored). The first line \
is a header and every line ends with a comma, as SCALE-Sim reads them. From the .cfg: \
[architecture_presets] ArrayHeight, ArrayWidth, Dataflow.

COMPUTE_REPORT.csv: SCALE-Sim 3's columns; Total Cycles, Overall Util %, Mapping Efficiency % and \
Compute Util % as SCALE-Sim prints them; Stall Cycles 0 and Total Cycles (incl. prefetch) empty \
(SCALE-Sim's memory model, not reproduced; see docs/scalesim.md).")]
pub struct ScaleSimArgs {
    /// SCALE-Sim topology CSV (conv or GEMM format).
    pub topology: PathBuf,
    /// SCALE-Sim config (.cfg): the array size and dataflow.
    pub config: PathBuf,
    /// Dataflow [default: the config's Dataflow].
    #[arg(long, value_enum)]
    pub dataflow: Option<DataflowArg>,
    /// Topology format [default: detected from the first layer line: 8 or 9 fields conv, 4 to 7
    /// GEMM] (SCALE-Sim's `-i conv|gemm`).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Output folder for COMPUTE_REPORT.csv (created if missing).
    #[arg(short, long, default_value = "out-scalesim")]
    pub out: PathBuf,
}

/// `--dataflow`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DataflowArg {
    /// Weight stationary.
    Ws,
    /// Output stationary.
    Os,
    /// Input stationary.
    Is,
}

/// `--format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// `name, IFMAP height, IFMAP width, filter height, filter width, channels, filters, stride,`
    Conv,
    /// `name, M, N, K,`
    Gemm,
}

impl From<FormatArg> for TopologyFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Conv => TopologyFormat::Conv,
            FormatArg::Gemm => TopologyFormat::Gemm,
        }
    }
}

pub fn run(a: &ScaleSimArgs) -> Result<()> {
    let t0 = Instant::now();
    let topo_name = a.topology.display().to_string();
    let cfg_name = a.config.display().to_string();
    let read = |p: &std::path::Path| {
        read_text(p, MAX_TEXT_BYTES).map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", p.display()))
    };
    let cfg_text = read(&a.config)?;
    let topo_text = read(&a.topology)?;
    let config = ScaleSimConfig::parse(&cfg_text).map_err(|e| anyhow::anyhow!(e.located(&cfg_name)))?;
    if config.sparsity_support {
        bail!("{cfg_name}: [sparsity] SparsitySupport is true; allowed false (only dense mappings are modelled)");
    }
    let dataflow = match a.dataflow {
        Some(DataflowArg::Ws) => Dataflow::Ws,
        Some(DataflowArg::Os) => Dataflow::Os,
        Some(DataflowArg::Is) => Dataflow::Is,
        None => config.dataflow,
    };
    let located = |e: ScaleSimError| anyhow::anyhow!(e.located(&topo_name));
    let format = match a.format {
        Some(f) => f.into(),
        None => TopologyFormat::detect(&topo_text).map_err(located)?,
    };
    let layers = parse_topology_layers(&topo_text, format).map_err(located)?;
    let (rows, cols) = (config.rows, config.cols);
    let mut reports: Vec<LayerReport> = Vec::with_capacity(layers.len());
    for l in &layers {
        let r = try_report(&l.layer, dataflow, rows, cols).map_err(|source| {
            anyhow::anyhow!(
                "{topo_name}:{}: layer `{}` on a {rows}x{cols} array ({dataflow}): {source}",
                l.line,
                l.name
            )
        })?;
        reports.push(r);
    }
    let mut csv = String::with_capacity(64 * (layers.len() + 1));
    csv.push_str(COMPUTE_REPORT_HEADER);
    csv.push('\n');
    for (i, r) in reports.iter().enumerate() {
        csv.push_str(&compute_report_row(i, r));
        csv.push('\n');
    }
    let computed = t0.elapsed();
    let out_dir = OutDir::create(&a.out)?;
    let path = a.out.join("COMPUTE_REPORT.csv");
    write_atomic(&path, csv.as_bytes())?;
    out_dir.keep();

    let mut text = String::new();
    macro_rules! outln {
        ($($arg:tt)*) => {{
            text.push_str(&format!($($arg)*));
            text.push('\n');
        }};
    }
    let format_name = match format {
        TopologyFormat::Conv => "conv",
        TopologyFormat::Gemm => "gemm",
    };
    outln!(
        "{topo_name} ({format_name}, {} layers) on a {rows}x{cols} array, dataflow {dataflow} (SCALE-Sim compute cycles)",
        layers.len()
    );
    let width = layers.iter().map(|l| l.name.chars().count()).max().unwrap_or(4).clamp(4, 40);
    outln!(
        "{:>5}  {:<width$}  {:>10}  {:>16}  {:>9}  {:>9}  {:>9}",
        "layer",
        "name",
        "folds",
        "compute cycles",
        "overall %",
        "mapping %",
        "compute %"
    );
    let (mut cycles, mut macs) = (0u128, 0u128);
    for (i, (l, r)) in layers.iter().zip(&reports).enumerate() {
        cycles += r.compute_cycles as u128;
        macs += l.layer.macs() as u128;
        outln!(
            "{i:>5}  {:<width$}  {:>10}  {:>16}  {:>9.2}  {:>9.2}  {:>9.2}",
            l.name,
            r.folds,
            r.compute_cycles,
            r.overall_util_pct,
            r.mapping_efficiency_pct,
            r.compute_util_pct
        );
    }
    let overall = macs as f64 * 100.0 / (cycles.max(1) as f64 * rows as f64 * cols as f64);
    outln!("{:>5}  {:<width$}  {:>10}  {:>16}  {overall:>9.2}", "total", "", "", cycles);
    outln!("  wrote {} ({} µs to read, parse and compute)", path.display(), computed.as_micros());
    // A closed pipe (`| head`) is not an error: the report is written.
    super::out::write_out(format_args!("{text}"));
    Ok(())
}
