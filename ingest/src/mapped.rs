//! Text that remembers where each byte came from in the source file.
//!
//! Parsers rarely hand out source bytes verbatim: Markdown drops `**`, HTML
//! decodes `&amp;`, JSON unescapes `\n`, tables gain their header. A
//! [`MappedText`] is built piece by piece so that any range of the final text
//! maps back to a byte range of the source, which is what makes every span and
//! sentence citable.

use std::ops::Range;

/// One contiguous piece of a [`MappedText`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    /// Byte range in the text.
    text: Range<usize>,
    /// Byte range in the source this piece stands for.
    src: Range<usize>,
    /// Whether the text bytes equal the source bytes one for one.
    verbatim: bool,
}

/// A string plus the map from its bytes back to source bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappedText {
    text: String,
    pieces: Vec<Piece>,
}

impl MappedText {
    /// An empty text.
    pub fn new() -> Self {
        Self::default()
    }

    /// The text itself.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Appends `src[range]` verbatim.
    pub fn push_source(&mut self, src: &str, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        let start = self.text.len();
        self.text.push_str(&src[range.clone()]);
        self.pieces.push(Piece {
            text: start..self.text.len(),
            src: range,
            verbatim: true,
        });
    }

    /// Appends `decoded`, a rewriting of the source bytes `range` (an HTML
    /// entity, a JSON escape). Sub-ranges of it map to the whole source range.
    pub fn push_decoded(&mut self, decoded: &str, range: Range<usize>) {
        if decoded.is_empty() {
            return;
        }
        let start = self.text.len();
        self.text.push_str(decoded);
        self.pieces.push(Piece {
            text: start..self.text.len(),
            src: range,
            verbatim: false,
        });
    }

    /// Appends text that has no source of its own (a separator, a table
    /// header label); it maps to the empty range at `at`.
    pub fn push_synthetic(&mut self, s: &str, at: usize) {
        self.push_decoded(s, at..at);
    }

    /// Appends another mapped text.
    pub fn append(&mut self, other: &MappedText) {
        let shift = self.text.len();
        self.text.push_str(&other.text);
        self.pieces.extend(other.pieces.iter().map(|p| Piece {
            text: p.text.start + shift..p.text.end + shift,
            src: p.src.clone(),
            verbatim: p.verbatim,
        }));
    }

    /// The source byte range covering the text bytes `range` (which must lie
    /// on char boundaries of the text). Empty text maps to `None`.
    pub fn source_range(&self, range: Range<usize>) -> Option<Range<usize>> {
        if range.is_empty() || self.pieces.is_empty() {
            return None;
        }
        let first = self.piece_at(range.start);
        let last = self.piece_at(range.end - 1);
        let start = map_offset(first, range.start, true);
        let end = map_offset(last, range.end, false);
        // Synthetic pieces at the edges map to empty ranges; find the real
        // extent from every piece in between.
        let (lo, hi) = self.pieces[self.index_at(range.start)..=self.index_at(range.end - 1)]
            .iter()
            .filter(|p| !p.src.is_empty())
            .fold((start, end), |(lo, hi), p| {
                let s = if p.text.start < range.start {
                    start
                } else {
                    p.src.start
                };
                let e = if p.text.end > range.end {
                    end
                } else {
                    p.src.end
                };
                (lo.min(s), hi.max(e))
            });
        Some(lo..hi.max(lo))
    }

    /// The source byte range of the whole text.
    pub fn full_source_range(&self) -> Option<Range<usize>> {
        self.source_range(0..self.text.len())
    }

    /// Collapses every run of whitespace to one space and trims both ends,
    /// keeping the map exact.
    pub fn collapse_whitespace(&self) -> MappedText {
        let mut out = MappedText::new();
        let mut pending_space: Option<usize> = None;
        for piece in &self.pieces {
            let s = &self.text[piece.text.clone()];
            if !piece.verbatim {
                if s.trim().is_empty() {
                    if !out.is_empty() {
                        pending_space.get_or_insert(piece.src.start);
                    }
                    continue;
                }
                if let Some(at) = pending_space.take() {
                    out.push_synthetic(" ", at);
                }
                // Decoded pieces are short (an entity, an escape, a label):
                // normalise their inner whitespace without splitting the map.
                let norm: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
                if s.starts_with(char::is_whitespace) && !out.is_empty() {
                    out.push_synthetic(" ", piece.src.start);
                }
                out.push_decoded(&norm, piece.src.clone());
                if s.ends_with(char::is_whitespace) {
                    pending_space = Some(piece.src.end);
                }
                continue;
            }
            let base = piece.src.start;
            let mut word_start: Option<usize> = None;
            for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
                if c.is_whitespace() {
                    if let Some(ws) = word_start.take() {
                        if let Some(at) = pending_space.take() {
                            out.push_synthetic(" ", at);
                        }
                        out.push_source_mapped(&s[ws..i], base + ws..base + i);
                    }
                    if i < s.len() && !out.is_empty() {
                        pending_space.get_or_insert(base + i);
                    }
                } else if word_start.is_none() {
                    word_start = Some(i);
                }
            }
        }
        out
    }

    /// The sub-text at text bytes `range` (on char boundaries), map kept.
    pub fn slice(&self, range: Range<usize>) -> MappedText {
        let mut out = MappedText::new();
        for p in &self.pieces {
            let lo = p.text.start.max(range.start);
            let hi = p.text.end.min(range.end);
            if lo >= hi {
                continue;
            }
            let s = &self.text[lo..hi];
            if p.verbatim {
                let src_lo = p.src.start + (lo - p.text.start);
                out.push_source_mapped(s, src_lo..src_lo + s.len());
            } else {
                out.push_decoded(s, p.src.clone());
            }
        }
        out
    }

    /// Like `push_source`, for a caller that holds the slice but not the whole source.
    fn push_source_mapped(&mut self, s: &str, src: Range<usize>) {
        let start = self.text.len();
        self.text.push_str(s);
        // Merge with the previous verbatim piece when contiguous, to keep maps small.
        if let Some(last) = self.pieces.last_mut() {
            if last.verbatim && last.text.end == start && last.src.end == src.start {
                last.text.end = self.text.len();
                last.src.end = src.end;
                return;
            }
        }
        self.pieces.push(Piece {
            text: start..self.text.len(),
            src,
            verbatim: true,
        });
    }

    fn index_at(&self, offset: usize) -> usize {
        self.pieces
            .partition_point(|p| p.text.end <= offset)
            .min(self.pieces.len() - 1)
    }

    fn piece_at(&self, offset: usize) -> &Piece {
        &self.pieces[self.index_at(offset)]
    }
}

fn map_offset(piece: &Piece, offset: usize, is_start: bool) -> usize {
    if piece.verbatim {
        let off = offset.clamp(piece.text.start, piece.text.end) - piece.text.start;
        piece.src.start + off
    } else if is_start {
        piece.src.start
    } else {
        piece.src.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_and_decoded_pieces_map_back() {
        let src = "a &amp; b";
        let mut t = MappedText::new();
        t.push_source(src, 0..2);
        t.push_decoded("&", 2..7);
        t.push_source(src, 7..9);
        assert_eq!(t.as_str(), "a & b");
        assert_eq!(t.source_range(0..1), Some(0..1));
        assert_eq!(t.source_range(2..3), Some(2..7));
        assert_eq!(t.source_range(4..5), Some(8..9));
        assert_eq!(t.full_source_range(), Some(0..9));
    }

    #[test]
    fn collapse_whitespace_keeps_the_map() {
        let src = "  hello \n\t world  ";
        let mut t = MappedText::new();
        t.push_source(src, 0..src.len());
        let c = t.collapse_whitespace();
        assert_eq!(c.as_str(), "hello world");
        assert_eq!(c.source_range(6..11), Some(11..16));
        assert_eq!(c.full_source_range(), Some(2..16));
    }

    #[test]
    fn synthetic_text_maps_to_its_neighbours() {
        let src = "Pro|49";
        let mut t = MappedText::new();
        t.push_synthetic("Plan: ", 0);
        t.push_source(src, 0..3);
        t.push_synthetic(" | Price: ", 3);
        t.push_source(src, 4..6);
        assert_eq!(t.as_str(), "Plan: Pro | Price: 49");
        assert_eq!(t.full_source_range(), Some(0..6));
    }
}
