//! Set-up shared by the index's test binaries.

use bubble_index::{find_models_dir, Embedder};
use std::path::Path;

/// The embedding model, or `None` (with a note) when it is not set up;
/// `BUBBLE_REQUIRE_MODELS=1` makes a missing model a failure.
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

/// A temporary folder holding `docs/` with `files` (name, text) in it;
/// returns the folder (keep it alive) and the `docs/` path.
#[allow(dead_code)] // not every test binary writes a corpus
pub fn docs(files: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
    let src = tempfile::tempdir().unwrap();
    let docs = src.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for (name, text) in files {
        std::fs::write(docs.join(name), text).unwrap();
    }
    (src, docs)
}
