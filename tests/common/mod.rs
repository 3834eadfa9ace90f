//! Helpers shared by the integration tests: the bundled arch files and deterministic operand
//! values (`accel.rs`, `mapping.rs`, `mapping_capacity.rs`), a GEMM's own DRAM bits and
//! convolution windows (the mapping tests), the text drawn in an SVG plot (`plots.rs`, `run.rs`).
//! Each test binary uses a subset.
#![allow(dead_code)]

use std::path::Path;

use fastbfp::accel::{simulate_gemm, spec_for, GemmRequest, GemmSim};
use fastbfp::arch::{load_arch, Arch};
use fastbfp::array::Fidelity;
use fastbfp::gemm::Pass;
use fastbfp::mapping::ConvWindow;
use fastbfp::mapping::{Mapping, PassDims, Role};

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

/// DRAM bits of the GEMM itself (operands, results, spilled partial sums).
pub fn moved(s: &GemmSim) -> u64 {
    s.traffic.dram_bits() - s.traffic.dram_transpose_bits
}

/// A square convolution window: `cin` channels, a `kernel` x `kernel` kernel at `stride` with
/// `pad` zeros on each side of an `hw` x `hw` input, over `batch` images.
pub fn window(cin: usize, kernel: usize, stride: usize, pad: usize, hw: usize, batch: usize) -> ConvWindow {
    let o = (hw + 2 * pad - kernel) / stride + 1;
    ConvWindow {
        channels: cin,
        kernel: (kernel, kernel),
        stride_h: stride,
        pad_h: pad,
        input_hw: (hw, hw),
        output_hw: (o, o),
        batch,
    }
}

/// Text of the SVG's `<text>` elements (the SVG backend writes each as one element).
pub fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim().to_string()))
        .map(|t| {
            t.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

/// Simulates `pass` of a GEMM with dimensions `(n, k, b)` (DESIGN §6) on `a`.
pub fn sim(
    a: &Arch,
    pass: Pass,
    (n, k, b): (usize, usize, usize),
    conv: Option<ConvWindow>,
    mapping: Option<Mapping>,
    fidelity: Fidelity,
    numerics: bool,
) -> GemmSim {
    let d = PassDims::elements(pass, n, k, b);
    let (xs, ys) = (d.shape(Role::X), d.shape(Role::Y));
    let (x, y) = if numerics { (data(xs.0 * xs.1, 3), data(ys.0 * ys.1, 9)) } else { (Vec::new(), Vec::new()) };
    let req = GemmRequest {
        spec: spec_for(a, pass),
        x: (&x, xs.0, xs.1),
        y: (&y, ys.0, ys.1),
        names: ("X", "Y"),
        fidelity,
        numerics,
        first_job: 0,
        conv,
        mapping,
    };
    simulate_gemm(a, &req).unwrap()
}
