//! The embedding model: all-MiniLM-L6-v2 through fastembed on ONNX Runtime,
//! loaded from a local folder (never downloaded).
//!
//! ONNX Runtime is a shared library loaded at run time (`ort` load-dynamic):
//! a missing library must be an error, not the panic `ort` raises inside
//! session creation, so we load it explicitly with `ort::init_from` first.

use crate::error::{IndexError, IoContext};
use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Folder of the model inside the models directory.
pub const MODEL_DIR: &str = "all-MiniLM-L6-v2";
/// The ONNX Runtime library inside the models directory.
pub const ORT_LIB: &str = "onnxruntime/libonnxruntime.so";
/// MiniLM was trained on 256-token inputs; longer ones only cost time.
const MAX_LENGTH: usize = 256;
const BATCH: usize = 64;

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
    model: Mutex<TextEmbedding>,
    id: String,
    dim: usize,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedder({}, dim {})", self.id, self.dim)
    }
}

impl Embedder {
    /// Loads the model from `models_dir`, with at most `threads` ONNX Runtime threads.
    pub fn load(models_dir: &Path, threads: usize) -> Result<Embedder, IndexError> {
        let lib = models_dir.join(ORT_LIB);
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
        let opts = InitOptionsUserDefined::new()
            .with_max_length(MAX_LENGTH)
            .with_intra_threads(threads.max(1));
        let mut model = TextEmbedding::try_new_from_user_defined(model, opts)
            .map_err(|e| IndexError::Model(e.to_string()))?;
        let probe = model
            .embed(["probe"], None)
            .map_err(|e| IndexError::Model(e.to_string()))?;
        let dim = probe.first().map_or(0, Vec::len);
        Ok(Embedder {
            model: Mutex::new(model),
            id,
            dim,
        })
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
        // A poisoned lock only means another embedding call panicked; the
        // model itself holds no state between calls.
        let mut model = self.model.lock().unwrap_or_else(|p| p.into_inner());
        // Batches are padded to their longest text: embedding in length order
        // keeps similar lengths together and cuts the padding the model computes.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| (texts[i].len(), i));
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for batch in order.chunks(BATCH) {
            let chunk: Vec<&str> = batch.iter().map(|&i| texts[i].as_str()).collect();
            let vectors = model
                .embed(&chunk, Some(BATCH))
                .map_err(|e| IndexError::Model(e.to_string()))?;
            for (&i, v) in batch.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// Embeds one query.
    pub fn embed_query(&self, query: &str) -> Result<Vec<f32>, IndexError> {
        self.embed(&[query.to_string()])?
            .pop()
            .ok_or_else(|| IndexError::Model("no vector returned".into()))
    }
}
