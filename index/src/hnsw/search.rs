//! The two searches HNSW is made of, over any graph's links: the greedy
//! descent through the upper layers, and the breadth-`ef` search of one
//! layer. A build runs them over the lists it is growing, a reader over
//! the mapped file.

use super::{distance, Near, Points, Visited};
use crate::error::IndexError;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A graph's neighbour lists.
pub(crate) trait Links {
    /// The neighbours of `node` on `layer` (empty above the node's layer).
    fn neighbours(&self, node: u32, layer: u8) -> Result<&[u32], IndexError>;
}

/// A walk of one graph toward one query.
pub(crate) struct Walk<'a, L, P> {
    pub(crate) links: &'a L,
    pub(crate) points: &'a P,
    pub(crate) query: &'a [f32],
}

impl<L: Links, P: Points> Walk<'_, L, P> {
    fn near(&self, node: u32) -> Result<Near, IndexError> {
        Ok(Near {
            distance: distance(self.query, self.points.vector(node)?),
            node,
        })
    }

    /// From `from`, follows whichever neighbour on `layer` is closer to
    /// the query until none is: the descent through a graph's sparse layers.
    pub(crate) fn greedy(&self, mut from: Near, layer: u8) -> Result<Near, IndexError> {
        loop {
            let mut best = from;
            for &n in self.links.neighbours(from.node, layer)? {
                best = best.min(self.near(n)?);
            }
            if best == from {
                return Ok(from);
            }
            from = best;
        }
    }

    /// The `ef` nodes of `layer` nearest the query that `keep` accepts,
    /// nearest first, found by a best-first walk from `entries`. Rejected
    /// nodes are still walked through (a tombstone is a path, not an
    /// answer).
    pub(crate) fn layer(
        &self,
        entries: &[Near],
        ef: usize,
        layer: u8,
        keep: &dyn Fn(u32) -> bool,
        visited: &mut Visited,
    ) -> Result<Vec<Near>, IndexError> {
        visited.clear();
        let mut frontier: BinaryHeap<Reverse<Near>> = BinaryHeap::new();
        let mut found: BinaryHeap<Near> = BinaryHeap::new();
        for &e in entries {
            if visited.insert(e.node) {
                frontier.push(Reverse(e));
                if keep(e.node) {
                    found.push(e);
                }
            }
        }
        while found.len() > ef {
            found.pop();
        }
        while let Some(Reverse(c)) = frontier.pop() {
            if found.len() >= ef
                && found
                    .peek()
                    .is_some_and(|worst| c.distance > worst.distance)
            {
                break;
            }
            for &n in self.links.neighbours(c.node, layer)? {
                if !visited.insert(n) {
                    continue;
                }
                let near = self.near(n)?;
                let worst = found.peek().map_or(f32::INFINITY, |w| w.distance);
                if found.len() < ef || near.distance < worst {
                    frontier.push(Reverse(near));
                    if keep(n) {
                        found.push(near);
                        if found.len() > ef {
                            found.pop();
                        }
                    }
                }
            }
        }
        Ok(found.into_sorted_vec())
    }
}
