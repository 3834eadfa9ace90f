//! The hardware description: the arch file (RON) with its schema, loading and validation into
//! a typed [`Arch`], and the technology table it names ([`TechTable`]).
//!
//! | file | owns |
//! |---|---|
//! | `schema.rs` | the RON schema exactly as written (unknown fields rejected) |
//! | `validate.rs` | range checks, the allowed-values table, schema -> [`Arch`] |
//! | `model.rs` | [`Arch`] and its parts, with units; helpers for the numerics core |
//! | `tech.rs` | [`TechTable`]: schema, loading, validation |
//! | `error.rs` | [`ArchError`]: every message is `file:line:col: field ... allowed ...` |
//!
//! Field paths are mapped to line and column by the crate's shared `ronpos` module.
//!
//! Every field, its unit and range are documented in `docs/arch.md`. The default design
//! (`arch/fast-32x32.ron`) and its technology table (`arch/tech/45nm.ron`) are compiled into
//! the library, so [`default_arch`] works from any working directory.

mod error;
mod model;
mod schema;
mod tech;
mod validate;

use std::path::{Path, PathBuf};

pub use error::ArchError;
pub use model::{
    default_converter_latency, Arch, ArrayConfig, BfpConfig, CellKind, ClassPrecision, ConverterConfig,
    ConverterPlacement, Dataflow, DramConfig, Im2col, LfsrConfig, MapperKind, MappingConfig, MemoryConfig, Objective,
    PrecisionConfig, SramConfig, TensorClass, Transpose,
};
pub use tech::{load_tech, parse_tech, BlockCost, DramCost, LogicCosts, SramMacro, TechTable};

use error::Reporter;
use schema::{ron_options, ArchFile};

/// The default arch file, `arch/fast-32x32.ron`, as compiled in.
pub const DEFAULT_ARCH_RON: &str = include_str!("../../arch/fast-32x32.ron");
/// The technology table the default arch names, `arch/tech/45nm.ron`, as compiled in.
pub const DEFAULT_TECH_RON: &str = include_str!("../../arch/tech/45nm.ron");
/// Path the compiled-in default is reported under in messages.
pub const DEFAULT_ARCH_ORIGIN: &str = "<built-in>/arch/fast-32x32.ron";

/// Reads, parses and validates the arch file at `path`, and the technology table it names.
pub fn load_arch(path: &Path) -> Result<Arch, ArchError> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES)
        .map_err(|error| ArchError::Io { path: path.to_path_buf(), error })?;
    parse_arch(&text, path)
}

/// Parses and validates an arch file's text. `origin` is its path: it names the file in
/// messages and the `tech` path is resolved relative to its folder (and read from disk).
pub fn parse_arch(text: &str, origin: &Path) -> Result<Arch, ArchError> {
    parse_with(text, origin, &|path| load_tech(path))
}

/// The bundled arch files compiled into the binary, by file stem: the default and the
/// baselines training policies run on (`fp32-32x32`, `bf16-32x32`, `msfp12-32x32`).
pub const BUNDLED_ARCHS: [(&str, &str); 4] = [
    ("fast-32x32", DEFAULT_ARCH_RON),
    ("fp32-32x32", include_str!("../../arch/fp32-32x32.ron")),
    ("bf16-32x32", include_str!("../../arch/bf16-32x32.ron")),
    ("msfp12-32x32", include_str!("../../arch/msfp12-32x32.ron")),
];

/// A bundled arch by file stem (see [`BUNDLED_ARCHS`]), with the compiled-in technology table;
/// `None` for another name. No file is read.
pub fn bundled_arch(stem: &str) -> Option<Arch> {
    let (_, text) = BUNDLED_ARCHS.iter().find(|(n, _)| *n == stem)?;
    let origin = PathBuf::from(format!("<built-in>/arch/{stem}.ron"));
    let tech_path = tech_path(&origin, "tech/45nm.ron");
    let embedded = |path: &Path| {
        if path == tech_path {
            parse_tech(DEFAULT_TECH_RON, path)
        } else {
            load_tech(path)
        }
    };
    // The compiled-in files are checked by the test suite (tests/arch_files.rs and below).
    parse_with(text, &origin, &embedded).ok()
}

/// The default design (`arch/fast-32x32.ron`: FAST, 32x32, g = 16, e = 8, 4-bit mantissas),
/// with its technology table, both compiled in: no file is read.
pub fn default_arch() -> Arch {
    let tech_path = tech_path(Path::new(DEFAULT_ARCH_ORIGIN), "tech/45nm.ron");
    let embedded = |path: &Path| {
        if path == tech_path {
            parse_tech(DEFAULT_TECH_RON, path)
        } else {
            load_tech(path)
        }
    };
    // The compiled-in files are checked by the test suite (tests/arch_files.rs).
    parse_with(DEFAULT_ARCH_RON, Path::new(DEFAULT_ARCH_ORIGIN), &embedded)
        .unwrap_or_else(|e| panic!("the built-in arch file is invalid: {e}"))
}

/// `tech` as written, resolved against the arch file's folder.
fn tech_path(origin: &Path, tech: &str) -> PathBuf {
    origin.parent().unwrap_or(Path::new("")).join(tech)
}

fn parse_with(
    text: &str,
    origin: &Path,
    load: &dyn Fn(&Path) -> Result<TechTable, ArchError>,
) -> Result<Arch, ArchError> {
    if let Some(((line, col), message)) = crate::ronpos::too_deep(text) {
        return Err(ArchError::Parse { file: origin.to_path_buf(), line, col, field: String::new(), message });
    }
    let rep = Reporter::new(origin, text, validate::allowed);
    let file: ArchFile = ron_options().from_str(text).map_err(|e| rep.ron(&e))?;
    validate::validate(&file, &rep, |tech| load(&tech_path(origin, tech)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_fast_design() {
        let a = default_arch();
        assert_eq!((a.array.rows, a.array.cols, a.bfp.group, a.bfp.exp_bits), (32, 32, 16, 8));
        assert_eq!(a.array.cell, CellKind::Fmac { chunk_bits: 2 });
        assert_eq!(a.converter_latency_cycles(), 7);
        assert_eq!(a.bfp_format(TensorClass::Gradients).chunks(), 2);
        assert_eq!(a.convert_spec(TensorClass::Gradients).rounding, crate::bfp::Rounding::Stochastic);
        assert_eq!(a.convert_spec(TensorClass::Weights).rounding, crate::bfp::Rounding::Nearest);
        assert_eq!(a.lfsr_params(), crate::bfp::LfsrParams::default());
        assert_eq!(a.tech.node_nm, 45);
    }

    #[test]
    fn bundled_archs_parse() {
        for (stem, _) in BUNDLED_ARCHS {
            let a = bundled_arch(stem).unwrap_or_else(|| panic!("{stem} does not parse"));
            assert_eq!(a.name, stem);
        }
        assert!(bundled_arch("nope").is_none());
    }
}
