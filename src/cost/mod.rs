//! Area and energy: technology table x counted actions (being written).
