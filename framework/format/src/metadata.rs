//! The `xp.*` metadata of an exported model: what a server needs besides the graph.
//!
//! Every value is a string (ONNX metadata is string to string); lists and maps are
//! JSON. [`ModelMetadata::to_pairs`] writes them, [`ModelMetadata::from_lookup`] reads
//! them back.

use crate::Normalization;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::BTreeMap;

/// Prefix of every metadata key xp writes.
pub const META: &str = "xp.";

/// The version of the metadata layout (2: `xp.normalization`, and `[UNK]` among the
/// specials of models trained on their training split's alphabet).
const FORMAT: &str = "2";

/// How an objective reads the encoder when served: the kind of encoder pass its
/// output needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Serving {
    /// Rows start with `[CLS]` (`false`: the characters alone, as LA reads them).
    pub cls_first: bool,
    /// The encoder runs under the look-ahead mask.
    pub causal: bool,
    /// The input carries segment ids (a `segments` input of the exported model).
    pub segments: bool,
}

impl Serving {
    /// Two-segment rows, `[CLS] A [SEP] B`, bidirectional (NSP, SOP).
    pub const PAIRS: Self = Self {
        cls_first: true,
        causal: false,
        segments: true,
    };
    /// The characters alone under the look-ahead mask (LA).
    pub const CAUSAL: Self = Self {
        cls_first: false,
        causal: true,
        segments: false,
    };
}

impl Default for Serving {
    /// `[CLS]` first, bidirectional, no segments.
    fn default() -> Self {
        Self {
            cls_first: true,
            causal: false,
            segments: false,
        }
    }
}

/// One exported objective, as listed in the model's `xp.objectives` metadata.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServedObjective {
    /// The ONNX output holding its logits ([`output_name`] of the objective).
    pub output: String,
    /// Rows start with `[CLS]`.
    pub cls_first: bool,
    /// Read under the look-ahead mask.
    pub causal: bool,
    /// Reads the `segments` input.
    pub segments: bool,
    /// Names of the output classes, for class outputs.
    pub classes: Option<Vec<String>>,
    /// The ONNX output holding the attention weights of its encoder pass,
    /// `(layers, batch, heads, seq, seq)`, when exported with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
}

impl ServedObjective {
    /// The entry of objective `name`, served as `serving`, with its class names.
    pub fn new(name: &str, serving: Serving, classes: Option<Vec<String>>) -> Self {
        Self {
            output: output_name(name),
            cls_first: serving.cls_first,
            causal: serving.causal,
            segments: serving.segments,
            classes,
            attention: None,
        }
    }
}

/// The ONNX output name of the attention weights of the encoder pass `serving` reads.
pub fn attention_output(serving: Serving) -> String {
    match (serving.causal, serving.segments) {
        (false, false) => "attention".to_owned(),
        (true, false) => "attention_causal".to_owned(),
        (false, true) => "attention_pairs".to_owned(),
        (true, true) => "attention_causal_pairs".to_owned(),
    }
}

/// The ONNX output name of objective `name`.
pub fn output_name(name: &str) -> String {
    name.to_lowercase()
}

/// What an exported model says of itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelMetadata {
    /// Experiment name.
    pub experiment: String,
    /// The resolved experiment, as TOML.
    pub experiment_toml: String,
    /// Token strings by id (specials first).
    pub vocab: Vec<String>,
    /// Special tokens by name (`[PAD]`, `[CLS]`, `[SEP]`, `[MASK]`, and `[UNK]` where the
    /// vocabulary has it: the id of any token it does not hold).
    pub specials: BTreeMap<String, i64>,
    /// Class labels.
    pub labels: Vec<String>,
    /// Shortest text of the training corpus, in tokens.
    pub min_len: usize,
    /// Longest text of the training corpus, in tokens.
    pub max_len: usize,
    /// Longest text the model's positions allow (at least `max_len`).
    pub readable_len: usize,
    /// How texts become tokens, in words (`xp.folding`).
    pub folding: String,
    /// How texts become tokens (`xp.normalization`, JSON): apply it, then look each
    /// token up in `vocab`. Models exported before the key read as
    /// [`Normalization::REFERENCE`].
    pub normalization: Normalization,
    /// Exported objectives by name.
    pub objectives: BTreeMap<String, ServedObjective>,
    /// SHA-256 of the weights.
    pub weights_sha256: String,
}

/// Metadata that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// A key is absent.
    #[error("no {META}{0} metadata")]
    Missing(String),
    /// A value does not parse.
    #[error("bad {META}{key}: {reason}")]
    Bad {
        /// The key, without the prefix.
        key: String,
        /// The parser's message.
        reason: String,
    },
}

impl ModelMetadata {
    /// `(key, value)` pairs with their `xp.` prefix, in a fixed order.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let entries = [
            ("format", FORMAT.to_owned()),
            ("experiment", self.experiment.clone()),
            ("experiment_toml", self.experiment_toml.clone()),
            ("vocab", json(&self.vocab)),
            ("specials", json(&self.specials)),
            ("labels", json(&self.labels)),
            ("min_len", self.min_len.to_string()),
            ("max_len", self.max_len.to_string()),
            ("readable_len", self.readable_len.to_string()),
            ("folding", self.folding.clone()),
            ("normalization", json(&self.normalization)),
            ("objectives", json(&self.objectives)),
            ("weights_sha256", self.weights_sha256.clone()),
        ];
        entries
            .into_iter()
            .map(|(k, v)| (format!("{META}{k}"), v))
            .collect()
    }

    /// Reads the metadata through `get`, which maps a full key (`xp.vocab`) to its value.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, MetadataError> {
        let text =
            |key: &str| get(&format!("{META}{key}")).ok_or(MetadataError::Missing(key.into()));
        let bad = |key: &str, reason: String| MetadataError::Bad {
            key: key.into(),
            reason,
        };
        let parsed = |key: &str| -> Result<usize, MetadataError> {
            text(key)?.parse().map_err(|e| bad(key, format!("{e}")))
        };
        Ok(Self {
            experiment: text("experiment")?,
            experiment_toml: text("experiment_toml").unwrap_or_default(),
            vocab: from_json(&text("vocab")?).map_err(|e| bad("vocab", e))?,
            specials: from_json(&text("specials")?).map_err(|e| bad("specials", e))?,
            labels: from_json(&text("labels")?).map_err(|e| bad("labels", e))?,
            min_len: parsed("min_len")?,
            max_len: parsed("max_len")?,
            // Models exported before this key read what they were trained on.
            readable_len: match text("readable_len") {
                Ok(_) => parsed("readable_len")?,
                Err(_) => parsed("max_len")?,
            },
            folding: text("folding")?,
            normalization: match text("normalization") {
                Ok(value) => from_json(&value).map_err(|e| bad("normalization", e))?,
                Err(_) => Normalization::REFERENCE,
            },
            objectives: from_json(&text("objectives")?).map_err(|e| bad("objectives", e))?,
            weights_sha256: text("weights_sha256")?,
        })
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    // Vectors, maps of strings and plain structs always serialise.
    serde_json::to_string(value).unwrap_or_default()
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ModelMetadata {
        let served = ServedObjective::new("CLS", Serving::default(), Some(vec!["Czech".into()]));
        ModelMetadata {
            experiment: "four_losses".into(),
            experiment_toml: "name = \"four_losses\"\n".into(),
            vocab: vec!["[PAD]".into(), "[CLS]".into(), "a".into()],
            specials: [("[PAD]".to_owned(), 0), ("[CLS]".to_owned(), 1)].into(),
            labels: vec!["Czech".into()],
            min_len: 4,
            max_len: 11,
            readable_len: 256,
            folding: "NFD".into(),
            normalization: Normalization::default(),
            objectives: [("CLS".to_owned(), served)].into(),
            weights_sha256: "00ff".into(),
        }
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let meta = sample();
        let pairs: BTreeMap<String, String> = meta.to_pairs().into_iter().collect();
        assert!(pairs.keys().all(|k| k.starts_with(META)));
        assert_eq!(
            pairs["xp.objectives"],
            r#"{"CLS":{"output":"cls","cls_first":true,"causal":false,"segments":false,"classes":["Czech"]}}"#
        );
        let back = ModelMetadata::from_lookup(|k| pairs.get(k).cloned()).unwrap();
        assert_eq!(back, meta);
    }

    #[test]
    fn a_missing_or_malformed_key_is_named() {
        let mut pairs: BTreeMap<String, String> = sample().to_pairs().into_iter().collect();
        pairs.remove("xp.labels");
        let err = ModelMetadata::from_lookup(|k| pairs.get(k).cloned()).unwrap_err();
        assert_eq!(err.to_string(), "no xp.labels metadata");
        pairs.insert("xp.labels".into(), "not json".into());
        pairs.insert("xp.max_len".into(), "eleven".into());
        let err = ModelMetadata::from_lookup(|k| pairs.get(k).cloned()).unwrap_err();
        assert!(err.to_string().starts_with("bad xp.labels"), "{err}");
    }
}
