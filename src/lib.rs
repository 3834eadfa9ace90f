//! fastbfp: a cycle-accurate simulator of a FAST-style block-floating-point DNN training
//! accelerator, and the exact numbers its hardware produces.
//!
//! | module | owns |
//! |---|---|
//! | [`accel`] | one GEMM on the whole accelerator: arch + array + memory + numerics |
//! | [`arch`] | the hardware description file: schema, loading, validation |
//! | [`array`] | the systolic array: dataflows, folds, tick-level and fold-level timing |
//! | [`bfp`] | BFP format, rounding, LFSR noise, converter, split exponent/mantissa storage |
//! | [`cost`] | area and energy from technology tables and counted actions |
//! | [`fmac`] | the fMAC cell datapath: chunk passes, exponent add, accumulators |
//! | [`golden`] | RTL golden vectors: cases, export from the tick model, dump check, VCD |
//! | [`gemm`] | the three training matmuls: reference loop, fast kernel, quality |
//! | [`sim`] | `Cycle`, the event queue, stall statistics |
//! | [`input`] | reading input files with a size limit; remembering them so outputs never replace them |
//! | [`mapping`] | a GEMM's loop nest at the DRAM -> SRAM level: per-pass geometry, tiles and order, the mapper, on-chip im2col |
//! | [`memory`] | DRAM channel, SRAM banks, buffering, converters, transposes, traffic |
//! | [`sweep`] | parameter sweeps over arch and workload, sharding, resuming, merging |
//! | [`tensor`] | dense binary32 tensors and the `.npy` format |
//! | [`runner`] | iterations of a workload on synthetic or recorded operands: every GEMM simulated, priced, summed (`fastbfp run`) |
//! | [`train`] | training a real network through the simulated accelerator: data sets, ops and their backward, optimizer, precision policies (`fastbfp train`) |
//! | [`workload`] | RON workloads, the layer DAG, lowering to GEMMs, precision policies |
//! | [`report`] | everything that writes files (atomically) and the `$readmemh` images |

#![warn(missing_docs)]

pub mod accel;
pub mod arch;
pub mod array;
pub mod bfp;
pub mod cost;
pub mod fmac;
pub mod gemm;
pub mod golden;
pub mod input;
pub mod mapping;
pub mod memory;
pub mod report;
mod ronpos;
pub mod runner;
pub mod sim;
pub mod sweep;
pub mod tensor;
pub mod train;
pub mod workload;

#[cfg(test)]
mod test_rng;
