//! The hardware description (arch file, RON): schema, loading, validation (being written).
