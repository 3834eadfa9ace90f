//! `fastbfp quantize`: one conversion job over a tensor grouped along its last axis.

use super::out::outln;
use anyhow::{Context, Result};
use fastbfp::bfp::{convert, BfpFormat, ConvertJob, ConvertSpec, GroupAxis, LfsrParams, PackedTensor};

use super::{check_output_path, load_input, QuantizeArgs};

pub fn run(a: &QuantizeArgs) -> Result<()> {
    check_output_path(&a.output)?;
    if a.packed.as_deref() == Some(a.output.as_path()) {
        anyhow::bail!(
            "{}: given as both the output tensor (-o) and the --packed folder; choose two paths",
            a.output.display()
        );
    }
    let format = BfpFormat::new(a.group as usize, a.mantissa, a.exp_bits)?;
    let mut spec = ConvertSpec::new(format, a.rounding);
    spec.lfsr = LfsrParams::new(fastbfp::bfp::lfsr::DEFAULT_MASK, a.lfsr.seed, a.lfsr.noise_bits)?;
    let t = load_input(&a.input)?;
    let cols = *t.shape.last().context("input has no axes")?;
    let rows = t.len() / cols;
    let name = a.input.display().to_string();
    let job = ConvertJob { tensor: &name, job: 0, spec, axis: GroupAxis::Dim1 };
    let bm = convert(&t.data, rows, cols, &job)?;
    let deq = bm.dequantize();

    // Every output is prepared first and written as one unit, then the report is printed.
    let mut files = vec![(a.output.clone(), fastbfp::tensor::encode_npy_f32(&t.shape, &deq))];
    let mut packed_note = None;
    let mut packed_dir = None;
    if let Some(dir) = &a.packed {
        packed_dir = Some(fastbfp::report::OutDir::create(dir)?);
        let (m, images) = fastbfp::report::packed_images(dir, &PackedTensor::pack(&bm), &t.shape);
        packed_note = Some(format!(
            "{}: exponents.hex ({} lines), mantissa.hex ({} lines), packed.json",
            dir.display(),
            m.groups,
            m.groups * m.chunk_planes as usize
        ));
        files.extend(images);
    }
    fastbfp::report::write_all_atomic(&files)?;
    if let Some(d) = packed_dir {
        d.keep();
    }

    let shape: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
    outln!("fastbfp quantize: {} [{}] -> {}", a.input.display(), shape.join(" x "), a.output.display());
    outln!(
        "  format     g = {}, m = {}, e = {}, rounding {}, seed {:#06x}, noise bits {}",
        a.group,
        a.mantissa,
        a.exp_bits,
        a.rounding,
        a.lfsr.seed,
        a.lfsr.noise_bits
    );
    outln!(
        "  groups     {} ({} per row x {} rows, along the last axis), E_base {}",
        bm.lanes * bm.groups,
        bm.groups,
        bm.lanes,
        bm.e_base
    );
    outln!(
        "  storage    {} bits ({} bits per group)",
        format.group_bits() * (bm.lanes * bm.groups) as u64,
        format.group_bits()
    );
    outln!(
        "  flags      flushed {}, underflow {}, saturated {} (elements of {})",
        bm.flags.flushed,
        bm.flags.underflow,
        bm.flags.saturated,
        t.len()
    );
    let q = fastbfp::gemm::Quality::measure(&deq, &t.data);
    outln!("  error      max abs {:.3e}, max rel {:.3e}, SNR {:.2} dB", q.max_abs_error, q.max_rel_error, q.snr_db);
    if let Some(note) = packed_note {
        outln!("  packed     {note}");
    }
    Ok(())
}
