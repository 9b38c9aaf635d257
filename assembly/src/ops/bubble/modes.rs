//! The greedy passes of each mode.

use super::features::{best_retrieval, Features};
use super::gates::Gates;
use super::BubbleParams;
use crate::candidate::Candidate;
use crate::ops::retrieve::hit_for;
use crate::render::CostModel;
use crate::state::{Context, QueryState};
use crate::text::{for_each_word, overlap_with};
use bubble_index::bubble_ingest::SpanKind;
use std::collections::{HashMap, HashSet};

/// Indices of candidates in descending `key`, ties broken by span id.
fn ordered_by(state: &QueryState, key: impl Fn(&Candidate) -> f32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..state.candidates.len()).collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (&state.candidates[a], &state.candidates[b]);
        key(cb)
            .total_cmp(&key(ca))
            .then(ca.span_id.cmp(&cb.span_id))
    });
    order
}

/// The published method: (tf + prior) × length penalty, greedy through the
/// global budget, section budget (with slack pool) and lexical redundancy gates.
pub(super) fn paper(
    p: &BubbleParams,
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    f: &Features<'_>,
) {
    for c in &mut state.candidates {
        c.scores.final_score = (c.scores.tf + c.scores.prior) * c.scores.length_penalty;
    }
    let mut bubble_words: HashSet<u64> = HashSet::new();
    let mut costs = CostModel::default();
    for i in ordered_by(state, |c| c.scores.final_score) {
        let section = gates.section(state, i);
        let redundancy = overlap_with(f.words(i), &bubble_words);
        state.candidates[i].scores.redundancy = redundancy;
        let cost = costs.cost(ctx.counter, &state.candidates[i], gates.room());
        let verdict = if state.candidates[i].scores.final_score <= 0.0 {
            Err("low_relevance")
        } else if redundancy >= p.delta {
            Err("too_redundant")
        } else {
            gates.check(section, cost)
        };
        decide(state, gates, &mut costs, i, section, cost, verdict);
        if state.candidates[i].is_selected() {
            bubble_words.extend(f.words(i).iter().copied());
        }
    }
}

/// The baseline: retrieval order, the global budget as the only gate.
pub(super) fn top_k(ctx: &Context<'_>, state: &mut QueryState) {
    let mut used = 0;
    let mut costs = CostModel::default();
    for i in ordered_by(state, |c| c.scores.retrieval) {
        state.candidates[i].scores.final_score = state.candidates[i].scores.retrieval;
        let cost = costs.cost(
            ctx.counter,
            &state.candidates[i],
            state.budget.saturating_sub(used),
        );
        admit_if_fits(state, &mut costs, i, cost, &mut used);
    }
}

fn admit_if_fits(
    state: &mut QueryState,
    costs: &mut CostModel,
    i: usize,
    cost: usize,
    used: &mut usize,
) -> bool {
    if *used + cost > state.budget {
        state.candidates[i].decide(false, "budget_exceeded", "bubble");
        return false;
    }
    *used += cost;
    costs.admit(&state.candidates[i]);
    state.candidates[i].decide(true, "selected", "bubble");
    state.selected.push(i);
    true
}

/// A greedy pass whose scores change only when a candidate is admitted.
/// The undecided candidates are sorted by `score` (descending, ties by span
/// id) and offered to `step` in that order until it admits one; then the
/// rest are re-scored. This visits them in the same order as re-picking the
/// best after every decision, in O(admissions · n log n) rather than O(n²).
/// `step` must decide every candidate it is offered.
fn greedy<S>(
    state: &mut QueryState,
    sel: &mut S,
    score: impl Fn(&QueryState, &S, usize) -> f32,
    mut step: impl FnMut(&mut QueryState, &mut S, usize, f32) -> bool,
) {
    // Candidates added during the pass (headers) are decided when added.
    let n = state.candidates.len();
    loop {
        let mut queue: Vec<(f32, usize)> = (0..n)
            .filter(|&i| state.candidates[i].decision.is_none())
            .map(|i| (score(state, sel, i), i))
            .collect();
        let c = &state.candidates;
        queue.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| c[a.1].span_id.cmp(&c[b.1].span_id))
        });
        let mut admitted = false;
        for (s, i) in queue {
            if state.candidates[i].decision.is_none() && step(state, sel, i, s) {
                admitted = true;
                break;
            }
        }
        if !admitted {
            return;
        }
    }
}

/// Raises the redundancy of every undecided candidate to its similarity
/// with the newly admitted `i`.
fn raise_redundancy(state: &QueryState, f: &Features<'_>, redundancy: &mut [f32], i: usize) {
    for (j, r) in redundancy.iter_mut().enumerate() {
        if state.candidates[j].decision.is_none() {
            *r = r.max(f.similarity(i, j));
        }
    }
}

/// Maximal marginal relevance, the global budget as the only gate.
pub(super) fn mmr(lambda: f32, ctx: &Context<'_>, state: &mut QueryState, f: &Features<'_>) {
    let best = best_retrieval(state);
    let mut redundancy = vec![0.0f32; state.candidates.len()];
    let mut used = 0;
    let mut costs = CostModel::default();
    greedy(
        state,
        &mut redundancy,
        |state, redundancy, i| {
            lambda * state.candidates[i].scores.retrieval / best - (1.0 - lambda) * redundancy[i]
        },
        |state, redundancy, i, score| {
            state.candidates[i].scores.final_score = score;
            state.candidates[i].scores.redundancy = redundancy[i];
            let room = state.budget.saturating_sub(used);
            let cost = costs.cost(ctx.counter, &state.candidates[i], room);
            let admitted = admit_if_fits(state, &mut costs, i, cost, &mut used);
            if admitted {
                raise_redundancy(state, f, redundancy, i);
            }
            admitted
        },
    );
}

/// What the default pass has admitted so far.
struct Selection {
    /// Query terms the bubble mentions.
    covered: u64,
    /// Each candidate's highest similarity to an admitted span.
    redundancy: Vec<f32>,
    /// Whether an admitted span mentions the candidate's document title.
    linked: Vec<bool>,
    per_doc: HashMap<String, usize>,
    /// Section number of each initial candidate.
    section_of: Vec<usize>,
    /// Per section number: whether an admitted span is from it.
    reached: Vec<bool>,
    /// Per facet: the closest an admitted span comes to it (relative cosine).
    facets_reached: Vec<f32>,
}

/// Ours: after every admission the rest is re-scored by relevance, the
/// query terms a span would newly cover, a cross-reference from the bubble,
/// whether its section is new to the bubble, and its similarity to what is
/// in; caps per document and section; a chosen row brings its table header.
pub(super) fn default_mode(
    p: &BubbleParams,
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    f: &Features<'_>,
) {
    let best = best_retrieval(state);
    let mut sel = Selection {
        covered: 0,
        redundancy: vec![0.0f32; state.candidates.len()],
        linked: vec![false; state.candidates.len()],
        per_doc: HashMap::new(),
        section_of: (0..state.candidates.len())
            .map(|i| gates.section(state, i))
            .collect(),
        reached: Vec::new(),
        facets_reached: vec![0.0; f.facet_count()],
    };
    let links = if p.link_weight > 0.0 {
        LinkTargets::new(state)
    } else {
        LinkTargets::default()
    };
    let mut costs = CostModel::default();
    let link = |sel: &Selection, i: usize| p.link_weight * f32::from(u8::from(sel.linked[i]));
    let novelty = |sel: &Selection, i: usize| {
        let reached = sel.reached.get(sel.section_of[i]).copied().unwrap_or(false);
        p.section_weight * f32::from(u8::from(!reached))
    };
    let facet = |sel: &Selection, i: usize| p.facet_weight * f.facet_gain(i, &sel.facets_reached);
    let score = |state: &QueryState, sel: &Selection, i: usize| {
        let c = &state.candidates[i];
        c.scores.retrieval / best
            + p.coverage_weight * f.coverage_gain(i, sel.covered)
            + c.scores.prior
            + link(sel, i)
            + novelty(sel, i)
            + facet(sel, i)
            - p.redundancy_weight * sel.redundancy[i]
    };
    greedy(state, &mut sel, score, |state, sel, i, final_score| {
        let c = &mut state.candidates[i];
        c.scores.coverage_gain = f.coverage_gain(i, sel.covered);
        c.scores.link = link(sel, i);
        c.scores.new_section = novelty(sel, i);
        c.scores.facet_gain = f.facet_gain(i, &sel.facets_reached);
        c.scores.redundancy = sel.redundancy[i];
        c.scores.final_score = final_score;
        let section = gates.section(state, i);
        let c = &state.candidates[i];
        let cost = costs.cost(ctx.counter, c, gates.room());
        let lift = c.scores.new_section + p.facet_weight * c.scores.facet_gain;
        let verdict = if c.scores.retrieval / best + lift < p.min_relevance
            && c.scores.coverage_gain == 0.0
            && c.scores.link == 0.0
        {
            Err("low_relevance")
        } else if sel.redundancy[i] >= p.max_similarity {
            Err("too_redundant")
        } else if sel.per_doc.get(&c.doc_id).copied().unwrap_or(0) >= p.max_per_doc {
            Err("cap_reached")
        } else {
            gates.check(section, cost)
        };
        decide(state, gates, &mut costs, i, section, cost, verdict);
        if !state.candidates[i].is_selected() {
            return false;
        }
        sel.covered |= f.lex[i].terms;
        let s = sel.section_of[i];
        if sel.reached.len() <= s {
            sel.reached.resize(s + 1, false);
        }
        sel.reached[s] = true;
        for (k, r) in sel.facets_reached.iter_mut().enumerate() {
            *r = r.max(f.facet(k, i));
        }
        *sel.per_doc
            .entry(state.candidates[i].doc_id.clone())
            .or_default() += 1;
        raise_redundancy(state, f, &mut sel.redundancy, i);
        links.follow(state, f.text(i), &mut sel.linked, i);
        expand_table_header(ctx, state, gates, &mut costs, i);
        true
    });
}

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
struct LinkTargets {
    /// Per document: its id, its title's word hashes, its candidates.
    docs: Vec<(String, Vec<u64>, Vec<usize>)>,
    /// Documents by the hash of their title's first word.
    by_first_word: HashMap<u64, Vec<usize>>,
    /// Each candidate's document entry, if its title can be linked.
    doc_of: Vec<Option<usize>>,
}

impl LinkTargets {
    fn new(state: &QueryState) -> LinkTargets {
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
    fn follow(&self, state: &QueryState, text: &str, linked: &mut [bool], i: usize) {
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

pub(super) fn decide(
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel,
    i: usize,
    section: usize,
    cost: usize,
    verdict: Result<(), &'static str>,
) {
    match verdict {
        Ok(()) => {
            gates.admit(section, cost);
            costs.admit(&state.candidates[i]);
            state.candidates[i].decide(true, "selected", "bubble");
            state.selected.push(i);
        }
        Err(reason) => state.candidates[i].decide(false, reason, "bubble"),
    }
    gates.decided(section);
}

/// A selected row brings its table's header row, budget permitting, so the
/// numbers in it keep their meaning when read alone. The header may already
/// be a candidate (from `expand`, or still undecided): it is decided
/// here, once, either way.
fn expand_table_header(
    ctx: &Context<'_>,
    state: &mut QueryState,
    gates: &mut Gates,
    costs: &mut CostModel,
    row: usize,
) {
    let store = ctx.retriever.index().store();
    let Some(header_ord) =
        bubble_retrieval::neighbours::table_header(store, state.candidates[row].ord)
    else {
        return;
    };
    let (i, added) = match state.index_of(header_ord) {
        Some(h) if state.candidates[h].is_selected() => return,
        Some(h) => (h, false),
        None => {
            let Some(hit) = hit_for(ctx, header_ord, 0.0) else {
                return;
            };
            (state.add_candidate(Candidate::from_hit(&hit)), true)
        }
    };
    let from = state.candidates[row].span_id.clone();
    let section = gates.section(state, i);
    let cost = costs.cost(ctx.counter, &state.candidates[i], gates.room());
    match gates.check(section, cost) {
        Ok(()) => {
            gates.admit(section, cost);
            costs.admit(&state.candidates[i]);
            state.candidates[i].scores.final_score = state.candidates[row].scores.final_score;
            state.candidates[i].decide(true, format!("expanded_from:{from}"), "bubble");
            state.selected.push(i);
        }
        // A header still waiting gets its own turn; a new one is decided now.
        Err(reason) if added => {
            state.candidates[i].decide(false, reason, "bubble");
        }
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bubble_index::bubble_ingest::SpanKind;

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
