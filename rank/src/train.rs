//! Training the heads, RankGen's way: InfoNCE over a query's positive
//! against its in-document and retrieval hard negatives and the other
//! queries' positives in the batch, with Adam, seeded, on one core.

use crate::heads::dot;
use crate::rng::SplitMix64;
use crate::{Heads, RankError};
use std::collections::HashMap;

/// One training query: its vector, and indices into the vector pool of the
/// spans that answer it and of hard negatives (other spans of the gold
/// document first, then retrieval hits that do not answer).
#[derive(Debug, Clone)]
pub struct Example {
    /// The query's vector.
    pub query: Vec<f32>,
    /// Pool indices of answering spans.
    pub positives: Vec<u32>,
    /// Pool indices of hard negatives.
    pub negatives: Vec<u32>,
}

/// Training options.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainOptions {
    /// Passes over the examples.
    pub epochs: usize,
    /// Queries per batch (each also a source of in-batch negatives).
    pub batch: usize,
    /// Hard negatives per query and step.
    pub negatives: usize,
    /// Adam's step size.
    pub learning_rate: f32,
    /// Softmax temperature of the scores.
    pub temperature: f32,
    /// Weight of the squared distance of each head to the identity: the
    /// heads start as the encoder's own cosine and move only as far as
    /// the data pays for.
    pub identity_weight: f32,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 4,
            batch: 32,
            negatives: 15,
            learning_rate: 2e-4,
            temperature: 0.05,
            identity_weight: 1e-3,
            seed: 7,
        }
    }
}

/// What training did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainReport {
    /// Examples trained on.
    pub examples: usize,
    /// Mean InfoNCE loss per epoch.
    pub loss: Vec<f64>,
}

/// Adam state for one matrix.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Adam {
    fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    fn step(&mut self, w: &mut [f32], g: &[f32], lr: f32, t: i32) {
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        for k in 0..w.len() {
            self.m[k] = b1 * self.m[k] + (1.0 - b1) * g[k];
            self.v[k] = b2 * self.v[k] + (1.0 - b2) * g[k] * g[k];
            w[k] -= lr * (self.m[k] / c1) / ((self.v[k] / c2).sqrt() + eps);
        }
    }
}

fn mat_vec(m: &[f32], x: &[f32], d: usize) -> Vec<f32> {
    m.chunks_exact(d).map(|r| dot(r, x)).collect()
}

/// `g += a ⊗ b` for a `d` × `d` row-major `g`.
fn add_outer(g: &mut [f32], a: &[f32], b: &[f32], d: usize) {
    for (i, &ai) in a.iter().enumerate() {
        if ai == 0.0 {
            continue;
        }
        for (o, &bj) in g[i * d..(i + 1) * d].iter_mut().zip(b) {
            *o += ai * bj;
        }
    }
}

/// Trains heads over `pool` (row-major vectors of size `dim`).
pub fn train(
    pool: &[f32],
    dim: usize,
    examples: &[Example],
    opts: &TrainOptions,
) -> Result<(Heads, TrainReport), RankError> {
    if dim == 0 || !pool.len().is_multiple_of(dim) {
        return Err(RankError::Input(format!(
            "a pool of {} values is not made of vectors of {dim}",
            pool.len()
        )));
    }
    let n = (pool.len() / dim) as u32;
    let usable: Vec<&Example> = examples
        .iter()
        .filter(|e| e.query.len() == dim && !e.positives.is_empty())
        .filter(|e| e.positives.iter().chain(&e.negatives).all(|&i| i < n))
        .collect();
    if usable.is_empty() || opts.batch == 0 || opts.temperature <= 0.0 {
        return Err(RankError::Input(
            "no usable training examples (or a zero batch or temperature)".into(),
        ));
    }
    let vec_of = |i: u32| &pool[i as usize * dim..(i as usize + 1) * dim];
    let mut heads = Heads::identity(dim);
    let (mut p, mut c) = (heads.prefix().to_vec(), heads.continuation().to_vec());
    let (mut adam_p, mut adam_c) = (Adam::new(dim * dim), Adam::new(dim * dim));
    let mut rng = SplitMix64(opts.seed);
    let mut order: Vec<usize> = (0..usable.len()).collect();
    let mut losses = Vec::new();
    let mut t = 0;
    let inv_t = 1.0 / opts.temperature;
    for _ in 0..opts.epochs {
        rng.shuffle(&mut order);
        let mut epoch_loss = 0.0f64;
        for batch in order.chunks(opts.batch) {
            // Each query's positive for this step, and its hard negatives.
            let picks: Vec<(u32, Vec<u32>)> = batch
                .iter()
                .map(|&e| {
                    let ex = usable[e];
                    let pos = ex.positives[rng.below(ex.positives.len())];
                    let mut negs = ex.negatives.clone();
                    rng.shuffle(&mut negs);
                    negs.truncate(opts.negatives);
                    (pos, negs)
                })
                .collect();
            // C v for every span of the batch, once.
            let mut cv: HashMap<u32, Vec<f32>> = HashMap::new();
            for (pos, negs) in &picks {
                for &s in std::iter::once(pos).chain(negs) {
                    cv.entry(s).or_insert_with(|| mat_vec(&c, vec_of(s), dim));
                }
            }
            let mut grad_p = vec![0.0f32; dim * dim];
            let mut grad_span: HashMap<u32, Vec<f32>> = HashMap::new();
            for (k, &e) in batch.iter().enumerate() {
                let ex = usable[e];
                let (pos, negs) = &picks[k];
                // The positive first, then hard negatives, then the other
                // queries' positives (unless they answer this one too).
                let mut cands: Vec<u32> = vec![*pos];
                cands.extend(negs.iter().filter(|s| !ex.positives.contains(s)));
                for (j, (other, _)) in picks.iter().enumerate() {
                    if j != k && !ex.positives.contains(other) && !cands.contains(other) {
                        cands.push(*other);
                    }
                }
                let a = mat_vec(&p, &ex.query, dim);
                let z: Vec<f32> = cands.iter().map(|s| dot(&a, &cv[s]) * inv_t).collect();
                let top = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let exp: Vec<f32> = z.iter().map(|&x| (x - top).exp()).collect();
                let sum: f32 = exp.iter().sum();
                epoch_loss += f64::from((sum.ln() + top) - z[0]);
                let mut grad_a = vec![0.0f32; dim];
                for (j, s) in cands.iter().enumerate() {
                    let g =
                        (exp[j] / sum - f32::from(u8::from(j == 0))) * inv_t / batch.len() as f32;
                    if g == 0.0 {
                        continue;
                    }
                    for (ga, &b) in grad_a.iter_mut().zip(&cv[s]) {
                        *ga += g * b;
                    }
                    let gs = grad_span.entry(*s).or_insert_with(|| vec![0.0; dim]);
                    for (o, &x) in gs.iter_mut().zip(&a) {
                        *o += g * x;
                    }
                }
                add_outer(&mut grad_p, &grad_a, &ex.query, dim);
            }
            let mut grad_c = vec![0.0f32; dim * dim];
            let mut spans: Vec<&u32> = grad_span.keys().collect();
            spans.sort_unstable(); // a fixed order keeps the sums deterministic
            for s in spans {
                add_outer(&mut grad_c, &grad_span[s], vec_of(*s), dim);
            }
            for (g, m) in [(&mut grad_p, &p), (&mut grad_c, &c)] {
                for i in 0..dim {
                    for j in 0..dim {
                        let eye = f32::from(u8::from(i == j));
                        g[i * dim + j] += 2.0 * opts.identity_weight * (m[i * dim + j] - eye);
                    }
                }
            }
            t += 1;
            adam_p.step(&mut p, &grad_p, opts.learning_rate, t);
            adam_c.step(&mut c, &grad_c, opts.learning_rate, t);
        }
        losses.push(epoch_loss / usable.len() as f64);
    }
    heads = Heads::from_parts(
        dim,
        p,
        c,
        serde_json::json!({ "options": opts, "examples": usable.len(), "loss": losses }),
    );
    Ok((
        heads,
        TrainReport {
            examples: usable.len(),
            loss: losses,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Queries whose answer is a rotation of them: the identity ranks the
    /// answer no better than a decoy; trained heads learn the rotation.
    #[test]
    fn training_learns_what_the_cosine_misses() {
        let d = 4;
        let mut pool = Vec::new();
        let mut examples = Vec::new();
        let mut rng = SplitMix64(1);
        for k in 0..64 {
            let q: Vec<f32> = (0..d)
                .map(|_| (rng.below(1000) as f32 / 500.0) - 1.0)
                .collect();
            // The answer: q rotated (x, y, z, w) -> (y, -x, w, -z); the decoy: q itself.
            let ans = vec![q[1], -q[0], q[3], -q[2]];
            pool.extend_from_slice(&ans);
            pool.extend_from_slice(&q);
            examples.push(Example {
                query: q,
                positives: vec![2 * k],
                negatives: vec![2 * k + 1],
            });
        }
        let opts = TrainOptions {
            epochs: 60,
            batch: 16,
            learning_rate: 0.02,
            temperature: 0.5,
            identity_weight: 0.0,
            ..TrainOptions::default()
        };
        let (heads, report) = train(&pool, d, &examples, &opts).unwrap();
        assert!(
            report.loss.last() < report.loss.first(),
            "{:?}",
            report.loss
        );
        let r = heads.ranker();
        let wins = examples
            .iter()
            .filter(|e| {
                let u = r.prefix(&e.query).unwrap();
                let at = |i: u32| &pool[i as usize * d..(i as usize + 1) * d];
                crate::Ranker::score(&u, at(e.positives[0]))
                    > crate::Ranker::score(&u, at(e.negatives[0]))
            })
            .count();
        assert!(wins >= 60, "{wins} of 64");
        // Seeded: the same heads every time.
        assert_eq!(train(&pool, d, &examples, &opts).unwrap().0, heads);
    }
}
