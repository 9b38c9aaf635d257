//! Spans and documents to rows and back.

use bubble_index::bubble_ingest::{Span, SpanId, SpanKind};
use bubble_index::DocEntry;
use std::collections::BTreeMap;
use tokio_postgres::Row;

/// The columns [`span`] reads, in order.
pub(crate) const SPAN_COLUMNS: &str = "ord, doc_no, span_id, doc_id, kind, parent_id, \
    heading_path, byte_lo, byte_hi, line_lo, line_hi, tokens, body";

/// The columns [`doc`] reads, in order.
pub(crate) const DOC_COLUMNS: &str =
    "doc_no, doc_id, source, title, content_hash, metadata, ord_lo, ord_hi";

/// A span kind as stored: its position in [`SpanKind::ALL`].
pub(crate) fn kind_code(kind: SpanKind) -> i16 {
    SpanKind::ALL.iter().position(|k| *k == kind).unwrap_or(0) as i16
}

/// A span row read with [`SPAN_COLUMNS`]: its ord, its document's number
/// and the span; `None` for a row that does not decode.
pub(crate) fn span(row: &Row) -> Option<(u32, u32, Span)> {
    let ord = u32::try_from(row.try_get::<_, i64>(0).ok()?).ok()?;
    let doc_no = u32::try_from(row.try_get::<_, i64>(1).ok()?).ok()?;
    let kind = *SpanKind::ALL.get(usize::try_from(row.try_get::<_, i16>(4).ok()?).ok()?)?;
    let byte_lo = usize::try_from(row.try_get::<_, i64>(7).ok()?).ok()?;
    let byte_hi = usize::try_from(row.try_get::<_, i64>(8).ok()?).ok()?;
    let span = Span {
        id: SpanId(row.try_get(2).ok()?),
        doc_id: row.try_get(3).ok()?,
        kind,
        parent: row.try_get::<_, Option<String>>(5).ok()?.map(SpanId),
        heading_path: row.try_get(6).ok()?,
        byte_range: byte_lo..byte_hi,
        line_range: (
            u32::try_from(row.try_get::<_, i32>(9).ok()?).ok()?,
            u32::try_from(row.try_get::<_, i32>(10).ok()?).ok()?,
        ),
        tokens: u32::try_from(row.try_get::<_, i32>(11).ok()?).ok()?,
        text: row.try_get(12).ok()?,
    };
    Some((ord, doc_no, span))
}

/// A document row read with [`DOC_COLUMNS`]: its number and entry.
pub(crate) fn doc(row: &Row) -> Option<(u32, DocEntry)> {
    let doc_no = u32::try_from(row.try_get::<_, i64>(0).ok()?).ok()?;
    let metadata: serde_json::Value = row.try_get(5).ok()?;
    let metadata: BTreeMap<String, String> = serde_json::from_value(metadata).ok()?;
    let lo = u32::try_from(row.try_get::<_, i64>(6).ok()?).ok()?;
    let hi = u32::try_from(row.try_get::<_, i64>(7).ok()?).ok()?;
    Some((
        doc_no,
        DocEntry {
            id: row.try_get(1).ok()?,
            source: row.try_get(2).ok()?,
            title: row.try_get(3).ok()?,
            content_hash: row.try_get(4).ok()?,
            metadata,
            spans: lo..hi,
        },
    ))
}
