//! Parameter sweeps: the cartesian product of arch and workload parameters (array size, g, m,
//! SRAM sizes, DRAM bandwidth, batch, ...) over a base arch and workload, run in parallel,
//! resumable, splittable into shards for a cluster job array, and merged into one CSV and a
//! Pareto plot of energy against cycles.
//!
//! | file | owns |
//! |---|---|
//! | `schema.rs` | the sweep file's RON schema exactly as written (unknown fields rejected) |
//! | `param.rs` | [`Param`]: the sweepable parameters, their paths, ranges and labels |
//! | `spec.rs` | [`Sweep`]: loading and checking a sweep file; its [`Point`]s, in a fixed order |
//! | `shard.rs` | [`Shard`]: `--shard I/N` |
//! | `size.rs` | the size said before a sweep starts, and [`CONFIRM_POINTS`] |
//! | `record.rs` | [`PointRecord`]: one finished point as JSON, and the CSV rows |
//! | `run.rs` | [`plan_sweep`], [`run_plan`], [`run_sweep`]: skip done points, run the rest |
//! | `merge.rs` | [`merge`]: point files of several folders into `merged.csv` and the Pareto plot |
//! | `error.rs` | [`SweepError`] |
//!
//! The sweep file, the parameters, the point order and the output layout are documented in
//! `docs/sweep.md`; an example is `traces/sweeps/array-precision.ron`.

mod error;
mod merge;
mod param;
mod record;
mod run;
mod schema;
mod shard;
mod size;
mod spec;

pub use error::SweepError;
pub use merge::{merge, MergeSummary, MERGED_CSV};
pub use param::Param;
pub use record::{
    csv, AreaUm2, DramBits, EnergyPj, ParamValue, PointConfig, PointRecord, StallCycles, POINT_SCHEMA_VERSION,
};
pub use run::{csv_name, plan_sweep, points_dir, run_plan, run_sweep, SweepOptions, SweepPlan, SweepSummary};
pub use shard::{Shard, MAX_SHARDS};
pub use size::{shard_points, size_estimate, CONFIRM_POINTS, POINT_FILE_BYTES};
pub use spec::{load_sweep, parse_sweep, Axis, Point, Sweep, MAX_ITERATIONS, MAX_POINTS};
