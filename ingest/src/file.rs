//! From one file's bytes to documents: format detection, `.gz`, binary and
//! encoding checks, then the right parser and the tree builder.

use crate::parse::{self, Parsed};
use crate::span::Document;
use crate::tokens::TokenCounter;
use crate::tree::{build_document, DocSource, LineIndex};
use crate::IngestError;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// A format Bubble parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CommonMark + GFM tables.
    Markdown,
    /// HTML.
    Html,
    /// Plain text.
    Text,
    /// Comma-separated values.
    Csv,
    /// Tab-separated values.
    Tsv,
    /// One JSON record per line.
    Jsonl,
}

impl Format {
    /// Its name (`markdown`, `html`, `text`, `csv`, `tsv`, `jsonl`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Text => "text",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Jsonl => "jsonl",
        }
    }
}

/// Limits on what one file may be.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Largest file (after decompression) that is parsed; larger ones are skipped.
    pub max_file_bytes: u64,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            max_file_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What one file gave: its documents, and problems that did not stop it
/// (a malformed JSONL line, say).
#[derive(Debug, Default)]
pub struct Ingested {
    /// Documents in the file (one, or one per JSONL record).
    pub docs: Vec<Document>,
    /// Non-fatal problems, each naming where it happened.
    pub warnings: Vec<String>,
}

/// The format of a path by its extension (`.gz` looks at the inner one),
/// and whether it is gzipped. `None` for files Bubble does not parse.
pub fn detect_format(path: &Path) -> Option<(Format, bool)> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let (inner, gz) = match name.strip_suffix(".gz") {
        Some(inner) => (inner.to_string(), true),
        None => (name, false),
    };
    let ext = Path::new(&inner).extension()?.to_str()?.to_string();
    let format = match ext.as_str() {
        "md" | "markdown" | "mdown" | "mkd" => Format::Markdown,
        "html" | "htm" | "xhtml" => Format::Html,
        "txt" | "text" => Format::Text,
        "csv" => Format::Csv,
        "tsv" | "tab" => Format::Tsv,
        "jsonl" | "ndjson" => Format::Jsonl,
        _ => return None,
    };
    Some((format, gz))
}

/// Parses one file. `path` is the name it is indexed under; `bytes` its
/// content as read from disk (compressed, for `.gz`).
pub fn parse_file(
    path: &str,
    bytes: &[u8],
    counter: &TokenCounter,
    opts: &IngestOptions,
) -> Result<Ingested, IngestError> {
    let (format, gz) = detect_format(Path::new(path))
        .ok_or_else(|| IngestError::Unsupported(path.rsplit('/').next().unwrap_or(path).into()))?;
    check_size(bytes.len() as u64, opts)?;
    let decompressed;
    let bytes = if gz {
        decompressed = gunzip(bytes, opts)?;
        &decompressed[..]
    } else {
        bytes
    };
    let text = check_text(bytes)?;
    let content_hash = blake3::hash(bytes).to_hex().to_string();
    let stem = file_stem(path);
    let lines = LineIndex::new(text);
    let meta = |extra: Option<(&str, &str)>| {
        let mut m = BTreeMap::from([("format".to_string(), format.name().to_string())]);
        if let Some((k, v)) = extra {
            m.insert(k.to_string(), v.to_string());
        }
        m
    };
    let single = |parsed: Parsed| Ingested {
        docs: vec![build_document(
            DocSource {
                lines: &lines,
                path,
                record: None,
                fallback_title: &stem,
                content_hash: content_hash.clone(),
                metadata: meta(None),
            },
            parsed,
            counter,
        )],
        warnings: Vec::new(),
    };
    Ok(match format {
        Format::Markdown => single(parse::markdown::parse(text)),
        Format::Html => single(parse::html::parse(text)),
        Format::Text => single(parse::text::parse(text)),
        Format::Csv => single(parse::csv::parse(text, b',')?),
        Format::Tsv => single(parse::csv::parse(text, b'\t')?),
        Format::Jsonl => {
            let (records, warnings) = parse::jsonl::parse(text);
            let docs = records
                .into_iter()
                .map(|r| {
                    let line_hash = blake3::hash(&bytes[r.line.clone()]).to_hex().to_string();
                    let fallback = format!("{stem} {}", r.id);
                    build_document(
                        DocSource {
                            lines: &lines,
                            path,
                            record: Some(&r.id),
                            fallback_title: &fallback,
                            content_hash: line_hash,
                            metadata: meta(Some(("record", &r.id))),
                        },
                        r.parsed,
                        counter,
                    )
                })
                .collect();
            Ingested { docs, warnings }
        }
    })
}

fn check_size(size: u64, opts: &IngestOptions) -> Result<(), IngestError> {
    if size > opts.max_file_bytes {
        return Err(IngestError::TooLarge {
            size,
            limit: opts.max_file_bytes,
        });
    }
    Ok(())
}

fn gunzip(bytes: &[u8], opts: &IngestOptions) -> Result<Vec<u8>, IngestError> {
    let mut out = Vec::new();
    // Read one byte past the limit so a gzip bomb is refused, not inflated.
    flate2::read::GzDecoder::new(bytes)
        .take(opts.max_file_bytes + 1)
        .read_to_end(&mut out)
        .map_err(|e| IngestError::Gzip(e.to_string()))?;
    check_size(out.len() as u64, opts)?;
    Ok(out)
}

fn check_text(bytes: &[u8]) -> Result<&str, IngestError> {
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Err(IngestError::Binary);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| IngestError::InvalidUtf8(e.valid_up_to()))?;
    // A UTF-8 byte-order mark is not content.
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(IngestError::Empty);
    }
    Ok(text)
}

fn file_stem(path: &str) -> String {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let name = name.strip_suffix(".gz").unwrap_or(name);
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => name.to_string(),
    }
}
