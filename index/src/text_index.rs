//! BM25 over retrievable spans with tantivy.
//!
//! Scoring uses one English-stemmed `body` field holding the title, heading
//! path and text, like BEIR's title + text concatenation: a span about "per
//! diem" under a "Travel" heading matches "travel per diem" even when its
//! own text never says "travel", and one length normalisation covers all of
//! it. The `kind` and `path` fields are exact keywords, so a kind filter is
//! part of the query rather than a scan.

use crate::checksums::CheckedDirectory;
use crate::error::IndexError;
use crate::filter::Allowed;
use bubble_ingest::{Span, SpanKind};
use std::path::Path;
use tantivy::collector::{FilterCollector, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED,
    STRING,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{doc, Index, IndexReader, ReloadPolicy, Term};

const TOKENIZER: &str = "en_stem";

struct Fields {
    body: Field,
    kind: Field,
    path: Field,
    ord: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let body = b.add_text_field("body", text);
    let kind = b.add_text_field("kind", STRING);
    let path = b.add_text_field("path", STRING);
    let ord = b.add_u64_field("ord", FAST | INDEXED | STORED);
    (
        b.build(),
        Fields {
            body,
            kind,
            path,
            ord,
        },
    )
}

/// The BM25 terms of `text`, in order, as the index analyses them
/// (English-stemmed words): what another store's BM25 counts.
pub fn bm25_terms(text: &str) -> Vec<String> {
    static ANALYZER: std::sync::OnceLock<Option<TextAnalyzer>> = std::sync::OnceLock::new();
    let Some(mut analyzer) = ANALYZER
        .get_or_init(|| tantivy::tokenizer::TokenizerManager::default().get(TOKENIZER))
        .clone()
    else {
        return Vec::new();
    };
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(tok) = stream.next() {
        out.push(tok.text.clone());
    }
    out
}

/// The text a span is searched by: title, heading path and text.
pub fn search_text(title: &str, span: &Span) -> String {
    let mut parts: Vec<&str> = Vec::with_capacity(span.heading_path.len() + 2);
    if span.heading_path.first().map(String::as_str) != Some(title) {
        parts.push(title);
    }
    parts.extend(span.heading_path.iter().map(String::as_str));
    parts.push(&span.text);
    parts.join("\n")
}

/// One span as the BM25 index sees it.
pub(crate) struct TextDoc<'a> {
    pub ord: u32,
    pub body: String,
    pub kind: SpanKind,
    pub path: &'a str,
}

/// A tantivy writer over a generation's BM25 folder, kept open while a
/// commit flushes its chunks: tantivy's own segments, delete-by-term and
/// merges, so the cost is that of the change. Appending, the folder holds
/// hard links of the previous generation's files, which tantivy never
/// modifies (it writes a segment once and replaces `meta.json` by a
/// rename), so readers of the old generation keep theirs.
pub(crate) struct TextWriter {
    writer: tantivy::IndexWriter,
    fields: Fields,
}

impl TextWriter {
    /// A new, empty index in `dir`.
    pub(crate) fn create(dir: &Path) -> Result<TextWriter, IndexError> {
        let (schema, _) = schema();
        TextWriter::on(Index::create_in_dir(dir, schema)?, dir)
    }

    /// The index already in `dir`, whose files `directory` reads checked.
    pub(crate) fn open(dir: &Path, directory: CheckedDirectory) -> Result<TextWriter, IndexError> {
        TextWriter::on(Index::open(directory)?, dir)
    }

    fn on(index: Index, dir: &Path) -> Result<TextWriter, IndexError> {
        let fields = fields_of(&index.schema()).ok_or_else(|| IndexError::Corrupt {
            path: dir.to_path_buf(),
            detail: "a field of the BM25 schema is missing".into(),
        })?;
        // One thread keeps the build deterministic in segment layout and
        // leaves the other core to the embedder.
        let writer = index.writer_with_num_threads(1, 64 * 1024 * 1024)?;
        Ok(TextWriter { writer, fields })
    }

    /// Deletes every span of file `path` (added before this call).
    pub(crate) fn delete_path(&mut self, path: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.fields.path, path));
    }

    /// Adds spans.
    pub(crate) fn add(&mut self, docs: Vec<TextDoc<'_>>) -> Result<(), IndexError> {
        let f = &self.fields;
        for d in docs {
            self.writer.add_document(doc!(
                f.body => d.body,
                f.kind => d.kind.as_str(),
                f.path => d.path,
                f.ord => u64::from(d.ord),
            ))?;
        }
        Ok(())
    }

    /// Commits, and waits for the merges it started.
    pub(crate) fn commit(mut self) -> Result<(), IndexError> {
        self.writer.commit()?;
        self.writer.wait_merging_threads()?;
        Ok(())
    }
}

fn fields_of(schema: &Schema) -> Option<Fields> {
    Some(Fields {
        body: schema.get_field("body").ok()?,
        kind: schema.get_field("kind").ok()?,
        path: schema.get_field("path").ok()?,
        ord: schema.get_field("ord").ok()?,
    })
}

/// An opened BM25 index.
pub struct TextIndex {
    reader: IndexReader,
    analyzer: TextAnalyzer,
    fields: Fields,
}

impl TextIndex {
    /// Opens the BM25 folder `dir`, its files read through `directory`.
    pub(crate) fn open(dir: &Path, directory: CheckedDirectory) -> Result<TextIndex, IndexError> {
        let index = Index::open(directory)?;
        let fields = fields_of(&index.schema()).ok_or_else(|| IndexError::Corrupt {
            path: dir.to_path_buf(),
            detail: "a field of the BM25 schema is missing".into(),
        })?;
        let analyzer = index
            .tokenizers()
            .get(TOKENIZER)
            .ok_or_else(|| IndexError::Corrupt {
                path: dir.to_path_buf(),
                detail: format!("tokenizer {TOKENIZER} missing"),
            })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(TextIndex {
            reader,
            analyzer,
            fields,
        })
    }

    /// The BM25 top `k` spans for a free-text query, as `(ord, score)`,
    /// best first, ties broken by ord. Query syntax is not interpreted:
    /// every analysed term is an optional clause, as in plain BM25.
    pub fn search(
        &self,
        query: &str,
        k: usize,
        kinds: &[SpanKind],
        allowed: Option<&Allowed>,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(query);
        let mut terms: Vec<String> = Vec::new();
        while let Some(tok) = stream.next() {
            if !terms.contains(&tok.text) {
                terms.push(tok.text.clone());
            }
        }
        if terms.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|t| {
                let term = Term::from_field_text(self.fields.body, t);
                let q: Box<dyn Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
        let mut query_clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(clauses)))];
        if !kinds.is_empty() {
            let kind_clauses: Vec<(Occur, Box<dyn Query>)> = kinds
                .iter()
                .map(|k| {
                    let term = Term::from_field_text(self.fields.kind, k.as_str());
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                    (Occur::Should, q)
                })
                .collect();
            // Filter only: the kind clause must match but adds no score.
            query_clauses.push((
                Occur::Must,
                Box::new(tantivy::query::ConstScoreQuery::new(
                    Box::new(BooleanQuery::new(kind_clauses)),
                    0.0,
                )),
            ));
        }
        let query = BooleanQuery::new(query_clauses);
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(k);
        let hits = match allowed {
            Some(a) => {
                let a = a.clone();
                searcher.search(
                    &query,
                    &FilterCollector::new(
                        "ord".to_string(),
                        move |ord: u64| a.contains(ord as u32),
                        top,
                    ),
                )?
            }
            None => searcher.search(&query, &top)?,
        };
        let mut out = Vec::with_capacity(hits.len());
        for (score, addr) in hits {
            let doc: tantivy::TantivyDocument = searcher.doc(addr)?;
            if let Some(ord) = doc.get_first(self.fields.ord).and_then(|v| v.as_u64()) {
                out.push((ord as u32, score));
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(out)
    }
}
