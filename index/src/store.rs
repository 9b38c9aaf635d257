//! The span store: every document and span of the index, in a fixed order.
//! A span's position in that order (its *ord*) is its key in the BM25 and
//! vector indexes, so the three always agree.
//!
//! On disk the store is a small file table (`store.bin`: every file, its
//! hash and its documents' numbers, and the segment files) and segment
//! files of documents and spans (`segment.rs`), memory-mapped: opening an
//! index reads the file table, and a span is decoded when it is asked for.
//! A build holds its new documents in a [`SpanBatch`] until they are written.
//!
//! Ords only grow: a commit appends the documents of changed and new files
//! as a new segment after the last ord, and the file table stops naming
//! the documents they replace. Those documents stay in their segments as
//! tombstones (their ords are *dead*: no search returns them) until a
//! compaction writes the index afresh from ord 0.

use crate::checksums::GenerationFiles;
use crate::error::{IndexError, IoContext};
use crate::filter::Allowed;
use crate::segment::{self, Segment};
use bubble_ingest::{Document, Span, SpanKind};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

/// One indexed source file and the documents it gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path as indexed.
    pub path: String,
    /// blake3 of the file's bytes as read (before decompression).
    pub content_hash: String,
    /// Numbers of its documents ([`SpanStore::doc`]).
    pub docs: Range<u32>,
}

/// A document without its spans (those are looked up by ord).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocEntry {
    /// Document id.
    pub id: String,
    /// Source path.
    pub source: String,
    /// Title.
    pub title: String,
    /// blake3 of the document's source bytes.
    pub content_hash: String,
    /// Metadata (format, record id).
    pub metadata: BTreeMap<String, String>,
    /// Ords of its spans.
    pub spans: Range<u32>,
}

/// Spans by ord, from memory or from disk: what unit lookups need.
pub trait SpanSource {
    /// The span at `ord`.
    fn span_at(&self, ord: u32) -> Option<Cow<'_, Span>>;

    /// The compression units of block `ord`: its sentence children (the
    /// sentences and clauses that follow it in the store), or the block
    /// itself when it has none (a one-sentence paragraph, a row, code).
    fn units_of(&self, ord: u32) -> Vec<u32> {
        let Some(block) = self.span_at(ord) else {
            return Vec::new();
        };
        let children: Vec<u32> = (ord + 1..)
            .map_while(|o| {
                let s = self.span_at(o)?;
                (s.kind == SpanKind::Sentence && s.parent.as_ref() == Some(&block.id)).then_some(o)
            })
            .collect();
        if children.is_empty() {
            vec![ord]
        } else {
            children
        }
    }

    /// Byte ranges, in block `block_ord`'s text, of its units
    /// ([`SpanSource::units_of`]): the whole text when the block is its own
    /// unit, else each child found in order (a child's text is a slice of
    /// its block's). A child missing from the text (never, for parsed
    /// input) gets an empty range.
    fn unit_ranges(&self, block_ord: u32, unit_ords: &[u32]) -> Vec<Range<usize>> {
        let block = self.span_at(block_ord);
        let block = block.as_ref().map_or("", |s| s.text.as_str());
        let mut pos = 0;
        let mut out = Vec::with_capacity(unit_ords.len());
        for &u in unit_ords {
            let unit = self.span_at(u);
            let text = unit.as_ref().map_or("", |s| s.text.as_str());
            let found = if u == block_ord {
                Some(0)
            } else {
                block
                    .get(pos..)
                    .and_then(|rest| rest.find(text))
                    .map(|i| i + pos)
            };
            match found {
                Some(start) => {
                    out.push(start..start + text.len());
                    pos = start + text.len();
                }
                None => out.push(pos..pos),
            }
        }
        out
    }
}

/// Documents and spans of a build, in memory, numbered from `first_ord`
/// and `first_doc` (0 for a whole index, the store's ends for an appended
/// segment), before they are written as a segment.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpanBatch {
    first_ord: u32,
    first_doc: u32,
    files: Vec<FileEntry>,
    docs: Vec<DocEntry>,
    spans: Vec<Span>,
}

impl SpanBatch {
    /// A batch of files and their documents, in the given order, its
    /// first span at `first_ord` and first document `first_doc`.
    pub(crate) fn from_files(
        files: Vec<(String, String, Vec<Document>)>,
        first_ord: u32,
        first_doc: u32,
    ) -> SpanBatch {
        let mut batch = SpanBatch {
            first_ord,
            first_doc,
            ..SpanBatch::default()
        };
        for (path, content_hash, docs) in files {
            let file_first_doc = first_doc + batch.docs.len() as u32;
            for doc in docs {
                let first_span = first_ord + batch.spans.len() as u32;
                batch.spans.extend(doc.spans);
                batch.docs.push(DocEntry {
                    id: doc.id,
                    source: doc.source,
                    title: doc.title,
                    content_hash: doc.content_hash,
                    metadata: doc.metadata,
                    spans: first_span..first_ord + batch.spans.len() as u32,
                });
            }
            batch.files.push(FileEntry {
                path,
                content_hash,
                docs: file_first_doc..first_doc + batch.docs.len() as u32,
            });
        }
        batch
    }

    /// The ord of the batch's first span.
    pub(crate) fn first_ord(&self) -> u32 {
        self.first_ord
    }

    pub(crate) fn files(&self) -> &[FileEntry] {
        &self.files
    }

    pub(crate) fn docs(&self) -> &[DocEntry] {
        &self.docs
    }

    pub(crate) fn spans(&self) -> &[Span] {
        &self.spans
    }

    pub(crate) fn span(&self, ord: u32) -> Option<&Span> {
        self.spans.get(ord.checked_sub(self.first_ord)? as usize)
    }

    /// Writes the batch as a segment into generation folder `dir` and
    /// returns the segment's file name.
    pub(crate) fn write_segment(&self, dir: &Path) -> Result<String, IndexError> {
        let name = segment_name(self.first_ord);
        segment::write(
            &dir.join(&name),
            self.first_ord,
            self.first_doc,
            &self.docs,
            &self.spans,
        )?;
        Ok(name)
    }
}

/// Writes the file table of generation folder `dir`: `files` sorted by
/// path, `segments` in ord order.
pub(crate) fn write_table(
    dir: &Path,
    files: Vec<FileEntry>,
    segments: Vec<String>,
) -> Result<(), IndexError> {
    let table = StoreTable { files, segments };
    let path = dir.join(STORE_FILE);
    let bytes = postcard::to_allocvec(&table).map_err(|e| IndexError::Corrupt {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    std::fs::write(&path, bytes).io("writing", &path)
}

impl SpanSource for SpanBatch {
    fn span_at(&self, ord: u32) -> Option<Cow<'_, Span>> {
        self.span(ord).map(Cow::Borrowed)
    }
}

/// The file table of a generation.
pub(crate) const STORE_FILE: &str = "store.bin";

/// A segment is named by its first ord: unique within an index, and
/// sorting by name is sorting by ord.
fn segment_name(first_ord: u32) -> String {
    format!("spans-{first_ord:010}.seg")
}

#[derive(Debug, Serialize, Deserialize)]
struct StoreTable {
    files: Vec<FileEntry>,
    /// Segment files, in ord order.
    segments: Vec<String>,
}

/// All documents and spans of one index generation, read from disk on demand.
pub struct SpanStore {
    files: Vec<FileEntry>,
    segment_names: Vec<String>,
    segments: Vec<Segment>,
    /// The ords of documents the file table names (built from the
    /// documents' span ranges, not by decoding spans).
    live: Allowed,
    live_spans: u32,
}

impl std::fmt::Debug for SpanStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanStore")
            .field("files", &self.files.len())
            .field("segments", &self.segments.len())
            .finish()
    }
}

impl SpanStore {
    /// Opens the store of a generation.
    pub(crate) fn open(files: &GenerationFiles) -> Result<SpanStore, IndexError> {
        let path = files.dir().join(STORE_FILE);
        let table_file = files.open(STORE_FILE)?;
        let bytes = table_file.read_all()?;
        let table: StoreTable = postcard::from_bytes(bytes).map_err(|e| IndexError::Corrupt {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        let mut segments = Vec::with_capacity(table.segments.len());
        for name in &table.segments {
            let segment = Segment::open(files.open(name)?)?;
            let follows = segments.last().map_or(0, |s: &Segment| s.ords().end);
            if segment.ords().start != follows {
                return Err(IndexError::Corrupt {
                    path: path.clone(),
                    detail: format!("segment {name} does not follow ord {follows}"),
                });
            }
            segments.push(segment);
        }
        let mut store = SpanStore {
            files: table.files,
            segment_names: table.segments,
            segments,
            live: Allowed::from_fn(0, |_| false),
            live_spans: 0,
        };
        let mut live = vec![false; store.ord_limit() as usize];
        let mut live_spans = 0;
        for f in &store.files {
            for n in f.docs.clone() {
                let range = store
                    .doc_span_range(n)
                    .filter(|r| r.start <= r.end && r.end as usize <= live.len())
                    .ok_or_else(|| IndexError::Corrupt {
                        path: path.clone(),
                        detail: format!("file {} names a missing document {n}", f.path),
                    })?;
                live_spans += range.len() as u32;
                live[range.start as usize..range.end as usize].fill(true);
            }
        }
        store.live = Allowed::from_vec(live);
        store.live_spans = live_spans;
        Ok(store)
    }

    /// The span range of document `n`, from the segment's fixed table.
    pub(crate) fn doc_span_range(&self, n: u32) -> Option<Range<u32>> {
        self.segment_of_doc(n)?.doc_span_range(n)
    }

    fn segment_of_doc(&self, n: u32) -> Option<&Segment> {
        let i = self.segments.partition_point(|s| s.doc_numbers().end <= n);
        self.segments.get(i)
    }

    /// Segments the store is made of.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The first ord of each segment.
    pub(crate) fn segment_starts(&self) -> impl Iterator<Item = u32> + '_ {
        self.segments.iter().map(|s| s.ords().start)
    }

    /// The segment files, in ord order (a commit links them into the next generation).
    pub(crate) fn segment_names(&self) -> &[String] {
        &self.segment_names
    }

    /// Whether `ord` is a span of a current document (not a tombstone).
    pub fn is_live(&self, ord: u32) -> bool {
        self.live.contains(ord)
    }

    /// The live ords, for search filters.
    pub(crate) fn live(&self) -> &Allowed {
        &self.live
    }

    /// Spans of current documents.
    pub fn live_spans(&self) -> u32 {
        self.live_spans
    }

    /// Ords held only as tombstones, until a compaction.
    pub fn dead_spans(&self) -> u32 {
        self.ord_limit() - self.live_spans
    }

    fn segment_of(&self, ord: u32) -> Option<&Segment> {
        let i = self.segments.partition_point(|s| s.ords().end <= ord);
        self.segments.get(i).filter(|s| s.ords().contains(&ord))
    }

    /// Indexed files, sorted by path.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// One past the highest ord (the size of a bitmap over ords).
    pub fn ord_limit(&self) -> u32 {
        self.segments.last().map_or(0, |s| s.ords().end)
    }

    /// One past the highest document number (live or not).
    pub fn doc_limit(&self) -> u32 {
        self.segments.last().map_or(0, |s| s.doc_numbers().end)
    }

    /// The span at `ord`, decoded.
    pub fn span(&self, ord: u32) -> Option<Span> {
        // A record that does not decode is damage the open-time checksums
        // did not see (a bug, not input): it reads as absent.
        self.segment_of(ord)?.span(ord).ok().flatten()
    }

    /// The kind of the span at `ord`, without decoding it.
    pub fn kind(&self, ord: u32) -> Option<SpanKind> {
        self.segment_of(ord)?.kind(ord)
    }

    /// The ord of a live span id (an older version of the span, kept as a
    /// tombstone, is not it).
    pub fn ord_of(&self, id: &str) -> Option<u32> {
        self.segments.iter().rev().find_map(|s| {
            s.ords_keyed(id).into_iter().find(|&o| {
                self.is_live(o) && s.span(o).ok().flatten().is_some_and(|sp| sp.id.0 == id)
            })
        })
    }

    /// Document number `n`.
    pub fn doc(&self, n: u32) -> Option<DocEntry> {
        self.segment_of_doc(n)?.doc(n).ok().flatten()
    }

    /// The document a span belongs to.
    pub fn doc_of(&self, ord: u32) -> Option<DocEntry> {
        let seg = self.segment_of(ord)?;
        seg.doc(seg.doc_number_of(ord)?).ok().flatten()
    }

    /// Every current document, by file path, decoded one at a time.
    pub fn docs(&self) -> impl Iterator<Item = DocEntry> + '_ {
        self.files
            .iter()
            .flat_map(|f| f.docs.clone())
            .filter_map(|n| self.doc(n))
    }

    /// `(ord, span)` of every live span, in ord order, decoded one at a time.
    pub fn spans(&self) -> impl Iterator<Item = (u32, Span)> + '_ {
        (0..self.ord_limit())
            .filter(|&o| self.is_live(o))
            .filter_map(|o| Some((o, self.span(o)?)))
    }

    /// The compression units of block `ord` ([`SpanSource::units_of`]).
    pub fn units_of(&self, ord: u32) -> Vec<u32> {
        SpanSource::units_of(self, ord)
    }

    /// Byte ranges of block units ([`SpanSource::unit_ranges`]).
    pub fn unit_ranges(&self, block_ord: u32, unit_ords: &[u32]) -> Vec<Range<usize>> {
        SpanSource::unit_ranges(self, block_ord, unit_ords)
    }

    /// A file's documents, rebuilt with their spans (for reuse in a new generation).
    pub fn file_documents(&self, file: &FileEntry) -> Vec<Document> {
        file.docs
            .clone()
            .filter_map(|n| self.doc(n))
            .map(|d| Document {
                spans: d.spans.clone().filter_map(|o| self.span(o)).collect(),
                id: d.id,
                source: d.source,
                title: d.title,
                content_hash: d.content_hash,
                metadata: d.metadata,
            })
            .collect()
    }
}

impl SpanSource for SpanStore {
    fn span_at(&self, ord: u32) -> Option<Cow<'_, Span>> {
        self.span(ord).map(Cow::Owned)
    }
}
