//! The systolic array of fMAC cells: how a GEMM is cut into folds for each of the three
//! dataflows (DESIGN §6), the fold phases' closed-form cycle counts (fold fidelity), the
//! tick-level model that steps every cell and register every cycle (cycle fidelity), and the
//! schedule that strings folds together. Memories and files are not known here.

pub mod estimate;
mod fold;
mod planes;
pub mod probe;
mod run;
pub mod scalesim;
mod tick;

pub use fold::{closed_form, footprint, lane_count, plan_folds, Fold, Footprint, GemmGeometry, PhaseCycles};
pub use planes::PlaneStore;
pub use run::{
    run_array, run_array_with, run_folds_with, ArrayConfig, ArrayRun, CycleBreakdown, Fidelity, FoldGate, FoldRecord,
    IdealMemory,
};
pub use tick::{os_fold_probed, ws_fold_probed, FoldTick, TickCtx};
