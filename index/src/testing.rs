//! Set-up for tests that need the embedding model (feature `testing`).

use crate::{find_models_dir, Embedder};
use std::path::Path;

/// The embedding model, or `None` (with a note) when it is not set up;
/// `BUBBLE_REQUIRE_MODELS=1` (the test command sets it) makes a missing
/// model a failure.
pub fn embedder() -> Option<Embedder> {
    let dir = find_models_dir(None).or_else(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
        repo.is_dir().then_some(repo)
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
