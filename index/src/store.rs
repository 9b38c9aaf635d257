//! The span store: every document and span of the index, in a fixed order.
//! A span's position in that order (its *ord*) is its key in the BM25 and
//! vector indexes, so the three always agree.

use bubble_ingest::{Document, Span, SpanKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

/// One indexed source file and the documents it gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path as indexed.
    pub path: String,
    /// blake3 of the file's bytes as read (before decompression).
    pub content_hash: String,
    /// Range of its documents in [`SpanStore::docs`].
    pub docs: Range<u32>,
}

/// A document without its spans (those live in [`SpanStore::spans`]).
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
    /// Range of its spans in [`SpanStore::spans`].
    pub spans: Range<u32>,
}

/// All documents and spans of one index generation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanStore {
    files: Vec<FileEntry>,
    docs: Vec<DocEntry>,
    spans: Vec<Span>,
    #[serde(skip)]
    by_id: HashMap<String, u32>,
}

impl SpanStore {
    /// Builds a store from files and their documents, in the given order.
    pub fn from_files(files: Vec<(String, String, Vec<Document>)>) -> SpanStore {
        let mut store = SpanStore::default();
        for (path, content_hash, docs) in files {
            let first_doc = store.docs.len() as u32;
            for doc in docs {
                let first_span = store.spans.len() as u32;
                store.spans.extend(doc.spans);
                store.docs.push(DocEntry {
                    id: doc.id,
                    source: doc.source,
                    title: doc.title,
                    content_hash: doc.content_hash,
                    metadata: doc.metadata,
                    spans: first_span..store.spans.len() as u32,
                });
            }
            store.files.push(FileEntry {
                path,
                content_hash,
                docs: first_doc..store.docs.len() as u32,
            });
        }
        store.reindex();
        store
    }

    /// Rebuilds the id lookup after deserialising.
    pub(crate) fn reindex(&mut self) {
        self.by_id = self
            .spans
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.0.clone(), i as u32))
            .collect();
    }

    /// Indexed files, sorted by path.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// All documents.
    pub fn docs(&self) -> &[DocEntry] {
        &self.docs
    }

    /// All spans; a span's index here is its ord.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// The span at `ord`.
    pub fn span(&self, ord: u32) -> Option<&Span> {
        self.spans.get(ord as usize)
    }

    /// The ord of a span id.
    pub fn ord_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// The document a span belongs to.
    pub fn doc_of(&self, ord: u32) -> Option<&DocEntry> {
        let i = self.docs.partition_point(|d| d.spans.end <= ord);
        self.docs.get(i).filter(|d| d.spans.contains(&ord))
    }

    /// The compression units of block `ord`: its sentence children (the
    /// sentences and clauses that follow it in the store), or the block
    /// itself when it has none (a one-sentence paragraph, a row, code).
    pub fn units_of(&self, ord: u32) -> Vec<u32> {
        let Some(block) = self.span(ord) else {
            return Vec::new();
        };
        let children: Vec<u32> = (ord + 1..self.spans.len() as u32)
            .take_while(|&o| {
                let s = &self.spans[o as usize];
                s.kind == SpanKind::Sentence && s.parent.as_ref() == Some(&block.id)
            })
            .collect();
        if children.is_empty() {
            vec![ord]
        } else {
            children
        }
    }

    /// Byte ranges, in block `block_ord`'s text, of its units
    /// ([`SpanStore::units_of`]): the whole text when the block is its own
    /// unit, else each child found in order (a child's text is a slice of its
    /// block's). A child missing from the text (never, for parsed input) gets
    /// an empty range.
    pub fn unit_ranges(&self, block_ord: u32, unit_ords: &[u32]) -> Vec<Range<usize>> {
        let block = self.span(block_ord).map_or("", |s| s.text.as_str());
        let mut pos = 0;
        let mut out = Vec::with_capacity(unit_ords.len());
        for &u in unit_ords {
            let text = self.span(u).map_or("", |s| s.text.as_str());
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

    /// A file's documents, rebuilt with their spans (for reuse in a new generation).
    pub fn file_documents(&self, file: &FileEntry) -> Vec<Document> {
        self.docs[file.docs.start as usize..file.docs.end as usize]
            .iter()
            .map(|d| Document {
                id: d.id.clone(),
                source: d.source.clone(),
                title: d.title.clone(),
                content_hash: d.content_hash.clone(),
                metadata: d.metadata.clone(),
                spans: self.spans[d.spans.start as usize..d.spans.end as usize].to_vec(),
            })
            .collect()
    }
}
