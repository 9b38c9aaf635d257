//! Set-up shared by the backend's test binaries.

pub use bubble_index::testing::embedder;
pub use bubble_postgres::testing::database;
