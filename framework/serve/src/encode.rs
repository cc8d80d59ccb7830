//! Texts to token ids, as training tokenized them: normalised by the model's rule, cut
//! into its tokens, each looked up in its vocabulary (`[UNK]` for one it lacks, where it
//! has one).

use crate::model::ModelInfo;
use crate::ServeError;
use std::collections::HashMap;
use xp_format::{Normalization, CLS, MASK, PAD, SEP, SPECIALS, UNKNOWN};

/// How a `[MASK]` is written in an input name.
pub const MASK_MARK: &str = "[MASK]";

/// Token ids from the model's vocabulary.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    ids: HashMap<String, i64>,
    tokens: Vec<String>,
    /// How texts become tokens.
    rule: Normalization,
    /// `[UNK]`, where the vocabulary has it.
    unknown: Option<i64>,
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
            .map(|(i, t)| (t.clone(), i as i64))
            .collect();
        Ok(Self {
            ids,
            tokens: info.vocab.clone(),
            rule: info.normalization,
            unknown: info.specials.get(UNKNOWN).copied(),
            trained: info.min_len..=info.max_len,
            readable_len: info.readable_len,
            pad: special(SPECIALS[PAD as usize])?,
            cls: special(SPECIALS[CLS as usize])?,
            mask: special(SPECIALS[MASK as usize])?,
            sep: special(SPECIALS[SEP as usize])?,
        })
    }

    /// The tokens of `name`, read as in training; `[MASK]` marks become the mask id when
    /// `masks` allows them.
    pub fn encode(&self, name: &str, masks: bool) -> Result<Vec<i64>, ServeError> {
        self.encode_counted(name, masks).map(|(ids, _)| ids)
    }

    /// [`Tokenizer::encode`], with how many tokens read as `[UNK]`.
    pub fn encode_counted(&self, name: &str, masks: bool) -> Result<(Vec<i64>, usize), ServeError> {
        let mut ids = Vec::new();
        let mut unknown = 0;
        let pieces: Vec<&str> = if masks {
            name.split(MASK_MARK).collect()
        } else {
            vec![name]
        };
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                ids.push(self.mask);
            }
            let normalized = self.rule.apply(piece);
            for token in self.rule.split(&normalized) {
                let id = match (self.ids.get(token), self.unknown) {
                    (Some(id), _) => *id,
                    (None, Some(unk)) => {
                        unknown += 1;
                        unk
                    }
                    (None, None) => {
                        return Err(ServeError::Input(format!(
                            "{name:?}: {token:?} is not in the model's vocabulary (it never occurs in the training data) and the model has no [UNK]; remove or replace it"
                        )))
                    }
                };
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Err(ServeError::Input(format!(
                "{name:?} has no token the model reads (read as: {}); give a non-empty text",
                self.rule.describe()
            )));
        }
        if ids.len() > self.readable_len {
            return Err(ServeError::Input(format!(
                "{name:?} has {} tokens; the model reads at most {} (its positions end there)",
                ids.len(),
                self.readable_len
            )));
        }
        Ok((ids, unknown))
    }

    /// Whether `len` characters are outside the training names' lengths.
    pub fn outside_training(&self, len: usize) -> bool {
        !self.trained.contains(&len)
    }

    /// The token string of `id`.
    pub fn token(&self, id: usize) -> &str {
        self.tokens.get(id).map(String::as_str).unwrap_or("?")
    }

    /// Whether id `id` is a special token (`[PAD]`, `[CLS]`, ...), not of the alphabet.
    pub fn is_special(&self, id: usize) -> bool {
        self.tokens
            .get(id)
            .is_none_or(|t| !self.ids.contains_key(t.as_str()))
    }

    /// Number of token ids.
    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// The id of token `token`, if the vocabulary has it.
    pub fn id(&self, token: &str) -> Option<i64> {
        self.ids.get(token).copied()
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
