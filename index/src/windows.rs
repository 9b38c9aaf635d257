//! The model's inputs: windows of up to 256 tokens, each holding a section's
//! heading context once and as many of its blocks, in order, as fit.
//!
//! Embedding each block alone repeats its heading context in every pass
//! (on the Node.js manual a quarter of all tokens were headings) and pays a
//! pass per block. A window shares the context and the pass; each block's
//! vector is then pooled from its own tokens, the context's and the special
//! tokens', so it means what the block alone would, read in its section.
//! A block that has a window to itself is embedded exactly as it always
//! was; units past the end of a long block's window take continuation
//! passes of their own.

use crate::pooling::MAX_LENGTH;
use std::ops::Range;

/// A block to embed on its own with [`crate::Embedder::embed_units`]: the
/// model reads `"{context}: {text}"`; `units` are byte ranges of `text`, in
/// order and disjoint, each of which gets a vector of its own.
#[derive(Debug, Clone)]
pub struct UnitText {
    /// The heading context ("Title > Section").
    pub context: String,
    /// The block's text.
    pub text: String,
    /// Byte ranges of its units in `text`.
    pub units: Vec<Range<usize>>,
}

/// A section's blocks under one heading context, embedded together with
/// [`crate::Embedder::embed_sections`].
#[derive(Debug, Clone)]
pub struct SectionText {
    /// The heading context ("Title > Section").
    pub context: String,
    /// Its blocks, in document order.
    pub blocks: Vec<BlockText>,
}

/// One block of a [`SectionText`].
#[derive(Debug, Clone)]
pub struct BlockText {
    /// The block's text.
    pub text: String,
    /// Byte ranges of its units in `text`.
    pub units: Vec<Range<usize>>,
    /// Tokens of the block the model reads at most (`None`: all of them,
    /// in continuation passes past the window); units past them stand in
    /// with the block's vector.
    pub max_tokens: Option<usize>,
}

/// How much of a block a window holds: its tokens and its bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Read {
    pub(crate) tokens: usize,
    pub(crate) bytes: usize,
}

/// A block's vector and its units' vectors, all L2-normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedded {
    /// The block's vector.
    pub vector: Vec<f32>,
    /// One vector per unit, in the order of the block's units.
    pub units: Vec<Vec<f32>>,
}

/// Tokens a window's blocks and context may take: the model's window less
/// [CLS] and [SEP], and a margin because a joined text can tokenize a
/// little differently from its parts counted apart.
const WINDOW_TOKENS: usize = MAX_LENGTH - 8;

/// One model input.
pub(crate) struct Pass {
    pub(crate) text: String,
    /// Bytes of the shared `"{context}: "` prefix.
    pub(crate) prefix: usize,
    pub(crate) members: Vec<Member>,
    /// Tokens the model reads, special tokens included (batches are
    /// padded to their longest input, so they are formed by this).
    pub(crate) tokens: usize,
}

/// A block's place in a pass.
pub(crate) struct Member {
    /// Index of the block among all blocks of the call.
    pub(crate) block: usize,
    /// Whether this pass gives the block its vector (a continuation pass
    /// only adds unit vectors).
    pub(crate) first: bool,
    /// The block's text in the pass.
    pub(crate) range: Range<usize>,
    /// (unit index in its block, byte range in the pass's text)
    pub(crate) units: Vec<(usize, Range<usize>)>,
}

impl Pass {
    /// Packs a section's blocks, numbered from `first_block`, into windows
    /// in order: a block joins the open window while the tokens fit
    /// (`context_tokens` for the prefix, `reads[k]` of block `k`); one too
    /// long for any window has one to itself.
    pub(crate) fn windows(
        first_block: usize,
        section: &SectionText,
        context_tokens: usize,
        reads: &[Read],
    ) -> Vec<Pass> {
        let prefix = format!("{}: ", section.context);
        let mut passes: Vec<Pass> = Vec::new();
        let mut used = 0usize;
        for (k, b) in section.blocks.iter().enumerate() {
            let read = reads.get(k).copied().unwrap_or(Read {
                tokens: MAX_LENGTH,
                bytes: b.text.len(),
            });
            let cost = read.tokens;
            let fits = passes
                .last()
                .is_some_and(|p| !p.members.is_empty() && used + cost <= WINDOW_TOKENS);
            if !fits {
                passes.push(Pass {
                    text: prefix.clone(),
                    prefix: prefix.len(),
                    members: Vec::new(),
                    tokens: 0,
                });
                used = context_tokens;
            }
            used += cost;
            let Some(pass) = passes.last_mut() else {
                continue;
            };
            pass.tokens = (used + 2).min(MAX_LENGTH);
            if !pass.members.is_empty() {
                pass.text.push('\n');
            }
            let start = pass.text.len();
            pass.text
                .push_str(b.text.get(..read.bytes).unwrap_or(&b.text));
            pass.members.push(Member {
                block: first_block + k,
                first: true,
                range: start..pass.text.len(),
                units: b
                    .units
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (i, r.start + start..r.end + start))
                    .collect(),
            });
        }
        passes
    }

    /// A continuation window for `units` of a block that its first pass
    /// did not reach: `"{context}: {unit} {unit}…"`, of `tokens` tokens
    /// as the caller counts them.
    pub(crate) fn continuation(
        block: usize,
        context: &str,
        b: &BlockText,
        units: &[usize],
        tokens: impl FnOnce(&str) -> usize,
    ) -> Pass {
        let mut text = format!("{context}: ");
        let prefix = text.len();
        let mut ranges = Vec::with_capacity(units.len());
        for (n, &u) in units.iter().enumerate() {
            if n > 0 {
                text.push(' ');
            }
            let start = text.len();
            let unit = b.units.get(u).and_then(|r| b.text.get(r.clone()));
            text.push_str(unit.unwrap_or(""));
            ranges.push((u, start..text.len()));
        }
        Pass {
            members: vec![Member {
                block,
                first: false,
                range: prefix..text.len(),
                units: ranges,
            }],
            tokens: tokens(&text),
            text,
            prefix,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(texts: &[&str]) -> SectionText {
        SectionText {
            context: "Guide > Setup".into(),
            blocks: texts
                .iter()
                .map(|t| BlockText {
                    text: t.to_string(),
                    units: std::iter::once(0..t.len()).collect(),
                    max_tokens: None,
                })
                .collect(),
        }
    }

    #[test]
    fn blocks_share_a_window_while_they_fit() {
        let s = section(&["one two", "three", "four five six"]);
        let passes = Pass::windows(10, &s, 4, &reads(&s, &[100, 100, 100]));
        assert_eq!(passes.len(), 2);
        assert_eq!(passes[0].text, "Guide > Setup: one two\nthree");
        assert_eq!(passes[1].text, "Guide > Setup: four five six");
        let m = &passes[0].members[1];
        assert_eq!((m.block, &passes[0].text[m.range.clone()]), (11, "three"));
        assert_eq!(&passes[0].text[m.units[0].1.clone()], "three");
        assert_eq!(passes[1].members[0].block, 12);
    }

    #[test]
    fn a_block_alone_reads_as_it_always_did() {
        let s = section(&["too long", "short"]);
        let passes = Pass::windows(0, &s, 4, &reads(&s, &[400, 5]));
        assert_eq!(passes.len(), 2);
        assert_eq!(passes[0].text, "Guide > Setup: too long");
        assert_eq!(passes[1].text, "Guide > Setup: short");
    }

    #[test]
    fn a_capped_block_is_read_only_up_to_its_cap() {
        let s = section(&["fn main() {}", "after"]);
        let mut r = reads(&s, &[10, 1]);
        r[0] = Read {
            tokens: 3,
            bytes: 7,
        };
        let passes = Pass::windows(0, &s, 4, &r);
        assert_eq!(passes.len(), 1);
        assert_eq!(passes[0].text, "Guide > Setup: fn main\nafter");
    }

    fn reads(s: &SectionText, tokens: &[usize]) -> Vec<Read> {
        s.blocks
            .iter()
            .zip(tokens)
            .map(|(b, &tokens)| Read {
                tokens,
                bytes: b.text.len(),
            })
            .collect()
    }
}
