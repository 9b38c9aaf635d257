//! `cargo bench -p bubble-compress`: compression time on the two sizes the
//! targets name, a 10k-token bubble and a 100k-token span set, with
//! MiniLM-sized (384) unit vectors drawn deterministically. Prints the
//! minimum, median and maximum of repeated runs. With `--features cuda` and
//! a GPU, also a 100k-unit context (about 2M tokens) on the CPU and on the
//! GPU, and their ratio.

use bubble_compress::{compress_with, Cpu, Kernels, Method, Params, Target, UnitSet};
use std::time::Instant;

const DIM: usize = 384;

/// `units` unit vectors of ~`tokens_per_unit` tokens in groups of `per_group`,
/// from a fixed generator; nearby units share a topic direction, as sentences
/// of one passage do.
fn unit_set(units: usize, per_group: usize) -> (UnitSet, Vec<f32>) {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut set = UnitSet::new(DIM);
    let mut topic: Vec<f32> = vec![0.0; DIM];
    for u in 0..units {
        if u % per_group == 0 {
            topic = (0..DIM).map(|_| next()).collect();
        }
        let v: Vec<f32> = topic.iter().map(|t| t + 0.8 * next()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let v: Vec<f32> = v.iter().map(|x| x / norm).collect();
        let tokens = 12 + (u * 7 % 17) as u32;
        set.push(&v, tokens, (u / per_group) as u32, (u / per_group) as u32)
            .expect("dimension");
    }
    let q: Vec<f32> = (0..DIM).map(|_| next()).collect();
    let norm = q.iter().map(|x| x * x).sum::<f32>().sqrt();
    (set, q.iter().map(|x| x / norm).collect())
}

/// Times `runs` compressions; prints and returns the median milliseconds.
fn time(
    kernels: &dyn Kernels,
    label: &str,
    set: &UnitSet,
    q: &[f32],
    params: &Params,
    runs: usize,
) -> f64 {
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let c = compress_with(kernels, set, q, params).expect("valid parameters");
            std::hint::black_box(c.kept_tokens);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    println!(
        "{label:<52} {:>6} units {:>8} tokens {:>4}  min {:>8.2} ms  p50 {:>8.2} ms  max {:>8.2} ms",
        set.len(),
        set.total_tokens(),
        kernels.name(),
        ms[0],
        ms[ms.len() / 2],
        ms[ms.len() - 1]
    );
    ms[ms.len() / 2]
}

fn main() {
    let (bubble, q) = unit_set(500, 10);
    let (pool, q2) = unit_set(5000, 10);
    for (method, name) in [(Method::Mig, "mig"), (Method::MigFlat, "mig-flat")] {
        let p = |target| Params {
            method,
            target,
            ..Params::default()
        };
        let cases = [
            (
                "10k-token bubble, rate 0.25",
                &bubble,
                &q,
                Target::Rate(0.25),
                101,
            ),
            (
                "10k-token bubble, rate 0.5",
                &bubble,
                &q,
                Target::Rate(0.5),
                101,
            ),
            (
                "100k-token set into 4k tokens",
                &pool,
                &q2,
                Target::Tokens(4000),
                21,
            ),
            (
                "100k-token set, rate 0.25",
                &pool,
                &q2,
                Target::Rate(0.25),
                5,
            ),
        ];
        for (label, set, query, target, runs) in cases {
            time(
                &Cpu,
                &format!("{name}: {label}"),
                set,
                query,
                &p(target),
                runs,
            );
        }
    }
    #[cfg(feature = "cuda")]
    gpu();
}

/// CPU against GPU on a 100k-unit context, into 8k and 100k tokens.
#[cfg(feature = "cuda")]
fn gpu() {
    let gpu = match bubble_compress::kernels::Cuda::new(0) {
        Ok(g) => g,
        Err(e) => {
            println!("no GPU benchmark: {e}");
            return;
        }
    };
    let (big, q) = unit_set(100_000, 10);
    for (label, target) in [
        (
            "mig: 100k-unit context into 8k tokens",
            Target::Tokens(8_000),
        ),
        (
            "mig: 100k-unit context into 100k tokens",
            Target::Tokens(100_000),
        ),
    ] {
        let p = Params {
            target,
            ..Params::default()
        };
        let cpu_ms = time(&Cpu, label, &big, &q, &p, 3);
        let gpu_ms = time(&gpu, label, &big, &q, &p, 5);
        println!("{label:<52} GPU speed-up {:.1}x", cpu_ms / gpu_ms.max(1e-9));
    }
}
