//! The built-in operators.

pub mod bubble;
pub mod rank;
pub mod retrieve;
pub mod units;
