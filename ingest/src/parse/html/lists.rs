//! Lists: collects a top-level list as one line per item.

use crate::mapped::MappedText;

/// Deeper lists are not indented further, so a pathological nesting cannot
/// make the output quadratic.
const MAX_INDENT: usize = 8;

/// A top-level list being collected: one line per item segment.
pub(super) struct ListState {
    pub(super) out: MappedText,
    levels: Vec<ListLevel>,
    /// Text of the current item segment, not yet collapsed.
    pub(super) seg: MappedText,
}

struct ListLevel {
    ordered: bool,
    next: i64,
    /// What the next line at this level starts with: a bullet for a fresh
    /// item, spaces for a continuation.
    prefix: String,
}

impl ListLevel {
    fn new(name: &str, start: i64) -> Self {
        Self {
            ordered: name == "ol",
            next: start,
            prefix: String::new(),
        }
    }
}

impl ListState {
    pub(super) fn new(name: &str, start: i64) -> Self {
        Self {
            out: MappedText::new(),
            levels: vec![ListLevel::new(name, start)],
            seg: MappedText::new(),
        }
    }

    pub(super) fn open_level(&mut self, name: &str, start: i64) {
        self.flush_seg();
        self.levels.push(ListLevel::new(name, start));
    }

    pub(super) fn close_level(&mut self) {
        self.flush_seg();
        if self.levels.len() > 1 {
            self.levels.pop();
        }
    }

    pub(super) fn open_item(&mut self, name: &str) {
        self.flush_seg();
        if let Some(level) = self.levels.last_mut() {
            level.prefix = if name == "dd" {
                "  ".to_owned()
            } else if level.ordered {
                let n = level.next;
                level.next = n.saturating_add(1);
                format!("{n}. ")
            } else {
                "- ".to_owned()
            };
        }
    }

    /// Ends the current segment: one output line, indented by depth, with
    /// the item's bullet if it has not been written yet.
    pub(super) fn flush_seg(&mut self) {
        let seg = std::mem::take(&mut self.seg).collapse_whitespace();
        if seg.is_empty() {
            return;
        }
        let at = seg.full_source_range().map_or(0, |r| r.start);
        let depth = self.levels.len().saturating_sub(1).min(MAX_INDENT);
        let mut lead = "  ".repeat(depth);
        if let Some(level) = self.levels.last_mut() {
            lead.push_str(&level.prefix);
            level.prefix = " ".repeat(level.prefix.len());
        }
        if !self.out.is_empty() {
            self.out.push_synthetic("\n", at);
        }
        self.out.push_synthetic(&lead, at);
        self.out.append(&seg);
    }
}
