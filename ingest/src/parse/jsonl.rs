//! JSONL records (`{"id", "title", "text"}`), the shape of benchmark corpora.
//! Each record becomes its own document; its text keeps an exact map back to
//! the escaped JSON string it came from.

use super::{Block, Parsed, TextKind};
use crate::mapped::MappedText;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::ops::Range;

/// One parsed record.
#[derive(Debug)]
pub struct Record {
    /// The record's `id` (a string or number), else `line-N`.
    pub id: String,
    /// Byte range of the record's line.
    pub line: Range<usize>,
    /// The title, paragraphs of the text.
    pub parsed: Parsed,
}

#[derive(Deserialize)]
struct RawRecord<'a> {
    #[serde(default, borrow)]
    id: Option<&'a RawValue>,
    #[serde(default)]
    title: Option<String>,
    #[serde(borrow)]
    text: &'a RawValue,
}

/// Parses every line; a bad line is reported by line number and skipped,
/// and so is a record whose id an earlier line of the file already took
/// (two records under one id would otherwise be one document to every
/// lookup by id; the first one stays, as a reader of the file would expect).
pub fn parse(src: &str) -> (Vec<Record>, Vec<String>) {
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut pos = 0;
    for (n, line) in src.split_inclusive('\n').enumerate() {
        let start = pos;
        pos += line.len();
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.trim().is_empty() {
            continue;
        }
        match parse_line(src, trimmed, start) {
            Ok((id, parsed)) => {
                let id = id.unwrap_or_else(|| format!("line-{}", n + 1));
                if let Some(first) = first_line.get(&id) {
                    problems.push(format!(
                        "line {}: duplicate id {id:?} (first on line {first}); record skipped",
                        n + 1
                    ));
                    continue;
                }
                first_line.insert(id.clone(), n + 1);
                records.push(Record {
                    id,
                    line: start..start + trimmed.len(),
                    parsed,
                });
            }
            Err(e) => problems.push(format!("line {}: {e}", n + 1)),
        }
    }
    (records, problems)
}

fn parse_line(
    src: &str,
    line: &str,
    line_start: usize,
) -> Result<(Option<String>, Parsed), String> {
    let raw: RawRecord<'_> = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let id = raw
        .id
        .map(|v| serde_json::from_str::<String>(v.get()).unwrap_or_else(|_| v.get().to_string()));
    // RawValue borrows from `line`: its offset in the line is a pointer difference.
    let text_raw = raw.text.get();
    let offset = (text_raw.as_ptr() as usize)
        .checked_sub(line.as_ptr() as usize)
        .ok_or("text field outside its line")?;
    let body = text_raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or("\"text\" must be a string")?;
    let text = decode_json_string(src, body, line_start + offset + 1)?;
    let blocks = paragraphs(&text)
        .into_iter()
        .map(|text| Block::Text {
            kind: TextKind::Paragraph,
            text,
        })
        .collect();
    Ok((
        id,
        Parsed {
            title: raw.title.filter(|t| !t.trim().is_empty()),
            blocks,
        },
    ))
}

/// Decodes the body of a JSON string that starts at `base` in `src`.
fn decode_json_string(src: &str, body: &str, base: usize) -> Result<MappedText, String> {
    let mut out = MappedText::new();
    let bytes = body.as_bytes();
    let mut run_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_source(src, base + run_start..base + i);
        let (decoded, len) = decode_escape(&body[i..])?;
        out.push_decoded(&decoded, base + i..base + i + len);
        i += len;
        run_start = i;
    }
    out.push_source(src, base + run_start..base + bytes.len());
    Ok(out)
}

/// Decodes one escape at the start of `s`; returns the text and bytes consumed.
fn decode_escape(s: &str) -> Result<(String, usize), String> {
    let b = s.as_bytes();
    let c = *b.get(1).ok_or("dangling backslash")?;
    let simple = match c {
        b'"' => Some('"'),
        b'\\' => Some('\\'),
        b'/' => Some('/'),
        b'b' => Some('\u{8}'),
        b'f' => Some('\u{c}'),
        b'n' => Some('\n'),
        b'r' => Some('\r'),
        b't' => Some('\t'),
        _ => None,
    };
    if let Some(ch) = simple {
        return Ok((ch.to_string(), 2));
    }
    if c != b'u' {
        return Err(format!("bad escape \\{}", c as char));
    }
    let hex = |at: usize| {
        s.get(at..at + 4)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or("bad \\u escape")
    };
    let hi = hex(2)?;
    if (0xD800..0xDC00).contains(&hi) && s.get(6..8) == Some("\\u") {
        let lo = hex(8)?;
        let code = 0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
        return Ok((char::from_u32(code).unwrap_or('\u{FFFD}').to_string(), 12));
    }
    Ok((char::from_u32(hi).unwrap_or('\u{FFFD}').to_string(), 6))
}

/// Splits text at blank lines into paragraphs. Inside a paragraph each
/// line is whitespace-collapsed and kept as a line: benchmark corpora put
/// one sentence per line, and a line break is a sentence boundary.
fn paragraphs(text: &MappedText) -> Vec<MappedText> {
    let s = text.as_str();
    let mut out = Vec::new();
    let mut start = 0;
    while start < s.len() {
        let end = s[start..].find("\n\n").map_or(s.len(), |i| start + i);
        let mut para = MappedText::new();
        let mut line_start = start;
        while line_start < end {
            let line_end = s[line_start..end]
                .find('\n')
                .map_or(end, |i| line_start + i);
            let line = text.slice(line_start..line_end).collapse_whitespace();
            if let Some(at) = line.full_source_range().map(|r| r.start) {
                if !para.is_empty() {
                    para.push_synthetic("\n", at);
                }
                para.append(&line);
            }
            line_start = line_end + 1;
        }
        if !para.is_empty() {
            out.push(para);
        }
        start = end + 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_exact_maps() {
        let src = "{\"id\": 7, \"title\": \"T\", \"text\": \"caf\\u00e9 \\\"ok\\\"\\n\\nnext\"}\n";
        let (recs, problems) = parse(src);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(recs[0].id, "7");
        let Block::Text { text, .. } = &recs[0].parsed.blocks[0] else {
            panic!()
        };
        assert_eq!(text.as_str(), "café \"ok\"");
        let r = text.full_source_range().unwrap();
        assert!(src[r].starts_with("caf\\u00e9"));
        assert_eq!(recs[0].parsed.blocks.len(), 2);
    }

    #[test]
    fn single_newlines_are_kept_as_sentence_breaks() {
        let src = "{\"text\": \"Acme Ltd. was founded  in 1990.\\nIt sells tea.\"}\n";
        let (recs, _) = parse(src);
        let Block::Text { text, .. } = &recs[0].parsed.blocks[0] else {
            panic!()
        };
        assert_eq!(
            text.as_str(),
            "Acme Ltd. was founded in 1990.\nIt sells tea."
        );
        let sentences = crate::sentences::sentence_ranges(text.as_str());
        assert_eq!(sentences.len(), 2, "{sentences:?}");
    }

    #[test]
    fn bad_lines_are_reported_not_fatal() {
        let (recs, problems) = parse("{\"text\": \"a\"}\nnot json\n{\"id\":\"x\"}\n");
        assert_eq!(recs.len(), 1);
        assert_eq!(problems.len(), 2);
        assert!(problems[0].starts_with("line 2"));
    }

    #[test]
    fn a_duplicate_id_is_reported_and_the_first_record_kept() {
        let src = "{\"id\": 1, \"text\": \"first\"}\n{\"id\": \"2\", \"text\": \"b\"}\n{\"id\": \"1\", \"text\": \"again\"}\n";
        let (recs, problems) = parse(src);
        let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("line 3: duplicate id \"1\" (first on line 1)"));
    }
}
