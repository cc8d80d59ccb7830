//! Names to token ids, as training tokenized them: folded, then one id per character.

use crate::model::ModelInfo;
use crate::ServeError;
use std::collections::HashMap;
use xp_format::fold_name;

/// How a `[MASK]` is written in an input name.
pub const MASK_MARK: &str = "[MASK]";

/// Token ids from the model's vocabulary.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    ids: HashMap<char, i64>,
    tokens: Vec<String>,
    /// Lengths of the training names.
    trained: std::ops::RangeInclusive<usize>,
    /// The longest name the positions allow.
    readable_len: usize,
    /// `[PAD]`
    pub pad: i64,
    /// `[CLS]`
    pub cls: i64,
    /// `[MASK]`
    pub mask: i64,
    /// `[SEP]`
    pub sep: i64,
}

impl Tokenizer {
    /// The tokenizer of an exported model.
    pub fn new(info: &ModelInfo) -> Result<Self, ServeError> {
        let special = |name: &str| {
            info.specials.get(name).copied().ok_or_else(|| {
                ServeError::Model(format!(
                    "the model's metadata lacks the special token {name}"
                ))
            })
        };
        let ids = info
            .vocab
            .iter()
            .enumerate()
            .filter(|(_, t)| !info.specials.contains_key(*t))
            .filter_map(|(i, t)| {
                let mut chars = t.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Some((c, i as i64)),
                    _ => None,
                }
            })
            .collect();
        Ok(Self {
            ids,
            tokens: info.vocab.clone(),
            trained: info.min_len..=info.max_len,
            readable_len: info.readable_len,
            pad: special("[PAD]")?,
            cls: special("[CLS]")?,
            mask: special("[MASK]")?,
            sep: special("[SEP]")?,
        })
    }

    /// The characters of `name`, folded as in training; `[MASK]` marks become the mask
    /// id when `masks` allows them.
    pub fn encode(&self, name: &str, masks: bool) -> Result<Vec<i64>, ServeError> {
        let mut ids = Vec::new();
        let pieces: Vec<&str> = if masks {
            name.split(MASK_MARK).collect()
        } else {
            vec![name]
        };
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                ids.push(self.mask);
            }
            for c in fold_name(piece).chars() {
                let id = self.ids.get(&c).ok_or_else(|| {
                    ServeError::Input(format!(
                        "{name:?}: character {c:?} is not in the model's vocabulary \
                         (it never occurs in the training corpus); remove or replace it"
                    ))
                })?;
                ids.push(*id);
            }
        }
        if ids.is_empty() {
            return Err(ServeError::Input(format!(
                "{name:?} has no character the model reads (after folding to ASCII letters \
                 and \" .,;'\"); give a non-empty name"
            )));
        }
        if ids.len() > self.readable_len {
            return Err(ServeError::Input(format!(
                "{name:?} has {} characters; the model reads at most {} (its positions end there)",
                ids.len(),
                self.readable_len
            )));
        }
        Ok(ids)
    }

    /// Whether `len` characters are outside the training names' lengths.
    pub fn outside_training(&self, len: usize) -> bool {
        !self.trained.contains(&len)
    }

    /// The token string of `id`.
    pub fn token(&self, id: usize) -> &str {
        self.tokens.get(id).map(String::as_str).unwrap_or("?")
    }

    /// Number of token ids.
    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// The id of character `c`, if the vocabulary has it.
    pub fn id(&self, c: char) -> Option<i64> {
        self.ids.get(&c).copied()
    }

    /// Rows padded to the longest (after an optional `[CLS]`): `(ids, batch, seq)`.
    pub fn pad_rows(&self, rows: &[Vec<i64>], cls_first: bool) -> (Vec<i64>, usize, usize) {
        let start = usize::from(cls_first);
        let seq = start + rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(rows.len() * seq);
        for row in rows {
            if cls_first {
                ids.push(self.cls);
            }
            ids.extend_from_slice(row);
            ids.resize(ids.len() + seq - start - row.len(), self.pad);
        }
        (ids, rows.len(), seq)
    }
}
