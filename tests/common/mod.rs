//! Helpers shared by the integration tests that simulate single GEMMs (`accel.rs`,
//! `mapping.rs`): the bundled arch files and deterministic operand values.

use std::path::Path;

use fastbfp::arch::{load_arch, Arch};

/// The bundled arch file `arch/<name>`.
pub fn arch(name: &str) -> Arch {
    load_arch(&Path::new(env!("CARGO_MANIFEST_DIR")).join("arch").join(name)).unwrap()
}

/// `n` deterministic values in [-4, 4] (steps of 1/250), varied by `seed`.
pub fn data(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| (((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 8) % 2001) as f32 / 250.0 - 4.0)
        .collect()
}
