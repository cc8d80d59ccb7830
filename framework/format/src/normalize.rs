//! How a text becomes tokens: an optional Unicode normalisation (or the reference's
//! folding to ASCII), optional lower-casing, then one token per character or per
//! grapheme cluster.
//!
//! The trainer and every server apply the same [`Normalization`], saved with the model,
//! so a text is read at prediction as it was in training.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use unicode_normalization::{is_nfc_quick, is_nfkc_quick, IsNormalized, UnicodeNormalization};
use unicode_segmentation::UnicodeSegmentation;

/// What happens to a text's characters before tokenizing (`[data] normalize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// Nothing: every character as the file has it.
    #[default]
    None,
    /// Unicode canonical composition (NFC): `e` + a combining acute becomes `é`.
    Nfc,
    /// Unicode compatibility composition (NFKC): also `ﬁ` to `fi`, full-width to ASCII.
    Nfkc,
    /// The reference's folding ([`crate::fold_name`]): NFD, marks dropped, then only
    /// ASCII letters and `space . , ; '` kept.
    Ascii,
}

/// What one token is (`[data] tokens`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TokenUnit {
    /// One Unicode scalar value.
    #[default]
    Chars,
    /// One extended grapheme cluster (what a reader sees as one character: `é` written
    /// as `e` and a combining mark, a flag, a family emoji).
    Graphemes,
}

/// The whole rule from a text to its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Normalization {
    /// The Unicode form, or the reference's folding.
    pub form: Form,
    /// Lower-case after the form (Unicode's full lower-casing).
    #[serde(default)]
    pub lowercase: bool,
    /// What one token is.
    #[serde(default)]
    pub tokens: TokenUnit,
}

impl Normalization {
    /// The reference's rule: folded to ASCII, case kept, one token per character. Models
    /// and runs saved before the rule was recorded were all read this way.
    pub const REFERENCE: Self = Self {
        form: Form::Ascii,
        lowercase: false,
        tokens: TokenUnit::Chars,
    };

    /// `text` under the form and the case rule; borrowed when nothing changes.
    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let formed: Cow<'a, str> = match self.form {
            Form::None => Cow::Borrowed(text),
            Form::Nfc if is_nfc_quick(text.chars()) == IsNormalized::Yes => Cow::Borrowed(text),
            Form::Nfc => Cow::Owned(text.nfc().collect()),
            Form::Nfkc if is_nfkc_quick(text.chars()) == IsNormalized::Yes => Cow::Borrowed(text),
            Form::Nfkc => Cow::Owned(text.nfkc().collect()),
            Form::Ascii => Cow::Owned(crate::fold_name(text)),
        };
        if self.lowercase && formed.chars().any(char::is_uppercase) {
            Cow::Owned(formed.to_lowercase())
        } else {
            formed
        }
    }

    /// The tokens of an already normalised `text`, in order.
    pub fn split<'a>(&self, text: &'a str) -> Vec<&'a str> {
        match self.tokens {
            TokenUnit::Chars => text
                .char_indices()
                .map(|(i, c)| &text[i..i + c.len_utf8()])
                .collect(),
            TokenUnit::Graphemes => text.graphemes(true).collect(),
        }
    }

    /// The number of tokens of an already normalised `text`.
    pub fn count(&self, text: &str) -> usize {
        match self.tokens {
            TokenUnit::Chars => text.chars().count(),
            TokenUnit::Graphemes => text.graphemes(true).count(),
        }
    }

    /// The rule as the experiment file writes it: `ascii`, `nfc, lowercase, graphemes`.
    pub fn name(&self) -> String {
        let form = match self.form {
            Form::None => "none",
            Form::Nfc => "nfc",
            Form::Nfkc => "nfkc",
            Form::Ascii => "ascii",
        };
        let mut parts = vec![form];
        if self.lowercase {
            parts.push("lowercase");
        }
        if self.tokens == TokenUnit::Graphemes {
            parts.push("graphemes");
        }
        parts.join(", ")
    }

    /// The rule in words, for people and for the `xp.folding` key of exported models.
    pub fn describe(&self) -> String {
        let form = match self.form {
            Form::None => "no normalisation".to_owned(),
            Form::Nfc => "Unicode NFC".to_owned(),
            Form::Nfkc => "Unicode NFKC".to_owned(),
            Form::Ascii => crate::FOLDING_RULE.to_owned(),
        };
        let case = if self.lowercase { ", lower-cased" } else { "" };
        let unit = match self.tokens {
            TokenUnit::Chars => "one token per character",
            TokenUnit::Graphemes => "one token per grapheme cluster",
        };
        format!("{form}{case}; {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(form: Form, lowercase: bool, tokens: TokenUnit) -> Normalization {
        Normalization {
            form,
            lowercase,
            tokens,
        }
    }

    #[test]
    fn none_keeps_every_character() {
        let none = Normalization::default();
        for text in ["Łódź", "Straße", "A-12 b", "e\u{301}", "\t x"] {
            assert_eq!(none.apply(text), text);
        }
    }

    #[test]
    fn forms_compose_and_fold() {
        let decomposed = "Ame\u{301}lie";
        assert_eq!(
            rule(Form::Nfc, false, TokenUnit::Chars).apply(decomposed),
            "Amélie"
        );
        assert_eq!(
            rule(Form::Nfkc, false, TokenUnit::Chars).apply("ﬁｘ"),
            "fix"
        );
        assert_eq!(Normalization::REFERENCE.apply("Ślusarski-2"), "Slusarski");
        assert_eq!(
            rule(Form::None, true, TokenUnit::Chars).apply("ÅSA Σ"),
            "åsa σ"
        );
    }

    #[test]
    fn graphemes_keep_a_letter_and_its_marks_together() {
        let text = "ne\u{301}e";
        let chars = rule(Form::None, false, TokenUnit::Chars);
        let graphemes = rule(Form::None, false, TokenUnit::Graphemes);
        assert_eq!(chars.split(text), ["n", "e", "\u{301}", "e"]);
        assert_eq!(graphemes.split(text), ["n", "e\u{301}", "e"]);
        assert_eq!((chars.count(text), graphemes.count(text)), (4, 3));
    }

    #[test]
    fn the_rule_reads_back_and_describes_itself() {
        let r = rule(Form::Nfc, true, TokenUnit::Graphemes);
        let json = serde_json::to_string(&r).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"form":"nfc","lowercase":true,"tokens":"graphemes"}"#
        );
        assert_eq!(serde_json::from_str::<Normalization>(&json).ok(), Some(r));
        assert_eq!(
            r.describe(),
            "Unicode NFC, lower-cased; one token per grapheme cluster"
        );
        assert!(Normalization::REFERENCE.describe().starts_with("NFD, drop"));
        assert_eq!(r.name(), "nfc, lowercase, graphemes");
        assert_eq!(Normalization::REFERENCE.name(), "ascii");
    }
}
