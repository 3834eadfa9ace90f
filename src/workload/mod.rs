//! Workloads: a network of layers in RON, its DAG, its lowering to the three training GEMMs
//! per layer (DESIGN §6), precision policies, and the operand values.
//!
//! | file | owns |
//! |---|---|
//! | `schema.rs` | the RON schema exactly as written (unknown fields rejected) |
//! | `validate.rs` | range checks, the allowed-values table, schema -> typed parts |
//! | `graph.rs` | the layer DAG (petgraph): names, cycles, topological order, shapes, gradients |
//! | `model.rs` | [`Workload`], [`Layer`], [`Op`], [`Shape`], [`LoweredGemm`], [`DataMove`] |
//! | `lower.rs` | layer -> GEMMs (conv by im2col), data moves, MAC counts, operand queries |
//! | `precision.rs` | [`PrecisionPolicy`]: fixed, per layer, schedule over iterations |
//! | `data.rs` | operand values: seeded synthetic normals or `.npy` files |
//! | `scalesim.rs` | a SCALE-Sim topology CSV as a workload ([`from_scalesim_topology`]) |
//! | `training.rs` | the optional `training` section (`fastbfp train`): data, optimizer, schedule, policy |
//! | `error.rs` | [`WorkloadError`]: `file:line:col: field: what; allowed ...` |
//!
//! The schema, every field's range and the lowering rules are documented in
//! `docs/workloads.md`; the bundled workloads live in `traces/`. The default workload
//! (`traces/resnet18-cifar.ron`) is compiled in, so [`default_workload`] reads no file.

mod data;
mod error;
mod graph;
mod lower;
mod model;
mod precision;
mod scalesim;
mod schema;
mod training;
mod validate;

use std::path::Path;

pub use data::{seeded_normal, DataSource, GRADIENT_SCALE};
pub use error::WorkloadError;
pub use graph::INPUT;
pub use lower::gemm_dims;
pub use model::{Conv2d, DataMove, Layer, Linear, LoweredGemm, Matmul, Op, Pool, PoolKind, Shape, Workload};
pub use precision::{LayerPrecision, PrecisionPolicy, ScheduleStep, SCHEDULE_DEFAULT_ROUNDING};
pub use scalesim::{from_scalesim_topology, load_scalesim_topology};
pub use training::{
    FastParams, Init, Loss, LrSchedule, Sgd, TrainPolicy, TrainingConfig, FAST_DEFAULT_ALPHA, FAST_DEFAULT_BETA,
    POLICY_NAMES,
};

use error::Reporter;

/// The default workload, `traces/resnet18-cifar.ron`, as compiled in.
pub const DEFAULT_WORKLOAD_RON: &str = include_str!("../../traces/resnet18-cifar.ron");
/// The path the compiled-in default is reported under.
pub const DEFAULT_WORKLOAD_ORIGIN: &str = "traces/resnet18-cifar.ron";

/// Reads, parses and checks the workload file at `path`.
pub fn load_workload(path: &Path) -> Result<Workload, WorkloadError> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES)
        .map_err(|error| WorkloadError::Io { path: path.to_path_buf(), error })?;
    parse_workload(&text, path)
}

/// Parses and checks a workload file's text. `origin` is its path: it names the file in
/// messages, and a `npy(dir: ...)` data folder is resolved against its folder (and every
/// `.npy` file the GEMMs will read must exist there).
pub fn parse_workload(text: &str, origin: &Path) -> Result<Workload, WorkloadError> {
    if let Some(((line, col), message)) = crate::ronpos::too_deep(text) {
        return Err(WorkloadError::Parse { file: origin.to_path_buf(), line, col, field: String::new(), message });
    }
    let rep = Reporter::new(origin, text);
    let file: schema::WorkloadFile = schema::ron_options().from_str(text).map_err(|e| rep.ron(&e))?;
    let parts = validate::validate(&file, &rep)?;
    let layers = graph::build(parts.layers, parts.input, &rep)?;
    let workload = Workload {
        name: parts.name,
        batch: parts.batch,
        iterations: parts.iterations,
        passes: parts.passes,
        layers,
        input: parts.input,
        precision: parts.policy,
        data: parts.data,
        training: parts.training,
        origin: origin.to_path_buf(),
    };
    if let DataSource::Npy { dir } = &workload.data {
        data::check_npy_files(&workload, dir, &rep)?;
    }
    Ok(workload)
}

/// The default workload (`traces/resnet18-cifar.ron`: ResNet-18 on CIFAR-10, batch 32), as
/// compiled in: no file is read.
pub fn default_workload() -> Workload {
    // The compiled-in file is checked by the test suite (tests/workloads.rs).
    parse_workload(DEFAULT_WORKLOAD_RON, Path::new(DEFAULT_WORKLOAD_ORIGIN))
        .unwrap_or_else(|e| panic!("the built-in workload file is invalid: {e}"))
}

impl Workload {
    /// The layer named `name`.
    pub fn layer(&self, name: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.name == name)
    }
}
