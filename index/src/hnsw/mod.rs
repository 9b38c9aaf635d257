//! Hierarchical navigable small-world graphs (Malkov & Yashunin), written
//! for this index: built one point at a time in a fixed order, stored as
//! one flat file of neighbour lists, and searched in place from its memory
//! mapping.
//!
//! Why our own and not a library's: a library graph lives on the heap
//! (hnsw_rs keeps ~1.5 KB of lists and locks per point, 5.9 GB for a
//! million-span index once loaded, and copies every vector into the graph
//! while it builds), and its dump has to be parsed back into that heap
//! before the first search. Here the vectors stay in the index's mapped
//! vector files, the links are two flat `u32` tables (~132 bytes a point),
//! a build holds only those tables, and opening a graph maps one file:
//! nothing is decoded, every read is bounds-checked, and a damaged file is
//! an error, never an abort.
//!
//! The graph file (little-endian `u32` words after an 8-byte magic):
//! `n`, `m`, `m0`, entry node, top layer, upper words; then each node's
//! layer as a byte (padded to a word); layer 0 as `n × (1 + m0)` words
//! (a count, then the neighbours); each node's offset into the upper
//! lists (`n + 1` words); the upper lists, `(1 + m)` words per layer above
//! 0 of each node. Nodes are the rows of the vector files the graph
//! covers, in order.

mod build;
mod file;
mod search;

pub(crate) use build::build;
pub(crate) use file::GraphFile;

use crate::error::IndexError;
use std::cmp::Ordering;

/// Neighbours a node keeps on the layers above 0.
pub(crate) const M: usize = 16;
/// Neighbours a node keeps on layer 0, where every point lives.
pub(crate) const M0: usize = 2 * M;
/// Breadth of the search that finds a new point's neighbours.
pub(crate) const EF_CONSTRUCTION: usize = 200;
/// Layers above this are not drawn (a million points reach about 5).
pub(crate) const MAX_LAYER: u8 = 15;

/// The points a graph links: rows of vector files, by node number.
pub(crate) trait Points {
    /// How many.
    fn len(&self) -> usize;
    /// The unit vector of `node`.
    fn vector(&self, node: u32) -> Result<&[f32], IndexError>;
}

/// A node at its distance from the point being placed or searched for;
/// ordered by distance, ties by node, so every heap and sort is total and
/// a build or search is the same on every run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Near {
    pub(crate) distance: f32,
    pub(crate) node: u32,
}

impl Eq for Near {}

impl PartialOrd for Near {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Near {
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance
            .total_cmp(&other.distance)
            .then(self.node.cmp(&other.node))
    }
}

/// Cosine distance of unit vectors.
pub(crate) fn distance(a: &[f32], b: &[f32]) -> f32 {
    1.0 - crate::vectors::dot(a, b)
}

/// Which nodes a search or build has reached: a bitmap the size of the
/// graph, cleared by the words it touched, so a reused one costs what the
/// last search visited, not the graph's size.
pub(crate) struct Visited {
    words: Vec<u64>,
    touched: Vec<u32>,
}

impl Visited {
    pub(crate) fn new(n: usize) -> Visited {
        Visited {
            words: vec![0; n.div_ceil(64)],
            touched: Vec::new(),
        }
    }

    /// Marks `node`; true if it was not marked yet.
    pub(crate) fn insert(&mut self, node: u32) -> bool {
        let (w, bit) = (node as usize / 64, 1u64 << (node % 64));
        let Some(word) = self.words.get_mut(w) else {
            return false;
        };
        if *word & bit != 0 {
            return false;
        }
        if *word == 0 {
            self.touched.push(w as u32);
        }
        *word |= bit;
        true
    }

    pub(crate) fn clear(&mut self) {
        for w in self.touched.drain(..) {
            self.words[w as usize] = 0;
        }
    }
}

/// The layer of node `node`: `floor(-ln(u) / ln(M))` for a uniform `u`
/// drawn from a hash of the node, so a point's layer depends on nothing
/// but its position and a rebuild draws the same layers.
pub(crate) fn layer_of(node: u32) -> u8 {
    // murmur3's 64-bit finaliser over the node and a fixed salt.
    let mut x = u64::from(node) ^ 0x5bd1_e995_7f4a_7c15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    let u = ((x >> 11) as f64 + 1.0) / (1u64 << 53) as f64; // (0, 1]
    let layer = (-u.ln() / (M as f64).ln()).floor();
    layer.min(f64::from(MAX_LAYER)) as u8
}

#[cfg(test)]
mod tests;
