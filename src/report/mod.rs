//! Everything that leaves the simulator as a file: atomic writes (temp file + rename, so an
//! interrupted run never leaves a half-written output) and the split-storage `$readmemh`
//! images of DESIGN §4, and a training run's report, CSV, plots and summary.

mod atomic;
mod capacity;
mod compare;
mod csv_table;
mod memimage;
pub mod plots;
mod run;
mod train;

pub use atomic::{write_all_atomic, write_atomic, OutDir, WriteError};
pub use capacity::capacity_note;
pub use compare::{compare_row, compare_table, write_compare, CompareRow};
pub use csv_table::CsvTable;
pub use memimage::{packed_images, PackedManifest};
pub use run::{cycle_shares, layers_csv, run_plots, summary, write_run, ReportError, Written};
pub use train::{
    compare_csv, compare_rows, compare_summary, data_label, epochs_csv, precision_csv, precision_matrix, train_files,
    train_plots, train_summary, weights_npz, write_train, write_train_compare, CompareTrainRow,
};
