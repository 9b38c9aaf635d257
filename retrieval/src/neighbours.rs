//! Structural neighbours of a span: its parent, its siblings, the header of
//! its table, its heading breadcrumb. Assembly uses them to expand a chosen
//! span into something a reader can understand on its own.

use bubble_index::bubble_ingest::SpanKind;
use bubble_index::Corpus;

/// The ord of a span's parent.
pub fn parent(store: &dyn Corpus, ord: u32) -> Option<u32> {
    let span = store.span(ord)?;
    store.ord_of(&span.parent.as_ref()?.0)
}

/// Ords of the spans sharing the span's parent, in reading order (itself included).
pub fn siblings(store: &dyn Corpus, ord: u32) -> Vec<u32> {
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
pub fn table_header(store: &dyn Corpus, ord: u32) -> Option<u32> {
    if store.span(ord)?.kind != SpanKind::Row {
        return None;
    }
    table_of(store, ord)?.header
}

/// The enclosing sections, outermost first.
pub fn breadcrumb(store: &dyn Corpus, ord: u32) -> Vec<u32> {
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

/// A table's spans: a table's children follow it in the store (its header
/// first, then its rows), so these are found without scanning the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpans {
    /// The table span (its text is the header line).
    pub table: u32,
    /// The header row, if the table has one.
    pub header: Option<u32>,
    /// The rows, in reading order.
    pub rows: std::ops::Range<u32>,
}

/// The table a row or header row belongs to.
pub fn table_of(store: &dyn Corpus, ord: u32) -> Option<TableSpans> {
    let span = store.span(ord)?;
    if !matches!(span.kind, SpanKind::Row | SpanKind::TableHeader) {
        return None;
    }
    let table_id = &span.parent.as_ref()?.0;
    let table = store.ord_of(table_id)?;
    let child = |o: u32| {
        store
            .span(o)
            .filter(|s| s.parent.as_ref().is_some_and(|p| &p.0 == table_id))
    };
    let mut next = table + 1;
    let header = child(next)
        .filter(|s| s.kind == SpanKind::TableHeader)
        .map(|_| next);
    if header.is_some() {
        next += 1;
    }
    let mut end = next;
    while child(end).is_some_and(|s| s.kind == SpanKind::Row) {
        end += 1;
    }
    Some(TableSpans {
        table,
        header,
        rows: next..end,
    })
}
