//! Training real networks through the simulated accelerator (placeholder while it is built).

pub mod data;
pub mod ops;
pub mod rng;
