//! Cross-references: a selected span that names another document's title
//! points the bubble at that document, as a reader would follow the name.

use crate::state::QueryState;
use crate::text::for_each_word;
use bubble_index::bubble_ingest::SpanKind;
use std::collections::HashMap;

/// The documents a selected span can link to, by the words that mention
/// them: the title without a trailing parenthetical ("Mercury (planet)" is
/// mentioned as "Mercury"). Titles under four characters are too ambiguous
/// to link. Matching runs on word hashes, so it costs one pass over the
/// admitted span whatever the number of documents. A link leads to a
/// passage of a document not yet in the bubble: once a block of it (not a
/// sentence: the passage a link leads to may take several) is in, the rest
/// of it stands on its own relevance (in enterprise documents a policy
/// named in passing must not pull in every row it has).
#[derive(Default)]
pub(super) struct LinkTargets {
    /// Per document: its id, its title's word hashes, its candidates.
    docs: Vec<(String, Vec<u64>, Vec<usize>)>,
    /// Documents by the hash of their title's first word.
    by_first_word: HashMap<u64, Vec<usize>>,
    /// Each candidate's document entry, if its title can be linked.
    doc_of: Vec<Option<usize>>,
}

impl LinkTargets {
    pub(super) fn new(state: &QueryState) -> LinkTargets {
        let mut links = LinkTargets::default();
        // Each document's entry, or `None` for a title too short to link.
        let mut at: HashMap<&str, Option<usize>> = HashMap::new();
        for (i, c) in state.candidates.iter().enumerate() {
            if let Some(&d) = at.get(c.doc_id.as_str()) {
                if let Some(d) = d {
                    links.docs[d].2.push(i);
                }
                links.doc_of.push(d);
                continue;
            }
            let bare = match c.title.rfind(" (") {
                Some(p) if c.title.ends_with(')') => &c.title[..p],
                _ => c.title.as_str(),
            };
            let mut words = Vec::new();
            for_each_word(bare, |h| words.push(h));
            if bare.trim().chars().count() < 4 || words.is_empty() {
                at.insert(&c.doc_id, None);
                links.doc_of.push(None);
                continue;
            }
            at.insert(&c.doc_id, Some(links.docs.len()));
            links.doc_of.push(Some(links.docs.len()));
            links
                .by_first_word
                .entry(words[0])
                .or_default()
                .push(links.docs.len());
            links.docs.push((c.doc_id.clone(), words, vec![i]));
        }
        links
    }

    /// After span `i` is admitted: its document's link is spent, and the
    /// candidates of the documents not yet in the bubble whose title it
    /// mentions are marked.
    pub(super) fn follow(&self, state: &QueryState, text: &str, linked: &mut [bool], i: usize) {
        if self.docs.is_empty() {
            return;
        }
        let block = |j: usize| state.candidates[j].kind != SpanKind::Sentence;
        if let Some(d) = self.doc_of.get(i).copied().flatten().filter(|_| block(i)) {
            for &j in &self.docs[d].2 {
                linked[j] = false;
            }
        }
        let mut words = Vec::new();
        for_each_word(text, |h| words.push(h));
        let from = &state.candidates[i].doc_id;
        for at in 0..words.len() {
            let Some(docs) = self.by_first_word.get(&words[at]) else {
                continue;
            };
            for &d in docs {
                let (doc, title, members) = &self.docs[d];
                let in_bubble = || {
                    members
                        .iter()
                        .any(|&j| block(j) && state.candidates[j].is_selected())
                };
                if doc != from && words[at..].starts_with(title) && !in_bubble() {
                    for &j in members {
                        linked[j] = true;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidate::Candidate;

    fn candidate(ord: u32, doc: &str, title: &str) -> Candidate {
        Candidate {
            ord,
            span_id: format!("{doc}-span"),
            doc_id: doc.into(),
            source: format!("{doc}.md"),
            title: title.into(),
            section: Vec::new(),
            kind: SpanKind::Paragraph,
            tokens: 10,
            scores: Default::default(),
            decision: None,
        }
    }

    #[test]
    fn a_span_links_the_documents_whose_titles_it_mentions() {
        let mut state = QueryState::new("who directed it", 100);
        for (ord, (doc, title)) in [
            ("film", "Ed Wood (film)"),
            ("burton", "Tim Burton"),
            ("tim", "Tim"),
            ("depp", "Johnny Depp"),
            ("burtonville", "Burtonville"),
        ]
        .into_iter()
        .enumerate()
        {
            state.add_candidate(candidate(ord as u32, doc, title));
        }
        let links = LinkTargets::new(&state);
        let mut linked = vec![false; state.candidates.len()];
        let text = "Ed Wood is a 1994 film directed by Tim Burton, starring Johnny-Depp.";
        links.follow(&state, text, &mut linked, 0);
        // Whole titles only, in words: "Tim" is too short to link,
        // "Burtonville" is not "Burton", and punctuation between the words
        // of a title does not matter.
        assert_eq!(linked, [false, true, false, true, false]);
        // A span never links its own document.
        let mut linked = vec![false; state.candidates.len()];
        links.follow(&state, "Tim Burton directed Ed Wood", &mut linked, 1);
        assert_eq!(linked, [true, false, false, false, false]);
    }

    #[test]
    fn a_link_is_spent_once_its_document_is_in_the_bubble() {
        let mut state = QueryState::new("retention", 100);
        for (ord, doc, title) in [
            (0, "faq", "FAQ"),
            (1, "policy", "Data Retention Policy"),
            (2, "policy", "Data Retention Policy"),
            (3, "notice", "Privacy Notice"),
        ] {
            state.add_candidate(candidate(ord, doc, title));
        }
        state.candidates[2].kind = SpanKind::Sentence;
        let links = LinkTargets::new(&state);
        let mut linked = vec![false; 4];
        links.follow(&state, "See the data retention policy.", &mut linked, 0);
        assert_eq!(linked, [false, true, true, false]);
        // A sentence of the policy is admitted: the passage may need more.
        state.candidates[2].decide(true, "selected", "bubble");
        links.follow(&state, "Logs are kept.", &mut linked, 2);
        assert_eq!(linked, [false, true, true, false]);
        // A block of it is admitted: the rest loses the bonus...
        state.candidates[1].decide(true, "selected", "bubble");
        links.follow(&state, "Logs are kept 30 days.", &mut linked, 1);
        assert_eq!(linked, [false, false, false, false]);
        // ...and a later mention does not bring it back.
        links.follow(&state, "Our data retention policy applies.", &mut linked, 3);
        assert_eq!(linked, [false, false, false, false]);
    }
}
