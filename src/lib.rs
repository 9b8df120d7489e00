//! Brisk
#![forbid(unsafe_code)]
pub use brisk_core;
