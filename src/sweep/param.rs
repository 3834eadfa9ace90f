//! The parameters a sweep can vary ([`Param`]): their paths in sweep files, their ranges (the
//! arch and workload files' own ranges, see `docs/arch.md` and `docs/workloads.md`), the short
//! labels that make up point names, and how each is applied to an arch and a workload.

use std::fmt;

use crate::arch::Arch;
use crate::workload::Workload;

/// One sweepable parameter. All are integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Param {
    /// `array.rows`: array rows R, 1..=4096.
    ArrayRows,
    /// `array.cols`: array columns C, 1..=4096.
    ArrayCols,
    /// `array.size`: a square array, rows = cols, 1..=4096.
    ArraySize,
    /// `bfp.group`: group size g, 1..=64 (BFP cells only).
    BfpGroup,
    /// `bfp.exp_bits`: shared-exponent width e, 1..=8 (BFP cells only).
    BfpExpBits,
    /// `precision.mantissa_bits`: mantissa bits m of every tensor class, 1..=16 (BFP cells only).
    MantissaBits,
    /// `precision.weights.mantissa_bits`, 1..=16 (BFP cells only).
    WeightsMantissaBits,
    /// `precision.activations.mantissa_bits`, 1..=16 (BFP cells only).
    ActivationsMantissaBits,
    /// `precision.gradients.mantissa_bits`, 1..=16 (BFP cells only).
    GradientsMantissaBits,
    /// `memory.exponent_sram.capacity_kib`, 1..=1048576.
    ExponentSramKib,
    /// `memory.mantissa_sram.capacity_kib`, 1..=1048576.
    MantissaSramKib,
    /// `memory.dram.bytes_per_cycle`: DRAM bandwidth, 1..=1048576.
    DramBytesPerCycle,
    /// `converters.count`: BFP converters working in parallel, 1..=4096 (BFP cells only).
    ConverterCount,
    /// `workload.batch`: samples per iteration, 1..=65536.
    Batch,
}

impl Param {
    /// Every parameter, in the order `docs/sweep.md` lists them.
    pub const ALL: [Param; 14] = [
        Param::ArrayRows,
        Param::ArrayCols,
        Param::ArraySize,
        Param::BfpGroup,
        Param::BfpExpBits,
        Param::MantissaBits,
        Param::WeightsMantissaBits,
        Param::ActivationsMantissaBits,
        Param::GradientsMantissaBits,
        Param::ExponentSramKib,
        Param::MantissaSramKib,
        Param::DramBytesPerCycle,
        Param::ConverterCount,
        Param::Batch,
    ];

    /// The path written in sweep files (and used as the CSV column header).
    pub fn path(self) -> &'static str {
        match self {
            Param::ArrayRows => "array.rows",
            Param::ArrayCols => "array.cols",
            Param::ArraySize => "array.size",
            Param::BfpGroup => "bfp.group",
            Param::BfpExpBits => "bfp.exp_bits",
            Param::MantissaBits => "precision.mantissa_bits",
            Param::WeightsMantissaBits => "precision.weights.mantissa_bits",
            Param::ActivationsMantissaBits => "precision.activations.mantissa_bits",
            Param::GradientsMantissaBits => "precision.gradients.mantissa_bits",
            Param::ExponentSramKib => "memory.exponent_sram.capacity_kib",
            Param::MantissaSramKib => "memory.mantissa_sram.capacity_kib",
            Param::DramBytesPerCycle => "memory.dram.bytes_per_cycle",
            Param::ConverterCount => "converters.count",
            Param::Batch => "workload.batch",
        }
    }

    /// The label of this parameter in point names (`size32-m4`).
    pub fn label(self) -> &'static str {
        match self {
            Param::ArrayRows => "rows",
            Param::ArrayCols => "cols",
            Param::ArraySize => "size",
            Param::BfpGroup => "g",
            Param::BfpExpBits => "e",
            Param::MantissaBits => "m",
            Param::WeightsMantissaBits => "mw",
            Param::ActivationsMantissaBits => "ma",
            Param::GradientsMantissaBits => "mg",
            Param::ExponentSramKib => "esram",
            Param::MantissaSramKib => "msram",
            Param::DramBytesPerCycle => "dram",
            Param::ConverterCount => "conv",
            Param::Batch => "batch",
        }
    }

    /// Inclusive range of allowed values (the arch or workload file's range for the field).
    pub fn range(self) -> (u64, u64) {
        match self {
            Param::ArrayRows | Param::ArrayCols | Param::ArraySize | Param::ConverterCount => (1, 4096),
            Param::BfpGroup => (1, 64),
            Param::BfpExpBits => (1, 8),
            Param::MantissaBits
            | Param::WeightsMantissaBits
            | Param::ActivationsMantissaBits
            | Param::GradientsMantissaBits => (1, 16),
            Param::ExponentSramKib | Param::MantissaSramKib | Param::DramBytesPerCycle => (1, 1 << 20),
            Param::Batch => (1, 1 << 16),
        }
    }

    /// The parameter written as `path`, if it is one.
    pub fn from_path(path: &str) -> Option<Param> {
        Param::ALL.into_iter().find(|p| p.path() == path)
    }

    /// Every path, comma-separated (for messages).
    pub fn all_paths() -> String {
        Param::ALL.map(Param::path).join(", ")
    }

    /// Whether the parameter only means something on a BFP cell (`fmac`, `bfp_full`).
    pub fn needs_bfp(self) -> bool {
        matches!(
            self,
            Param::BfpGroup
                | Param::BfpExpBits
                | Param::MantissaBits
                | Param::WeightsMantissaBits
                | Param::ActivationsMantissaBits
                | Param::GradientsMantissaBits
                | Param::ConverterCount
        )
    }

    /// Whether the parameter sets a mantissa width (which a workload's precision policy may
    /// override).
    pub fn is_mantissa(self) -> bool {
        matches!(
            self,
            Param::MantissaBits
                | Param::WeightsMantissaBits
                | Param::ActivationsMantissaBits
                | Param::GradientsMantissaBits
        )
    }

    /// The arch or workload fields the parameter sets.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Param::ArraySize => &["array.rows", "array.cols"],
            Param::MantissaBits => &[
                "precision.weights.mantissa_bits",
                "precision.activations.mantissa_bits",
                "precision.gradients.mantissa_bits",
            ],
            Param::ArrayRows => &["array.rows"],
            Param::ArrayCols => &["array.cols"],
            Param::BfpGroup => &["bfp.group"],
            Param::BfpExpBits => &["bfp.exp_bits"],
            Param::WeightsMantissaBits => &["precision.weights.mantissa_bits"],
            Param::ActivationsMantissaBits => &["precision.activations.mantissa_bits"],
            Param::GradientsMantissaBits => &["precision.gradients.mantissa_bits"],
            Param::ExponentSramKib => &["memory.exponent_sram.capacity_kib"],
            Param::MantissaSramKib => &["memory.mantissa_sram.capacity_kib"],
            Param::DramBytesPerCycle => &["memory.dram.bytes_per_cycle"],
            Param::ConverterCount => &["converters.count"],
            Param::Batch => &["workload.batch"],
        }
    }

    /// Whether two parameters set a common field (two axes may not).
    pub fn overlaps(self, other: Param) -> bool {
        self.fields().iter().any(|f| other.fields().contains(f))
    }

    /// Sets the parameter to `value` (already checked against [`Param::range`]).
    pub fn apply(self, value: u64, arch: &mut Arch, wl: &mut Workload) {
        // Lossless: every range fits in u32.
        let v32 = value as u32;
        let p = &mut arch.precision;
        match self {
            Param::ArrayRows => arch.array.rows = value as usize,
            Param::ArrayCols => arch.array.cols = value as usize,
            Param::ArraySize => (arch.array.rows, arch.array.cols) = (value as usize, value as usize),
            Param::BfpGroup => arch.bfp.group = value as usize,
            Param::BfpExpBits => arch.bfp.exp_bits = v32,
            Param::MantissaBits => {
                (p.weights.mantissa_bits, p.activations.mantissa_bits, p.gradients.mantissa_bits) = (v32, v32, v32)
            }
            Param::WeightsMantissaBits => p.weights.mantissa_bits = v32,
            Param::ActivationsMantissaBits => p.activations.mantissa_bits = v32,
            Param::GradientsMantissaBits => p.gradients.mantissa_bits = v32,
            Param::ExponentSramKib => arch.memory.exponent_sram.capacity_kib = value,
            Param::MantissaSramKib => arch.memory.mantissa_sram.capacity_kib = value,
            Param::DramBytesPerCycle => arch.memory.dram.bytes_per_cycle = value,
            Param::ConverterCount => arch.converters.count = value as usize,
            Param::Batch => wl.batch = value as usize,
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_labels_are_unique() {
        for (i, a) in Param::ALL.iter().enumerate() {
            assert_eq!(Param::from_path(a.path()), Some(*a));
            for b in &Param::ALL[i + 1..] {
                assert_ne!(a.label(), b.label());
            }
        }
        assert!(Param::ArraySize.overlaps(Param::ArrayCols));
        assert!(Param::MantissaBits.overlaps(Param::GradientsMantissaBits));
        assert!(!Param::ArrayRows.overlaps(Param::ArrayCols));
        assert!(Param::Batch.overlaps(Param::Batch));
    }

    #[test]
    fn apply_sets_the_fields() {
        let (mut a, mut w) = (crate::arch::default_arch(), crate::workload::default_workload());
        Param::ArraySize.apply(8, &mut a, &mut w);
        Param::MantissaBits.apply(6, &mut a, &mut w);
        Param::Batch.apply(3, &mut a, &mut w);
        assert_eq!((a.array.rows, a.array.cols, a.precision.gradients.mantissa_bits, w.batch), (8, 8, 6, 3));
    }
}
