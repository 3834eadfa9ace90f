//! Parameter sweeps (being written).
