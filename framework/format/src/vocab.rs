//! Token ids: the specials, then every token of the alphabet in sorted order.
//!
//! The specials are `[PAD]`, `[CLS]`, `[SEP]`, `[MASK]` (ids 0-3) and, in a vocabulary
//! built from the training split, `[UNK]` (id 4): what any token the training texts
//! never had reads as. The reference's vocabulary (every token of the whole corpus) has
//! no `[UNK]`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Padding; masked out of attention.
pub const PAD: u32 = 0;
/// Sequence start, read by sequence-level heads.
pub const CLS: u32 = 1;
/// Separator between two segments.
pub const SEP: u32 = 2;
/// A hidden character.
pub const MASK: u32 = 3;
/// A token the training texts never had, in vocabularies that have one.
pub const UNK: u32 = 4;
/// Names of the four specials every vocabulary has, by id.
pub const SPECIALS: [&str; 4] = ["[PAD]", "[CLS]", "[SEP]", "[MASK]"];
/// The name of [`UNK`].
pub const UNKNOWN: &str = "[UNK]";

/// The token vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocab {
    /// The tokens after the specials, sorted (`chars` in files of older xp, whose
    /// tokens were all single characters).
    #[serde(alias = "chars")]
    tokens: Vec<String>,
    /// Has `[UNK]` (id 4).
    #[serde(default)]
    unknown: bool,
}

/// A token the vocabulary does not hold, and it has no `[UNK]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not in the vocabulary")]
pub struct UnknownChar(pub String);

impl Vocab {
    /// The vocabulary of every character in `names`, without `[UNK]`.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self::from_chars(names.into_iter().flat_map(str::chars))
    }

    /// The vocabulary of exactly these characters (sorted and deduplicated), without
    /// `[UNK]`.
    pub fn from_chars(chars: impl IntoIterator<Item = char>) -> Self {
        Self::from_tokens(chars.into_iter().map(String::from), false)
    }

    /// The vocabulary of these tokens (sorted and deduplicated), with `[UNK]` when
    /// `unknown`.
    pub fn from_tokens(tokens: impl IntoIterator<Item = String>, unknown: bool) -> Self {
        let set: BTreeSet<String> = tokens.into_iter().collect();
        Self {
            tokens: set.into_iter().collect(),
            unknown,
        }
    }

    /// Total number of ids, specials included.
    pub fn len(&self) -> usize {
        self.first_char_id() as usize + self.tokens.len()
    }

    /// Never true: the specials are always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The tokens after the specials, in id order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// Whether it has `[UNK]`.
    pub fn has_unknown(&self) -> bool {
        self.unknown
    }

    /// The specials by name and id, in id order.
    pub fn specials(&self) -> Vec<(&'static str, u32)> {
        let mut specials: Vec<(&'static str, u32)> =
            SPECIALS.iter().zip(0..).map(|(s, i)| (*s, i)).collect();
        if self.unknown {
            specials.push((UNKNOWN, UNK));
        }
        specials
    }

    /// The first id of a token of the alphabet (ids below are specials).
    pub fn first_char_id(&self) -> u32 {
        SPECIALS.len() as u32 + u32::from(self.unknown)
    }

    /// The id of `token`, if the vocabulary holds it (never `[UNK]`).
    pub fn get(&self, token: &str) -> Option<u32> {
        self.tokens
            .binary_search_by(|t| t.as_str().cmp(token))
            .ok()
            .map(|i| i as u32 + self.first_char_id())
    }

    /// The id of character `c`.
    pub fn id(&self, c: char) -> Result<u32, UnknownChar> {
        self.lookup(c.encode_utf8(&mut [0; 4]))
    }

    /// The id of `token`: its own, else `[UNK]` where the vocabulary has it.
    pub fn lookup(&self, token: &str) -> Result<u32, UnknownChar> {
        match (self.get(token), self.unknown) {
            (Some(id), _) => Ok(id),
            (None, true) => Ok(UNK),
            (None, false) => Err(UnknownChar(token.to_owned())),
        }
    }

    /// The text of an id: the token, or a special's name.
    pub fn token(&self, id: u32) -> String {
        match id.checked_sub(self.first_char_id()) {
            Some(i) => self
                .tokens
                .get(i as usize)
                .map_or("[?]".into(), Clone::clone),
            None if id == UNK => UNKNOWN.into(),
            None => SPECIALS[id as usize].into(),
        }
    }

    /// Every id's text, specials first: what an exported model lists.
    pub fn all_tokens(&self) -> Vec<String> {
        (0..self.len() as u32).map(|i| self.token(i)).collect()
    }

    /// Ids of the characters of `name`.
    pub fn encode(&self, name: &str) -> Result<Vec<u32>, UnknownChar> {
        name.chars().map(|c| self.id(c)).collect()
    }

    /// Ids of `tokens`, with how many of them read as `[UNK]`.
    pub fn encode_tokens(&self, tokens: &[&str]) -> Result<(Vec<u32>, usize), UnknownChar> {
        let ids = tokens
            .iter()
            .map(|t| self.lookup(t))
            .collect::<Result<Vec<u32>, _>>()?;
        let unknown = match self.unknown {
            true => ids.iter().filter(|&&id| id == UNK).count(),
            false => 0,
        };
        Ok((ids, unknown))
    }

    /// The text of token ids (specials shown by name).
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter().map(|&id| self.token(id)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_first_then_sorted_characters() {
        let v = Vocab::from_names(["ba", "c'a"]);
        assert_eq!(v.len(), 8);
        assert_eq!(v.id('\'').unwrap(), 4);
        assert_eq!(v.id('a').unwrap(), 5);
        assert_eq!(v.encode("cab").unwrap(), vec![7, 5, 6]);
        assert_eq!(v.decode(&[CLS, 7, MASK]), "[CLS]c[MASK]");
        assert_eq!(v.id('z'), Err(UnknownChar("z".into())));
    }

    #[test]
    fn a_training_vocabulary_reads_unseen_tokens_as_unk() {
        let v = Vocab::from_tokens(["ł".to_owned(), "e\u{301}".to_owned()], true);
        assert_eq!(v.first_char_id(), 5);
        assert_eq!(v.len(), 7);
        assert_eq!(v.get("e\u{301}"), Some(5));
        assert_eq!(
            v.encode_tokens(&["ł", "ß", "e\u{301}", "ß"]).unwrap(),
            (vec![6, UNK, 5, UNK], 2)
        );
        assert_eq!(v.token(UNK), UNKNOWN);
        assert_eq!(v.specials().last(), Some(&(UNKNOWN, UNK)));
        assert_eq!(v.all_tokens()[4..], ["[UNK]", "e\u{301}", "ł"]);
    }

    #[test]
    fn files_of_older_xp_read_as_the_same_vocabulary() {
        let old: Vocab = serde_json::from_str(r#"{"chars":["a","b"]}"#).unwrap();
        assert_eq!(old, Vocab::from_names(["ab"]));
        let json = serde_json::to_string(&old).unwrap();
        assert_eq!(json, r#"{"tokens":["a","b"],"unknown":false}"#);
    }
}
