//! The three ways `xp predict` serves a model: classify names, fill `[MASK]`s, and
//! sample new names from a causal objective.

use crate::encode::Tokenizer;
use crate::model::OnnxModel;
use crate::ServeError;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// One class and its probability.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scored {
    /// Class name, or the character.
    pub label: String,
    /// Softmax probability.
    pub probability: f32,
}

/// The top classes of one name.
#[derive(Debug, Clone, Serialize)]
pub struct Classified {
    /// The name as given.
    pub name: String,
    /// Most probable first.
    pub top: Vec<Scored>,
    /// The name's length is outside the training names' (the model reads it, but
    /// never saw one so long or so short).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub outside_training_lengths: bool,
    /// Tokens of the input the training texts never had, read as `[UNK]`.
    #[serde(skip_serializing_if = "is_zero")]
    pub unknown_tokens: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One input with its `[MASK]`s filled.
#[derive(Debug, Clone, Serialize)]
pub struct Filled {
    /// The input as given.
    pub input: String,
    /// The input with each mask replaced by its most probable character.
    pub filled: String,
    /// Per mask, the top characters.
    pub masks: Vec<Vec<Scored>>,
    /// As in [`Classified`].
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub outside_training_lengths: bool,
    /// As in [`Classified`].
    #[serde(skip_serializing_if = "is_zero")]
    pub unknown_tokens: usize,
}

/// What one input line gave: its prediction, or why it has none. A bad line costs
/// that line only.
pub type Answer<T> = Result<T, ServeError>;

/// Numerically stable softmax of `logits / temperature`.
pub fn softmax(logits: &[f32], temperature: f32) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits
        .iter()
        .map(|&l| ((l - max) / temperature).exp())
        .collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// The `k` best `(index, probability)` of `probs`, most probable first.
fn top_k(probs: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = probs.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.truncate(k);
    ranked
}

/// Classifies `names` with class objective `objective`, in batches of `batch_size`:
/// the top `k` classes of each, or per name why it cannot be read.
pub fn classify(
    model: &mut OnnxModel,
    objective: &str,
    names: &[String],
    k: usize,
    batch_size: usize,
) -> Result<Vec<Answer<Classified>>, ServeError> {
    let (name, served) = model.objective(objective)?;
    let classes = served.classes.clone().ok_or_else(|| {
        ServeError::Input(format!(
            "{name} does not predict classes; try --objective mlm or la"
        ))
    })?;
    if served.segments || served.causal {
        return Err(ServeError::Input(format!(
            "{name} reads pairs of segments or a causal input; xp predict classifies single names"
        )));
    }
    let tokenizer = Tokenizer::new(&model.info)?;
    let rows: Vec<Answer<(Vec<i64>, usize)>> = names
        .iter()
        .map(|n| tokenizer.encode_counted(n, false))
        .collect();
    let mut readable: Vec<(usize, &Vec<i64>)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().ok().map(|(ids, _)| (i, ids)))
        .collect();
    // A batch is padded to its longest name: batches of names of one length pad least.
    // Answers keep the input's order.
    readable.sort_by_key(|(_, r)| r.len());
    let mut answers: Vec<Answer<Classified>> = rows
        .iter()
        .map(|r| match r {
            Ok(_) => Err(ServeError::Input("not predicted".into())),
            Err(e) => Err(e.clone()),
        })
        .collect();
    for chunk in readable.chunks(batch_size.max(1)) {
        let batch: Vec<Vec<i64>> = chunk.iter().map(|(_, r)| (*r).clone()).collect();
        let (ids, batch, _) = tokenizer.pad_rows(&batch, served.cls_first);
        let logits = model.run(&served.output, ids, batch, None)?;
        for (row, (i, tokens)) in logits.values.chunks(classes.len()).zip(chunk) {
            let top = top_k(&softmax(row, 1.0), k)
                .into_iter()
                .map(|(c, p)| Scored {
                    label: classes[c].clone(),
                    probability: p,
                })
                .collect();
            answers[*i] = Ok(Classified {
                name: names[*i].clone(),
                top,
                outside_training_lengths: tokenizer.outside_training(tokens.len()),
                unknown_tokens: rows[*i].as_ref().map_or(0, |(_, unknown)| *unknown),
            });
        }
    }
    Ok(answers)
}

/// Fills each `[MASK]` of `inputs` with the bidirectional token objective `objective`;
/// per input, its filling or why it has none.
pub fn fill_masks(
    model: &mut OnnxModel,
    objective: &str,
    inputs: &[String],
    k: usize,
) -> Result<Vec<Answer<Filled>>, ServeError> {
    let (name, served) = model.objective(objective)?;
    if served.classes.is_some() || served.causal || served.segments {
        return Err(ServeError::Input(format!(
            "{name} does not predict masked characters; try --objective mlm"
        )));
    }
    let tokenizer = Tokenizer::new(&model.info)?;
    let mut out = Vec::new();
    for input in inputs {
        let (row, unknown) = match tokenizer.encode_counted(input, true) {
            Ok((row, unknown)) if row.contains(&tokenizer.mask) => (row, unknown),
            Ok(_) => {
                out.push(Err(ServeError::Input(format!(
                    "{input:?} has no [MASK] to fill; write one, as in Ma[MASK]tin"
                ))));
                continue;
            }
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        let mut filled = fill_one(model, &tokenizer, &served, input, &row, k)?;
        filled.unknown_tokens = unknown;
        out.push(Ok(filled));
    }
    Ok(out)
}

/// The filling of one encoded input.
fn fill_one(
    model: &mut OnnxModel,
    tokenizer: &Tokenizer,
    served: &xp_format::ServedObjective,
    input: &str,
    row: &[i64],
    k: usize,
) -> Result<Filled, ServeError> {
    let (ids, batch, seq) = tokenizer.pad_rows(&[row.to_vec()], served.cls_first);
    let logits = model.run(&served.output, ids.clone(), batch, None)?;
    let vocab = logits.shape.last().copied().unwrap_or(0);
    let mut filled = String::new();
    let mut masks = Vec::new();
    for (t, &id) in ids.iter().enumerate().take(seq) {
        if id == tokenizer.mask {
            let row = &logits.values[t * vocab..(t + 1) * vocab];
            let top: Vec<Scored> = top_k(&char_probs(tokenizer, row, 1.0), k)
                .into_iter()
                .map(|(i, p)| Scored {
                    label: tokenizer.token(i).to_owned(),
                    probability: p,
                })
                .collect();
            filled.push_str(top.first().map(|s| s.label.as_str()).unwrap_or("?"));
            masks.push(top);
        } else if id != tokenizer.cls && id != tokenizer.pad {
            filled.push_str(tokenizer.token(id as usize));
        }
    }
    Ok(Filled {
        input: input.to_owned(),
        filled,
        masks,
        outside_training_lengths: tokenizer.outside_training(row.len()),
        unknown_tokens: 0,
    })
}

/// Softmax over the alphabet's ids only (specials get probability zero).
fn char_probs(tokenizer: &Tokenizer, logits: &[f32], temperature: f32) -> Vec<f32> {
    let masked: Vec<f32> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| match tokenizer.is_special(i) {
            false => l,
            true => f32::NEG_INFINITY,
        })
        .collect();
    softmax(&masked, temperature)
}

/// How to sample names.
#[derive(Debug, Clone)]
pub struct Sampling {
    /// How many names.
    pub count: usize,
    /// Softmax temperature (> 0).
    pub temperature: f32,
    /// Random seed.
    pub seed: u64,
    /// The start of every name (else one random capital letter).
    pub prefix: Option<String>,
    /// Length of each name (else uniform between the corpus's bounds).
    pub length: Option<usize>,
}

/// Samples names character by character from the causal objective `objective`.
///
/// The reference's LA never predicts the first character nor the end of a name, so
/// names start from `prefix` (or a random capital) and stop at a chosen length.
pub fn sample(
    model: &mut OnnxModel,
    objective: &str,
    s: &Sampling,
) -> Result<Vec<String>, ServeError> {
    let (name, served) = model.objective(objective)?;
    if !served.causal {
        return Err(ServeError::Input(format!(
            "{name} is not a causal objective; sample with --objective la"
        )));
    }
    if s.temperature.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return Err(ServeError::Input("--temperature must be above 0".into()));
    }
    let tokenizer = Tokenizer::new(&model.info)?;
    let max_len = model.info.max_len;
    let mut rng = SmallRng::seed_from_u64(s.seed);
    let prefix = s
        .prefix
        .as_deref()
        .map(|p| tokenizer.encode(p, false))
        .transpose()?;
    // Names start with a capital; texts of an alphabet without capitals with any token.
    let mut capitals: Vec<i64> = ('A'..='Z')
        .filter_map(|c| tokenizer.id(c.encode_utf8(&mut [0; 4])))
        .collect();
    if capitals.is_empty() {
        capitals = (0..tokenizer.vocab_size())
            .filter(|&i| !tokenizer.is_special(i))
            .map(|i| i as i64)
            .collect();
    }
    let mut rows: Vec<(Vec<i64>, usize)> = Vec::with_capacity(s.count);
    for _ in 0..s.count {
        let start = match &prefix {
            Some(p) => p.clone(),
            None => vec![capitals[rng.random_range(0..capitals.len())]],
        };
        let low = model.info.min_len.max(start.len()).min(max_len);
        let length = match s.length {
            Some(l) if l > max_len || l < start.len() => {
                return Err(ServeError::Input(format!(
                    "--length {l} is outside {}..={max_len} (prefix length to the model's maximum)",
                    start.len()
                )))
            }
            Some(l) => l,
            None => rng.random_range(low..=max_len),
        };
        rows.push((start, length));
    }
    loop {
        let growing: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].0.len() < rows[i].1)
            .collect();
        if growing.is_empty() {
            break;
        }
        // Rows of one length go together: no padding inside a causal prefix.
        let len = growing.iter().map(|&i| rows[i].0.len()).min().unwrap_or(0);
        let batch: Vec<usize> = growing
            .into_iter()
            .filter(|&i| rows[i].0.len() == len)
            .collect();
        let ids: Vec<i64> = batch.iter().flat_map(|&i| rows[i].0.clone()).collect();
        let logits = model.run(&served.output, ids, batch.len(), None)?;
        let vocab = tokenizer.vocab_size();
        for (b, &i) in batch.iter().enumerate() {
            let last = (b * len + len - 1) * vocab;
            let probs = char_probs(
                &tokenizer,
                &logits.values[last..last + vocab],
                s.temperature,
            );
            rows[i].0.push(draw(&probs, &mut rng) as i64);
        }
    }
    Ok(rows
        .into_iter()
        .map(|(ids, _)| ids.iter().map(|&id| tokenizer.token(id as usize)).collect())
        .collect())
}

/// An index drawn with probabilities `probs`.
fn draw(probs: &[f32], rng: &mut SmallRng) -> usize {
    let mut u: f32 = rng.random();
    for (i, &p) in probs.iter().enumerate() {
        if u < p {
            return i;
        }
        u -= p;
    }
    probs.iter().rposition(|&p| p > 0.0).unwrap_or(0)
}
