//! Property tests: for arbitrary input, parsing never panics, and every
//! span's byte range lies inside the file on char boundaries and covers the
//! span's words.

mod common;

use bubble_ingest::{parse_file, IngestOptions, TokenCounter};
use common::{check_ranges, in_order, source_words, words};
use proptest::prelude::*;

const NAMES: [&str; 6] = ["f.md", "f.html", "f.txt", "f.csv", "f.tsv", "f.jsonl"];

fn parse_all(bytes: &[u8]) {
    let counter = TokenCounter::default_counter();
    for name in NAMES {
        // Errors (binary, empty, malformed) are fine; panics and bad ranges are not.
        if let Ok(out) = parse_file(name, bytes, &counter, &IngestOptions::default()) {
            let src = std::str::from_utf8(bytes).unwrap();
            for doc in &out.docs {
                check_ranges(doc, src);
            }
        }
    }
}

/// Markdown-ish text without escapes or entities, whose words must survive verbatim.
fn markdownish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "# ",
        "## ",
        "### ",
        "\n",
        "\n\n",
        "- ",
        "1. ",
        "> ",
        "```\n",
        "`",
        "*",
        "_",
        "|",
        "| --- |",
        "word",
        "Élan",
        "naïve",
        "日本",
        "x",
        " ",
        "  ",
        "[link](http://x)",
        "<b>",
        "</b>",
        "\t",
        ".",
        "Dr. Who.",
        "e.g. this",
    ]);
    prop::collection::vec(atoms, 0..80).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        parse_all(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,600}") {
        parse_all(text.as_bytes());
    }

    #[test]
    fn structured_text_keeps_exact_ranges(text in markdownish()) {
        parse_all(text.as_bytes());
        let counter = TokenCounter::default_counter();
        for name in ["f.md", "f.txt", "f.csv"] {
            if let Ok(out) = parse_file(name, text.as_bytes(), &counter, &IngestOptions::default()) {
                for doc in &out.docs {
                    for span in &doc.spans {
                        let slice = &text[span.byte_range.clone()];
                        // Character level: inline markup can join words ("[a](u)b" reads "ab").
                        let want: Vec<String> = source_words(doc, span).concat().chars().map(String::from).collect();
                        let have: Vec<String> = words(slice).concat().chars().map(String::from).collect();
                        prop_assert!(in_order(&want, &have),
                            "{}: {:?} text {:?} not in {:?}", name, span.kind, span.text, slice);
                    }
                }
            }
        }
    }

    #[test]
    fn html_soup_keeps_ranges(parts in prop::collection::vec(prop::sample::select(vec![
        "<p>", "</p>", "<h2>", "</h2>", "<ul><li>", "</li>", "</ul>", "<table><tr><td>", "</td><td>", "</tr>",
        "</table>", "<pre>", "</pre>", "&amp;", "&#233;", "&bogus;", "<!--", "-->", "<script>", "</script>",
        "<", ">", "é", "word", " ", "\n", "<div class=\"navheader\">", "</div>", "<br>", "<th>", "<thead>",
    ]), 0..120)) {
        parse_all(parts.concat().as_bytes());
    }
}

#[test]
fn deep_nesting_is_fine() {
    let html = format!(
        "{}<p>deep</p>{}",
        "<div><section><ul><li>".repeat(60),
        "</li></ul></section></div>".repeat(60)
    );
    parse_all(html.as_bytes());
    let md = format!("{}deep\n", "> ".repeat(60));
    parse_all(md.as_bytes());
    let list: String = (0..60)
        .map(|i| format!("{}- item {i}\n", "  ".repeat(i)))
        .collect();
    parse_all(list.as_bytes());
    let headings: String = (1..=50)
        .map(|i| format!("{} h{i}\n\ntext {i}\n\n", "#".repeat(i.min(6))))
        .collect();
    parse_all(headings.as_bytes());
}
