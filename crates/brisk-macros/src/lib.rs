//! brisk-macros
