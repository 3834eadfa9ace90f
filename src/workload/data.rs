//! Operand values for a lowered GEMM: seeded synthetic normals (the default) or `.npy` files
//! in a folder next to the workload.
//!
//! Every GEMM reads two of its layer's three tensors, so values are keyed by **tensor**, not by
//! pass: the `W` of the forward pass is the `W` of backward-data, and so on. The tensors are
//! `w` (`N x K`), `a` (`K x B`) and `do` (`N x B`) for conv2d and linear, and `l`
//! (`rows x inner`), `r` (`inner x cols`) and `do` (`rows x cols`) for matmul:
//!
//! | pass | X | Y |
//! |---|---|---|
//! | forward | `w` / `l` | `a` / `r` |
//! | backward-data | `w` / `l` | `do` |
//! | backward-weight | `do` | `a` / `r` |
//!
//! Synthetic: standard normals (Box-Muller on a splitmix64 stream), gradients scaled by
//! 2^-10, keyed by (file seed, run seed, layer, tensor, instance) and generated in blocks of
//! 4096 in parallel, so the values never depend on the thread count. They are i.i.d.: an
//! im2col matrix's repeated entries are not reproduced.
//!
//! `.npy`: `<dir>/<layer>.<tensor>.npy` (`fc1.w.npy`), float32 or float64, either the 2-D
//! shape of one instance (shared by all instances) or 3-D `[instances, rows, cols]`.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::gemm::Pass;
use crate::tensor::{read_npy, DEFAULT_MAX_ELEMENTS};

use super::error::{Reporter, WorkloadError};
use super::model::{LoweredGemm, Workload};

/// Where operand values come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// Seeded synthetic normals.
    Synthetic {
        /// Mixed with the run's seed.
        seed: u64,
    },
    /// `.npy` files in a folder.
    Npy {
        /// The folder as written, relative to the workload file's folder.
        dir: String,
    },
}

/// Scale of synthetic gradients relative to weights and activations.
pub const GRADIENT_SCALE: f32 = 1.0 / 1024.0;
const BLOCK: usize = 4096;

/// One of a layer's three tensors: its file-name tag, its shape and whether it is a gradient.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Operand {
    pub tag: &'static str,
    pub shape: (usize, usize),
    pub gradient: bool,
}

/// The X and Y tensors of `g`.
pub(crate) fn operands_of(g: &LoweredGemm) -> [Operand; 2] {
    let mm = g.kind == "matmul";
    let (w, a) = if mm { ("l", "r") } else { ("w", "a") };
    let (xt, yt) = match g.pass {
        Pass::Forward => (w, a),
        Pass::BackwardData => (w, "do"),
        Pass::BackwardWeight => ("do", a),
    };
    [
        Operand { tag: xt, shape: g.x_shape, gradient: xt == "do" },
        Operand { tag: yt, shape: g.y_shape, gradient: yt == "do" },
    ]
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn mix(a: u64, b: u64) -> u64 {
    let mut s = a ^ b.rotate_left(29);
    splitmix(&mut s)
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3))
}

/// Fills `out` with normals of standard deviation `scale`, determined by `key` alone.
fn fill_normal(out: &mut [f32], key: u64, scale: f32) {
    const TWO_53: f64 = (1u64 << 53) as f64;
    out.par_chunks_mut(BLOCK).enumerate().for_each(|(block, chunk)| {
        let mut s = mix(key, block as u64);
        for pair in chunk.chunks_mut(2) {
            let u1 = ((splitmix(&mut s) >> 11) as f64 + 0.5) / TWO_53;
            let u2 = (splitmix(&mut s) >> 11) as f64 / TWO_53;
            let r = (-2.0 * u1.ln()).sqrt();
            let (sin, cos) = (std::f64::consts::TAU * u2).sin_cos();
            pair[0] = (r * cos) as f32 * scale;
            if let Some(v) = pair.get_mut(1) {
                *v = (r * sin) as f32 * scale;
            }
        }
    });
}

/// `len` seeded normal values of standard deviation `scale`, determined by `(seed, tag)` alone
/// (the golden-vector cases' synthetic operands).
pub fn seeded_normal(seed: u64, tag: &str, len: usize, scale: f32) -> Vec<f32> {
    let mut out = vec![0.0f32; len];
    fill_normal(&mut out, mix(seed, fnv1a(tag)), scale);
    out
}

/// Synthetic values of one tensor instance.
pub(crate) fn synthetic(file_seed: u64, seed: u64, layer: &str, op: &Operand, instance: usize) -> Vec<f32> {
    let mut key = mix(file_seed, seed);
    key = mix(key, fnv1a(layer));
    key = mix(key, fnv1a(op.tag));
    key = mix(key, instance as u64);
    let mut out = vec![0.0f32; op.shape.0 * op.shape.1];
    fill_normal(&mut out, key, if op.gradient { GRADIENT_SCALE } else { 1.0 });
    out
}

/// The folder `dir` names, relative to the workload file's folder.
pub(crate) fn npy_dir(origin: &Path, dir: &str) -> PathBuf {
    origin.parent().unwrap_or(Path::new("")).join(dir)
}

/// The file holding `layer`'s tensor `tag`.
pub(crate) fn npy_path(dir: &Path, layer: &str, tag: &str) -> PathBuf {
    dir.join(format!("{layer}.{tag}.npy"))
}

/// Reads one tensor instance from its `.npy` file, checking its shape.
pub(crate) fn npy(
    w: &Workload,
    dir: &str,
    layer: &str,
    op: &Operand,
    g: &LoweredGemm,
    instance: usize,
) -> Result<Vec<f32>, WorkloadError> {
    let path = npy_path(&npy_dir(&w.origin, dir), layer, op.tag);
    let fail = |message: String| WorkloadError::Data { path: path.clone(), workload: w.origin.clone(), message };
    let load = read_npy(&path, DEFAULT_MAX_ELEMENTS).map_err(|e| {
        // NpyError's message starts with the path: keep only what follows it.
        let text = e.to_string();
        let prefix = format!("{}: ", path.display());
        fail(text.strip_prefix(&prefix).unwrap_or(&text).to_string())
    })?;
    let (r, c) = op.shape;
    let n = r * c;
    let expected = format!(
        "allowed [{r}, {c}] (one instance) or [{}, {r}, {c}] (every instance) for {} of layer {layer}, {}",
        g.instances, op.tag, g.pass
    );
    let (data, first) = match load.tensor.shape.as_slice() {
        &[rr, cc] if (rr, cc) == (r, c) => (load.tensor.data, None),
        &[i, rr, cc] if (i, rr, cc) == (g.instances, r, c) => {
            (load.tensor.data[instance * n..(instance + 1) * n].to_vec(), Some(instance))
        }
        shape => return Err(fail(format!("shape {shape:?} does not fit; {expected}"))),
    };
    // The converter refuses NaN and infinities: name the file's element, not the GEMM's operand.
    if let Some((k, v)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        let what = if v.is_nan() { "NaN".to_string() } else { format!("{v}") };
        let at = match first {
            None => format!("element {k} ([{}, {}])", k / c, k % c),
            Some(i) => format!("element {} ([{i}, {}, {}])", i * n + k, k / c, k % c),
        };
        return Err(fail(format!("{at} is {what}; allowed finite values only (the BFP converter's input)")));
    }
    Ok(data)
}

/// At load time: every `.npy` file the lowered GEMMs will read exists.
pub(crate) fn check_npy_files(w: &Workload, dir: &str, rep: &Reporter<'_>) -> Result<(), WorkloadError> {
    let folder = npy_dir(&w.origin, dir);
    if !folder.is_dir() {
        let msg = format!(
            "data.dir = {dir:?}: {} is not a folder; allowed a folder relative to the workload file",
            folder.display()
        );
        return Err(rep.message("data.dir", msg));
    }
    for g in w.lower() {
        for op in operands_of(&g) {
            let path = npy_path(&folder, &g.layer, op.tag);
            if !path.is_file() {
                let (r, c) = op.shape;
                let msg = format!(
                    "data.dir = {dir:?}: missing {} (tensor `{}` of layer {}, {r} x {c}, read by {}); allowed a folder holding <layer>.<tensor>.npy for every operand",
                    path.display(),
                    op.tag,
                    g.layer,
                    g.pass
                );
                return Err(rep.message("data.dir", msg));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normals_are_deterministic_and_roughly_standard() {
        let op = Operand { tag: "w", shape: (100, 100), gradient: false };
        let a = synthetic(1, 7, "fc1", &op, 0);
        assert_eq!(a, synthetic(1, 7, "fc1", &op, 0));
        assert_ne!(a, synthetic(1, 7, "fc1", &op, 1));
        assert_ne!(a, synthetic(2, 7, "fc1", &op, 0));
        let mean = a.iter().map(|&v| v as f64).sum::<f64>() / a.len() as f64;
        let var = a.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.05 && (var - 1.0).abs() < 0.1, "mean {mean} var {var}");
        let g = synthetic(1, 7, "fc1", &Operand { gradient: true, tag: "do", ..op }, 0);
        assert!(g.iter().all(|v| v.abs() < 8.0 * GRADIENT_SCALE));
    }
}
