//! The plain reference loop of DESIGN §6: for every output, for every group pair in
//! increasing group index, the fMAC datapath chunk pass by chunk pass, then the accumulator.
//! Slow on purpose; it reads like the design and is what the fast kernel is checked against.

use super::GemmOperands;
use crate::fmac::{group_product, Accumulator, GroupOperand};

/// Row-major output `[rows, cols]` of the converted operands, one cell datapath per output.
pub fn reference_gemm(ops: &GemmOperands) -> Vec<f32> {
    let (rows, cols) = ops.out_shape();
    let mut out = vec![0f32; rows * cols];
    for u in 0..rows {
        for v in 0..cols {
            let mut acc = Accumulator::new(ops.spec.accumulator);
            for q in 0..ops.reduction_groups() {
                let (ex, mx) = ops.x.group(u, q);
                let (ey, my) = ops.y.group(v, q);
                // X is the stationary operand (W in both weight-stationary passes; dO in the
                // output-stationary pass, where the roles are symmetric).
                let stationary = GroupOperand { exp: ex, mants: mx, format: ops.x.format };
                let streaming = GroupOperand { exp: ey, mants: my, format: ops.y.format };
                let gp = group_product(&stationary, &streaming);
                acc.add_product(gp.p, gp.exp);
            }
            out[u * cols + v] = acc.result();
        }
    }
    out
}
