//! The model's token states with each token's byte range, and mean pooling
//! over a block's or a unit's tokens (the inputs are in `windows.rs`).

use crate::error::IndexError;
use fastembed::TextEmbedding;
use std::ops::Range;

/// Tokens the model reads at most (fastembed truncates there): MiniLM was
/// trained on 256-token inputs, and longer ones only cost time.
pub(crate) const MAX_LENGTH: usize = 256;

/// The model's last hidden states of one text, with each token's byte
/// range in the text (special and padding tokens left out).
pub(crate) struct TokenStates {
    dim: usize,
    /// (byte range, state) of every real token.
    tokens: Vec<(Range<usize>, Vec<f32>)>,
    /// Every position the mask counts (real and special tokens), for the
    /// block vector exactly as fastembed's mean pooling computes it.
    all: Vec<f32>,
    counted: usize,
    /// The positions left out of `tokens` (special tokens), summed.
    special: Vec<f32>,
    special_counted: usize,
    pub(crate) truncated: bool,
}

impl TokenStates {
    /// The block's vector: fastembed's mean pooling over every position the
    /// attention mask counts (special tokens included), normalised.
    pub(crate) fn block_vector(&self) -> Vec<f32> {
        normalised_mean(self.all.clone(), self.counted)
    }

    /// The vector of one block of a window shared by several: the mean
    /// over the special tokens, the shared heading prefix (the first
    /// `prefix` bytes) and the block's own tokens (those starting inside
    /// `range`), which is what the block's vector would pool if it had the
    /// window to itself, but with token states that have read its neighbours.
    pub(crate) fn member_vector(&self, prefix: usize, range: &Range<usize>) -> Vec<f32> {
        let (sum, n) = self.sum_where(self.special.clone(), self.special_counted, |start| {
            start < prefix || range.contains(&start)
        });
        normalised_mean(sum, n)
    }

    /// The normalised mean state of the tokens starting inside `range`
    /// (empty when none does).
    pub(crate) fn unit_vector(&self, range: &Range<usize>) -> Vec<f32> {
        let (sum, n) = self.sum_where(vec![0.0f32; self.dim], 0, |start| range.contains(&start));
        normalised_mean(sum, n)
    }

    fn sum_where(
        &self,
        mut sum: Vec<f32>,
        mut n: usize,
        take: impl Fn(usize) -> bool,
    ) -> (Vec<f32>, usize) {
        for (r, state) in &self.tokens {
            if take(r.start) {
                for (a, x) in sum.iter_mut().zip(state) {
                    *a += x;
                }
                n += 1;
            }
        }
        (sum, n)
    }
}

fn normalised_mean(mut sum: Vec<f32>, n: usize) -> Vec<f32> {
    if n == 0 {
        return Vec::new();
    }
    for a in &mut sum {
        *a /= n as f32;
    }
    // The same epsilon fastembed's normalisation adds.
    let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt() + 1e-12;
    sum.iter().map(|x| x / norm).collect()
}

/// Runs one batch through the model and returns each text's token states.
/// The batch is tokenised by the model's own tokenizer with the settings
/// fastembed uses (padding to the longest, truncation at the window), so
/// positions here are positions in the model's input.
pub(crate) fn token_states(
    model: &mut TextEmbedding,
    texts: &[&str],
) -> Result<Vec<TokenStates>, IndexError> {
    let err = |e: String| IndexError::Model(e);
    let encodings = model
        .tokenizer
        .encode_batch(texts.to_vec(), true)
        .map_err(|e| err(e.to_string()))?;
    let output = model
        .transform(texts, Some(texts.len().max(1)))
        .map_err(|e| err(e.to_string()))?;
    let mut out = Vec::with_capacity(texts.len());
    let mut batches = output.into_raw();
    let batch = batches
        .pop()
        .filter(|_| batches.is_empty())
        .ok_or_else(|| err("expected one output batch".into()))?;
    let value = batch
        .outputs
        .iter()
        .find(|(name, _)| name == "last_hidden_state")
        .or_else(|| (batch.outputs.len() == 1).then(|| &batch.outputs[0]))
        .map(|(_, v)| v)
        .ok_or_else(|| err("the model has no last_hidden_state output".into()))?;
    let (shape, data) = value
        .try_extract_tensor::<f32>()
        .map_err(|e| err(e.to_string()))?;
    let dims: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    let [b, seq, dim] = dims[..] else {
        return Err(err(format!("unexpected hidden state shape {dims:?}")));
    };
    if b != texts.len() || data.len() != b * seq * dim {
        return Err(err(format!(
            "hidden states of shape {dims:?} for {} texts",
            texts.len()
        )));
    }
    for (i, enc) in encodings.iter().enumerate() {
        let mask = enc.get_attention_mask();
        let special = enc.get_special_tokens_mask();
        let offsets = enc.get_offsets();
        let mut all = vec![0.0f32; dim];
        let mut counted = 0;
        let mut special_sum = vec![0.0f32; dim];
        let mut special_counted = 0;
        let mut tokens = Vec::new();
        for p in 0..seq.min(mask.len()) {
            if mask[p] == 0 {
                continue;
            }
            let state = &data[(i * seq + p) * dim..(i * seq + p + 1) * dim];
            for (a, x) in all.iter_mut().zip(state) {
                *a += x;
            }
            counted += 1;
            let (start, end) = offsets[p];
            if special[p] == 0 && end > start {
                tokens.push((start..end, state.to_vec()));
            } else {
                for (a, x) in special_sum.iter_mut().zip(state) {
                    *a += x;
                }
                special_counted += 1;
            }
        }
        out.push(TokenStates {
            dim,
            tokens,
            all,
            counted,
            special: special_sum,
            special_counted,
            truncated: counted >= MAX_LENGTH,
        });
    }
    Ok(out)
}
