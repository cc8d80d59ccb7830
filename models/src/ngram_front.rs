//! A hashed n-gram front: each position's input embedding plus learned vectors of the
//! character n-grams that end there, before the first encoder layer.
//!
//! `h_t = x_t + sum_{n=2..=longest} E[bucket(c_{t-n+1} .. c_t)]`: the n-grams a bag of
//! n-grams reads, as embeddings the layers can combine. Only n-grams that end at `t`
//! enter, so a causal row (look-ahead objectives) sees nothing after `t`, and a text's
//! states do not depend on how far its batch is padded. Positions before the text read
//! a start value, so the first n-grams of a text are its prefixes.
//!
//! The bucket is integer arithmetic on token ids that ONNX's `Mul`, `Add` and `Mod`
//! compute identically in an exported graph (see [`bucket_of`]).

use candle_core::{Result, Tensor};
use candle_nn::{Init, VarBuilder};

/// The hash's multiplier and modulus: a prime near 2^20 and the prime 2^31 - 1, so that
/// `hash * MULTIPLIER + value` stays far inside `i64`.
pub const MULTIPLIER: i64 = 1_000_003;
/// See [`MULTIPLIER`].
pub const MODULUS: i64 = 2_147_483_647;

/// The front; absent from an encoder whose `ngram_buckets` is 0.
#[derive(Debug, Clone)]
pub struct NgramFront {
    table: Tensor,
    longest: usize,
}

impl NgramFront {
    /// Creates or loads `weight (buckets, dim)` under `vb`.
    pub fn new(buckets: usize, longest: usize, dim: usize, vb: VarBuilder) -> Result<Self> {
        if buckets == 0 || longest < 2 {
            candle_core::bail!(
                "an n-gram front needs buckets and n-grams of 2 or more characters, got {buckets} and {longest}"
            );
        }
        // The sum of `longest - 1` vectors then has about the spread of one token vector.
        let stdev = 1.0 / ((longest - 1) as f64).sqrt();
        let init = Init::Randn { mean: 0.0, stdev };
        Ok(Self {
            table: vb.get_with_hints((buckets, dim), "weight", init)?,
            longest,
        })
    }

    /// The embedding table `(buckets, dim)`, for export.
    pub fn table(&self) -> &Tensor {
        &self.table
    }

    /// The longest n-gram, in characters.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// `x (batch, seq, dim)` over `tokens (batch, seq)` -> `(batch, seq, dim)`.
    pub fn forward(&self, x: &Tensor, tokens: &Tensor) -> Result<Tensor> {
        let (batch, seq, dim) = x.dims3()?;
        let ids = tokens.to_vec2::<u32>()?;
        let buckets = self.table.dim(0)? as i64;
        let per = self.longest - 1;
        let mut rows = Vec::with_capacity(batch * seq * per);
        for text in &ids {
            for t in 0..seq {
                push_buckets(&mut rows, text, t, self.longest, buckets);
            }
        }
        let rows = Tensor::from_vec(rows, batch * seq * per, x.device())?;
        let grams = self.table.index_select(&rows, 0)?;
        let grams = grams.reshape((batch, seq, per, dim))?.sum(2)?;
        x + grams
    }
}

/// Appends to `out` the buckets of the n-grams of 2 ..= `longest` characters that end
/// at `t` (no allocation per position: this runs for every position of every pass).
fn push_buckets(out: &mut Vec<u32>, text: &[u32], t: usize, longest: usize, buckets: i64) {
    let mut hash = 0;
    for back in 0..longest {
        let value = t.checked_sub(back).map_or(0, |p| text[p] as i64 + 1);
        hash = (hash * MULTIPLIER + value) % MODULUS;
        if back > 0 {
            out.push(bucket_of(hash, back + 1, buckets));
        }
    }
}

/// The bucket of an n-gram of `n` characters whose running hash is `hash`: the length
/// enters too, so that an n-gram and a longer one with start values differ.
pub fn bucket_of(hash: i64, n: usize, buckets: i64) -> u32 {
    (((hash * MULTIPLIER + n as i64) % MODULUS) % buckets) as u32
}
