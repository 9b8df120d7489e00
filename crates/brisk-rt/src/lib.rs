//! brisk-rt
