//! Command-line definitions (clap derive): every flag, its default and its allowed range in
//! one place, and the dispatch to each command. `anyhow` lives here and nowhere in the library.

mod compare;
mod gemm;
mod golden;
mod lfsr;
pub mod out;
mod quantize;
mod run;
mod scalesim;
mod sweep;
mod train;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand};
use fastbfp::array::Fidelity;
use fastbfp::bfp::Rounding;
use fastbfp::fmac::AccumulatorKind;
use fastbfp::gemm::Pass;
use fastbfp::tensor::{read_npy, Tensor, DEFAULT_MAX_ELEMENTS};
use out::errln;

/// fastbfp: cycle-accurate simulator of a FAST-style block-floating-point training
/// accelerator, and the exact numbers its hardware computes.
/// Without a command, `run`'s options apply: `fastbfp --no-numerics` is `fastbfp run
/// --no-numerics`, and `fastbfp` alone simulates the default arch on the default workload.
#[derive(Debug, Parser)]
#[command(name = "fastbfp", version, about, long_about = None, arg_required_else_help = false)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `run`'s options, used when no command is given.
    #[command(flatten)]
    pub run: run::RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate training iterations of a workload on an arch: cycles, utilization, area,
    /// energy, traffic and numerical quality, with report.json, layers.csv and plots. With no
    /// arguments: the default arch on the default workload.
    Run(run::RunArgs),
    /// The same workload on several archs: a side-by-side table (cycles, energy, area,
    /// throughput per area, numerical error) and plots.
    Compare(compare::CompareArgs),
    /// Convert a binary32 tensor to BFP (groups along the last axis) and back; print the
    /// flag counts; optionally write the split exponent/mantissa memory images.
    Quantize(QuantizeArgs),
    /// One training matmul (forward, backward-data or backward-weight) in BFP, bit-exact,
    /// with its error against a plain binary32 matmul of the same inputs.
    Gemm(GemmArgs),
    /// Print the converter's LFSR lane states after the reseed of a conversion job and the
    /// noise each lane gives the first groups (for checking an RTL converter).
    Lfsr(LfsrCmdArgs),
    /// Train a network on real data through the simulated accelerator under a precision policy
    /// (FAST's adaptive policy by default), or several side by side: accuracy, and the
    /// simulated cycles and energy it cost. With no arguments: an MLP on the 8x8 digits.
    Train(train::TrainArgs),
    /// Run the cartesian product of arch and workload parameters of a sweep file (or one
    /// shard of it) in parallel, resumably: one JSON per point and a CSV.
    Sweep(sweep::SweepArgs),
    /// Golden vectors for an RTL array: export a case's per-cycle port vectors, or check an
    /// RTL dump against them.
    Golden(golden::GoldenArgs),
    /// SCALE-Sim's compute report from SCALE-Sim's own topology CSV (conv or GEMM format) and
    /// .cfg: DIR/COMPUTE_REPORT.csv in SCALE-Sim's columns and formatting, and a table per layer
    /// (compute cycles, utilization).
    Scalesim(scalesim::ScaleSimArgs),
    /// Merge the point files of sweep output folders (shards) into merged.csv and a Pareto
    /// plot of energy against cycles.
    Merge(sweep::MergeArgs),
}

#[derive(Debug, Args)]
pub struct LfsrCmdArgs {
    /// Lanes (= group size g, 1..=64).
    #[arg(long, short = 'g', default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub group: u32,
    /// Conversion job number.
    #[arg(long, default_value_t = 0)]
    pub job: u64,
    /// Groups to print noise for.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub groups: u64,
    /// Feedback mask (decimal or 0x hex, non-zero).
    #[arg(long, default_value = "0xB400", value_parser = parse_mask)]
    pub mask: u16,
    #[command(flatten)]
    pub lfsr: LfsrArgs,
}

/// The converter's LFSR settings.
#[derive(Debug, Clone, Args)]
pub struct LfsrArgs {
    /// Run seed of the LFSR noise lanes (decimal or 0x hex, 0..=0xffff).
    #[arg(long, default_value = "0xACE1", value_parser = parse_seed)]
    pub seed: u16,
    /// LFSR noise bits per element used by stochastic rounding (1..=16).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub noise_bits: u32,
}

#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// Input tensor (.npy, float32 or float64, any rank >= 1).
    pub input: PathBuf,
    /// Output tensor: the dequantised binary32 values, same shape as the input.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Group size g (1..=64).
    #[arg(long, short = 'g', default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub group: u32,
    /// Mantissa magnitude bits m (1..=16).
    #[arg(long, short = 'm', default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub mantissa: u32,
    /// Shared-exponent field bits e (1..=8).
    #[arg(long, short = 'e', default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=8))]
    pub exp_bits: u32,
    /// Rounding mode: nearest (ties away), truncate, even (ties to even), stochastic (LFSR).
    #[arg(long, default_value = "nearest")]
    pub rounding: Rounding,
    #[command(flatten)]
    pub lfsr: LfsrArgs,
    /// Also write the split storage as $readmemh images into DIR (created if missing):
    /// exponents.hex, mantissa.hex and packed.json.
    #[arg(long, value_name = "DIR")]
    pub packed: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GemmArgs {
    /// Which matmul: forward (X = W[N,K], Y = A[K,B] -> O[N,B]), backward-data
    /// (X = W[N,K], Y = dO[N,B] -> dA[K,B]), backward-weight (X = dO[N,B], Y = A[K,B] -> dW[N,K]).
    #[arg(long)]
    pub pass: Pass,
    /// X operand (.npy, 2-D); conversion job 0.
    pub x: PathBuf,
    /// Y operand (.npy, 2-D); conversion job 1.
    pub y: PathBuf,
    /// Output (.npy, binary32). Optional with --arch (timing only is fine).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Hardware description (RON). With it the GEMM runs on the simulated array: cycles,
    /// utilization, traffic; the arch gives g and the numeric defaults below. Without it only
    /// the numbers are computed.
    #[arg(long, value_name = "ARCH.ron")]
    pub arch: Option<PathBuf>,
    /// Array fidelity: fold (closed-form cycles per fold, fast numerics) or cycle (every
    /// cell stepped every cycle, numbers computed in the cells). Same cycles, same bits.
    #[arg(long, default_value = "fold", requires = "arch")]
    pub fidelity: Fidelity,
    /// Timing only: skip the numbers (no output file, no error figures).
    #[arg(long, requires = "arch")]
    pub no_numerics: bool,
    /// Write the fold timeline and per-cell busy cycles as JSON.
    #[arg(long, value_name = "STATS.json", requires = "arch")]
    pub stats: Option<PathBuf>,
    /// With --fidelity cycle on an fMAC arch: write the array's edge ports, sequencer and
    /// cell registers per cycle as a VCD waveform (GTKWave, Surfer); folds back to back.
    #[arg(long, value_name = "FILE.vcd", requires = "arch")]
    pub vcd: Option<PathBuf>,
    /// Group size g (1..=64), along the pass's reduction dimension [default: 16, or the arch's].
    #[arg(long, short = 'g', value_parser = clap::value_parser!(u32).range(1..=64))]
    pub group: Option<u32>,
    /// Shared-exponent field bits e (1..=8) [default: 8, or the arch's].
    #[arg(long, short = 'e', value_parser = clap::value_parser!(u32).range(1..=8))]
    pub exp_bits: Option<u32>,
    /// Mantissa bits of X (1..=16) [default: 4, or the arch's for X's tensor class].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub mantissa_x: Option<u32>,
    /// Mantissa bits of Y (1..=16) [default: 4, or the arch's for Y's tensor class].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub mantissa_y: Option<u32>,
    /// Rounding of X's converter [default: nearest, or the arch's].
    #[arg(long)]
    pub rounding_x: Option<Rounding>,
    /// Rounding of Y's converter [default: nearest, or the arch's].
    #[arg(long)]
    pub rounding_y: Option<Rounding>,
    /// Partial-sum accumulator: fp32 (binary32 add per group, sequential) or exact (Kulisch)
    /// [default: fp32, or the arch's].
    #[arg(long)]
    pub accumulator: Option<AccumulatorKind>,
    /// Run seed of the LFSR noise lanes (decimal or 0x hex) [default: 0xACE1, or the arch's].
    #[arg(long, value_parser = parse_seed)]
    pub seed: Option<u16>,
    /// LFSR noise bits per element (1..=16) [default: 8, or the arch's].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub noise_bits: Option<u32>,
    /// Implementation without --arch: fast (the exact kernel) or reference (the chunk-pass
    /// loop; slow, same bits).
    #[arg(long, default_value = "fast", value_parser = ["fast", "reference"])]
    pub kernel: String,
}

/// Runs one command.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Run(a) => run::run(&a),
        Command::Compare(a) => compare::run(&a),
        Command::Quantize(a) => quantize::run(&a),
        Command::Gemm(a) => gemm::run(&a),
        Command::Lfsr(a) => lfsr::run(&a),
        Command::Sweep(a) => sweep::run(&a),
        Command::Train(a) => train::run(&a),
        Command::Merge(a) => sweep::merge(&a),
        Command::Golden(a) => golden::run(&a),
        Command::Scalesim(a) => scalesim::run(&a),
    }
}

/// Accepts `44257`, `0xACE1` or `0XACE1`.
/// An LFSR feedback mask: a 16-bit number other than 0 (a zero mask never changes the state).
fn parse_mask(s: &str) -> std::result::Result<u16, String> {
    match parse_seed(s)? {
        0 => Err("0 is not a feedback mask: allowed 0x0001..=0xffff (the taps; 0 never changes the state)".into()),
        m => Ok(m),
    }
}

/// A usage error found after parsing (a flag combination, a missing confirmation): exit
/// code 2 like clap's own, with the message on one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn parse_seed(s: &str) -> std::result::Result<u16, String> {
    let t = s.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse::<u64>(),
    };
    match parsed {
        Ok(v) if v <= u16::MAX as u64 => Ok(v as u16),
        Ok(v) => Err(format!("{v} does not fit the 16-bit LFSR: allowed 0..=0xffff")),
        Err(_) => Err(format!("'{s}' is not a number: write decimal (44257) or hex (0xACE1)")),
    }
}

/// Reads a `.npy` input, saying on stderr when float64 was rounded to binary32.
fn load_input(path: &Path) -> Result<Tensor> {
    let loaded = read_npy(path, DEFAULT_MAX_ELEMENTS)?;
    if let Some((index, v)) = loaded.f64_overflow {
        bail!(
            "{}: element {index} is {v:e} in float64, beyond binary32's range (|x| <= {:e}); the simulator works in binary32",
            path.display(),
            f32::MAX
        );
    }
    if loaded.converted_from_f64 {
        errln!("note: {} is float64; its values were rounded to binary32 first", path.display());
    }
    if loaded.converted_from_int {
        errln!("note: {} holds integers (or bools); their values were converted to binary32 exactly", path.display());
    }
    Ok(loaded.tensor)
}

/// Fails early, before any work, when an output's folder does not exist or the output path
/// is a folder.
fn check_output_path(path: &Path) -> Result<()> {
    if path.is_dir() {
        bail!("{}: cannot write: it is a folder; give a file name", path.display());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => return Ok(()),
    };
    if !dir.is_dir() {
        bail!("{}: cannot write: folder {} does not exist", path.display(), dir.display());
    }
    Ok(())
}

/// Writes a binary32 `.npy` atomically.
fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    let bytes = fastbfp::tensor::encode_npy_f32(shape, data);
    fastbfp::report::write_atomic(path, &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds() {
        assert_eq!(parse_seed("0xACE1"), Ok(0xACE1));
        assert_eq!(parse_seed("44257"), Ok(44257));
        assert!(parse_seed("0x10000").is_err());
        assert!(parse_seed("ace").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
