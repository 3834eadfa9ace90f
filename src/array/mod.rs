//! The array: cell grid, dataflows, folds and their timing.

pub mod scalesim;
