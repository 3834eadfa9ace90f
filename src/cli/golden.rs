//! `fastbfp golden export` and `fastbfp golden check`: golden vectors for an RTL array and the
//! comparison of an RTL dump against them (contract: docs/golden.md).

use super::out::outln;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use fastbfp::arch::load_arch;
use fastbfp::golden::{export, load_case, load_manifest, write_gemm_vcd};
use fastbfp::report::{write_all_atomic, write_atomic};

use super::check_output_path;

#[derive(Debug, Args)]
pub struct GoldenArgs {
    #[command(subcommand)]
    pub command: GoldenCommand,
}

#[derive(Debug, Subcommand)]
pub enum GoldenCommand {
    /// Export one case's golden vectors: per-cycle $readmemh files for every edge port
    /// (E0 M0 E1 M1 Y0 Y1) and the sequencer, the converter's inputs, noise and outputs,
    /// memory images, golden.vh and manifest.json with every expected output.
    Export(ExportArgs),
    /// Compare an RTL dump (`<cycle> <row> <col> <port> <hex>` per line, `#` comments) with a
    /// golden directory; exit 0 only when every expected value matches and nothing else was
    /// dumped.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Hardware description (RON) with fMAC cells, e.g. arch/fast-4x4.ron.
    #[arg(long, value_name = "ARCH.ron")]
    pub arch: PathBuf,
    /// The case (RON): pass, N/K/B, precisions, roundings, seed, data; see traces/golden/.
    #[arg(long, value_name = "CASE.ron")]
    pub case: PathBuf,
    /// Output directory (created if missing; files in it are replaced).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Also write the array's ports and cell registers per cycle as a VCD waveform.
    #[arg(long, value_name = "FILE.vcd")]
    pub vcd: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A directory written by `golden export`.
    pub dir: PathBuf,
    /// The RTL's dump.
    pub dump: PathBuf,
    /// How many mismatches to list (the first in cycle order is always shown).
    #[arg(long, default_value_t = 10)]
    pub list: usize,
}

pub fn run(a: &GoldenArgs) -> Result<()> {
    match &a.command {
        GoldenCommand::Export(e) => run_export(e),
        GoldenCommand::Check(c) => run_check(c),
    }
}

fn run_export(a: &ExportArgs) -> Result<()> {
    if a.output.is_file() {
        bail!("{}: is a file; give a directory for the golden vectors", a.output.display());
    }
    // A waveform beside or inside the output directory may name a folder export creates.
    let vcd_dir_created = |v: &PathBuf| {
        v.parent().is_some_and(|p| !p.as_os_str().is_empty() && (a.output.starts_with(p) || p.starts_with(&a.output)))
    };
    if let Some(v) = &a.vcd {
        if !vcd_dir_created(v) {
            check_output_path(v)?;
        }
    }
    let arch = load_arch(&a.arch)?;
    let case = load_case(&a.case)?;
    if a.vcd.is_some() {
        let cycles = fastbfp::golden::case_cycles(&arch, &case)?;
        fastbfp::golden::vcd_fits(
            &format!("case {} on {}", case.name, arch.name),
            cycles,
            arch.array.rows,
            arch.array.cols,
        )?;
    }
    let g = export(&arch, &case)?;
    let made = [
        fastbfp::report::OutDir::create(&a.output)?,
        fastbfp::report::OutDir::create(&a.output.join("mem"))?,
        fastbfp::report::OutDir::create(&a.output.join("mem/X"))?,
        fastbfp::report::OutDir::create(&a.output.join("mem/Y"))?,
    ];
    let files: Vec<(PathBuf, Vec<u8>)> = g.files.iter().map(|(p, b)| (a.output.join(p), b.clone())).collect();
    write_all_atomic(&files)?;
    made.into_iter().for_each(fastbfp::report::OutDir::keep);
    let m = &g.manifest;
    let ports = m.expected.iter().filter(|e| e.port != "CV").count();
    outln!(
        "fastbfp golden export: case {} ({} pass, N={} K={} B={}) on {} ({} x {})",
        m.case,
        m.pass,
        m.shape_nkb[0],
        m.shape_nkb[1],
        m.shape_nkb[2],
        m.arch,
        m.array[0],
        m.array[1]
    );
    for j in &m.jobs {
        outln!(
            "  {} {:<7} job {} m = {} {:<10} E_base {:>4}  {} groups",
            j.role,
            j.tensor,
            j.job,
            j.mantissa_bits,
            j.rounding.name(),
            j.e_base,
            j.groups
        );
    }
    outln!(
        "  {} folds back to back, {} cycles ({} per beat); {} array outputs, {} converter groups (latency {})",
        m.folds.len(),
        m.cycles,
        m.beat_cycles,
        ports,
        m.converter_groups,
        m.converter_latency_cycles
    );
    outln!("  {} files -> {}", files.len(), a.output.display());
    if arch.array.overlap_folds || arch.mapping.mapper != fastbfp::arch::MapperKind::Folds {
        outln!(
            "  note: the vectors follow the reference RTL's sequencer (fold by fold, back to back); \
             the arch's overlap_folds and mapping apply to `fastbfp run`, not to them"
        );
    }
    if let Some(v) = &a.vcd {
        let ops_note = format!("case {} on {}", m.case, m.arch);
        let spec_ops = fastbfp::golden::case_operands(&arch, &case)?;
        let bytes = write_gemm_vcd(&spec_ops, arch.array.rows, arch.array.cols, &ops_note)?;
        if let Some(p) = v.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(p).with_context(|| format!("{}: cannot create the folder", p.display()))?;
        }
        write_atomic(v, &bytes)?;
        outln!("  vcd {} ({} bytes)", v.display(), bytes.len());
    }
    Ok(())
}

fn run_check(a: &CheckArgs) -> Result<()> {
    let m = load_manifest(&a.dir)?;
    // Lines about the input ports (what the RTL saw) are checked against the port files; the
    // dump is read line by line, once to see whether it has any, then to check it.
    let inputs =
        if dump_reports_inputs(&a.dump)? { fastbfp::golden::input_port_values(&a.dir, &m)? } else { Vec::new() };
    let r = fastbfp::golden::check_dump_file(&a.dump, &m.expected, &inputs)?;
    outln!("fastbfp golden check: case {} ({}), dump {}", m.case, m.pass, a.dump.display());
    if r.mismatches.len() > 1 {
        for x in r.mismatches.iter().take(a.list) {
            outln!(
                "  mismatch cycle {:>6} cell ({}, {}) {:<2} expected {} got {} (line {})",
                x.cycle,
                x.row,
                x.col,
                x.port,
                x.expected,
                x.got,
                x.line
            );
        }
    }
    outln!("{}", r.summary());
    if !r.passed() {
        bail!(
            "golden check failed: {} mismatched, {} missing, {} unexpected",
            r.mismatches.len(),
            r.missing.len(),
            r.unexpected_total
        );
    }
    Ok(())
}

/// Whether any line of the dump is about an input port (E0, M0, E1, M1): a bounded scan that
/// checks nothing else (the check proper reports malformed lines).
fn dump_reports_inputs(dump: &std::path::Path) -> Result<bool> {
    let mut found = false;
    let mut checker = |d: fastbfp::golden::DumpLine| found |= matches!(d.port.as_str(), "E0" | "M0" | "E1" | "M1");
    fastbfp::golden::for_each_dump_line(dump, &mut checker)?;
    Ok(found)
}
