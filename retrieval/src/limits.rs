//! The largest requests a search takes. Each bound is far above what a
//! context or a results page needs and far below what could exhaust memory:
//! tantivy and the HNSW walk size their heaps by `k` and `ef` up front, so
//! a request for 10^12 hits would abort the process instead of failing.

use crate::error::RetrievalError;
use crate::fusion::Fusion;
use crate::search::SearchRequest;

/// Hits a search returns at most.
pub const MAX_K: usize = 10_000;
/// Candidates taken from each channel at most.
pub const MAX_DEPTH: usize = 10_000;
/// HNSW search breadth at most.
pub const MAX_EF: usize = 10_000;
/// Bytes of query text at most (a query is a question, not a document).
pub const MAX_QUERY_BYTES: usize = 32 * 1024;

/// Checks `req` against the bounds, with the allowed range in the error.
pub fn check(req: &SearchRequest) -> Result<(), RetrievalError> {
    in_range("k", req.k, 1, MAX_K)?;
    in_range("depth", req.depth, 1, MAX_DEPTH)?;
    in_range("ef", req.ef, 1, MAX_EF)?;
    if req.query.len() > MAX_QUERY_BYTES {
        return Err(RetrievalError::BadRequest(format!(
            "the query is {} bytes; at most {MAX_QUERY_BYTES} are allowed",
            req.query.len()
        )));
    }
    check_fusion(req.fusion)
}

/// Checks a fusion's parameters.
pub fn check_fusion(fusion: Fusion) -> Result<(), RetrievalError> {
    match fusion {
        Fusion::Rrf { k } if !(k.is_finite() && k > 0.0) => Err(RetrievalError::BadRequest(
            format!("RRF k must be a finite number above 0 (got {k})"),
        )),
        Fusion::Weighted { dense_weight } if !(0.0..=1.0).contains(&dense_weight) => {
            Err(RetrievalError::BadRequest(format!(
                "dense_weight must be in 0..=1 (got {dense_weight})"
            )))
        }
        _ => Ok(()),
    }
}

/// `value` within `min..=max`, or an error naming `what` and the range.
pub fn in_range(what: &str, value: usize, min: usize, max: usize) -> Result<(), RetrievalError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(RetrievalError::BadRequest(format!(
            "{what} must be in {min}..={max} (got {value})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_and_degenerate_requests_are_refused_with_the_range() {
        let ok = SearchRequest::new("per diem");
        assert!(check(&ok).is_ok());
        let cases: Vec<(SearchRequest, &str)> = vec![
            (
                SearchRequest {
                    k: 1_000_000_000_000,
                    ..ok.clone()
                },
                "k must be in 1..=10000",
            ),
            (
                SearchRequest { k: 0, ..ok.clone() },
                "k must be in 1..=10000",
            ),
            (
                SearchRequest {
                    depth: 10_001,
                    ..ok.clone()
                },
                "depth must be in 1..=10000",
            ),
            (
                SearchRequest {
                    ef: usize::MAX,
                    ..ok.clone()
                },
                "ef must be in 1..=10000",
            ),
            (
                SearchRequest {
                    query: "x".repeat(40_000),
                    ..ok.clone()
                },
                "at most 32768",
            ),
            (
                SearchRequest {
                    fusion: Fusion::Rrf { k: 0.0 },
                    ..ok.clone()
                },
                "RRF k",
            ),
            (
                SearchRequest {
                    fusion: Fusion::Rrf { k: -5.0 },
                    ..ok.clone()
                },
                "RRF k",
            ),
            (
                SearchRequest {
                    fusion: Fusion::Rrf { k: f32::NAN },
                    ..ok.clone()
                },
                "RRF k",
            ),
            (
                SearchRequest {
                    fusion: Fusion::Weighted { dense_weight: 1.5 },
                    ..ok.clone()
                },
                "dense_weight",
            ),
        ];
        for (req, expected) in cases {
            let err = check(&req).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
    }
}
