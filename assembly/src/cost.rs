//! What a candidate would add to a rendering, estimated while a bubble is
//! chosen (the rendering itself is counted exactly at the end).

use crate::candidate::Candidate;
use bubble_index::bubble_ingest::TokenCounter;
use std::collections::{HashMap, HashSet};

/// The tokens a candidate adds to a rendering: its text, marker and line
/// break, plus the document and section headings it opens. Heading costs
/// are counted once per document and section, so a greedy pass over 200
/// candidates does not run the tokenizer 400 times. An estimate (BPE
/// counts are nearly additive across lines); [`fit_budget`] makes it exact.
#[derive(Debug, Default)]
pub struct CostModel {
    open_docs: HashSet<String>,
    open_sections: HashSet<String>,
    heading_tokens: HashMap<String, usize>,
}

impl CostModel {
    /// The cost of adding `c` to what is open now. When even its text
    /// exceeds `room`, that lower bound is returned without counting headings.
    pub fn cost(&mut self, counter: &TokenCounter, c: &Candidate, room: usize) -> usize {
        let mut cost = c.tokens as usize + 4;
        if cost > room {
            return cost;
        }
        if !self.open_docs.contains(&c.doc_id) {
            cost += *self
                .heading_tokens
                .entry(format!("doc:{}", c.doc_id))
                .or_insert_with(|| counter.count(&format!("## {}\n", c.title)));
        }
        let key = c.section_key();
        if !c.section.is_empty() && !self.open_sections.contains(&key) {
            cost += *self
                .heading_tokens
                .entry(key)
                .or_insert_with(|| counter.count(&format!("### {}\n", c.section.join(" > "))));
        }
        cost
    }

    /// Marks `c`'s document and section as open.
    pub fn admit(&mut self, c: &Candidate) {
        self.open_docs.insert(c.doc_id.clone());
        self.open_sections.insert(c.section_key());
    }
}
