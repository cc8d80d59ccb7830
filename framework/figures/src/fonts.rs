//! Which installed font a figure draws a text in: the default sans-serif where it has
//! every character of the text, else the first of a few common fallbacks that does
//! (a label in Japanese or Chinese, which DejaVu Sans lacks). A text no installed font
//! draws whole is drawn in sans-serif, and the figure says which characters are missing
//! and what to install.

use font_kit::family_name::FamilyName;
use font_kit::font::Font;
use font_kit::properties::Properties;
use font_kit::source::SystemSource;
use std::cell::RefCell;
use std::collections::HashMap;

/// The families tried, in order; `sans-serif` is the system's default.
const FAMILIES: [&str; 7] = [
    "sans-serif",
    "Noto Sans",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Droid Sans Fallback",
    "WenQuanYi Zen Hei",
    "Unifont",
];

thread_local! {
    /// Each family's font, loaded once per thread (`None`: not installed).
    static LOADED: RefCell<HashMap<&'static str, Option<Font>>> = RefCell::new(HashMap::new());
}

/// The installed font of `family`, if there is one.
fn with_font<R>(family: &'static str, f: impl FnOnce(Option<&Font>) -> R) -> R {
    LOADED.with(|loaded| {
        let mut loaded = loaded.borrow_mut();
        let font = loaded.entry(family).or_insert_with(|| load(family));
        f(font.as_ref())
    })
}

fn load(family: &str) -> Option<Font> {
    let name = match family {
        "sans-serif" => FamilyName::SansSerif,
        other => FamilyName::Title(other.to_owned()),
    };
    let font = SystemSource::new()
        .select_best_match(&[name], &Properties::new())
        .ok()?
        .load()
        .ok()?;
    // Asked for a family by name, the system may give another: that one is not it.
    let named = family == "sans-serif" || font.family_name().eq_ignore_ascii_case(family);
    named.then_some(font)
}

/// Whether `font` has a glyph for every visible character of `text`.
fn covers(font: &Font, text: &str) -> bool {
    text.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .all(|c| font.glyph_for_char(c).is_some())
}

/// The family to draw `text` in, or `Err` naming the characters no installed font of
/// [`FAMILIES`] draws together with the rest of the text (drawn in `sans-serif` then).
pub fn family_for(text: &str) -> Result<&'static str, String> {
    for family in FAMILIES {
        if with_font(family, |font| font.is_some_and(|font| covers(font, text))) {
            return Ok(family);
        }
    }
    let missing: String = with_font("sans-serif", |font| {
        text.chars()
            .filter(|&c| !c.is_whitespace() && font.is_none_or(|f| f.glyph_for_char(c).is_none()))
            .take(12)
            .collect()
    });
    Err(format!(
        "no installed font draws {text:?} whole ({missing:?} show as boxes): install a font that has them (for Chinese and Japanese, e.g. Debian's fonts-noto-cjk or fonts-droid-fallback) and run `xp figures RUN` again"
    ))
}

/// `text` cut into runs that one family each draws: the whole text in one run where a
/// family has all of it, else each character in the first family that has it (white
/// space joins the run it is in), so that a title mixing scripts is drawn whole.
pub fn runs(text: &str) -> Vec<(String, &'static str)> {
    if let Ok(family) = family_for(text) {
        return vec![(text.to_owned(), family)];
    }
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for c in text.chars() {
        let family = match (c.is_whitespace(), out.last()) {
            (true, Some((_, last))) => *last,
            _ => family_for(c.encode_utf8(&mut [0; 4])).unwrap_or("sans-serif"),
        };
        match out.last_mut() {
            Some((run, last)) if *last == family => run.push(c),
            _ => out.push((c.to_string(), family)),
        }
    }
    out
}

/// The family of each of `texts`, and what could not be drawn whole (the first such).
pub fn families(texts: &[String]) -> (Vec<&'static str>, Option<String>) {
    let mut missing = None;
    let families = texts
        .iter()
        .map(|t| {
            family_for(t).unwrap_or_else(|e| {
                missing.get_or_insert(e);
                "sans-serif"
            })
        })
        .collect();
    (families, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_greek_and_cyrillic_labels_are_drawn_in_the_default_font() {
        for label in ["Deutsch, alt", "Ελληνικά", "Русский", "Łódź"] {
            assert_eq!(family_for(label), Ok("sans-serif"), "{label}");
        }
    }

    #[test]
    fn a_label_the_default_font_lacks_is_drawn_in_a_font_that_has_it() {
        // scripts/test.sh installs fonts-droid-fallback, which has these.
        let (families, missing) = families(&["Deutsch".into(), "日本語".into(), "中文".into()]);
        assert_eq!(families[0], "sans-serif");
        assert!(
            families[1] != "sans-serif" && families[2] != "sans-serif",
            "{families:?}"
        );
        assert_eq!(missing, None);
        let mixed = runs("\"カタ\": CLS says 日本語");
        let families: Vec<&str> = mixed.iter().map(|(_, f)| *f).collect();
        assert_eq!(
            mixed.iter().map(|(t, _)| t.as_str()).collect::<String>(),
            "\"カタ\": CLS says 日本語"
        );
        assert!(
            families.contains(&"sans-serif") && families.iter().any(|f| *f != "sans-serif"),
            "{mixed:?}"
        );
        let none = family_for("\u{10FFFD}");
        assert!(none.is_err_and(|e| e.contains("no installed font draws")));
    }
}
