//! SCALE-Sim compatibility: compute cycles of its ws/os/is dataflows (being written).
