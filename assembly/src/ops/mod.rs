//! The built-in operators.

pub mod bubble;
pub mod compress;
pub mod rank;
pub mod render;
pub mod retrieve;
pub mod units;
