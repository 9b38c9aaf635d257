//! Set-up shared by the backend's test binaries.

#![allow(dead_code)] // not every test binary uses every helper

use bubble_index::{find_models_dir, Embedder};
pub use bubble_postgres::testing::database;

/// The embedding model, or `None` (with a note) when it is not set up;
/// `BUBBLE_REQUIRE_MODELS=1` makes a missing model a failure.
pub fn embedder() -> Option<Embedder> {
    let dir = find_models_dir(None).or_else(|| {
        let models = bubble_postgres::testing::repo().join("models");
        models.is_dir().then_some(models)
    });
    match dir.map(|d| Embedder::load(&d, 2)) {
        Some(Ok(e)) => Some(e),
        other => {
            let why = match other {
                Some(Err(e)) => e.to_string(),
                _ => "no models folder".into(),
            };
            assert!(
                std::env::var("BUBBLE_REQUIRE_MODELS").as_deref() != Ok("1"),
                "model required: {why}"
            );
            eprintln!("skipping model test: {why}");
            None
        }
    }
}
