//! CPU kernels: dot products in eight lanes with fused multiply-adds where
//! the processor has them (chosen at run time, so one build runs on every
//! x86-64), rows split over a few threads for large calls.

use super::{Kernels, NONE};

/// The CPU kernels.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cpu;

/// Multiply-adds below which a call stays on one thread.
const PARALLEL_WORK: usize = 4_000_000;

/// The dot product of `a` and `b` (the shorter length counts).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if fma_available() {
            // SAFETY: the processor supports AVX2 and FMA (checked above).
            return unsafe { dot_fma(a, b) };
        }
    }
    dot_portable(a, b)
}

#[cfg(target_arch = "x86_64")]
fn fma_available() -> bool {
    use std::sync::OnceLock;
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
}

/// Eight independent lanes, which the compiler vectorises.
fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((lane, x), y) in lanes.iter_mut().zip(x).zip(y) {
            *lane += x * y;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Two 8-wide accumulators of fused multiply-adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_fma(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let mut acc0 = _mm256_setzero_ps();
    let mut acc1 = _mm256_setzero_ps();
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 <= n, so both loads are inside both slices.
        unsafe {
            acc0 = _mm256_fmadd_ps(
                _mm256_loadu_ps(a.as_ptr().add(i)),
                _mm256_loadu_ps(b.as_ptr().add(i)),
                acc0,
            );
            acc1 = _mm256_fmadd_ps(
                _mm256_loadu_ps(a.as_ptr().add(i + 8)),
                _mm256_loadu_ps(b.as_ptr().add(i + 8)),
                acc1,
            );
        }
        i += 16;
    }
    let acc = _mm256_add_ps(acc0, acc1);
    let mut lanes = [0.0f32; 8];
    // SAFETY: `lanes` holds eight floats.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), acc) };
    let mut sum: f32 = lanes.iter().sum();
    while i < n {
        sum += a[i] * b[i];
        i += 1;
    }
    sum
}

/// Runs `f` over chunks of `rows` rows on up to a few threads and
/// concatenates the results in row order.
fn split_rows<T: Send>(
    rows: usize,
    work: usize,
    f: impl Fn(std::ops::Range<usize>) -> Vec<T> + Sync,
) -> Vec<T> {
    // Asking the system reads cgroup files: once per process is enough.
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let threads = *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    });
    if threads < 2 || work < PARALLEL_WORK || rows < 2 * threads {
        return f(0..rows);
    }
    let per = rows.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..rows)
            .step_by(per)
            .map(|start| {
                let f = &f;
                s.spawn(move || f(start..(start + per).min(rows)))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

impl Kernels for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn dots(&self, rows: &[f32], v: &[f32], dim: usize) -> Vec<f32> {
        let n = rows.len() / dim.max(1);
        split_rows(n, n * dim, |r| {
            r.map(|i| dot(&rows[i * dim..(i + 1) * dim], v)).collect()
        })
    }

    fn max_dots(
        &self,
        a: &[f32],
        b: &[f32],
        dim: usize,
        groups: Option<(&[u32], &[u32])>,
    ) -> Vec<(f32, u32)> {
        let (na, nb) = (a.len() / dim.max(1), b.len() / dim.max(1));
        // Rows of `b` in tiles that stay in cache while every row of `a` passes.
        const TILE: usize = 256;
        split_rows(na, na * nb * dim, |r| {
            let mut best = vec![NONE; r.len()];
            for t0 in (0..nb).step_by(TILE) {
                let t1 = (t0 + TILE).min(nb);
                for (slot, i) in best.iter_mut().zip(r.clone()) {
                    let row = &a[i * dim..(i + 1) * dim];
                    for j in t0..t1 {
                        if groups.is_some_and(|(ga, gb)| ga[i] == gb[j]) {
                            continue;
                        }
                        let d = dot(row, &b[j * dim..(j + 1) * dim]);
                        if d > slot.0 {
                            *slot = (d, j as u32);
                        }
                    }
                }
            }
            best
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors(n: usize, dim: usize, seed: u32) -> Vec<f32> {
        (0..n * dim)
            .map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 1000.0 - 0.5)
            .collect()
    }

    #[test]
    fn fast_and_portable_dots_agree() {
        for n in [0, 1, 7, 8, 15, 16, 17, 384] {
            let a = vectors(1, n, 1);
            let b = vectors(1, n, 2);
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-4, "n={n}");
            assert!((dot_portable(&a, &b) - naive).abs() < 1e-4, "n={n}");
        }
    }

    #[test]
    fn max_dots_match_brute_force_on_one_or_many_threads() {
        for (na, nb) in [(3, 0), (5, 7), (600, 300), (2000, 600)] {
            let dim = 24;
            let (a, b) = (vectors(na, dim, 3), vectors(nb, dim, 4));
            let ga: Vec<u32> = (0..na as u32).map(|i| i % 5).collect();
            let gb: Vec<u32> = (0..nb as u32).map(|i| i % 5).collect();
            for groups in [None, Some((ga.as_slice(), gb.as_slice()))] {
                let got = Cpu.max_dots(&a, &b, dim, groups);
                assert_eq!(got.len(), na);
                for (i, g) in got.iter().enumerate() {
                    let mut want = NONE;
                    for j in 0..nb {
                        if groups.is_some_and(|(x, y)| x[i] == y[j]) {
                            continue;
                        }
                        let d = dot(&a[i * dim..(i + 1) * dim], &b[j * dim..(j + 1) * dim]);
                        if d > want.0 {
                            want = (d, j as u32);
                        }
                    }
                    assert_eq!(*g, want, "row {i} of {na}x{nb}");
                }
            }
        }
        let d = Cpu.dots(&vectors(4, 3, 1), &[1.0, 0.0, 0.0], 3);
        assert_eq!(d.len(), 4);
    }
}
