//! Token ids: four specials, then every character of the corpus in sorted order.

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
/// Names of the specials, by id.
pub const SPECIALS: [&str; 4] = ["[PAD]", "[CLS]", "[SEP]", "[MASK]"];

/// The character vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocab {
    chars: Vec<char>,
}

/// A character the vocabulary does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("character {0:?} is not in the vocabulary")]
pub struct UnknownChar(pub char);

impl Vocab {
    /// The vocabulary of every character in `names`.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let set: BTreeSet<char> = names.into_iter().flat_map(str::chars).collect();
        Self {
            chars: set.into_iter().collect(),
        }
    }

    /// The vocabulary of exactly these characters (sorted and deduplicated).
    pub fn from_chars(chars: impl IntoIterator<Item = char>) -> Self {
        let set: BTreeSet<char> = chars.into_iter().collect();
        Self {
            chars: set.into_iter().collect(),
        }
    }

    /// Total number of ids, specials included.
    pub fn len(&self) -> usize {
        SPECIALS.len() + self.chars.len()
    }

    /// Never true: the specials are always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The characters, in id order.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The first id of a character (ids below are specials).
    pub fn first_char_id(&self) -> u32 {
        SPECIALS.len() as u32
    }

    /// The id of `c`.
    pub fn id(&self, c: char) -> Result<u32, UnknownChar> {
        self.chars
            .binary_search(&c)
            .map(|i| i as u32 + self.first_char_id())
            .map_err(|_| UnknownChar(c))
    }

    /// The text of an id: the character, or a special's name.
    pub fn token(&self, id: u32) -> String {
        match id.checked_sub(self.first_char_id()) {
            Some(i) => self
                .chars
                .get(i as usize)
                .map_or("[?]".into(), |c| c.to_string()),
            None => SPECIALS[id as usize].into(),
        }
    }

    /// Ids of the characters of `name`.
    pub fn encode(&self, name: &str) -> Result<Vec<u32>, UnknownChar> {
        name.chars().map(|c| self.id(c)).collect()
    }

    /// The text of character ids (specials shown by name).
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
        assert_eq!(v.id('z'), Err(UnknownChar('z')));
    }
}
