//! A store segment: one file holding a run of documents and their spans,
//! memory-mapped and read record by record, so that opening an index costs
//! a few fixed-width tables, not a decode of every span.
//!
//! Layout (integers little-endian): the span records (postcard, one after
//! another), the document records, then fixed-width tables — span record
//! offsets, each document's span range, document record offsets, one kind
//! byte per span, and `(blake3-64 of the id, ord)` pairs sorted for id
//! lookup — and a fixed footer locating them. Ords and document numbers
//! are global: a segment starts at `first_ord` / `first_doc`, so later
//! segments can extend an index without renumbering earlier ones.
//!
//! Integrity: every read goes through the file's block checksums
//! (`checksums/`), and every access is bounds-checked besides, so a
//! damaged table gives `None` or an error, never a panic.

use crate::checksums::Checked;
use crate::error::{IndexError, IoContext};
use crate::store::DocEntry;
use bubble_ingest::{Span, SpanKind};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"BUBSEG01";
/// Footer: magic, then first_ord, spans, first_doc, docs (u32 each), then
/// the five table positions (u64 each).
const FOOTER: usize = 8 + 4 * 4 + 5 * 8;
/// One id-table entry: 8 bytes of hash, 4 of ord.
const ID_ENTRY: usize = 12;

/// The 64-bit key a span id is looked up by.
fn id_key(id: &str) -> u64 {
    let h = blake3::hash(id.as_bytes());
    let b = h.as_bytes();
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

fn corrupt(path: &Path, detail: impl Into<String>) -> IndexError {
    IndexError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

/// Writes documents `docs` (numbered from `first_doc`, their span ranges
/// global ords) and their spans (`spans[i]` is ord `first_ord + i`) to
/// `path`, and syncs it.
pub(crate) fn write(
    path: &Path,
    first_ord: u32,
    first_doc: u32,
    docs: &[DocEntry],
    spans: &[Span],
) -> Result<(), IndexError> {
    let mut out = Out {
        w: std::io::BufWriter::new(std::fs::File::create(path).io("creating", path)?),
        at: 0,
        path,
    };
    let mut span_offsets = Vec::with_capacity(spans.len() + 1);
    for s in spans {
        span_offsets.push(out.at);
        out.record(s)?;
    }
    span_offsets.push(out.at);
    let mut doc_offsets = Vec::with_capacity(docs.len() + 1);
    for d in docs {
        doc_offsets.push(out.at);
        out.record(d)?;
    }
    doc_offsets.push(out.at);

    let span_offsets_at = out.at;
    for o in &span_offsets {
        out.put(&o.to_le_bytes())?;
    }
    let doc_table_at = out.at;
    for d in docs {
        out.put(&d.spans.start.to_le_bytes())?;
        out.put(&d.spans.end.to_le_bytes())?;
    }
    let doc_offsets_at = out.at;
    for o in &doc_offsets {
        out.put(&o.to_le_bytes())?;
    }
    let kinds_at = out.at;
    let kinds: Vec<u8> = spans.iter().map(|s| kind_byte(s.kind)).collect();
    out.put(&kinds)?;
    let ids_at = out.at;
    let mut ids: Vec<(u64, u32)> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (id_key(&s.id.0), first_ord + i as u32))
        .collect();
    ids.sort_unstable();
    for (key, ord) in ids {
        out.put(&key.to_le_bytes())?;
        out.put(&ord.to_le_bytes())?;
    }

    out.put(MAGIC)?;
    for n in [first_ord, spans.len() as u32, first_doc, docs.len() as u32] {
        out.put(&n.to_le_bytes())?;
    }
    for p in [
        span_offsets_at,
        doc_table_at,
        doc_offsets_at,
        kinds_at,
        ids_at,
    ] {
        out.put(&p.to_le_bytes())?;
    }
    let file = out
        .w
        .into_inner()
        .map_err(|e| e.into_error())
        .io("writing", path)?;
    file.sync_all().io("syncing", path)
}

/// A segment being written, and where it has got to.
struct Out<'a> {
    w: std::io::BufWriter<std::fs::File>,
    at: u64,
    path: &'a Path,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), IndexError> {
        self.at += bytes.len() as u64;
        self.w.write_all(bytes).io("writing", self.path)
    }

    fn record(&mut self, value: &impl serde::Serialize) -> Result<(), IndexError> {
        let bytes = postcard::to_allocvec(value).map_err(|e| corrupt(self.path, e.to_string()))?;
        self.put(&bytes)
    }
}

fn kind_byte(kind: SpanKind) -> u8 {
    SpanKind::ALL.iter().position(|k| *k == kind).unwrap_or(0) as u8
}

/// An opened segment.
pub(crate) struct Segment {
    path: PathBuf,
    file: Arc<Checked>,
    first_ord: u32,
    spans: u32,
    first_doc: u32,
    docs: u32,
    span_offsets_at: usize,
    doc_table_at: usize,
    doc_offsets_at: usize,
    kinds_at: usize,
    ids_at: usize,
}

impl Segment {
    /// Opens segment `file` and checks that its tables fit it.
    pub(crate) fn open(file: Arc<Checked>) -> Result<Segment, IndexError> {
        let path = file.path().to_path_buf();
        let path = path.as_path();
        let len = file.len();
        let at = len
            .checked_sub(FOOTER)
            .ok_or_else(|| corrupt(path, "not a store segment (too short)"))?;
        let footer = Some(file.read(at..len)?)
            .filter(|f| f.starts_with(MAGIC))
            .ok_or_else(|| corrupt(path, "not a store segment (bad footer)"))?;
        let u32_at = |i: usize| {
            u32::from_le_bytes(footer[8 + 4 * i..12 + 4 * i].try_into().unwrap_or([0; 4]))
        };
        let u64_at = |i: usize| {
            let s = 24 + 8 * i;
            u64::from_le_bytes(footer[s..s + 8].try_into().unwrap_or([0; 8])) as usize
        };
        let seg = Segment {
            path: path.to_path_buf(),
            first_ord: u32_at(0),
            spans: u32_at(1),
            first_doc: u32_at(2),
            docs: u32_at(3),
            span_offsets_at: u64_at(0),
            doc_table_at: u64_at(1),
            doc_offsets_at: u64_at(2),
            kinds_at: u64_at(3),
            ids_at: u64_at(4),
            file: file.clone(),
        };
        let (n, d) = (seg.spans as usize, seg.docs as usize);
        let fits = [
            (seg.span_offsets_at, (n + 1) * 8, seg.doc_table_at),
            (seg.doc_table_at, d * 8, seg.doc_offsets_at),
            (seg.doc_offsets_at, (d + 1) * 8, seg.kinds_at),
            (seg.kinds_at, n, seg.ids_at),
            (seg.ids_at, n * ID_ENTRY, len - FOOTER),
        ]
        .iter()
        .all(|&(at, size, next)| at.checked_add(size) == Some(next));
        if !fits || seg.first_ord.checked_add(seg.spans).is_none() {
            return Err(corrupt(path, "store segment tables do not fit the file"));
        }
        Ok(seg)
    }

    /// The ords this segment holds.
    pub(crate) fn ords(&self) -> Range<u32> {
        self.first_ord..self.first_ord + self.spans
    }

    /// The document numbers this segment holds.
    pub(crate) fn doc_numbers(&self) -> Range<u32> {
        self.first_doc..self.first_doc + self.docs
    }

    fn word(&self, at: usize) -> Option<u32> {
        let b = self.file.get(at..at + 4)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }

    fn offset(&self, table: usize, i: usize) -> Option<usize> {
        let b = self.file.get(table + 8 * i..table + 8 * i + 8)?;
        Some(u64::from_le_bytes(b.try_into().ok()?) as usize)
    }

    fn record(&self, table: usize, i: usize) -> Result<&[u8], IndexError> {
        let bounds = self.offset(table, i).zip(self.offset(table, i + 1));
        let Some((start, end)) = bounds.filter(|(s, e)| s <= e && *e <= self.span_offsets_at)
        else {
            return Err(self.file.damage().unwrap_or_else(|| {
                corrupt(&self.path, format!("record {i}: offsets out of range"))
            }));
        };
        self.file.read(start..end)
    }

    /// The span at global `ord`, decoded.
    pub(crate) fn span(&self, ord: u32) -> Result<Option<Span>, IndexError> {
        if !self.ords().contains(&ord) {
            return Ok(None);
        }
        let i = (ord - self.first_ord) as usize;
        self.decode(self.span_offsets_at, i, || format!("span {ord}"))
            .map(Some)
    }

    /// Record `i` of the records `table` locates, decoded; `what` names it
    /// in the error.
    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        table: usize,
        i: usize,
        what: impl Fn() -> String,
    ) -> Result<T, IndexError> {
        let bytes = self.record(table, i)?;
        postcard::from_bytes(bytes).map_err(|e| corrupt(&self.path, format!("{}: {e}", what())))
    }

    /// The kind of the span at `ord`, without decoding it.
    pub(crate) fn kind(&self, ord: u32) -> Option<SpanKind> {
        let i = ord.checked_sub(self.first_ord)? as usize;
        if i >= self.spans as usize {
            return None;
        }
        let b = *self
            .file
            .get(self.kinds_at + i..self.kinds_at + i + 1)?
            .first()?;
        SpanKind::ALL.get(b as usize).copied()
    }

    /// Document number `n` (global), decoded.
    pub(crate) fn doc(&self, n: u32) -> Result<Option<DocEntry>, IndexError> {
        if !self.doc_numbers().contains(&n) {
            return Ok(None);
        }
        let i = (n - self.first_doc) as usize;
        self.decode(self.doc_offsets_at, i, || format!("document {n}"))
            .map(Some)
    }

    fn doc_range(&self, i: usize) -> Option<Range<u32>> {
        let at = self.doc_table_at + 8 * i;
        Some(self.word(at)?..self.word(at + 4)?)
    }

    /// The span range of document `n` (global), from the fixed table.
    pub(crate) fn doc_span_range(&self, n: u32) -> Option<Range<u32>> {
        if !self.doc_numbers().contains(&n) {
            return None;
        }
        self.doc_range((n - self.first_doc) as usize)
    }

    /// The document number holding `ord`, by binary search over the
    /// documents' span ranges.
    pub(crate) fn doc_number_of(&self, ord: u32) -> Option<u32> {
        let (mut lo, mut hi) = (0usize, self.docs as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.doc_range(mid)?.end <= ord {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let found = self.doc_range(lo)?;
        found.contains(&ord).then_some(self.first_doc + lo as u32)
    }

    /// The ords whose id hashes like `id` (a hash collision yields more
    /// than one; the caller compares ids).
    pub(crate) fn ords_keyed(&self, id: &str) -> Vec<u32> {
        let key = id_key(id);
        let entry = |i: usize| -> Option<(u64, u32)> {
            let at = self.ids_at + ID_ENTRY * i;
            let b = self.file.get(at..at + ID_ENTRY)?;
            let k = u64::from_le_bytes(b[..8].try_into().ok()?);
            let o = u32::from_le_bytes(b[8..].try_into().ok()?);
            Some((k, o))
        };
        let n = self.spans as usize;
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match entry(mid) {
                Some((k, _)) if k < key => lo = mid + 1,
                Some(_) => hi = mid,
                None => return Vec::new(),
            }
        }
        (lo..n)
            .map_while(|i| entry(i).filter(|(k, _)| *k == key))
            .map(|(_, o)| o)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bubble_ingest::SpanId;
    use std::collections::BTreeMap;

    fn span(id: &str, kind: SpanKind) -> Span {
        Span {
            id: SpanId(id.into()),
            doc_id: "d".into(),
            kind,
            parent: None,
            heading_path: vec!["H".into()],
            byte_range: 0..3,
            line_range: (1, 1),
            text: format!("text of {id}"),
            tokens: 3,
        }
    }

    fn doc(id: &str, spans: Range<u32>) -> DocEntry {
        DocEntry {
            id: id.into(),
            source: format!("{id}.md"),
            title: id.into(),
            content_hash: "h".into(),
            metadata: BTreeMap::new(),
            spans,
        }
    }

    #[test]
    fn reads_back_by_ord_doc_and_id_and_refuses_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        let spans: Vec<Span> = (0..50)
            .map(|i| span(&format!("s{i}"), SpanKind::ALL[i % 8]))
            .collect();
        let docs = vec![doc("a", 100..120), doc("b", 120..150)];
        write(&path, 100, 7, &docs, &spans).unwrap();
        let seg = Segment::open(Checked::fresh(&path).unwrap()).unwrap();
        assert_eq!(seg.ords(), 100..150);
        assert_eq!(seg.span(123).unwrap().unwrap(), spans[23]);
        assert_eq!(seg.span(99).unwrap(), None);
        assert_eq!(seg.kind(105), Some(SpanKind::ALL[5]));
        assert_eq!(seg.doc_number_of(119), Some(7));
        assert_eq!(seg.doc_number_of(120), Some(8));
        assert_eq!(seg.doc_number_of(150), None);
        assert_eq!(seg.doc(8).unwrap().unwrap(), docs[1]);
        assert_eq!(seg.ords_keyed("s42"), vec![142]);
        assert!(seg.ords_keyed("nope").is_empty());

        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(Segment::open(Checked::fresh(&path).unwrap()).is_err());
        let mut flipped = bytes.clone();
        let n = flipped.len();
        flipped[n - 30] ^= 0xff; // a table position
        std::fs::write(&path, &flipped).unwrap();
        assert!(Segment::open(Checked::fresh(&path).unwrap()).is_err());
        let mut flipped = bytes;
        flipped[10] ^= 0xff; // inside a span record
        std::fs::write(&path, &flipped).unwrap();
        let seg = Segment::open(Checked::fresh(&path).unwrap()).unwrap();
        let _ = seg.span(100); // an error or a value, never a panic
    }
}
