//! `fastbfp gemm`: one BFP training matmul, bit-exact, with its error against binary32.

use anyhow::{bail, Result};
use fastbfp::bfp::{ExpBase, LfsrParams};
use fastbfp::gemm::{
    binary32_matmul, fast_gemm, quantize_operands_named, reference_gemm, GemmSpec, OperandSpec, Quality,
};

use super::{check_output_path, load_input, write_npy, GemmArgs};

pub fn run(a: &GemmArgs) -> Result<()> {
    check_output_path(&a.output)?;
    let spec = GemmSpec {
        pass: a.pass,
        group: a.group as usize,
        exp_bits: a.exp_bits,
        exp_base: ExpBase::PerTensor,
        x: OperandSpec { mantissa_bits: a.mantissa_x, rounding: a.rounding_x },
        y: OperandSpec { mantissa_bits: a.mantissa_y, rounding: a.rounding_y },
        accumulator: a.accumulator,
        lfsr: LfsrParams::new(fastbfp::bfp::lfsr::DEFAULT_MASK, a.lfsr.seed, a.lfsr.noise_bits)?,
    };
    let x = load_input(&a.x)?;
    let y = load_input(&a.y)?;
    let [xn, yn, on] = a.pass.operand_names();
    let two_d = |t: &fastbfp::tensor::Tensor, path: &std::path::Path, role: &str| -> Result<(usize, usize)> {
        match t.rows_cols() {
            Some(rc) => Ok(rc),
            None => bail!(
                "{}: {role} must be a 2-D matrix, got {} axes (shape {:?})",
                path.display(),
                t.shape.len(),
                t.shape
            ),
        }
    };
    let xs = two_d(&x, &a.x, xn)?;
    let ys = two_d(&y, &a.y, yn)?;
    let (xl, yl) = (format!("{} ({xn})", a.x.display()), format!("{} ({yn})", a.y.display()));
    let ops = quantize_operands_named(&spec, (&x.data, xs.0, xs.1), (&y.data, ys.0, ys.1), 0, (&xl, &yl))?;
    let out = match a.kernel.as_str() {
        "reference" => reference_gemm(&ops),
        _ => fast_gemm(&ops),
    };
    let (rows, cols) = ops.out_shape();
    let want = binary32_matmul(a.pass, &x.data, xs, &y.data, ys);
    let q = Quality::measure(&out, &want);

    let (fx, fy) = (ops.x.format, ops.y.format);
    let red = match a.pass {
        fastbfp::gemm::Pass::Forward => xs.1,
        fastbfp::gemm::Pass::BackwardData => xs.0,
        fastbfp::gemm::Pass::BackwardWeight => xs.1,
    };
    let macs = rows as u64 * cols as u64 * red as u64;
    let pairs = rows as u64 * cols as u64 * ops.reduction_groups() as u64;
    let passes = pairs * (fx.chunks() * fy.chunks()) as u64;
    println!("fastbfp gemm: {} pass, {} (X = {xn}, Y = {yn}, out {on})", a.pass, a.pass.formula());
    let flags = |f: fastbfp::bfp::ConvertFlags| {
        format!("flushed {}, underflow {}, saturated {}", f.flushed, f.underflow, f.saturated)
    };
    println!(
        "  X {:<8} {:>6} x {:<6} m = {:<2} {:<10} job 0  E_base {:>5}  {}",
        xn,
        xs.0,
        xs.1,
        a.mantissa_x,
        a.rounding_x.name(),
        ops.x.e_base,
        flags(ops.x.flags)
    );
    println!(
        "  Y {:<8} {:>6} x {:<6} m = {:<2} {:<10} job 1  E_base {:>5}  {}",
        yn,
        ys.0,
        ys.1,
        a.mantissa_y,
        a.rounding_y.name(),
        ops.y.e_base,
        flags(ops.y.flags)
    );
    println!("  out {:<7} {:>5} x {:<6} -> {}", on, rows, cols, a.output.display());
    println!(
        "  g = {}, e = {}, accumulator {}, seed {:#06x}, noise bits {}, kernel {}",
        a.group,
        a.exp_bits,
        a.accumulator.name(),
        a.lfsr.seed,
        a.lfsr.noise_bits,
        a.kernel
    );
    println!(
        "  MACs {macs}, group pairs {pairs}, chunk passes {passes} ({} per group pair)",
        fx.chunks() * fy.chunks()
    );
    println!(
        "  error vs binary32 matmul: max abs {:.3e}, max rel {:.3e}, SNR {:.2} dB",
        q.max_abs_error, q.max_rel_error, q.snr_db
    );
    write_npy(&a.output, &[rows, cols], &out)
}
