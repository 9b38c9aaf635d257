//! One index of the shipped corpus, shared by the tests of a binary (with
//! vectors when the model is there; `BUBBLE_REQUIRE_MODELS=1` makes a
//! missing model a failure).

use bubble_index::{build, find_models_dir, BuildOptions, Embedder, Index};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub struct Fixture {
    pub index: Index,
    pub embedder: Option<Embedder>,
    _dir: tempfile::TempDir,
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = find_models_dir(None).unwrap_or_else(|| repo().join("models"));
        let embedder = match Embedder::load(&dir, 2) {
            Ok(e) => Some(e),
            Err(e) => {
                assert!(
                    std::env::var("BUBBLE_REQUIRE_MODELS").as_deref() != Ok("1"),
                    "model required: {e}"
                );
                None
            }
        };
        let tmp = tempfile::tempdir().unwrap();
        build(
            tmp.path(),
            &[repo().join("corpora/acme")],
            &BuildOptions::default(),
            embedder.as_ref(),
            &mut |_| {},
        )
        .unwrap();
        Fixture {
            index: Index::open(tmp.path()).unwrap(),
            embedder,
            _dir: tmp,
        }
    })
}
