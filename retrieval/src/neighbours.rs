//! Structural neighbours of a span: its parent, its siblings, the header of
//! its table, its heading breadcrumb. Assembly uses them to expand a chosen
//! span into something a reader can understand on its own.

use bubble_index::bubble_ingest::SpanKind;
use bubble_index::SpanStore;

/// The ord of a span's parent.
pub fn parent(store: &SpanStore, ord: u32) -> Option<u32> {
    let span = store.span(ord)?;
    store.ord_of(&span.parent.as_ref()?.0)
}

/// Ords of the spans sharing the span's parent, in reading order (itself included).
pub fn siblings(store: &SpanStore, ord: u32) -> Vec<u32> {
    let Some(span) = store.span(ord) else {
        return Vec::new();
    };
    let Some(doc) = store.doc_of(ord) else {
        return Vec::new();
    };
    doc.spans
        .clone()
        .filter(|&o| {
            store.span(o).is_some_and(|s| {
                s.parent == span.parent && s.kind != SpanKind::Sentence || o == ord
            })
        })
        .collect()
}

/// The header row of the table a row belongs to.
pub fn table_header(store: &SpanStore, ord: u32) -> Option<u32> {
    let span = store.span(ord)?;
    if span.kind != SpanKind::Row {
        return None;
    }
    siblings(store, ord).into_iter().find(|&o| {
        store
            .span(o)
            .is_some_and(|s| s.kind == SpanKind::TableHeader)
    })
}

/// The enclosing sections, outermost first.
pub fn breadcrumb(store: &SpanStore, ord: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut cur = parent(store, ord);
    while let Some(p) = cur {
        if store.span(p).is_some_and(|s| s.kind == SpanKind::Section) {
            out.push(p);
        }
        cur = parent(store, p);
    }
    out.reverse();
    out
}
