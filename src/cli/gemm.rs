//! `fastbfp gemm`: one BFP training matmul, bit-exact, with its error against binary32; with
//! `--arch`, simulated on the array with cycles, utilization and traffic.

use super::out::{errln, outln};
use std::path::Path;

use anyhow::{bail, Context, Result};
use fastbfp::accel::{simulate_gemm, spec_for, GemmRequest, GemmSim};
use fastbfp::arch::load_arch;
use fastbfp::bfp::{ExpBase, LfsrParams};
use fastbfp::fmac::AccumulatorKind;
use fastbfp::gemm::{
    binary32_matmul, fast_gemm, quantize_operands_named, reference_gemm, GemmSpec, OperandSpec, Pass, Quality,
};
use fastbfp::tensor::Tensor;

use super::{check_output_path, load_input, write_npy, GemmArgs};

fn two_d(t: &Tensor, path: &Path, role: &str) -> Result<(usize, usize)> {
    match t.rows_cols() {
        Some(rc) => Ok(rc),
        None => {
            bail!("{}: {role} must be a 2-D matrix, got {} axes (shape {:?})", path.display(), t.shape.len(), t.shape)
        }
    }
}

/// The numerics: the arch's (or the built-in defaults) with the user's overrides.
fn spec(a: &GemmArgs, base: GemmSpec) -> Result<GemmSpec> {
    let mut s = base;
    s.group = a.group.map_or(s.group, |g| g as usize);
    s.exp_bits = a.exp_bits.unwrap_or(s.exp_bits);
    s.x.mantissa_bits = a.mantissa_x.unwrap_or(s.x.mantissa_bits);
    s.y.mantissa_bits = a.mantissa_y.unwrap_or(s.y.mantissa_bits);
    s.x.rounding = a.rounding_x.unwrap_or(s.x.rounding);
    s.y.rounding = a.rounding_y.unwrap_or(s.y.rounding);
    s.accumulator = a.accumulator.unwrap_or(s.accumulator);
    s.lfsr = LfsrParams::new(s.lfsr.mask, a.seed.unwrap_or(s.lfsr.seed), a.noise_bits.unwrap_or(s.lfsr.noise_bits))?;
    Ok(s)
}

fn default_spec(pass: Pass) -> GemmSpec {
    let op = OperandSpec { mantissa_bits: 4, rounding: fastbfp::bfp::Rounding::Nearest };
    GemmSpec {
        pass,
        group: 16,
        exp_bits: 8,
        exp_base: ExpBase::PerTensor,
        x: op,
        y: op,
        accumulator: AccumulatorKind::Fp32,
        lfsr: LfsrParams::default(),
    }
}

pub fn run(a: &GemmArgs) -> Result<()> {
    if let Some(o) = &a.output {
        check_output_path(o)?;
    } else if a.arch.is_none() || !a.no_numerics {
        bail!("--output is required unless --arch and --no-numerics are given (timing only)");
    }
    if let Some(s) = &a.stats {
        check_output_path(s)?;
    }
    if let Some(v) = &a.vcd {
        check_output_path(v)?;
        if a.fidelity != fastbfp::array::Fidelity::Cycle {
            bail!("--vcd needs --fidelity cycle (the waveform comes from the tick-level model)");
        }
    }
    let arch = match &a.arch {
        Some(p) => Some(load_arch(p)?),
        None => None,
    };
    if let Some(ar) = &arch {
        let bfp_overrides = a.group.is_some()
            || a.exp_bits.is_some()
            || a.mantissa_x.is_some()
            || a.mantissa_y.is_some()
            || a.rounding_x.is_some()
            || a.rounding_y.is_some()
            || a.accumulator.is_some()
            || a.seed.is_some()
            || a.noise_bits.is_some();
        if bfp_overrides && !ar.array.cell.is_bfp() {
            errln!(
                "note: {} has {} cells (no BFP): the group, mantissa, rounding, accumulator and LFSR flags do not apply",
                ar.name,
                ar.array.cell.name()
            );
        }
    }
    let spec = spec(a, arch.as_ref().map_or_else(|| default_spec(a.pass), |ar| spec_for(ar, a.pass)))?;
    let x = load_input(&a.x)?;
    let y = load_input(&a.y)?;
    let [xn, yn, on] = a.pass.operand_names();
    let xs = two_d(&x, &a.x, xn)?;
    let ys = two_d(&y, &a.y, yn)?;
    let (xl, yl) = (format!("{} ({xn})", a.x.display()), format!("{} ({yn})", a.y.display()));

    outln!("fastbfp gemm: {} pass, {} (X = {xn}, Y = {yn}, out {on})", a.pass, a.pass.formula());
    let (out, shape, flags) = if let Some(arch) = &arch {
        let req = GemmRequest {
            spec,
            x: (&x.data, xs.0, xs.1),
            y: (&y.data, ys.0, ys.1),
            names: (&xl, &yl),
            fidelity: a.fidelity,
            numerics: !a.no_numerics,
            first_job: 0,
            conv: None,
            mapping: None,
        };
        let sim = simulate_gemm(arch, &req)?;
        print_sim(arch, &sim, &spec);
        if let Some(path) = &a.vcd {
            if !matches!(arch.array.cell, fastbfp::arch::CellKind::Fmac { .. }) {
                bail!(
                    "--vcd: {} has {} cells; the waveform is defined for fMAC arrays",
                    arch.name,
                    arch.array.cell.name()
                );
            }
            let ops = quantize_operands_named(&spec, (&x.data, xs.0, xs.1), (&y.data, ys.0, ys.1), 0, (&xl, &yl))?;
            let title = format!("{} pass, X {}, Y {}", a.pass, a.x.display(), a.y.display());
            let bytes = fastbfp::golden::write_gemm_vcd(&ops, arch.array.rows, arch.array.cols, &title)?;
            fastbfp::report::write_atomic(path, &bytes)?;
            outln!("  vcd        {} ({} bytes, folds back to back)", path.display(), bytes.len());
        }
        if let Some(path) = &a.stats {
            write_stats(path, &sim)?;
            outln!("  stats      {}", path.display());
        }
        (sim.out.clone(), sim.out_shape, sim.flags)
    } else {
        let ops = quantize_operands_named(&spec, (&x.data, xs.0, xs.1), (&y.data, ys.0, ys.1), 0, (&xl, &yl))?;
        let out = match a.kernel.as_str() {
            "reference" => reference_gemm(&ops),
            _ => fast_gemm(&ops),
        };
        let (fx, fy) = (ops.x.format, ops.y.format);
        let (rows, cols) = ops.out_shape();
        let red = fastbfp::mapping::PassDims::from_shapes_unchecked(a.pass, xs, ys).reduction_len();
        let pairs = rows as u64 * cols as u64 * ops.reduction_groups() as u64;
        outln!(
            "  g = {}, e = {}, accumulator {}, seed {:#06x}, noise bits {}, kernel {}",
            spec.group,
            spec.exp_bits,
            spec.accumulator.name(),
            spec.lfsr.seed,
            spec.lfsr.noise_bits,
            a.kernel
        );
        outln!(
            "  MACs {}, group pairs {pairs}, chunk passes {} ({} per group pair)",
            rows as u64 * cols as u64 * red as u64,
            pairs * (fx.chunks() * fy.chunks()) as u64,
            fx.chunks() * fy.chunks()
        );
        (Some(out), (rows, cols), Some(ops.flags()))
    };
    let flag_line = |f: fastbfp::bfp::ConvertFlags| {
        format!("flushed {}, underflow {}, saturated {}", f.flushed, f.underflow, f.saturated)
    };
    if let Some((fx, fy)) = flags {
        outln!(
            "  X {:<8} {:>6} x {:<6} m = {:<2} {:<10} job 0  {}",
            xn,
            xs.0,
            xs.1,
            spec.x.mantissa_bits,
            spec.x.rounding.name(),
            flag_line(fx)
        );
        outln!(
            "  Y {:<8} {:>6} x {:<6} m = {:<2} {:<10} job 1  {}",
            yn,
            ys.0,
            ys.1,
            spec.y.mantissa_bits,
            spec.y.rounding.name(),
            flag_line(fy)
        );
    }
    if let Some(out) = out {
        let want = binary32_matmul(a.pass, &x.data, xs, &y.data, ys);
        let f = Quality::measure_finite(&out, &want);
        if f.overflowed > 0 {
            outln!(
                "  overflow: {} of {} outputs overflowed to ±inf (|x| > {:.3e}, binary32's largest; {} in the binary32 reference)",
                f.overflowed,
                out.len(),
                f32::MAX,
                f.reference_overflowed
            );
        }
        match f.quality {
            Some(q) if f.overflowed == 0 && f.reference_overflowed == 0 => outln!(
                "  error vs binary32 matmul: max abs {:.3e}, max rel {:.3e}, SNR {:.2} dB",
                q.max_abs_error, q.max_rel_error, q.snr_db
            ),
            Some(q) => outln!(
                "  error vs binary32 matmul over the {} outputs finite in both: max abs {:.3e}, max rel {:.3e}, SNR {:.2} dB",
                f.compared, q.max_abs_error, q.max_rel_error, q.snr_db
            ),
            None => outln!("  error vs binary32 matmul: none measured (no output is finite in both)"),
        }
        if let Some(path) = &a.output {
            write_npy(path, &[shape.0, shape.1], &out)?;
            outln!("  out {:<7} {:>5} x {:<6} -> {}", on, shape.0, shape.1, path.display());
        }
    }
    Ok(())
}

fn mib(bits: u64) -> f64 {
    bits as f64 / 8.0 / 1048576.0
}

fn print_sim(arch: &fastbfp::arch::Arch, s: &GemmSim, spec: &GemmSpec) {
    outln!(
        "  arch       {} ({} cells, {} x {}, {} MHz), fidelity {}",
        s.arch,
        s.cell,
        s.array.0,
        s.array.1,
        arch.clock_mhz,
        match s.fidelity {
            fastbfp::array::Fidelity::Cycle => "cycle",
            fastbfp::array::Fidelity::Fold => "fold",
        }
    );
    if arch.array.cell.is_bfp() {
        outln!(
            "  numerics   g = {}, e = {}, m = {}/{}, accumulator {}, seed {:#06x}, noise bits {}",
            spec.group,
            spec.exp_bits,
            spec.x.mantissa_bits,
            spec.y.mantissa_bits,
            spec.accumulator.name(),
            spec.lfsr.seed,
            spec.lfsr.noise_bits
        );
    }
    outln!("cycles: {}", s.cycles);
    outln!("  time       {:.3} us at {} MHz", s.cycles as f64 * arch.cycle_ns() / 1000.0, arch.clock_mhz);
    let b = &s.breakdown;
    outln!("  streaming  {:>12}", b.stream_cycles);
    outln!("  stat. load {:>12}  (exposed; hidden behind streaming otherwise)", b.load_cycles);
    outln!("  drain      {:>12}", b.drain_cycles);
    let stalls: Vec<String> = b.stalls.by_reason.iter().map(|(r, c)| format!("{} {}", r.name(), c)).collect();
    outln!(
        "  stalls     {:>12}  {}",
        b.stalls.total(),
        if stalls.is_empty() { String::new() } else { format!("({})", stalls.join(", ")) }
    );
    outln!(
        "  MACs {}, folds {}, utilization {:.1} % of cell-cycles",
        s.macs,
        s.folds.len().max(1),
        100.0 * s.utilization
    );
    let t = &s.traffic;
    outln!(
        "  DRAM       read {:.3} MiB (exponents {:.3}, mantissas {:.3}), write {:.3} MiB, transposes {:.3} MiB",
        mib(t.dram_read_exp_bits + t.dram_read_mant_bits),
        mib(t.dram_read_exp_bits),
        mib(t.dram_read_mant_bits),
        mib(t.dram_write_bits),
        mib(t.dram_transpose_bits)
    );
    outln!(
        "  SRAM       exponent read {:.3} MiB / write {:.3} MiB; mantissa read {:.3} MiB / write {:.3} MiB",
        mib(t.sram_read_exp_bits),
        mib(t.sram_write_exp_bits),
        mib(t.sram_read_mant_bits),
        mib(t.sram_write_mant_bits)
    );
    if t.converted_groups > 0 {
        outln!("  converters {} groups", t.converted_groups);
    }
}

fn write_stats(path: &Path, s: &GemmSim) -> Result<()> {
    let json = serde_json::json!({
        "schema": "fastbfp.gemm-stats.v1",
        "arch": s.arch,
        "cell": s.cell,
        "array": { "rows": s.array.0, "cols": s.array.1 },
        "pass": s.geometry.pass,
        "fidelity": s.fidelity,
        "cycles": s.cycles,
        "breakdown": s.breakdown,
        "utilization": s.utilization,
        "traffic": s.traffic,
        "folds": s.folds.iter().map(|f| serde_json::json!({
            "index": f.fold.index,
            "pass": s.geometry.pass,
            "rows_used": f.fold.rows_used,
            "cols_used": f.fold.cols_used,
            "stream_len": f.fold.stream_len,
            "load": [f.load.0, f.load.1],
            "stream": [f.stream.0, f.stream.1],
            "drain": [f.drain.0, f.drain.1],
            "wait_cycles": f.wait.0,
            "wait_reason": f.wait.1.map(|r| r.name()),
            "stretch_cycles": f.stretch.0,
            "stretch_reason": f.stretch.1.map(|r| r.name()),
        })).collect::<Vec<_>>(),
        "busy_cycles_per_cell": s.busy.chunks(s.array.1.max(1)).map(|r| r.to_vec()).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&json).context("stats do not serialise")? + "\n";
    fastbfp::report::write_atomic(path, text.as_bytes())?;
    Ok(())
}
