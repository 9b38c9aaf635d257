//! Plain text: paragraphs separated by blank lines.

use super::{Block, Parsed, TextKind};
use crate::mapped::MappedText;

/// Parses plain text into paragraphs.
pub fn parse(src: &str) -> Parsed {
    let mut blocks = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut pos = 0;
    for line in src.split_inclusive('\n') {
        if line.trim().is_empty() {
            if let Some(s) = start.take() {
                blocks.extend(paragraph(src, s, end));
            }
        } else {
            start.get_or_insert(pos);
            end = pos + line.len();
        }
        pos += line.len();
    }
    if let Some(s) = start {
        blocks.extend(paragraph(src, s, end));
    }
    Parsed {
        title: None,
        blocks,
    }
}

fn paragraph(src: &str, start: usize, end: usize) -> Option<Block> {
    let mut text = MappedText::new();
    text.push_source(src, start..end);
    let text = text.collapse_whitespace();
    (!text.is_empty()).then_some(Block::Text {
        kind: TextKind::Paragraph,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_separate_paragraphs() {
        let p = parse("one\ntwo\n\n\nthree\n");
        let texts: Vec<_> = p
            .blocks
            .iter()
            .map(|b| match b {
                Block::Text { text, .. } => text.as_str().to_string(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(texts, vec!["one two", "three"]);
    }
}
