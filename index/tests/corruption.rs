//! A damaged index is an error, never a crash: every file of a generation
//! (its checksum sidecars included) is truncated, emptied or has bytes
//! flipped in turn, and opening and verifying the index must fail with a
//! clear error each time (a panic fails the test; an abort kills the test
//! binary). Reads check only the blocks they touch, so a second test
//! damages the middle of a file and checks that the reads that meet the
//! damage fail, and that the index reports it.

mod common;

use bubble_index::{build, BuildOptions, Corpus, Index};
use common::embedder;
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files(from) {
        let target = to.join(f.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&f, target).unwrap();
    }
}

/// An index of the folder `docs` (with the model when it is set up).
fn built(docs: PathBuf) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let e = embedder();
    build(
        dir.path(),
        &[docs],
        &BuildOptions::default(),
        e.as_ref(),
        &mut |_| {},
    )
    .unwrap();
    dir
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    Truncate,
    Empty,
    Flip,
}

fn damage(path: &Path, how: Damage) {
    let mut bytes = std::fs::read(path).unwrap();
    match how {
        Damage::Truncate => bytes.truncate(bytes.len() / 2),
        Damage::Empty => bytes.clear(),
        Damage::Flip => {
            // A few bytes at the start, the middle and the end: headers,
            // lengths and checksums all get hit somewhere.
            let n = bytes.len();
            for at in [0, 1, n / 2, n.saturating_sub(2)] {
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 0xff;
                }
            }
        }
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn every_damaged_file_gives_an_error_not_a_crash() {
    let (_src, docs) = common::docs(&[(
        "travel.md",
        "# Travel\n\n## Per diem\n\nThe per diem is 60 EUR in Germany. It is 70 EUR in France.\n\n\
         ## Hotels\n\nBook hotels through the portal.\n\n| Plan | Price |\n|---|---|\n| Pro | 49 |\n",
    )]);
    let built = built(docs);
    Index::open(built.path())
        .and_then(|index| index.verify())
        .expect("the intact index opens and verifies");
    Index::open(built.path()).expect("and opens again: opening changes no checksummed file");

    let mut checked = 0;
    for file in files(built.path()) {
        let rel = file.strip_prefix(built.path()).unwrap().to_path_buf();
        if rel.to_string_lossy().ends_with(".lock") {
            continue; // tantivy's empty lock files hold nothing
        }
        for how in [Damage::Truncate, Damage::Empty, Damage::Flip] {
            let copy = tempfile::tempdir().unwrap();
            copy_dir(built.path(), copy.path());
            damage(&copy.path().join(&rel), how);
            match Index::open(copy.path()).and_then(|index| index.verify()) {
                Ok(_) => panic!("{} {how:?}: opened and verified", rel.display()),
                Err(err) => assert!(!err.to_string().is_empty(), "{}", rel.display()),
            }
            checked += 1;
        }
    }
    // The manifest, the store, tantivy's files, and with a model the
    // vectors, the HNSW graph and the unit vectors, and their sidecars.
    assert!(checked >= 3 * 16, "{checked}");
}

/// Damage deep inside a file is found by the first read of its block: a
/// span lookup reads it as absent and the index reports the damage, a
/// fallible read fails.
#[test]
fn the_reads_that_meet_damage_fail() {
    let long: String = (0..400)
        .map(|i| format!("Paragraph {i} says something about topic {}.\n\n", i % 7))
        .collect();
    let (_src, docs) = common::docs(&[("long.md", &format!("# Long\n\n{long}"))]);
    let built = built(docs);
    let generation = files(built.path())
        .into_iter()
        .find(|f| f.ends_with("manifest.json"))
        .and_then(|f| f.parent().map(Path::to_path_buf))
        .unwrap();
    let segment = files(&generation)
        .into_iter()
        .find(|f| f.extension().is_some_and(|x| x == "seg"))
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    assert!(bytes.len() > 3 * 16384, "a segment of several blocks");
    bytes[16384 + 100] ^= 0xff; // a span record in the second block
    std::fs::write(&segment, bytes).unwrap();

    let index = Index::open(built.path()).expect("the footer and tables are intact");
    assert!(index.damage().is_ok(), "nothing read yet");
    let read = index.store().spans().count();
    assert!(
        read < index.store().live_spans() as usize,
        "a damaged span read"
    );
    let err = index.damage().expect_err("the damage is reported");
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    assert!(index.verify().is_err());
}
