//! Sentence boundaries, kept so compression can work below the block level.
//!
//! Unicode sentence segmentation (UAX #29) already avoids splitting "e.g. the"
//! (a lowercase word follows); on top of it we re-join splits after common
//! abbreviations and initials followed by a capital ("Dr. Smith", "J. Doe"),
//! and we split on newlines in lists so each item is a unit.

use std::ops::Range;
use unicode_segmentation::UnicodeSegmentation;

const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "inc", "ltd", "co", "corp",
    "fig", "no", "vol", "approx", "dept", "est", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "al", "e.g", "i.e", "cf", "u.s", "ca",
];

/// Byte ranges of the sentences of `text`, trimmed, non-empty, in order.
pub fn sentence_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for (line_start, line) in lines_with_offsets(text) {
        let mut pending: Option<Range<usize>> = None;
        for (off, s) in line.split_sentence_bound_indices() {
            let start = line_start + off;
            let range = start..start + s.len();
            pending = Some(match pending {
                Some(p) if ends_with_abbreviation(&text[p.clone()]) => p.start..range.end,
                Some(p) => {
                    out.push(p);
                    range
                }
                None => range,
            });
        }
        out.extend(pending);
    }
    out.into_iter()
        .filter_map(|r| trim_range(text, r))
        .collect()
}

fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0usize, |pos, line| {
        let start = *pos;
        *pos += line.len();
        Some((start, line))
    })
}

fn ends_with_abbreviation(sentence: &str) -> bool {
    let t = sentence.trim_end();
    let Some(stem) = t.strip_suffix('.') else {
        return false;
    };
    let word = stem
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    let lower = word.to_lowercase();
    // A single capital letter is an initial ("J. R. Tolkien").
    let initial = word.chars().count() == 1 && word.chars().all(|c| c.is_uppercase());
    initial || ABBREVIATIONS.contains(&lower.as_str())
}

fn trim_range(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let s = &text[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return None;
    }
    let start = r.start + lead;
    Some(start..start + trimmed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        sentence_ranges(text)
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn splits_plain_sentences() {
        assert_eq!(
            split("One fish. Two fish! Red fish? Blue."),
            vec!["One fish.", "Two fish!", "Red fish?", "Blue."]
        );
    }

    #[test]
    fn keeps_abbreviations_and_decimals() {
        assert_eq!(
            split("Dr. Smith paid 3.5 USD, e.g. for tea. Then left."),
            vec!["Dr. Smith paid 3.5 USD, e.g. for tea.", "Then left."]
        );
    }

    #[test]
    fn list_items_are_units() {
        assert_eq!(
            split("- first item\n- second item"),
            vec!["- first item", "- second item"]
        );
    }
}
