//! Set-up shared by the index's test binaries.

pub use bubble_index::testing::embedder;

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
