//! `retrieve`, `fuse` and `expand`: filling the candidate pool.

use crate::candidate::Candidate;
use crate::operator::Operator;
use crate::state::{best_channel, Context, QueryState};
use crate::text::facets;
use crate::AssemblyError;
use bubble_index::bubble_ingest::SpanKind;
use bubble_retrieval::{neighbours, Fusion, Hit, Mode, SearchRequest, SpanFilter};
use serde::{Deserialize, Serialize};
use std::collections::hash_map::{Entry, HashMap};

/// Which query a `retrieve` step sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuerySource {
    /// The request's query.
    #[default]
    Original,
    /// The query plus the titles of the documents already selected: the
    /// bridge entities a multi-hop question needs for its second hop.
    Expanded,
}

/// Parameters of `retrieve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrieveParams {
    /// Channels.
    pub mode: Mode,
    /// Candidates to take.
    pub depth: usize,
    /// HNSW breadth.
    pub ef: usize,
    /// Span kinds to retrieve (all retrievable kinds if empty).
    pub kinds: Vec<String>,
    /// Path globs.
    pub paths: Vec<String>,
    /// Which query to send.
    pub query: QuerySource,
    /// Also search each facet of a compound question (clauses joined by
    /// "and", `;`, `?`) and keep every span's best channel scores, so the
    /// second facet is not crowded out by the first; the `depth` best of
    /// them all are kept. The facets' vectors stay in the state for the
    /// bubble's facet coverage.
    pub facets: bool,
}

impl Default for RetrieveParams {
    fn default() -> Self {
        RetrieveParams {
            mode: Mode::Hybrid,
            depth: 100,
            ef: 128,
            kinds: Vec::new(),
            paths: Vec::new(),
            query: QuerySource::Original,
            facets: false,
        }
    }
}

/// Facets of a compound question searched apart at most.
pub const MAX_FACETS: usize = 8;

/// Adds retrieval hits to the candidate pool.
#[derive(Debug, Clone)]
pub struct Retrieve {
    params: RetrieveParams,
    kinds: Vec<SpanKind>,
}

impl Retrieve {
    /// Validates the parameters.
    pub fn new(params: RetrieveParams) -> Result<Retrieve, String> {
        let kinds = params
            .kinds
            .iter()
            .map(|k| SpanKind::parse(k).ok_or_else(|| format!("unknown span kind {k:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        use bubble_retrieval::limits::{in_range, MAX_DEPTH, MAX_EF};
        in_range("depth", params.depth, 1, MAX_DEPTH).map_err(|e| e.to_string())?;
        in_range("ef", params.ef, 1, MAX_EF).map_err(|e| e.to_string())?;
        Ok(Retrieve { params, kinds })
    }

    /// A search for `query` with this step's channels, depth and filters,
    /// narrowed by the request's `restrict`.
    fn request(&self, query: &str, restrict: &SpanFilter) -> Result<SearchRequest, AssemblyError> {
        let mut req = SearchRequest::new(query.to_string());
        req.mode = self.params.mode;
        req.k = self.params.depth;
        req.depth = self.params.depth;
        req.ef = self.params.ef;
        req.filter = narrow(
            SpanFilter {
                paths: self.params.paths.clone(),
                kinds: self.kinds.clone(),
            },
            restrict,
        )?;
        Ok(req)
    }
}

impl Operator for Retrieve {
    fn name(&self) -> &str {
        "retrieve"
    }

    fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        let query = match self.params.query {
            QuerySource::Original => state.query.clone(),
            QuerySource::Expanded => {
                let mut q = state.query.clone();
                let mut titles: Vec<&str> = Vec::new();
                for &i in &state.selected {
                    let t = state.candidates[i].title.as_str();
                    if !titles.contains(&t) {
                        titles.push(t);
                    }
                }
                for t in titles {
                    q.push(' ');
                    q.push_str(t);
                }
                q
            }
        };
        let mut facets = if self.params.facets {
            facets(&query)
        } else {
            Vec::new()
        };
        // Each facet is a search of its own: a question of more clauses
        // keeps the rest in the whole query only.
        let unsearched = facets.len().saturating_sub(MAX_FACETS);
        facets.truncate(MAX_FACETS);
        let mut resp = ctx
            .retriever
            .search(&self.request(&query, &state.filter)?)?;
        if query == state.query && state.query_vector.is_none() {
            state.query_vector = resp.query_vector.take();
        }
        let mode = resp.mode;
        let mut responses = vec![resp];
        let keep_vectors = query == state.query && state.facet_vectors.is_empty();
        for f in &facets {
            let mut r = ctx.retriever.search(&self.request(f, &state.filter)?)?;
            if let Some(v) = r.query_vector.take().filter(|_| keep_vectors) {
                state.facet_vectors.push((f.clone(), v));
            }
            responses.push(r);
        }
        let mut hits = 0;
        let mut lists = Vec::new();
        for r in &mut responses {
            hits += r.hits.len();
            // BM25 scores of different queries (facets, a loop's second
            // hop) share no scale: each query's are divided by its best;
            // cosines already share one.
            scale_bm25(&mut r.hits);
            lists.push(std::mem::take(&mut r.hits));
            for n in r.notices.drain(..) {
                if !state.notices.contains(&n) {
                    state.notices.push(n);
                }
            }
        }
        let added = if facets.is_empty() {
            lists.iter().map(|hits| state.add_hits(hits)).sum()
        } else {
            state.merge_best_hits(&best_of_queries(lists, self.params.depth))
        };
        Ok(format!(
            "{} query {:?}{}: {} hits, {} new",
            mode.as_str(),
            query,
            if facets.is_empty() {
                String::new()
            } else {
                format!(" and its facets {facets:?}")
            },
            hits,
            added
        ) + &if unsearched > 0 {
            format!(" ({unsearched} more facets not searched apart: at most {MAX_FACETS})")
        } else {
            String::new()
        })
    }
}

/// The hits of several queries as one list: each span once, with its best
/// channel records and fused score, and only the `depth` best by that score,
/// so facets widen the pool's reach without growing it.
fn best_of_queries(lists: Vec<Vec<Hit>>, depth: usize) -> Vec<Hit> {
    let mut by_ord: HashMap<u32, Hit> = HashMap::new();
    for h in lists.into_iter().flatten() {
        match by_ord.entry(h.ord) {
            Entry::Occupied(mut e) => {
                let m = e.get_mut();
                m.bm25 = best_channel(m.bm25, h.bm25);
                m.dense = best_channel(m.dense, h.dense);
                m.score = m.score.max(h.score);
            }
            Entry::Vacant(e) => {
                e.insert(h);
            }
        }
    }
    let mut hits: Vec<Hit> = by_ord.into_values().collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ord.cmp(&b.ord)));
    hits.truncate(depth);
    hits
}

/// Divides every hit's BM25 score by the best one.
fn scale_bm25(hits: &mut [Hit]) {
    let best = hits
        .iter()
        .filter_map(|h| h.bm25.map(|b| b.score))
        .fold(0.0f32, f32::max);
    if best > 0.0 {
        for h in hits {
            if let Some(b) = &mut h.bm25 {
                b.score /= best;
            }
        }
    }
}

/// Re-fuses the candidates' channel scores (e.g. after several retrieves).
#[derive(Debug, Clone)]
pub struct Fuse {
    fusion: Fusion,
}

impl Fuse {
    /// A fuse step.
    pub fn new(fusion: Fusion) -> Fuse {
        Fuse { fusion }
    }
}

impl Operator for Fuse {
    fn name(&self) -> &str {
        "fuse"
    }

    fn run(&self, _ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
        for c in &state.candidates {
            for (k, ch) in [c.scores.bm25, c.scores.dense].iter().enumerate() {
                if let Some(ch) = ch {
                    lo[k] = lo[k].min(ch.score);
                    hi[k] = hi[k].max(ch.score);
                }
            }
        }
        for c in &mut state.candidates {
            let channels = [c.scores.bm25, c.scores.dense];
            c.scores.retrieval = match self.fusion {
                Fusion::Rrf { k } => channels
                    .iter()
                    .flatten()
                    .map(|ch| 1.0 / (k + ch.position as f32))
                    .sum(),
                Fusion::Weighted { dense_weight } => channels
                    .iter()
                    .enumerate()
                    .filter_map(|(i, ch)| ch.map(|ch| (i, ch)))
                    .map(|(i, ch)| {
                        let w = if i == 0 {
                            1.0 - dense_weight
                        } else {
                            dense_weight
                        };
                        let span = if hi[i] > lo[i] { hi[i] - lo[i] } else { 1.0 };
                        w * (ch.score - lo[i]) / span
                    })
                    .sum(),
            };
        }
        Ok(format!(
            "{:?} over {} candidates",
            self.fusion,
            state.candidates.len()
        ))
    }
}

/// Parameters of `expand`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpandParams {
    /// How many of the best candidates to expand.
    pub top: usize,
    /// Add the header row of a table row.
    pub header: bool,
    /// Add the spans just before and after (same parent).
    pub siblings: bool,
}

impl Default for ExpandParams {
    fn default() -> Self {
        ExpandParams {
            top: 10,
            header: true,
            siblings: true,
        }
    }
}

/// Adds structural neighbours of the best candidates to the pool, scored
/// just below the span that brought them.
#[derive(Debug, Clone)]
pub struct Expand {
    params: ExpandParams,
}

impl Expand {
    /// An expand step.
    pub fn new(params: ExpandParams) -> Expand {
        Expand { params }
    }
}

impl Operator for Expand {
    fn name(&self) -> &str {
        "expand"
    }

    fn run(&self, ctx: &Context<'_>, state: &mut QueryState) -> Result<String, AssemblyError> {
        let store = ctx.retriever.corpus();
        let mut best: Vec<usize> = (0..state.candidates.len()).collect();
        best.sort_by(|&a, &b| {
            let (ca, cb) = (&state.candidates[a], &state.candidates[b]);
            cb.scores
                .retrieval
                .total_cmp(&ca.scores.retrieval)
                .then(ca.span_id.cmp(&cb.span_id))
        });
        best.truncate(self.params.top);
        let mut added = 0;
        for i in best {
            let (ord, score) = (
                state.candidates[i].ord,
                state.candidates[i].scores.retrieval,
            );
            let mut near: Vec<u32> = Vec::new();
            if self.params.header {
                near.extend(neighbours::table_header(store, ord));
            }
            if self.params.siblings {
                let sib = neighbours::siblings(store, ord);
                if let Some(p) = sib.iter().position(|&o| o == ord) {
                    // Content only: a sibling section is a container whose
                    // own text is its heading, which rendering adds anyway.
                    let content = |o: &u32| store.span(*o).is_some_and(|s| s.kind.is_retrievable());
                    near.extend(p.checked_sub(1).map(|q| sib[q]).filter(content));
                    near.extend(sib.get(p + 1).copied().filter(content));
                }
            }
            for o in near {
                if state.index_of(o).is_some() {
                    continue;
                }
                if let Some(hit) = hit_for(ctx, o, score * 0.9) {
                    state.add_candidate(Candidate::from_hit(&hit));
                    added += 1;
                }
            }
        }
        Ok(format!("{added} neighbours added"))
    }
}

/// A hit for a span found by structure rather than by a channel.
pub(crate) fn hit_for(ctx: &Context<'_>, ord: u32, score: f32) -> Option<Hit> {
    ctx.retriever.hit(ord, score, None, None)
}

/// A step's filter narrowed by a request's: kinds both allow; paths of
/// either (a path filter cannot narrow another, globs only union).
fn narrow(step: SpanFilter, request: &SpanFilter) -> Result<SpanFilter, AssemblyError> {
    let paths = match (step.paths.is_empty(), request.paths.is_empty()) {
        (_, true) => step.paths,
        (true, false) => request.paths.clone(),
        (false, false) => {
            return Err(AssemblyError::Request(
                "the pipeline's retrieve step already filters paths; drop the request's paths \
                 or the step's"
                    .into(),
            ))
        }
    };
    let kinds = match (step.kinds.is_empty(), request.kinds.is_empty()) {
        (_, true) => step.kinds,
        (true, false) => request.kinds.clone(),
        (false, false) => {
            let both: Vec<SpanKind> = step
                .kinds
                .into_iter()
                .filter(|k| request.kinds.contains(k))
                .collect();
            if both.is_empty() {
                return Err(AssemblyError::Request(
                    "no span kind is allowed by both the request and the pipeline".into(),
                ));
            }
            both
        }
    };
    Ok(SpanFilter { paths, kinds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bubble_retrieval::ChannelScore;

    fn hit(ord: u32, bm25: Option<(u32, f32)>, dense: Option<(u32, f32)>, score: f32) -> Hit {
        let ch =
            |c: Option<(u32, f32)>| c.map(|(position, score)| ChannelScore { position, score });
        Hit {
            ord,
            span_id: format!("s{ord}"),
            doc_id: "d".into(),
            source: "d.md".into(),
            title: "D".into(),
            kind: SpanKind::Paragraph,
            heading_path: Vec::new(),
            text: String::new(),
            byte_range: 0..0,
            line_range: (1, 1),
            tokens: 1,
            bm25: ch(bm25),
            dense: ch(dense),
            score,
        }
    }

    #[test]
    fn several_queries_merge_into_the_best_records_cut_at_depth() {
        let main = vec![
            hit(1, Some((1, 1.0)), Some((2, 0.5)), 0.9),
            hit(2, Some((2, 0.4)), None, 0.5),
            hit(3, None, Some((3, 0.2)), 0.1),
        ];
        let facet = vec![
            hit(2, Some((1, 1.0)), Some((1, 0.7)), 0.8),
            hit(4, None, Some((2, 0.6)), 0.3),
        ];
        let merged = best_of_queries(vec![main, facet], 3);
        let ords: Vec<u32> = merged.iter().map(|h| h.ord).collect();
        // Best fused score first; span 3 (0.1) is past the depth.
        assert_eq!(ords, [1, 2, 4]);
        // Span 2 keeps the better of each channel and of the fused score.
        let two = &merged[1];
        assert_eq!(
            two.bm25,
            Some(ChannelScore {
                position: 1,
                score: 1.0
            })
        );
        assert_eq!(
            two.dense,
            Some(ChannelScore {
                position: 1,
                score: 0.7
            })
        );
        assert_eq!(two.score, 0.8);
    }

    #[test]
    fn bm25_scores_are_divided_by_the_best() {
        let mut hits = vec![
            hit(1, Some((2, 5.0)), None, 0.5),
            hit(2, Some((1, 10.0)), Some((1, 0.3)), 0.6),
            hit(3, None, Some((2, 0.2)), 0.4),
        ];
        scale_bm25(&mut hits);
        let bm25: Vec<Option<f32>> = hits.iter().map(|h| h.bm25.map(|b| b.score)).collect();
        assert_eq!(bm25, [Some(0.5), Some(1.0), None]);
        // Cosines already share a scale.
        assert_eq!(hits[1].dense.map(|d| d.score), Some(0.3));
    }
}
