//! Training real networks through the simulated accelerator (placeholder while it is built).

pub mod data;
pub mod engine;
pub mod net;
pub mod ops;
pub mod optim;
pub mod policy;
pub mod rng;
pub mod trainer;
