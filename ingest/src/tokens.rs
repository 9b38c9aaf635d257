//! Token counting in the caller's tokenizer.
//!
//! Budgets are promises in the caller's model's tokens, so every count in the
//! index and in a bubble comes from one [`TokenCounter`], chosen by name:
//! `cl100k_base` (default), `o200k_base`, `p50k_base`, `r50k_base` (all
//! embedded in the binary), or the path of a HuggingFace `tokenizer.json`.

use crate::IngestError;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use tiktoken_rs::CoreBPE;

/// The default tokenizer name.
pub const DEFAULT_TOKENIZER: &str = "cl100k_base";

/// Counts tokens of text. Cheap to clone.
#[derive(Clone)]
pub struct TokenCounter {
    name: String,
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    Tiktoken(&'static CoreBPE),
    HuggingFace(Arc<tokenizers::Tokenizer>),
}

impl fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenCounter({})", self.name)
    }
}

impl TokenCounter {
    /// Loads a tokenizer by name, or from a `tokenizer.json` path.
    pub fn by_name(name: &str) -> Result<TokenCounter, IngestError> {
        let engine = match name {
            "cl100k_base" => Engine::Tiktoken(tiktoken_rs::cl100k_base_singleton()),
            "o200k_base" => Engine::Tiktoken(tiktoken_rs::o200k_base_singleton()),
            "p50k_base" => Engine::Tiktoken(tiktoken_rs::p50k_base_singleton()),
            "r50k_base" => Engine::Tiktoken(tiktoken_rs::r50k_base_singleton()),
            path if path.ends_with(".json") && Path::new(path).is_file() => {
                let fail = |e: tokenizers::Error| IngestError::Tokenizer {
                    name: name.to_string(),
                    detail: e.to_string(),
                };
                let mut tok = tokenizers::Tokenizer::from_file(path).map_err(fail)?;
                // A model's tokenizer.json often truncates to its window
                // (MiniLM: 128): a count must see the whole text.
                tok.with_truncation(None).map_err(fail)?;
                tok.with_padding(None);
                Engine::HuggingFace(Arc::new(tok))
            }
            _ => {
                return Err(IngestError::Tokenizer {
                    name: name.to_string(),
                    detail: "expected cl100k_base, o200k_base, p50k_base, r50k_base \
                             or the path of an existing tokenizer.json"
                        .to_string(),
                })
            }
        };
        Ok(TokenCounter {
            name: name.to_string(),
            engine,
        })
    }

    /// The default counter (`cl100k_base`).
    pub fn default_counter() -> TokenCounter {
        TokenCounter {
            name: DEFAULT_TOKENIZER.to_string(),
            engine: Engine::Tiktoken(tiktoken_rs::cl100k_base_singleton()),
        }
    }

    /// The name it was loaded by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of tokens in `text`, as the model would see it (no special tokens added).
    pub fn count(&self, text: &str) -> usize {
        match &self.engine {
            Engine::Tiktoken(bpe) => bpe.encode_ordinary(text).len(),
            // A tokenizer that fails on some text is counted by bytes: an
            // over-estimate never breaks a budget.
            Engine::HuggingFace(tok) => tok
                .encode(text, false)
                .map(|e| e.len())
                .unwrap_or(text.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiktoken_counts_known_text() {
        let c = TokenCounter::by_name("cl100k_base").unwrap();
        assert_eq!(c.count("hello world"), 2);
        assert_eq!(c.count(""), 0);
        assert!(
            TokenCounter::by_name("o200k_base")
                .unwrap()
                .count("hello world")
                >= 2
        );
    }

    #[test]
    fn unknown_tokenizer_is_a_clear_error() {
        let err = TokenCounter::by_name("gpt-17").unwrap_err().to_string();
        assert!(err.contains("cl100k_base"), "{err}");
    }
}
