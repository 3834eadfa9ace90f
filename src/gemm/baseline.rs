//! Element-wise baseline numerics (being written).
