//! Data sets for training (being written).
