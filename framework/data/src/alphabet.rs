//! The vocabulary a run trains with, and every token's counts and oddities for the
//! report.

use crate::config::Alphabet;
use crate::split::SplitSets;
use crate::Corpus;
use serde::Serialize;
use std::collections::BTreeMap;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use xp_format::Vocab;

/// Tokens seen fewer times than this in the kept texts are flagged `rare`.
pub const RARE: usize = 5;

/// The vocabulary of `corpus` under its `alphabet`: the training split's tokens and
/// `[UNK]`, or every kept text's tokens.
pub fn vocabulary(corpus: &Corpus, sets: &SplitSets) -> Vocab {
    let rule = corpus.reading.normalization;
    let texts: Box<dyn Iterator<Item = &str>> = match corpus.reading.alphabet {
        Alphabet::Train => Box::new(sets.train.iter().map(|&i| corpus.examples[i].text.as_str())),
        Alphabet::All => Box::new(corpus.examples.iter().map(|e| e.text.as_str())),
    };
    let tokens = texts.flat_map(|t| rule.split(t)).map(str::to_owned);
    Vocab::from_tokens(tokens, corpus.reading.alphabet == Alphabet::Train)
}

/// One token of the kept texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenCount {
    /// The token.
    pub token: String,
    /// Its code points, `U+0041` form.
    pub code_points: String,
    /// Occurrences in the training, validation and test texts.
    pub train: usize,
    /// In validation.
    pub valid: usize,
    /// In test.
    pub test: usize,
    /// What is odd about it: `control`, `format` (invisible), `whitespace` (other than
    /// a space), `combining` (a mark on its own), `private_use`, `replacement` (U+FFFD,
    /// a sign of text decoded with the wrong encoding), `rare`, `unknown` (not in the
    /// vocabulary: read as `[UNK]`).
    pub flags: Vec<&'static str>,
}

impl TokenCount {
    /// Occurrences in all kept texts.
    pub fn total(&self) -> usize {
        self.train + self.valid + self.test
    }
}

/// Every token of the kept texts with its counts per set, most frequent first.
pub fn token_counts(corpus: &Corpus, sets: &SplitSets, vocab: &Vocab) -> Vec<TokenCount> {
    let rule = corpus.reading.normalization;
    let mut counts: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for (k, (_, set)) in sets.named().into_iter().enumerate() {
        for &i in set {
            for token in rule.split(&corpus.examples[i].text) {
                counts.entry(token).or_default()[k] += 1;
            }
        }
    }
    let mut out: Vec<TokenCount> = counts
        .into_iter()
        .map(|(token, [train, valid, test])| {
            let mut flags = char_flags(token);
            if train + valid + test < RARE {
                flags.push("rare");
            }
            if vocab.get(token).is_none() {
                flags.push("unknown");
            }
            TokenCount {
                token: token.to_owned(),
                code_points: token
                    .chars()
                    .map(|c| format!("U+{:04X}", c as u32))
                    .collect::<Vec<_>>()
                    .join(" "),
                train,
                valid,
                test,
                flags,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.total()
            .cmp(&a.total())
            .then_with(|| a.token.cmp(&b.token))
    });
    out
}

/// The flags of a token's characters.
fn char_flags(token: &str) -> Vec<&'static str> {
    let mut flags = Vec::new();
    let mut flag = |f| {
        if !flags.contains(&f) {
            flags.push(f);
        }
    };
    for (k, c) in token.chars().enumerate() {
        match c.general_category() {
            GeneralCategory::Control => flag("control"),
            GeneralCategory::Format => flag("format"),
            GeneralCategory::PrivateUse => flag("private_use"),
            GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark if k == 0 => {
                flag("combining")
            }
            _ => {}
        }
        if c.is_whitespace() && c != ' ' && c.general_category() != GeneralCategory::Control {
            flag("whitespace");
        }
        if c == '\u{FFFD}' {
            flag("replacement");
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_characters_are_flagged() {
        assert_eq!(char_flags("a"), Vec::<&str>::new());
        assert_eq!(char_flags("\t"), ["control"]);
        assert_eq!(char_flags("\u{200B}"), ["format"]);
        assert_eq!(char_flags("\u{A0}"), ["whitespace"]);
        assert_eq!(char_flags("\u{301}"), ["combining"]);
        assert_eq!(char_flags("e\u{301}"), Vec::<&str>::new());
        assert_eq!(char_flags("\u{FFFD}"), ["replacement"]);
    }
}
