//! Encoder throughput on one device, for `scripts/gpu-check`:
//! `cargo run --release -p bubble-index --example encode_speed [--features cuda] -- cpu|cuda OUT.f32`.
//! Embeds 4,096 paragraph-length texts (block vectors and unit vectors,
//! as indexing does), prints texts per second, and writes the vectors so
//! that two runs (CPU, GPU) can be compared.

use bubble_index::{find_models_dir, Device, Embedder, UnitText};
use std::io::Write;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let device = match args.next().as_deref() {
        Some("cuda") => Device::Cuda,
        _ => Device::Cpu,
    };
    let out = args.next();
    let dir = find_models_dir(None).expect("models (run scripts/setup)");
    let e = Embedder::load_on(&dir, 16, device).expect("model");
    let words = [
        "the",
        "service",
        "credit",
        "applies",
        "when",
        "monthly",
        "uptime",
        "falls",
        "below",
        "commitment",
        "customers",
        "request",
        "within",
        "thirty",
        "days",
        "invoice",
        "plan",
        "business",
        "support",
        "response",
        "region",
        "data",
        "retention",
        "policy",
        "travel",
    ];
    let texts: Vec<UnitText> = (0..4096)
        .map(|i| {
            let sentences: Vec<String> = (0..4)
                .map(|s| {
                    let n = 12 + (i * 7 + s * 5) % 20;
                    let body: Vec<&str> = (0..n)
                        .map(|k| words[(i * 31 + s * 17 + k * 13) % words.len()])
                        .collect();
                    format!("Sentence {s} of text {i}: {}.", body.join(" "))
                })
                .collect();
            let text = sentences.join(" ");
            let mut units = Vec::new();
            let mut at = 0;
            for s in &sentences {
                units.push(at..at + s.len());
                at += s.len() + 1;
            }
            UnitText {
                context: format!("Document {}", i % 50),
                text,
                units,
            }
        })
        .collect();
    let t = Instant::now();
    let vectors = e.embed_units(&texts, true).expect("embed");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{:?}: {} texts in {secs:.2} s, {:.0} texts/s",
        device,
        texts.len(),
        texts.len() as f64 / secs
    );
    if let Some(path) = out {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("output file"));
        for v in vectors
            .iter()
            .flat_map(|x| std::iter::once(&x.vector).chain(&x.units))
        {
            for x in v {
                f.write_all(&x.to_le_bytes()).expect("write");
            }
        }
    }
}
