//! One finished point as a file ([`PointRecord`], `points/<index>-<name>.json`) and as a CSV
//! row ([`csv`]): the point's parameters and configuration and the run's headline figures.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::SweepError;
use super::spec::{Point, Sweep};
use crate::arch::Arch;
use crate::array::Fidelity;
use crate::runner::RunReport;
use crate::sim::StallReason;
use crate::workload::Workload;

/// Version of the point-file layout; bumped when a field changes meaning or disappears.
pub const POINT_SCHEMA_VERSION: u32 = 1;

/// A finished point: what was run and what came out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointRecord {
    /// [`POINT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The sweep's identity ([`Sweep::id`]).
    pub sweep: String,
    /// Points in the whole sweep.
    pub points: usize,
    /// The point's index.
    pub index: usize,
    /// The point's name.
    pub name: String,
    /// The swept parameters' values, in axis order.
    pub params: Vec<ParamValue>,
    /// The point's configuration (swept or not).
    pub config: PointConfig,
    /// Cycles of the run.
    pub cycles: u64,
    /// Time at the arch's clock, microseconds.
    pub time_us: f64,
    /// Multiply-accumulates.
    pub macs: u64,
    /// Busy cell-cycles over available cell-cycles.
    pub utilization: f64,
    /// Energy by component, pJ.
    pub energy_pj: EnergyPj,
    /// Area by component, um^2.
    pub area_um2: AreaUm2,
    /// Stall cycles by reason.
    pub stall_cycles: StallCycles,
    /// DRAM traffic, bits.
    pub dram_bits: DramBits,
    /// Worst SNR over the GEMMs against binary32, dB (numerics on; infinite SNRs left out).
    pub worst_snr_db: Option<f64>,
    /// Mean SNR over the GEMMs, dB.
    pub mean_snr_db: Option<f64>,
}

/// One swept parameter's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamValue {
    /// The parameter's path (`array.size`).
    pub param: String,
    /// Its value.
    pub value: u64,
}

/// The configuration a point ran with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointConfig {
    /// Arch name.
    pub arch: String,
    /// Cell kind.
    pub cell: String,
    /// Workload name.
    pub workload: String,
    /// Array rows.
    pub rows: usize,
    /// Array columns.
    pub cols: usize,
    /// Group size g.
    pub group: usize,
    /// Shared-exponent bits e.
    pub exp_bits: u32,
    /// Mantissa bits of weights, activations, gradients (the arch's; a workload precision
    /// policy may override them per layer).
    pub mantissa_bits: [u32; 3],
    /// Exponent SRAM capacity, KiB.
    pub exponent_sram_kib: u64,
    /// Mantissa SRAM capacity, KiB.
    pub mantissa_sram_kib: u64,
    /// DRAM bandwidth, bytes per cycle.
    pub dram_bytes_per_cycle: u64,
    /// BFP converters.
    pub converters: usize,
    /// Batch.
    pub batch: usize,
    /// Training iterations.
    pub iterations: usize,
    /// `fold` or `cycle`.
    pub fidelity: String,
    /// Whether the numbers were computed.
    pub numerics: bool,
    /// Seed of the synthetic data.
    pub seed: u64,
}

/// Energy by component, pJ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyPj {
    /// The array.
    pub array: f64,
    /// The BFP converters.
    pub converters: f64,
    /// Exponent SRAM.
    pub exponent_sram: f64,
    /// Mantissa SRAM.
    pub mantissa_sram: f64,
    /// DRAM operands and results.
    pub dram: f64,
    /// DRAM transposes.
    pub transpose: f64,
    /// The output (partial-sum) buffer.
    #[serde(default)]
    pub output_buffer: f64,
    /// The sum.
    pub total: f64,
}

/// Area by component, um^2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaUm2 {
    /// The array.
    pub array: f64,
    /// The BFP converters.
    pub converters: f64,
    /// Exponent SRAM.
    pub exponent_sram: f64,
    /// Mantissa SRAM.
    pub mantissa_sram: f64,
    /// The output (partial-sum) buffer.
    #[serde(default)]
    pub output_buffer: f64,
    /// On-chip im2col's staging registers.
    #[serde(default)]
    pub im2col: f64,
    /// The sum.
    pub total: f64,
}

/// Stall cycles by reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StallCycles {
    /// Cycles per reason, every reason of [`StallReason::ALL`] by its report name (`dram`,
    /// `converter`, ...), zeros included.
    pub by_reason: BTreeMap<String, u64>,
    /// The sum.
    pub total: u64,
}

/// DRAM traffic, bits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DramBits {
    /// Reads of shared exponents.
    pub read_exp: u64,
    /// Reads of mantissas (or binary32 elements).
    pub read_mant: u64,
    /// Writes of results.
    pub write: u64,
    /// Reads and writes of explicit transposes.
    pub transpose: u64,
    /// Partial sums spilled to DRAM and read back.
    #[serde(default)]
    pub psum: u64,
    /// The sum.
    pub total: u64,
}

impl PointRecord {
    /// The record of `point` of `sweep`, run as `arch` on `wl` (from [`Sweep::configure`]).
    pub fn new(sweep: &Sweep, point: &Point, arch: &Arch, wl: &Workload, r: &RunReport) -> PointRecord {
        let t = &r.totals;
        let (e, a, tr) = (&t.energy, &t.area, &t.traffic);
        let snrs: Vec<f64> =
            r.gemms.iter().filter_map(|g| g.quality.map(|q| q.snr_db)).filter(|s| s.is_finite()).collect();
        let p = &arch.precision;
        PointRecord {
            schema_version: POINT_SCHEMA_VERSION,
            sweep: sweep.id.clone(),
            points: sweep.len(),
            index: point.index,
            name: point.name.clone(),
            params: point.values.iter().map(|&(p, value)| ParamValue { param: p.path().to_string(), value }).collect(),
            config: PointConfig {
                arch: arch.name.clone(),
                cell: arch.array.cell.name().to_string(),
                workload: wl.name.clone(),
                rows: arch.array.rows,
                cols: arch.array.cols,
                group: arch.bfp.group,
                exp_bits: arch.bfp.exp_bits,
                mantissa_bits: [p.weights.mantissa_bits, p.activations.mantissa_bits, p.gradients.mantissa_bits],
                exponent_sram_kib: arch.memory.exponent_sram.capacity_kib,
                mantissa_sram_kib: arch.memory.mantissa_sram.capacity_kib,
                dram_bytes_per_cycle: arch.memory.dram.bytes_per_cycle,
                converters: arch.converters.count,
                batch: wl.batch,
                iterations: r.options.iterations,
                fidelity: match r.options.fidelity {
                    Fidelity::Fold => "fold",
                    Fidelity::Cycle => "cycle",
                }
                .to_string(),
                numerics: r.options.numerics,
                seed: r.options.seed,
            },
            cycles: t.cycles,
            time_us: t.time_us,
            macs: t.macs,
            utilization: t.utilization,
            energy_pj: EnergyPj {
                array: e.array_pj,
                converters: e.converters_pj,
                exponent_sram: e.exponent_sram_pj,
                mantissa_sram: e.mantissa_sram_pj,
                dram: e.dram_pj,
                transpose: e.transpose_pj,
                output_buffer: e.output_buffer_pj,
                total: e.total_pj(),
            },
            area_um2: AreaUm2 {
                array: a.array_um2,
                converters: a.converters_um2,
                exponent_sram: a.exponent_sram_um2,
                mantissa_sram: a.mantissa_sram_um2,
                output_buffer: a.output_buffer_um2,
                im2col: a.im2col_um2,
                total: a.total_um2(),
            },
            stall_cycles: StallCycles {
                by_reason: StallReason::ALL.iter().map(|&r| (r.name().to_string(), t.stalls.get(r))).collect(),
                total: t.stalls.total(),
            },
            dram_bits: DramBits {
                read_exp: tr.dram_read_exp_bits,
                read_mant: tr.dram_read_mant_bits,
                write: tr.dram_write_bits,
                transpose: tr.dram_transpose_bits,
                psum: tr.dram_psum_bits,
                total: tr.dram_bits(),
            },
            worst_snr_db: snrs.iter().copied().reduce(f64::min),
            mean_snr_db: (!snrs.is_empty()).then(|| snrs.iter().sum::<f64>() / snrs.len() as f64),
        }
    }

    /// The point file's text (pretty JSON, newline-terminated).
    pub fn to_json(&self) -> String {
        // Serialising plain numbers and strings cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Parses a point file's text; `path` names it in messages.
    pub fn from_json(text: &str, path: &Path) -> Result<PointRecord, SweepError> {
        let bad = |message: String| SweepError::BadPoint { path: path.to_path_buf(), message };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let version = value.get("schema_version").and_then(|v| v.as_u64());
        if version != Some(POINT_SCHEMA_VERSION as u64) {
            let shown = version.map_or("missing".to_string(), |v| v.to_string());
            return Err(bad(format!("schema_version {shown}; this fastbfp reads {POINT_SCHEMA_VERSION}")));
        }
        let record: PointRecord = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        // Sizes are checked before anything is sized by them (merge lists the missing points).
        if !(1..=super::MAX_POINTS).contains(&record.points) {
            let allowed = super::MAX_POINTS;
            return Err(bad(format!("points = {} is out of range: allowed 1..={allowed}", record.points)));
        }
        if record.index >= record.points {
            return Err(bad(format!("index = {} is out of range: allowed 0..{}", record.index, record.points)));
        }
        Ok(record)
    }

    /// Reads and parses a point file.
    pub fn read(path: &Path) -> Result<PointRecord, SweepError> {
        let text = crate::input::read_own_text(path, crate::input::MAX_TEXT_BYTES).map_err(|error| SweepError::Io {
            path: path.to_path_buf(),
            what: "cannot read",
            error,
        })?;
        PointRecord::from_json(&text, path)
    }

    /// The swept parameters' paths, in axis order.
    pub fn param_paths(&self) -> Vec<&str> {
        self.params.iter().map(|p| p.param.as_str()).collect()
    }
}

/// The columns after the parameters, before the stall reasons.
const FIGURES: &str = "cycles,time_us,macs,utilization,\
energy_pj,energy_array_pj,energy_converters_pj,energy_exponent_sram_pj,energy_mantissa_sram_pj,energy_dram_pj,energy_transpose_pj,\
energy_output_buffer_pj,area_um2,area_array_um2,area_converters_um2,area_exponent_sram_um2,area_mantissa_sram_um2,\
area_output_buffer_um2,area_im2col_um2,\
stall_cycles";

/// The columns after the stall reasons.
const TRAFFIC: &str =
    "dram_bits,dram_read_exp_bits,dram_read_mant_bits,dram_write_bits,dram_transpose_bits,dram_psum_bits,\
worst_snr_db,mean_snr_db";

/// The CSV of `records` (all of one sweep), one row per record in the order given: `index`,
/// `name`, one column per swept parameter (headed by its path), then the figures: cycles,
/// time, MACs, utilization, energy (total, then by component), area (likewise), stall cycles
/// (total, then `stall_<reason>` for every reason of [`StallReason::ALL`]), DRAM bits (total,
/// then by kind), and the SNRs (empty without numerics). Numbers are written in Rust's
/// shortest round-trip form, so equal records give equal bytes.
pub fn csv(records: &[PointRecord]) -> String {
    let mut header: Vec<String> = vec!["index".into(), "name".into()];
    if let Some(first) = records.first() {
        header.extend(first.param_paths().into_iter().map(|p| p.to_string()));
    }
    header.extend(FIGURES.split(',').map(str::to_string));
    header.extend(StallReason::ALL.iter().map(|r| format!("stall_{}", r.name().replace('-', "_"))));
    header.extend(TRAFFIC.split(',').map(str::to_string));
    let mut t = crate::report::CsvTable::new(&header);
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
    for r in records {
        let (e, a, st, d) = (&r.energy_pj, &r.area_um2, &r.stall_cycles, &r.dram_bits);
        let mut row: Vec<String> = vec![r.index.to_string(), r.name.clone()];
        row.extend(r.params.iter().map(|p| p.value.to_string()));
        row.extend([
            r.cycles.to_string(),
            r.time_us.to_string(),
            r.macs.to_string(),
            r.utilization.to_string(),
            e.total.to_string(),
            e.array.to_string(),
            e.converters.to_string(),
            e.exponent_sram.to_string(),
            e.mantissa_sram.to_string(),
            e.dram.to_string(),
            e.transpose.to_string(),
            e.output_buffer.to_string(),
            a.total.to_string(),
            a.array.to_string(),
            a.converters.to_string(),
            a.exponent_sram.to_string(),
            a.mantissa_sram.to_string(),
            a.output_buffer.to_string(),
            a.im2col.to_string(),
            st.total.to_string(),
        ]);
        row.extend(
            StallReason::ALL.iter().map(|reason| st.by_reason.get(reason.name()).copied().unwrap_or(0).to_string()),
        );
        row.extend([
            d.total.to_string(),
            d.read_exp.to_string(),
            d.read_mant.to_string(),
            d.write.to_string(),
            d.transpose.to_string(),
            d.psum.to_string(),
            opt(r.worst_snr_db),
            opt(r.mean_snr_db),
        ]);
        t.row(&row);
    }
    t.finish()
}
