//! Helpers shared by the ingest integration tests.
#![allow(dead_code)]

use bubble_ingest::{Document, Span, SpanKind};

/// Lowercased alphanumeric words of a text.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `needle` words occur in `hay` words in order (not necessarily adjacent).
pub fn in_order(needle: &[String], hay: &[String]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|w| it.any(|h| h == w))
}

/// Checks the structural invariants of every span of `doc` against `src`:
/// ranges inside the source on char boundaries, sane line ranges, parents
/// that exist and come first.
pub fn check_ranges(doc: &Document, src: &str) {
    let lines = src.matches('\n').count() as u32 + 1;
    for (i, s) in doc.spans.iter().enumerate() {
        let r = &s.byte_range;
        assert!(
            r.start <= r.end && r.end <= src.len(),
            "{:?} out of source ({} bytes)",
            s,
            src.len()
        );
        assert!(
            src.is_char_boundary(r.start) && src.is_char_boundary(r.end),
            "{s:?} not on char boundaries"
        );
        assert!(
            s.line_range.0 >= 1 && s.line_range.0 <= s.line_range.1 && s.line_range.1 <= lines,
            "{s:?}"
        );
        assert!(!s.text.trim().is_empty(), "empty span {s:?}");
        if let Some(p) = &s.parent {
            assert!(
                doc.spans[..i].iter().any(|q| &q.id == p),
                "parent of {s:?} missing or after it"
            );
        }
    }
}

/// The words a span's source must hold: for a row, its cell values without
/// the header labels that were added to make it self-contained.
pub fn source_words(doc: &Document, span: &Span) -> Vec<String> {
    if matches!(span.kind, SpanKind::List | SpanKind::Sentence) {
        // List markers ("- ", "3. ") are rendered, not copied from the source.
        return span
            .text
            .lines()
            .flat_map(|l| words(strip_marker(l)))
            .collect();
    }
    if span.kind != SpanKind::Row {
        return words(&span.text);
    }
    // Header labels were added to the row's text; its own words are the rest.
    let labels: std::collections::HashSet<String> = doc
        .spans
        .iter()
        .filter(|s| s.kind == SpanKind::TableHeader && s.parent == span.parent)
        .flat_map(|h| words(&h.text))
        .collect();
    words(&span.text)
        .into_iter()
        .filter(|w| !labels.contains(w))
        .collect()
}

fn strip_marker(line: &str) -> &str {
    let t = line.trim_start();
    if t == "-" || (t.ends_with('.') && t[..t.len() - 1].chars().all(|c| c.is_ascii_digit())) {
        return "";
    }
    if let Some(rest) = t.strip_prefix("- ") {
        return rest;
    }
    match t.split_once(". ") {
        Some((n, rest)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => rest,
        _ => t,
    }
}
