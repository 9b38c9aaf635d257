//! The embedding model: all-MiniLM-L6-v2 through fastembed on ONNX Runtime,
//! loaded from a local folder (never downloaded).
//!
//! Besides one vector per text, [`Embedder::embed_units`] gives each unit of
//! a block (a sentence, a clause) a vector of its own from the same forward
//! pass: the mean of the model's token states over the unit's tokens. The
//! states are computed anyway for the block's vector, so compression gets
//! sentence vectors without a second encoder pass over the block; only the
//! units past the model's window, which the block pass never reads, take a
//! continuation pass of their own.
//!
//! ONNX Runtime is a shared library loaded at run time (`ort` load-dynamic):
//! a missing library must be an error, not the panic `ort` raises inside
//! session creation, so we load it explicitly with `ort::init_from` first.

use crate::error::{IndexError, IoContext};
use crate::pooling::{token_states, MAX_LENGTH};
pub use crate::windows::{BlockText, Embedded, SectionText, UnitText};
use crate::windows::{Pass, Read};
use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Folder of the model inside the models directory.
pub const MODEL_DIR: &str = "all-MiniLM-L6-v2";
/// The ONNX Runtime library inside the models directory.
pub const ORT_LIB: &str = "onnxruntime/libonnxruntime.so";
/// ONNX Runtime with its CUDA provider, fetched by `scripts/setup --gpu`.
pub const ORT_GPU_LIB: &str = "gpu/onnxruntime/libonnxruntime.so";

/// Where the encoder runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// ONNX Runtime on the CPU.
    #[default]
    Cpu,
    /// ONNX Runtime's CUDA provider (a build with the `cuda` feature, and the
    /// GPU build of ONNX Runtime from `scripts/setup --gpu`).
    Cuda,
}
/// Inputs per encoder call on the CPU. Small batches are faster here: the
/// Node.js manual's windows, in batches sorted by length, took 68 to 75 s
/// at 1 to 4 inputs a call, 80 s at 16 and 121 s at 64, and ONNX Runtime's
/// arena grew with the batch (peak RSS 0.49 GB at 4, 2.35 GB at 64).
const CPU_BATCH: usize = 4;
/// Inputs per encoder call on a GPU, which needs wide batches to be busy.
const GPU_BATCH: usize = 64;

/// Finds the models directory: `explicit` (from `--models`), else
/// `$BUBBLE_MODELS`, else a `models/` folder next to the executable or in one
/// of its ancestors (so `target/release/bubble` finds the repo's), else
/// `./models`. Returns the first that exists.
pub fn find_models_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("BUBBLE_MODELS").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let exe_ancestors = std::env::current_exe().ok().into_iter().flat_map(|exe| {
        exe.ancestors()
            .skip(1)
            .map(Path::to_path_buf)
            .collect::<Vec<_>>()
    });
    exe_ancestors
        .chain(std::env::current_dir().ok())
        .map(|d| d.join("models"))
        .find(|d| d.join(MODEL_DIR).is_dir())
}

/// A loaded text embedding model. `embed` is serialised by a mutex because
/// fastembed needs `&mut`; callers on an async runtime must call it from a
/// blocking thread.
pub struct Embedder {
    backend: Backend,
    id: String,
    dim: usize,
    batch: usize,
    /// Recent query vectors, when a server asked for them
    /// ([`Embedder::with_query_cache`]): a repeated question skips the model.
    queries: Option<Mutex<lru::LruCache<String, Vec<f32>>>>,
}

/// What makes the vectors.
enum Backend {
    /// The ONNX model (boxed: it is large, and the embedder is moved around).
    Model(Box<Mutex<TextEmbedding>>),
    /// Seeded pseudo-random unit vectors from each text's hash: no meaning,
    /// the model's shape and cost of storage and search, for measuring the
    /// index at sizes the model would take hours to embed (`eval scale`).
    Synthetic,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedder({}, dim {})", self.id, self.dim)
    }
}

impl Embedder {
    /// Loads the model from `models_dir`, with at most `threads` ONNX Runtime threads.
    pub fn load(models_dir: &Path, threads: usize) -> Result<Embedder, IndexError> {
        Embedder::load_on(models_dir, threads, Device::Cpu)
    }

    /// Loads the model to run on `device`. The model id does not depend on
    /// the device: vectors from either agree to rounding.
    pub fn load_on(
        models_dir: &Path,
        threads: usize,
        device: Device,
    ) -> Result<Embedder, IndexError> {
        let lib = models_dir.join(match device {
            Device::Cpu => ORT_LIB,
            Device::Cuda => ORT_GPU_LIB,
        });
        let model_dir = models_dir.join(MODEL_DIR);
        if !lib.is_file() || !model_dir.join("model.onnx").is_file() {
            return Err(IndexError::Model(format!(
                "no model in {} (run scripts/setup, or pass --models DIR)",
                models_dir.display()
            )));
        }
        let lib = lib.canonicalize().io("resolving", &lib)?;
        ort::init_from(&lib)
            .map_err(|e| IndexError::Model(format!("loading {}: {e}", lib.display())))?;
        let read =
            |name: &str| std::fs::read(model_dir.join(name)).io("reading", model_dir.join(name));
        let onnx = read("model.onnx")?;
        let id = format!("{MODEL_DIR}@{}", &blake3::hash(&onnx).to_hex()[..12]);
        let files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        let model = UserDefinedEmbeddingModel::new(onnx, files).with_pooling(Pooling::Mean);
        let opts = with_device(
            InitOptionsUserDefined::new()
                .with_max_length(MAX_LENGTH)
                .with_intra_threads(threads.max(1)),
            device,
        )?;
        let mut model = TextEmbedding::try_new_from_user_defined(model, opts)
            .map_err(|e| IndexError::Model(e.to_string()))?;
        let probe = model
            .embed(["probe"], None)
            .map_err(|e| IndexError::Model(e.to_string()))?;
        let dim = probe.first().map_or(0, Vec::len);
        Ok(Embedder {
            backend: Backend::Model(Box::new(Mutex::new(model))),
            id,
            dim,
            batch: match device {
                Device::Cpu => CPU_BATCH,
                Device::Cuda => GPU_BATCH,
            },
            queries: None,
        })
    }

    /// An embedder of synthetic vectors of dimension `dim` ([`Backend`]'s
    /// `Synthetic`): the same text always gets the same unit vector. Its id
    /// says so, so an index of synthetic vectors is never mistaken for one
    /// of the model's.
    pub fn synthetic(dim: usize) -> Embedder {
        Embedder {
            backend: Backend::Synthetic,
            id: format!("synthetic-{dim}"),
            dim,
            batch: CPU_BATCH,
            queries: None,
        }
    }

    /// Keeps the vectors of the last `n` distinct queries (0: none). The
    /// model is deterministic, so a cached vector is the one it would give.
    pub fn with_query_cache(mut self, n: usize) -> Embedder {
        self.queries = std::num::NonZeroUsize::new(n).map(|n| Mutex::new(lru::LruCache::new(n)));
        self
    }

    /// The unit vector a synthetic embedder gives `text`.
    fn synthetic_vector(&self, text: &str) -> Vec<f32> {
        let mut bytes = vec![0u8; self.dim * 2];
        blake3::Hasher::new()
            .update(text.as_bytes())
            .finalize_xof()
            .fill(&mut bytes);
        let v: Vec<f32> = bytes
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
        v.into_iter().map(|x| x / norm).collect()
    }

    /// The model id recorded in manifests: name and a hash of the weights.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Embeds texts; vectors are L2-normalised, so a dot product is a cosine.
    pub fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, IndexError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let model = match &self.backend {
            Backend::Model(model) => model,
            Backend::Synthetic => {
                return Ok(texts.iter().map(|t| self.synthetic_vector(t)).collect())
            }
        };
        // A poisoned lock only means another embedding call panicked; the
        // model itself holds no state between calls.
        let mut model = model.lock().unwrap_or_else(|p| p.into_inner());
        // Batches are padded to their longest text: embedding in length order
        // keeps similar lengths together and cuts the padding the model computes.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| (texts[i].len(), i));
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for batch in order.chunks(self.batch) {
            let chunk: Vec<&str> = batch.iter().map(|&i| texts[i].as_str()).collect();
            let vectors = model
                .embed(&chunk, Some(self.batch))
                .map_err(|e| IndexError::Model(e.to_string()))?;
            for (&i, v) in batch.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// Embeds blocks, each on its own, and gives every unit of each a vector
    /// pooled from the block's own token states. A block's vector is
    /// exactly what [`Embedder::embed`] gives for `"{context}: {text}"`.
    /// With `continuation`, units past the model's window are embedded in
    /// continuation windows (`"{context}: {unit} {unit}…"`), packed as full
    /// as the window allows; without, they stand in with the block's vector.
    pub fn embed_units(
        &self,
        blocks: &[UnitText],
        continuation: bool,
    ) -> Result<Vec<Embedded>, IndexError> {
        let sections: Vec<SectionText> = blocks
            .iter()
            .map(|b| SectionText {
                context: b.context.clone(),
                blocks: vec![BlockText {
                    text: b.text.clone(),
                    units: b.units.clone(),
                    max_tokens: None,
                }],
            })
            .collect();
        Ok(self
            .embed_sections(&sections, continuation)?
            .into_iter()
            .flatten()
            .collect())
    }

    /// Embeds sections: each section's blocks share windows of up to 256
    /// tokens with its heading context read once (`windows.rs`), and every
    /// block and unit gets a vector pooled from its own tokens. A block with
    /// a window to itself gets what [`Embedder::embed_units`] gives it.
    /// Returns, per section, one [`Embedded`] per block.
    pub fn embed_sections(
        &self,
        sections: &[SectionText],
        continuation: bool,
    ) -> Result<Vec<Vec<Embedded>>, IndexError> {
        let model = match &self.backend {
            Backend::Model(model) => model,
            Backend::Synthetic => return Ok(self.synthetic_sections(sections)),
        };
        let mut model = model.lock().unwrap_or_else(|p| p.into_inner());
        let flat: Vec<(&str, &BlockText)> = sections
            .iter()
            .flat_map(|s| s.blocks.iter().map(move |b| (s.context.as_str(), b)))
            .collect();
        let mut out: Vec<Embedded> = flat
            .iter()
            .map(|(_, b)| Embedded {
                vector: Vec::new(),
                units: vec![Vec::new(); b.units.len()],
            })
            .collect();
        let mut passes: Vec<Pass> = Vec::new();
        let mut first_block = 0;
        for s in sections {
            let context = read(&model, &format!("{}:", s.context), None)?.tokens;
            let reads = s
                .blocks
                .iter()
                .map(|b| read(&model, &b.text, b.max_tokens))
                .collect::<Result<Vec<_>, _>>()?;
            passes.extend(Pass::windows(first_block, s, context, &reads));
            first_block += s.blocks.len();
        }
        while !passes.is_empty() {
            let mut leftover: Vec<(usize, Vec<usize>)> = Vec::new();
            let mut order: Vec<usize> = (0..passes.len()).collect();
            order.sort_by_key(|&i| (passes[i].tokens, i));
            for batch in order.chunks(self.batch) {
                let texts: Vec<&str> = batch.iter().map(|&i| passes[i].text.as_str()).collect();
                let states = token_states(&mut model, &texts)?;
                for (&i, st) in batch.iter().zip(states) {
                    let pass = &passes[i];
                    let shared = pass.members.len() > 1;
                    for m in &pass.members {
                        let block = &mut out[m.block];
                        if m.first {
                            block.vector = if shared {
                                st.member_vector(pass.prefix, &m.range)
                            } else {
                                st.block_vector()
                            };
                        }
                        let mut missed = Vec::new();
                        for (unit, range) in &m.units {
                            let v = st.unit_vector(range);
                            if !v.is_empty() {
                                block.units[*unit] = v;
                            } else if st.truncated {
                                missed.push(*unit);
                            }
                        }
                        // A continuation that covers none of its units would repeat forever.
                        let progressed = missed.first() != m.units.first().map(|(u, _)| u);
                        if continuation && !missed.is_empty() && (m.first || progressed) {
                            leftover.push((m.block, missed));
                        }
                    }
                }
            }
            passes = leftover
                .into_iter()
                .map(|(block, units)| {
                    let (context, b) = flat[block];
                    Pass::continuation(block, context, b, &units, |text| {
                        read(&model, text, None).map_or(MAX_LENGTH, |r| r.tokens + 2)
                    })
                })
                .collect();
        }
        // A unit no pass gave a token (only possible for text the tokenizer
        // drops entirely) stands in with its block's vector.
        for e in &mut out {
            for u in &mut e.units {
                if u.is_empty() {
                    u.clone_from(&e.vector);
                }
            }
        }
        let mut rest = out.into_iter();
        Ok(sections
            .iter()
            .map(|s| rest.by_ref().take(s.blocks.len()).collect())
            .collect())
    }

    fn synthetic_sections(&self, sections: &[SectionText]) -> Vec<Vec<Embedded>> {
        sections
            .iter()
            .map(|s| {
                s.blocks
                    .iter()
                    .map(|b| Embedded {
                        vector: self.synthetic_vector(&format!("{}: {}", s.context, b.text)),
                        units: b
                            .units
                            .iter()
                            .map(|r| self.synthetic_vector(b.text.get(r.clone()).unwrap_or("")))
                            .collect(),
                    })
                    .collect()
            })
            .collect()
    }

    /// Embeds one query.
    pub fn embed_query(&self, query: &str) -> Result<Vec<f32>, IndexError> {
        let cache = self.queries.as_ref();
        if let Some(v) = cache.and_then(|c| {
            c.lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(query)
                .cloned()
        }) {
            return Ok(v);
        }
        let v = self
            .embed(&[query.to_string()])?
            .pop()
            .ok_or_else(|| IndexError::Model("no vector returned".into()))?;
        if let Some(c) = cache {
            c.lock()
                .unwrap_or_else(|p| p.into_inner())
                .put(query.to_string(), v.clone());
        }
        Ok(v)
    }
}

/// How much of `text` the model reads: its tokens in the model's tokenizer
/// (no special tokens; at most the model's window, where the tokenizer
/// truncates), cut at `max_tokens`.
fn read(model: &TextEmbedding, text: &str, max_tokens: Option<usize>) -> Result<Read, IndexError> {
    let enc = model
        .tokenizer
        .encode(text, false)
        .map_err(|e| IndexError::Model(e.to_string()))?;
    let all = Read {
        tokens: enc.len(),
        bytes: text.len(),
    };
    Ok(match max_tokens.filter(|&m| m > 0 && m < enc.len()) {
        Some(m) => Read {
            tokens: m,
            bytes: enc.get_offsets().get(m - 1).map_or(text.len(), |o| o.1),
        },
        None => all,
    })
}

/// Asks for the CUDA provider (an error if it cannot load, rather than a
/// silent fall-back to the CPU).
#[cfg(feature = "cuda")]
fn with_device(
    opts: InitOptionsUserDefined,
    device: Device,
) -> Result<InitOptionsUserDefined, IndexError> {
    Ok(match device {
        Device::Cpu => opts,
        Device::Cuda => {
            opts.with_execution_providers(vec![ort::ep::CUDA::default().build().error_on_failure()])
        }
    })
}

#[cfg(not(feature = "cuda"))]
fn with_device(
    opts: InitOptionsUserDefined,
    device: Device,
) -> Result<InitOptionsUserDefined, IndexError> {
    match device {
        Device::Cpu => Ok(opts),
        Device::Cuda => Err(IndexError::Model(
            "this build has no GPU support: build with --features cuda".into(),
        )),
    }
}
