//! Sentence boundaries, kept so compression can work below the block level.
//!
//! Unicode sentence segmentation (UAX #29) already avoids splitting "e.g. the"
//! (a lowercase word follows); on top of it we re-join splits after common
//! abbreviations and initials followed by a capital ("Dr. Smith", "J. Doe"),
//! and we split on newlines in lists so each item is a unit.
//!
//! Compression units ([`unit_ranges`]) are these sentences, with a long one
//! cut at clause boundaries: a 60-word sentence often carries two facts,
//! and a unit that holds both cannot keep one and drop the other.

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

/// A sentence longer than this many words is cut at clause boundaries.
pub const MAX_UNIT_WORDS: usize = 40;
/// No clause piece is shorter than this many words.
const MIN_CLAUSE_WORDS: usize = 6;

/// Byte ranges of the compression units of `text`: its sentences, each
/// longer than [`MAX_UNIT_WORDS`] words cut at clause boundaries (after `;`,
/// `:`, a dash, or a comma followed by a space) into pieces of at least six
/// words. A cut always falls on whitespace, never inside a word or a number
/// like "1,000".
pub fn unit_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for r in sentence_ranges(text) {
        split_clauses(text, r, &mut out);
    }
    out
}

/// Cuts `r` at its best clause boundary (the strongest kind, then the one
/// nearest the middle) until every piece is short enough or has none left.
fn split_clauses(text: &str, r: Range<usize>, out: &mut Vec<Range<usize>>) {
    let words = word_starts(&text[r.clone()]);
    if words.len() <= MAX_UNIT_WORDS {
        out.push(r);
        return;
    }
    let s = &text[r.clone()];
    // (strength, distance from the middle word, word index)
    let mut best: Option<(u8, usize, usize)> = None;
    for (w, &start) in words
        .iter()
        .enumerate()
        .take(words.len() - MIN_CLAUSE_WORDS + 1)
        .skip(MIN_CLAUSE_WORDS)
    {
        let before = s[..start].trim_end();
        let strength = match before.chars().last() {
            Some(';') => 3,
            Some(':') | Some('—') | Some('–') => 2,
            Some('-') if before.ends_with(" -") => 2,
            Some(',') => 1,
            _ => continue,
        };
        let dist = w.abs_diff(words.len() / 2);
        if best.is_none_or(|(bs, bd, _)| strength > bs || (strength == bs && dist < bd)) {
            best = Some((strength, dist, w));
        }
    }
    let Some((_, _, w)) = best else {
        out.push(r);
        return;
    };
    let cut = r.start + words[w];
    let left = r.start..r.start + s[..words[w]].trim_end().len();
    split_clauses(text, left, out);
    split_clauses(text, cut..r.end, out);
}

/// Byte offsets of the words (runs of non-whitespace) of `s`.
fn word_starts(s: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut in_word = false;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            in_word = false;
        } else if !in_word {
            starts.push(i);
            in_word = true;
        }
    }
    starts
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
    fn long_sentences_are_cut_at_clauses_never_inside_words() {
        let long = "The committee reviewed 1,000 applications from every region of the country, \
                    and it approved the budget for the next fiscal year after a long debate; \
                    the chair then thanked the members who had travelled from far away to attend \
                    the meeting in person.";
        let units: Vec<&str> = unit_ranges(long).into_iter().map(|r| &long[r]).collect();
        assert!(units.len() >= 2, "{units:?}");
        assert!(
            units[0].ends_with(';'),
            "the semicolon is the strongest cut: {units:?}"
        );
        for u in &units {
            assert!(u.split_whitespace().count() >= MIN_CLAUSE_WORDS, "{u:?}");
            assert!(long.contains(u));
        }
        assert!(units.iter().any(|u| u.contains("1,000")));
        let rejoined: Vec<&str> = units.iter().flat_map(|u| u.split_whitespace()).collect();
        assert_eq!(rejoined, long.split_whitespace().collect::<Vec<_>>());
        // A short sentence, or a long one without a boundary, stays whole.
        assert_eq!(unit_ranges("One short sentence, with a comma.").len(), 1);
        let plain = "word ".repeat(60);
        assert_eq!(unit_ranges(&plain).len(), 1);
    }

    #[test]
    fn list_items_are_units() {
        assert_eq!(
            split("- first item\n- second item"),
            vec!["- first item", "- second item"]
        );
    }
}
