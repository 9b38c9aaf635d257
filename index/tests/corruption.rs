//! A damaged index is an error, never a crash: every file of a generation
//! is truncated, emptied or has bytes flipped in turn, and opening the
//! index must fail with a clear error each time (a panic fails the test; an
//! abort, as hnsw_rs does on a damaged graph, kills the test binary).

mod common;

use bubble_index::{build, BuildOptions, Index};
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
    let built = tempfile::tempdir().unwrap();
    let e = embedder();
    build(
        built.path(),
        &[docs],
        &BuildOptions::default(),
        e.as_ref(),
        &mut |_| {},
    )
    .unwrap();
    Index::open(built.path()).expect("the intact index opens");
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
            match Index::open(copy.path()) {
                Ok(_) => panic!("{} {how:?}: opened", rel.display()),
                Err(err) => assert!(!err.to_string().is_empty(), "{}", rel.display()),
            }
            checked += 1;
        }
    }
    // The manifest, the store, tantivy's files, and with a model the
    // vectors, the HNSW graph and data, and the unit vectors.
    assert!(checked >= 3 * 8, "{checked}");
}
