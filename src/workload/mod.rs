//! Workloads: RON networks of layers, their DAG, and their lowering to GEMMs (being written).
