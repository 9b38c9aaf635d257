//! Unit vectors: pooled from the block's own forward pass, stored for every
//! compression unit, reused across re-indexing.

mod common;

use bubble_index::{build, dot, BuildOptions, Index, UnitText};
use common::embedder;

fn ranges(text: &str, parts: &[&str]) -> Vec<std::ops::Range<usize>> {
    parts
        .iter()
        .map(|p| {
            let s = text.find(p).unwrap();
            s..s + p.len()
        })
        .collect()
}

#[test]
fn block_vectors_are_unchanged_and_every_unit_gets_its_own() {
    let Some(e) = embedder() else { return };
    let parts = [
        "The per diem in Germany is 60 EUR.",
        "Hotels are booked through the travel portal.",
        "Receipts must be uploaded within thirty days.",
    ];
    let text = parts.join(" ");
    // Long enough that the last units lie past the model's 256-token window.
    let filler: Vec<String> = (0..60)
        .map(|i| format!("Clause {i} says nothing of note."))
        .collect();
    let long = format!("{} {}", filler.join(" "), parts[0]);
    let blocks = vec![
        UnitText {
            context: "Travel > Allowances".into(),
            text: text.clone(),
            units: ranges(&text, &parts),
        },
        UnitText {
            context: "Travel".into(),
            text: long.clone(),
            units: ranges(&long, &[filler[0].as_str(), parts[0]]),
        },
    ];
    let out = e.embed_units(&blocks, true).unwrap();
    let plain = e
        .embed(&[
            format!("Travel > Allowances: {text}"),
            format!("Travel: {long}"),
        ])
        .unwrap();
    for (o, p) in out.iter().zip(&plain) {
        assert!(
            dot(&o.vector, p) > 0.99999,
            "block vector as embed() gives it"
        );
        for u in &o.units {
            assert_eq!(u.len(), e.dim());
            assert!((dot(u, u) - 1.0).abs() < 1e-4, "normalised");
        }
    }
    // Each unit is closest to its own sentence embedded alone.
    let alone = e
        .embed(&parts.iter().map(|p| p.to_string()).collect::<Vec<_>>())
        .unwrap();
    for (i, u) in out[0].units.iter().enumerate() {
        let best = (0..parts.len())
            .max_by(|&a, &b| dot(u, &alone[a]).total_cmp(&dot(u, &alone[b])))
            .unwrap();
        assert_eq!(best, i, "unit {i} pooled from its own tokens");
    }
    // The unit past the window came from a continuation pass, and means the
    // same as the sentence embedded alone.
    let tail = &out[1].units[1];
    assert!(dot(tail, &alone[0]) > 0.6, "{}", dot(tail, &alone[0]));
    assert!(dot(tail, &out[1].units[0]) < dot(tail, &alone[0]));
}

#[test]
fn every_unit_of_an_index_has_a_vector_reused_when_unchanged() {
    let Some(e) = embedder() else { return };
    let (_src, docs) = common::docs(&[(
        "travel.md",
        "# Travel\n\n## Per diem\n\nThe per diem is 60 EUR in Germany. It is 70 EUR in France.\n\n\
         Book hotels through the portal.\n\n| Plan | Price |\n|---|---|\n| Pro | 49 |\n",
    )]);
    let idx = tempfile::tempdir().unwrap();
    let opts = BuildOptions::default();
    let roots = [docs.clone()];
    build(idx.path(), &roots, &opts, Some(&e), &mut |_| {}).unwrap();
    let index = Index::open(idx.path()).unwrap();
    let store = index.store();
    let units = index.unit_vectors().expect("unit vectors stored");
    let mut expected = 0;
    for (ord, span) in store.spans() {
        if !span.kind.is_retrievable() {
            continue;
        }
        for u in store.units_of(ord) {
            assert!(units.get(u).is_some(), "unit {u} of block {ord}");
            expected += 1;
        }
    }
    assert_eq!(units.len(), expected);
    assert_eq!(index.manifest().counts.unit_vectors, expected);
    // The two-sentence paragraph has two units; the one-sentence one is its own.
    let para = store
        .spans()
        .find(|(_, s)| s.text.starts_with("The per diem"))
        .unwrap()
        .0;
    assert_eq!(store.units_of(para).len(), 2);
    let hotel = store
        .spans()
        .find(|(_, s)| s.text.starts_with("Book hotels"))
        .unwrap()
        .0;
    assert_eq!(store.units_of(hotel), vec![hotel]);

    // An edit elsewhere re-embeds that file only; unit vectors carry over.
    std::fs::write(docs.join("other.txt"), "Expense reports are due monthly.").unwrap();
    let r = build(idx.path(), &roots, &opts, Some(&e), &mut |_| {}).unwrap();
    assert_eq!(r.embedded, 1);
    let again = Index::open(idx.path()).unwrap();
    let before: Vec<f32> = {
        let mut v = Vec::new();
        units.extend_f32(store.units_of(para)[1], &mut v);
        v
    };
    let new_ord = again
        .store()
        .ord_of(&store.span(store.units_of(para)[1]).unwrap().id.0)
        .unwrap();
    let mut after = Vec::new();
    assert!(again
        .unit_vectors()
        .unwrap()
        .extend_f32(new_ord, &mut after));
    assert_eq!(before, after);

    // Without unit vectors, blocks are still embedded.
    let plain = tempfile::tempdir().unwrap();
    let no_units = BuildOptions {
        unit_vectors: bubble_index::UnitCoverage::Off,
        ..BuildOptions::default()
    };
    build(plain.path(), &roots, &no_units, Some(&e), &mut |_| {}).unwrap();
    let p = Index::open(plain.path()).unwrap();
    assert!(p.unit_vectors().is_none());
    assert_eq!(p.manifest().counts.vectors, again.manifest().counts.vectors);
}

#[test]
fn a_section_is_read_in_one_window_and_reused_as_a_whole() {
    let Some(e) = embedder() else { return };
    let (_src, docs) = common::docs(&[]);
    let manual = |first: &str| {
        format!(
            "# Manual\n\n## Install\n\n{first}\n\nRun the installer as root.\n\n\
             ## Upgrade\n\nStop the service first.\n\nThen replace the binary.\n"
        )
    };
    std::fs::write(docs.join("manual.md"), manual("Download the package.")).unwrap();
    let opts = BuildOptions::default();
    let roots = [docs.clone()];
    let live = tempfile::tempdir().unwrap();
    build(live.path(), &roots, &opts, Some(&e), &mut |_| {}).unwrap();

    // A block shares its section's window: its vector is not the one it
    // gets read alone, but it means the same.
    let index = Index::open(live.path()).unwrap();
    let ord = |index: &Index, start: &str| {
        index
            .store()
            .spans()
            .find(|(_, s)| s.kind.is_retrievable() && s.text.starts_with(start))
            .unwrap()
            .0
    };
    let stop = index
        .vectors()
        .unwrap()
        .vector(ord(&index, "Stop the"))
        .unwrap()
        .to_vec();
    let alone = e
        .embed(&["Manual > Upgrade: Stop the service first.".to_string()])
        .unwrap();
    let cos = dot(&stop, &alone[0]);
    assert!(cos < 0.9999 && cos > 0.8, "{cos}");

    // Editing one block re-embeds its section, not the other one.
    std::fs::write(docs.join("manual.md"), manual("Fetch the package.")).unwrap();
    let r = build(live.path(), &roots, &opts, Some(&e), &mut |_| {}).unwrap();
    assert_eq!(r.embedded, 2);

    // The incremental index holds the vectors a build from scratch gives.
    let fresh = tempfile::tempdir().unwrap();
    build(fresh.path(), &roots, &opts, Some(&e), &mut |_| {}).unwrap();
    let (a, b) = (
        Index::open(live.path()).unwrap(),
        Index::open(fresh.path()).unwrap(),
    );
    for start in ["Fetch", "Run the", "Stop the", "Then"] {
        assert_eq!(
            a.vectors().unwrap().vector(ord(&a, start)),
            b.vectors().unwrap().vector(ord(&b, start)),
            "{start}"
        );
    }
}
