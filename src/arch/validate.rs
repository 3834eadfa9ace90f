//! Range checks that turn the RON schema ([`super::schema`]) into the typed [`Arch`], and the
//! table of allowed values that every error message (and `docs/arch.md`) quotes.

use super::error::{ArchError, Reporter};
use super::model::*;
use super::schema::*;
use super::tech::TechTable;
use crate::bfp::{ExpBase, Rounding};
use crate::fmac::AccumulatorKind;

/// Integer fields and their inclusive ranges: (path, low, high, how the range is written).
const LIMITS: &[(&str, i64, i64, &str)] = &[
    ("array.rows", 1, 4096, "1..=4096"),
    ("array.cols", 1, 4096, "1..=4096"),
    ("array.cell.chunk_bits", 2, 2, "2..=2 (only 2-bit chunks are modelled)"),
    ("bfp.group", 1, 64, "1..=64"),
    ("bfp.exp_bits", 1, 8, "1..=8"),
    ("bfp.exp_base", -1000, 1000, "per_tensor or pinned(-1000..=1000)"),
    ("precision.weights.mantissa_bits", 1, 16, "1..=16"),
    ("precision.activations.mantissa_bits", 1, 16, "1..=16"),
    ("precision.gradients.mantissa_bits", 1, 16, "1..=16"),
    ("lfsr.width_bits", 16, 16, "16..=16 (the seeding contract of DESIGN §3 is 16-bit)"),
    ("lfsr.mask", 1, 0xFFFF, "0x0001..=0xFFFF"),
    ("lfsr.seed", 0, 0xFFFF, "0x0000..=0xFFFF"),
    ("lfsr.noise_bits", 1, 16, "1..=16"),
    ("converters.count", 1, 4096, "1..=4096"),
    ("converters.latency_cycles", 0, 1_000_000, "None (= ceil(log2 g) + 3) or 0..=1000000"),
    ("converters.groups_per_cycle", 1, 1024, "1..=1024"),
    ("memory.dram.bytes_per_cycle", 1, 1 << 20, "1..=1048576"),
    ("memory.dram.latency_cycles", 0, 1_000_000, "0..=1000000"),
    ("memory.exponent_sram.capacity_kib", 1, 1 << 20, "1..=1048576"),
    ("memory.exponent_sram.bits_per_cycle", 1, 1 << 20, "1..=1048576"),
    ("memory.mantissa_sram.capacity_kib", 1, 1 << 20, "1..=1048576"),
    ("memory.mantissa_sram.bits_per_cycle", 1, 1 << 20, "1..=1048576"),
    ("mapping.output_buffer_kib", 1, 1 << 20, "1..=1048576"),
];

/// The allowed values of `mapping.mapper`.
const MAPPER_ALLOWED: &str = "folds, search (folds with scalesim cells: SCALE-Sim has its own mapping)";

/// The allowed values of `array.overlap_folds`.
const OVERLAP_ALLOWED: &str = "true, false (false with scalesim cells: SCALE-Sim runs folds back to back)";

/// The allowed values of the arch-file field at `path`, in words (`None` for a struct).
pub(crate) fn allowed(path: &str) -> Option<String> {
    if let Some(&(_, _, _, text)) = LIMITS.iter().find(|l| l.0 == path) {
        return Some(text.to_string());
    }
    let text = match path {
        "name" => "a non-empty string",
        "clock_mhz" => "a finite number > 0 (MHz)",
        "array.cell" => "fmac(chunk_bits: 2), bfp_full, fp32, bf16, int8, scalesim(dataflow: ws | os | is)",
        "array.cell.dataflow" => "ws, os, is",
        "array.shadow_stationary" | "array.shadow_accumulators" | "memory.double_buffering" => "true, false",
        "array.overlap_folds" => OVERLAP_ALLOWED,
        "array.transpose" => "free, explicit",
        "bfp.accumulator" => "fp32, exact",
        "converters.placement" => "array_outputs, memory_to_array",
        "mapping.mapper" => MAPPER_ALLOWED,
        "mapping.objective" => "cycles, energy, edp",
        "mapping.im2col" => "dram, on_chip",
        "tech" => "the path of a technology table (RON), relative to this arch file",
        p if p.starts_with("precision.") && p.ends_with(".rounding") => "nearest, truncate, even, stochastic",
        _ => return None,
    };
    Some(text.to_string())
}

struct Checker<'r, 'a> {
    rep: &'r Reporter<'a>,
}

impl Checker<'_, '_> {
    /// `value` if it lies in the range `LIMITS` gives for `path`.
    fn int(&self, path: &str, value: i64) -> Result<i64, ArchError> {
        let Some(&(_, lo, hi, text)) = LIMITS.iter().find(|l| l.0 == path) else {
            return Ok(value);
        };
        if (lo..=hi).contains(&value) {
            Ok(value)
        } else {
            let shown =
                if path == "lfsr.mask" || path == "lfsr.seed" { format!("{value:#X}") } else { value.to_string() };
            Err(self.rep.out_of_range(path, shown, text))
        }
    }

    // The casts below are lossless: `int` has checked the range.
    fn usize(&self, path: &str, value: i64) -> Result<usize, ArchError> {
        self.int(path, value).map(|v| v as usize)
    }
    fn u32(&self, path: &str, value: i64) -> Result<u32, ArchError> {
        self.int(path, value).map(|v| v as u32)
    }
    fn u64(&self, path: &str, value: i64) -> Result<u64, ArchError> {
        self.int(path, value).map(|v| v as u64)
    }
    fn u16(&self, path: &str, value: i64) -> Result<u16, ArchError> {
        self.int(path, value).map(|v| v as u16)
    }

    fn missing_section(&self, section: &str, cell: &str) -> ArchError {
        let msg = format!(
            "{section}: missing section; required when array.cell is fmac or bfp_full (it is {cell}); \
             only element-wise cells (fp32, bf16, int8, scalesim) may leave it out"
        );
        self.rep.message(section, "array.cell", msg)
    }
}

/// The defaults an element-wise arch gets for the BFP sections it leaves out (`bfp`,
/// `precision`, `lfsr`, `converters`: the FAST defaults of DESIGN §2 and §3, unused by
/// element-wise cells).
fn default_bfp() -> (BfpConfig, PrecisionConfig, LfsrConfig, ConverterConfig) {
    let bfp = BfpConfig { group: 16, exp_bits: 8, exp_base: ExpBase::PerTensor, accumulator: AccumulatorKind::Fp32 };
    let near = ClassPrecision { mantissa_bits: 4, rounding: Rounding::Nearest };
    let stoch = ClassPrecision { mantissa_bits: 4, rounding: Rounding::Stochastic };
    let precision = PrecisionConfig { weights: near, activations: near, gradients: stoch };
    let lfsr = LfsrConfig { width_bits: 16, mask: 0xB400, seed: 0xACE1, noise_bits: 8 };
    let converters = ConverterConfig {
        count: 1,
        latency_cycles: None,
        groups_per_cycle: 1,
        placement: ConverterPlacement::ArrayOutputs,
    };
    (bfp, precision, lfsr, converters)
}

fn rounding(r: &RoundingFile) -> Rounding {
    match r {
        RoundingFile::Nearest => Rounding::Nearest,
        RoundingFile::Truncate => Rounding::Truncate,
        RoundingFile::Even => Rounding::Even,
        RoundingFile::Stochastic => Rounding::Stochastic,
    }
}

/// Checks every range of `f`, in file order, then loads its technology table with `load_tech`
/// (given the `tech` path as written) and builds the [`Arch`].
pub(crate) fn validate(
    f: &ArchFile,
    rep: &Reporter<'_>,
    load_tech: impl FnOnce(&str) -> Result<TechTable, ArchError>,
) -> Result<Arch, ArchError> {
    let c = Checker { rep };
    let name = f.name.trim();
    if name.is_empty() {
        return Err(rep.out_of_range("name", format!("{:?}", f.name), "a non-empty string"));
    }
    if !(f.clock_mhz.is_finite() && f.clock_mhz > 0.0) {
        return Err(rep.out_of_range("clock_mhz", f.clock_mhz, "a finite number > 0 (MHz)"));
    }
    let a = &f.array;
    let cell = match &a.cell {
        CellFile::Fmac { chunk_bits } => CellKind::Fmac { chunk_bits: c.u32("array.cell.chunk_bits", *chunk_bits)? },
        CellFile::BfpFull => CellKind::BfpFull,
        CellFile::Fp32 => CellKind::Fp32,
        CellFile::Bf16 => CellKind::Bf16,
        CellFile::Int8 => CellKind::Int8,
        CellFile::Scalesim { dataflow } => CellKind::Scalesim { dataflow: *dataflow },
    };
    let array = ArrayConfig {
        rows: c.usize("array.rows", a.rows)?,
        cols: c.usize("array.cols", a.cols)?,
        cell,
        shadow_stationary: a.shadow_stationary,
        shadow_accumulators: a.shadow_accumulators,
        transpose: a.transpose,
        overlap_folds: a.overlap_folds,
    };
    if a.overlap_folds && matches!(cell, CellKind::Scalesim { .. }) {
        // SCALE-Sim's compute cycles are closed forms of its own with folds back to back;
        // overlapping them would break the equality the cell exists for.
        return Err(rep.out_of_range("array.overlap_folds", true, OVERLAP_ALLOWED));
    }
    let (mut bfp, mut precision, mut lfsr, mut converters) = default_bfp();
    if cell.is_bfp() {
        let sections = [
            (f.bfp.is_some(), "bfp"),
            (f.precision.is_some(), "precision"),
            (f.lfsr.is_some(), "lfsr"),
            (f.converters.is_some(), "converters"),
        ];
        for (present, section) in sections {
            if !present {
                return Err(c.missing_section(section, cell.name()));
            }
        }
    }
    if let Some(b) = &f.bfp {
        bfp = BfpConfig {
            group: c.usize("bfp.group", b.group)?,
            exp_bits: c.u32("bfp.exp_bits", b.exp_bits)?,
            exp_base: match b.exp_base {
                ExpBaseFile::PerTensor => ExpBase::PerTensor,
                ExpBaseFile::Pinned(v) => ExpBase::Pinned(c.int("bfp.exp_base", v)? as i32),
            },
            accumulator: match b.accumulator {
                AccumulatorFile::Fp32 => AccumulatorKind::Fp32,
                AccumulatorFile::Exact => AccumulatorKind::Exact,
            },
        };
    }
    if let Some(p) = &f.precision {
        let class = |name: &str, cf: &ClassFile| -> Result<ClassPrecision, ArchError> {
            let path = format!("precision.{name}.mantissa_bits");
            Ok(ClassPrecision { mantissa_bits: c.u32(&path, cf.mantissa_bits)?, rounding: rounding(&cf.rounding) })
        };
        precision = PrecisionConfig {
            weights: class("weights", &p.weights)?,
            activations: class("activations", &p.activations)?,
            gradients: class("gradients", &p.gradients)?,
        };
    }
    if let Some(l) = &f.lfsr {
        lfsr = LfsrConfig {
            width_bits: c.u32("lfsr.width_bits", l.width_bits)?,
            mask: c.u16("lfsr.mask", l.mask)?,
            seed: c.u16("lfsr.seed", l.seed)?,
            noise_bits: c.u32("lfsr.noise_bits", l.noise_bits)?,
        };
    }
    if let Some(v) = &f.converters {
        converters = ConverterConfig {
            count: c.usize("converters.count", v.count)?,
            latency_cycles: v.latency_cycles.map(|l| c.u64("converters.latency_cycles", l)).transpose()?,
            groups_per_cycle: c.u32("converters.groups_per_cycle", v.groups_per_cycle)?,
            placement: v.placement,
        };
    }
    let m = &f.memory;
    let sram = |name: &str, s: &SramFile| -> Result<SramConfig, ArchError> {
        Ok(SramConfig {
            capacity_kib: c.u64(&format!("memory.{name}.capacity_kib"), s.capacity_kib)?,
            bits_per_cycle: c.u64(&format!("memory.{name}.bits_per_cycle"), s.bits_per_cycle)?,
        })
    };
    let memory = MemoryConfig {
        dram: DramConfig {
            bytes_per_cycle: c.u64("memory.dram.bytes_per_cycle", m.dram.bytes_per_cycle)?,
            latency_cycles: c.u64("memory.dram.latency_cycles", m.dram.latency_cycles)?,
        },
        exponent_sram: sram("exponent_sram", &m.exponent_sram)?,
        mantissa_sram: sram("mantissa_sram", &m.mantissa_sram)?,
        double_buffering: m.double_buffering,
    };
    let mut mapping = MappingConfig::default();
    if let Some(mf) = &f.mapping {
        mapping = MappingConfig {
            mapper: mf.mapper,
            objective: mf.objective,
            im2col: mf.im2col,
            output_buffer_kib: c.u64("mapping.output_buffer_kib", mf.output_buffer_kib)?,
        };
        if mf.mapper == MapperKind::Search && matches!(array.cell, CellKind::Scalesim { .. }) {
            return Err(rep.out_of_range("mapping.mapper", "search", MAPPER_ALLOWED));
        }
    }
    let tech = load_tech(&f.tech).map_err(|e| rep.tech(&f.tech, e))?;
    Ok(Arch {
        name: name.to_string(),
        clock_mhz: f.clock_mhz,
        array,
        bfp,
        precision,
        lfsr,
        converters,
        memory,
        mapping,
        tech_file: f.tech.clone(),
        tech,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_is_consistent() {
        for &(path, lo, hi, text) in LIMITS {
            assert!(lo <= hi, "{path}");
            assert_eq!(allowed(path).as_deref(), Some(text));
        }
        assert!(allowed("precision.gradients.rounding").is_some());
        assert!(allowed("memory").is_none());
    }
}
