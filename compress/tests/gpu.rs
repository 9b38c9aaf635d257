//! The GPU kernels give the CPU's results within 1e-4. Runs only with the
//! `cuda` feature and a GPU; `BUBBLE_REQUIRE_GPU=1` makes a missing GPU a
//! failure (scripts/gpu-check sets it).
#![cfg(feature = "cuda")]

use bubble_compress::kernels::{Cuda, Kernels};
use bubble_compress::{compress_with, Cpu, Fate, Method, Params, Target, UnitSet};

fn gpu() -> Option<Cuda> {
    match Cuda::new(0) {
        Ok(g) => Some(g),
        Err(e) => {
            assert!(
                std::env::var("BUBBLE_REQUIRE_GPU").as_deref() != Ok("1"),
                "GPU required: {e}"
            );
            eprintln!("skipping GPU test: {e}");
            None
        }
    }
}

fn vectors(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let v: Vec<f32> = (0..dim)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        out.extend(v.iter().map(|x| x / norm));
    }
    out
}

#[test]
fn gpu_kernels_match_the_cpu() {
    let Some(g) = gpu() else { return };
    let dim = 384;
    let (a, b) = (vectors(20_000, dim, 1), vectors(700, dim, 2));
    let q = vectors(1, dim, 3);
    let (cd, gd) = (Cpu.dots(&a, &q, dim), g.dots(&a, &q, dim));
    assert_eq!(cd.len(), gd.len());
    for (x, y) in cd.iter().zip(&gd) {
        assert!((x - y).abs() < 1e-4, "{x} vs {y}");
    }
    let ga: Vec<u32> = (0..20_000).map(|i| i % 50).collect();
    let gb: Vec<u32> = (0..700).map(|i| i % 50).collect();
    for groups in [None, Some((ga.as_slice(), gb.as_slice()))] {
        let (c, m) = (
            Cpu.max_dots(&a, &b, dim, groups),
            g.max_dots(&a, &b, dim, groups),
        );
        assert_eq!(c.len(), m.len());
        for (x, y) in c.iter().zip(&m) {
            assert!((x.0 - y.0).abs() < 1e-4, "{x:?} vs {y:?}");
            // The same row, unless two rows are equally close within rounding.
            if x.1 != y.1 {
                let other = &b[y.1 as usize * dim..(y.1 as usize + 1) * dim];
                let row = c.iter().position(|z| z == x).unwrap();
                let d = bubble_compress::kernels::dot(&a[row * dim..(row + 1) * dim], other);
                assert!((d - x.0).abs() < 1e-4);
            }
        }
    }
}

#[test]
fn a_compression_on_the_gpu_decides_as_on_the_cpu() {
    let Some(g) = gpu() else { return };
    let dim = 384;
    let v = vectors(30_000, dim, 7);
    let mut set = UnitSet::new(dim);
    for u in 0..30_000 {
        set.push(
            &v[u * dim..(u + 1) * dim],
            10 + (u % 20) as u32,
            (u / 12) as u32,
            (u / 4) as u32,
        )
        .unwrap();
    }
    let q = vectors(1, dim, 8);
    for method in [Method::Mig, Method::MigFlat] {
        let p = Params {
            method,
            target: Target::Tokens(6_000),
            merge_threshold: Some(0.2),
            ..Params::default()
        };
        let (c, m) = (
            compress_with(&Cpu, &set, &q, &p).unwrap(),
            compress_with(&g, &set, &q, &p).unwrap(),
        );
        let same = c
            .units
            .iter()
            .zip(&m.units)
            .filter(|(x, y)| x.fate == y.fate)
            .count();
        assert!(
            same as f64 >= 0.999 * c.units.len() as f64,
            "{method:?}: {same} of {} agree",
            c.units.len()
        );
        for (x, y) in c.units.iter().zip(&m.units) {
            assert!((x.rel - y.rel).abs() < 1e-4);
            if x.fate == y.fate && x.fate != Fate::Dropped {
                assert!((x.red - y.red).abs() < 1e-4);
            }
        }
    }
}
