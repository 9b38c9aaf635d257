//! The pipelines that ship with Bubble, by name.

/// The default: hybrid retrieval, both channels' scores min-max normalised
/// and averaged (weighted fusion ranks better than reciprocal rank fusion
/// on SciFact and HotpotQA, and its scores say how far below the best a
/// candidate is, which RRF's flat scores do not), the dense hits rescored
/// by the RankGen-style ranker (its trained heads when loaded; the plain
/// cosine, hence the fused order, without), structural neighbours, the
/// default bubble stopping at spans under 0.4 of the best that add no
/// query word and no cross-reference, ranking, rendering.
pub const DEFAULT: &str = r#"{"name": "default", "steps": [
  {"op": "retrieve", "depth": 100},
  {"op": "fuse", "method": "weighted", "dense_weight": 0.5},
  {"op": "rank", "rerank": true},
  {"op": "expand", "top": 10},
  {"op": "bubble", "min_relevance": 0.4},
  {"op": "rank"},
  {"op": "render"}]}"#;

/// Compressed: the default bubble built for a quarter more than the
/// budget, then compressed by marginal information gain into it, every span
/// of the bubble keeping at least its best unit: the facts of more spans fit
/// where fewer whole spans would. (A larger factor compresses harder and, on
/// HotpotQA, loses more supporting sentences than the extra spans bring:
/// see the README.)
pub const COMPRESSED: &str = r#"{"name": "compressed", "steps": [
  {"op": "retrieve", "depth": 100},
  {"op": "fuse", "method": "weighted", "dense_weight": 0.5},
  {"op": "rank", "rerank": true},
  {"op": "expand", "top": 10},
  {"op": "bubble", "min_relevance": 0.4, "budget_factor": 1.25},
  {"op": "compress", "every_group": true},
  {"op": "rank"},
  {"op": "render"}]}"#;

/// Multi-hop: a first bubble, then retrieval again with the titles it found
/// (the bridge entities) until coverage stops growing.
pub const MULTIHOP: &str = r#"{"name": "multihop", "steps": [
  {"op": "retrieve", "depth": 100},
  {"op": "fuse", "method": "weighted", "dense_weight": 0.5},
  {"op": "bubble", "min_relevance": 0.4},
  {"loop": [
    {"op": "retrieve", "query": "expanded", "depth": 50},
    {"op": "fuse", "method": "weighted", "dense_weight": 0.5},
    {"op": "bubble", "min_relevance": 0.4}], "max": 2},
  {"op": "rank"},
  {"op": "render"}]}"#;

/// The published context-bubble method.
pub const PAPER: &str = r#"{"name": "paper", "steps": [
  {"op": "retrieve", "depth": 100},
  {"op": "bubble", "mode": "paper"},
  {"op": "render"}]}"#;

/// The baseline: fill the budget in retrieval order.
pub const TOPK: &str = r#"{"name": "topk", "steps": [
  {"op": "retrieve", "depth": 100},
  {"op": "bubble", "mode": "top_k"},
  {"op": "render"}]}"#;

/// Every shipped pipeline.
pub const ALL: [(&str, &str); 5] = [
    ("default", DEFAULT),
    ("compressed", COMPRESSED),
    ("multihop", MULTIHOP),
    ("paper", PAPER),
    ("topk", TOPK),
];

/// A shipped pipeline's JSON by name.
pub fn builtin(name: &str) -> Option<&'static str> {
    ALL.iter().find(|(n, _)| *n == name).map(|(_, j)| *j)
}
