//! Folding a name to the characters the models know.
//!
//! Unicode NFD, combining marks dropped, then only `a-z A-Z` and `space . , ; '` kept;
//! case is kept. `Ślusarski` becomes `Slusarski`.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Characters kept besides ASCII letters.
pub const KEPT_PUNCTUATION: &str = " .,;'";

/// A one-line statement of the rule, saved with models.
pub const FOLDING_RULE: &str =
    "NFD, drop combining marks, keep a-z A-Z and the characters \" .,;'\"";

/// Folds `name` to ASCII letters and the kept punctuation.
pub fn fold_name(name: &str) -> String {
    name.nfd()
        .filter(|c| !is_combining_mark(*c))
        .filter(|c| c.is_ascii_alphabetic() || KEPT_PUNCTUATION.contains(*c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_and_drops_other_characters() {
        assert_eq!(fold_name("Ślusarski"), "Slusarski");
        assert_eq!(fold_name("Gómez"), "Gomez");
        assert_eq!(fold_name("O'Neal"), "O'Neal");
        assert_eq!(fold_name("Abl-Yazid 1"), "AblYazid ");
        assert_eq!(fold_name("Müller"), "Muller");
        assert_eq!(fold_name("Ærø"), "r");
    }
}
