//! "Did you mean" hints for unknown fields and names.

use crate::ConfigError;
use serde::de::DeserializeOwned;

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&word, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Appends "did you mean" to a serde message of the form
/// "unknown field `x`, expected one of `a`, `b`" (plus `extra` candidates).
pub fn with_suggestion(message: &str, extra: &[&str]) -> String {
    let Some(start) = message.find("unknown field `") else {
        return message.to_owned();
    };
    let rest = &message[start + "unknown field `".len()..];
    let Some(end) = rest.find('`') else {
        return message.to_owned();
    };
    let unknown = &rest[..end];
    let expected = rest[end..].lines().next().unwrap_or("");
    let mut candidates: Vec<&str> = expected.split('`').skip(2).step_by(2).collect();
    candidates.extend_from_slice(extra);
    match nearest(unknown, candidates) {
        Some(best) => format!("{message}\n  help: did you mean `{best}`?"),
        None => message.to_owned(),
    }
}

/// Deserializes the table at dotted `section` (`train`, `objectives.MLM`, or `""`
/// for the whole document); an error names the field and the nearest valid one.
pub fn parse_table<T: DeserializeOwned>(
    table: &toml::Table,
    section: &str,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(table.clone()).map_err(|e| {
        // Dotted throughout, as `--set` takes it: `stages.0.train`, not `stages[0].train`.
        let path = match e.path().iter().next() {
            None => ".".to_owned(),
            Some(_) => e
                .path()
                .iter()
                .map(|segment| match segment {
                    serde_path_to_error::Segment::Seq { index } => index.to_string(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("."),
        };
        let field = match (section, path.as_str()) {
            (s, ".") => s.to_owned(),
            ("", p) => p.to_owned(),
            (s, p) => format!("{s}.{p}"),
        };
        ConfigError::Field {
            field,
            message: with_suggestion(e.inner().message(), &["weight", "detach"]),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_field() {
        let m = "unknown field `mask_prb`, expected one of `mask_prob`, `masked`";
        assert!(with_suggestion(m, &[]).ends_with("did you mean `mask_prob`?"));
        assert_eq!(nearest("lr_rate", ["lr", "steps"]), None);
        assert_eq!(nearest("stesp", ["lr", "steps"]), Some("steps"));
    }
}
