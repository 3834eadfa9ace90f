//! `$readmemh` memory images of a packed BFP tensor: `exponents.hex` (one group a line),
//! `mantissa.hex` (one chunk plane a line, plane 0 of each group first) and `packed.json`
//! (g, m, e, E_base, shape), DESIGN §4.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bfp::PackedTensor;

/// The small JSON written beside the hex images.
#[derive(Debug, Clone, Serialize)]
pub struct PackedManifest {
    /// Group size `g`.
    pub group: usize,
    /// Mantissa bits `m`.
    pub mantissa_bits: u32,
    /// Exponent field bits `e`.
    pub exp_bits: u32,
    /// Chunk planes per group.
    pub chunk_planes: u32,
    /// The tensor's exponent base.
    pub e_base: i32,
    /// Shape of the source tensor.
    pub shape: Vec<usize>,
    /// Number of groups (lines of `exponents.hex`).
    pub groups: usize,
    /// Hex digits per line of `exponents.hex`.
    pub exponent_hex_digits: usize,
    /// Hex digits per line of `mantissa.hex`.
    pub mantissa_hex_digits: usize,
    /// Bit layout of a mantissa line, in words.
    pub layout: &'static str,
}

/// The three files for `dir` (`exponents.hex`, `mantissa.hex`, `packed.json`) with their
/// contents, for [`super::write_all_atomic`].
pub fn packed_images(dir: &Path, packed: &PackedTensor, shape: &[usize]) -> (PackedManifest, Vec<(PathBuf, Vec<u8>)>) {
    let f = packed.format();
    let manifest = PackedManifest {
        group: f.group(),
        mantissa_bits: f.mantissa_bits(),
        exp_bits: f.exp_bits(),
        chunk_planes: f.chunks(),
        e_base: packed.e_base(),
        shape: shape.to_vec(),
        groups: packed.groups(),
        exponent_hex_digits: (f.exp_bits() as usize).div_ceil(4),
        mantissa_hex_digits: (3 * f.group()).div_ceil(4),
        layout: "per group, chunk planes most significant first; per plane, element i in bits 3i+2..3i (bit 3i+2 sign, bits 3i+1..3i the 2-bit chunk); groups in row-major order of their first element",
    };
    let lines = |v: Vec<String>| v.iter().flat_map(|l| [l.as_str(), "\n"]).collect::<String>().into_bytes();
    let json = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    let files = vec![
        (dir.join("exponents.hex"), lines(packed.exponents_hex())),
        (dir.join("mantissa.hex"), lines(packed.mantissa_hex())),
        (dir.join("packed.json"), json.into_bytes()),
    ];
    (manifest, files)
}
