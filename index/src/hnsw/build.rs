//! Building a graph: points inserted one at a time in node order, each
//! linked to the neighbours the selection heuristic keeps, and the graph
//! written as one file ([`super::file`]).
//!
//! One at a time, in order, with layers drawn from each node's number:
//! the same vectors give the same file, byte for byte, on every build.

use super::search::{Links, Walk};
use super::{distance, layer_of, Near, Points, Visited, EF_CONSTRUCTION, M, M0};
use crate::error::IndexError;
use std::path::Path;

/// The lists of a graph being built: layer 0 in one flat table, the
/// layers above per node (about one node in `M` has any).
struct Lists {
    layer0: Vec<u32>,
    upper: Vec<Vec<u32>>,
    layers: Vec<u8>,
}

const STRIDE0: usize = 1 + M0;
const STRIDE: usize = 1 + M;

impl Lists {
    fn slot(&self, node: u32, layer: u8) -> Option<(usize, usize)> {
        let node = node as usize;
        if layer == 0 {
            return Some((node * STRIDE0, M0));
        }
        (layer <= *self.layers.get(node)?).then(|| ((usize::from(layer) - 1) * STRIDE, M))
    }

    fn list_mut(&mut self, node: u32, layer: u8) -> &mut [u32] {
        match layer {
            0 => {
                let at = node as usize * STRIDE0;
                &mut self.layer0[at..at + STRIDE0]
            }
            _ => {
                let at = (usize::from(layer) - 1) * STRIDE;
                &mut self.upper[node as usize][at..at + STRIDE]
            }
        }
    }

    fn set(&mut self, node: u32, layer: u8, neighbours: &[u32]) {
        let list = self.list_mut(node, layer);
        list[0] = neighbours.len() as u32;
        list[1..=neighbours.len()].copy_from_slice(neighbours);
    }
}

impl Links for Lists {
    fn neighbours(&self, node: u32, layer: u8) -> Result<&[u32], IndexError> {
        let Some((at, _)) = self.slot(node, layer) else {
            return Ok(&[]);
        };
        let table = match layer {
            0 => &self.layer0[..],
            _ => &self.upper[node as usize][..],
        };
        let count = table[at] as usize;
        Ok(&table[at + 1..at + 1 + count])
    }
}

/// Builds the graph over `points` and writes it to `path`.
pub(crate) fn build(points: &impl Points, path: &Path) -> Result<(), IndexError> {
    let n = points.len();
    let layers: Vec<u8> = (0..n as u32).map(layer_of).collect();
    let mut lists = Lists {
        layer0: vec![0; n * STRIDE0],
        upper: layers
            .iter()
            .map(|&l| vec![0; usize::from(l) * STRIDE])
            .collect(),
        layers,
    };
    let mut entry: Option<(u32, u8)> = None;
    let mut visited = Visited::new(n);
    for node in 0..n as u32 {
        let top = lists.layers[node as usize];
        let Some((entry_node, entry_top)) = entry else {
            entry = Some((node, top));
            continue;
        };
        insert(
            &mut lists,
            points,
            node,
            top,
            (entry_node, entry_top),
            &mut visited,
        )?;
        if top > entry_top {
            entry = Some((node, top));
        }
    }
    super::file::write(path, &lists.layers, &lists.layer0, &lists.upper, entry)
}

/// Links `node` (whose top layer is `top`) into the graph entered at `entry`.
fn insert(
    lists: &mut Lists,
    points: &impl Points,
    node: u32,
    top: u8,
    (entry, entry_top): (u32, u8),
    visited: &mut Visited,
) -> Result<(), IndexError> {
    let query = points.vector(node)?;
    let mut from = Near {
        distance: distance(query, points.vector(entry)?),
        node: entry,
    };
    for layer in (top.saturating_add(1)..=entry_top).rev() {
        from = walk(lists, points, query).greedy(from, layer)?;
    }
    let mut entries = vec![from];
    for layer in (0..=top.min(entry_top)).rev() {
        let found = walk(lists, points, query).layer(
            &entries,
            EF_CONSTRUCTION,
            layer,
            &|_| true,
            visited,
        )?;
        let chosen = select(points, &found, M)?;
        lists.set(node, layer, &chosen);
        let cap = if layer == 0 { M0 } else { M };
        for &other in &chosen {
            link(lists, points, other, node, layer, cap)?;
        }
        entries = found;
    }
    Ok(())
}

fn walk<'a, P: Points>(lists: &'a Lists, points: &'a P, query: &'a [f32]) -> Walk<'a, Lists, P> {
    Walk {
        links: lists,
        points,
        query,
    }
}

/// Adds `node` to the list of `other` on `layer`; a full list keeps the
/// `cap` neighbours the heuristic selects among its old ones and `node`.
fn link(
    lists: &mut Lists,
    points: &impl Points,
    other: u32,
    node: u32,
    layer: u8,
    cap: usize,
) -> Result<(), IndexError> {
    let current = lists.neighbours(other, layer)?;
    if current.len() < cap {
        let mut grown = current.to_vec();
        grown.push(node);
        lists.set(other, layer, &grown);
        return Ok(());
    }
    let base = points.vector(other)?;
    let mut candidates = Vec::with_capacity(current.len() + 1);
    for &c in current.iter().chain(std::iter::once(&node)) {
        candidates.push(Near {
            distance: distance(base, points.vector(c)?),
            node: c,
        });
    }
    candidates.sort_unstable();
    let kept = select(points, &candidates, cap)?;
    lists.set(other, layer, &kept);
    Ok(())
}

/// The heuristic of the HNSW paper: of `candidates` (nearest first), keep
/// one only if it is nearer the base point than to every one kept before
/// it, up to `m`. Spreads the links across directions instead of spending
/// them all on one dense cluster.
fn select(points: &impl Points, candidates: &[Near], m: usize) -> Result<Vec<u32>, IndexError> {
    let mut kept: Vec<u32> = Vec::with_capacity(m);
    for c in candidates {
        if kept.len() >= m {
            break;
        }
        let v = points.vector(c.node)?;
        let mut diverse = true;
        for &k in &kept {
            if distance(v, points.vector(k)?) < c.distance {
                diverse = false;
                break;
            }
        }
        if diverse {
            kept.push(c.node);
        }
    }
    Ok(kept)
}
