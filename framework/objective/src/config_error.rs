//! What can be wrong with an experiment.

use std::path::PathBuf;

/// An experiment that cannot be used, with what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read experiment {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped fields.
    #[error("invalid experiment {origin}: {message}")]
    Parse {
        /// The file, or `--set`.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A `--set` argument is not `key=value`.
    #[error("invalid override `{0}`: expected key=value, e.g. --set train.steps=500")]
    Override(String),
    /// A field has the wrong type, or no such field exists.
    #[error("`{field}`: {message}")]
    Field {
        /// The dotted field name (`train.lr`, `objectives.MLM.mask_prob`).
        field: String,
        /// What is wrong, with the nearest valid field for a misspelt one.
        message: String,
    },
    /// An error about a field, with where the field was written.
    #[error("invalid experiment {place}: {error}")]
    At {
        /// `FILE, line N`, or the `--set` that gave the value.
        place: String,
        /// The error.
        error: Box<ConfigError>,
    },
    /// A value is outside what it may be.
    #[error("invalid value for `{field}`: {reason}")]
    Invalid {
        /// The dotted field name.
        field: String,
        /// What is wrong and what would do.
        reason: String,
    },
    /// An objective name nobody registered.
    #[error("unknown objective `{name}`{hint}; registered objectives: {known} (an objective of your own is registered when your binary names its crate's OBJECTIVE: `xp::main_with(&[my_crate::OBJECTIVE])`)")]
    UnknownObjective {
        /// The name asked for.
        name: String,
        /// A "did you mean" hint, or empty.
        hint: String,
        /// The registered names.
        known: String,
    },
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] for `field`.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// The dotted field this error is about, if it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Field { field, .. } | Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// This error placed at `place` (`FILE, line N`).
    pub fn at(self, place: String) -> Self {
        Self::At {
            place,
            error: Box::new(self),
        }
    }

    /// This error with where its field was written: the `--set` among `overrides`
    /// that gave it, else its line in `text`, the TOML read from `origin`. Errors
    /// about no field, or already placed, are returned as they are.
    pub fn locate(self, origin: &str, text: &str, overrides: &[String]) -> Self {
        let Some(field) = self.field() else {
            return self;
        };
        let from_override = overrides.iter().rev().find(|o| {
            let key = o.split_once('=').map_or(o.as_str(), |(k, _)| k).trim();
            field == key || field.starts_with(&format!("{key}."))
        });
        let place = match (from_override, line_of(text, field)) {
            (Some(o), _) => format!("--set {o}"),
            (None, Some(line)) => format!("{origin}, line {line}"),
            (None, None) => origin.to_owned(),
        };
        Self::At {
            place,
            error: Box::new(self),
        }
    }
}

/// The 1-based line where the dotted `field` is written in the TOML `text` (its
/// value's line; for a table, its header's), if it is written there.
pub fn line_of(text: &str, field: &str) -> Option<usize> {
    let keys: Vec<&str> = field.split('.').collect();
    line_of_keys(text, &keys)
}

/// [`line_of`] for a path of keys, some of which may hold dots (`["axes",
/// "model.dim"]` for `[axes] "model.dim" = ...`).
pub fn line_of_keys(text: &str, keys: &[&str]) -> Option<usize> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    let mut span = None;
    let mut keys = keys.iter().peekable();
    while let Some(key) = keys.next() {
        let (_, mut value) = table.iter().find(|(k, _)| k.get_ref() == key)?;
        // An array (of tables) is entered by a 0-based index: `stages.1.train`.
        while let (Some(array), Some(index)) = (
            value.get_ref().as_array(),
            keys.peek().and_then(|k| k.parse::<usize>().ok()),
        ) {
            value = array.get(index)?;
            keys.next();
        }
        span = Some(value.span());
        if keys.peek().is_some() {
            table = value.get_ref().as_table()?;
        }
    }
    let start = span?.start.min(text.len());
    Some(text[..start].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "name = \"x\"\n[train]\nsteps = 5\nlr = \"0.5\"\n\n[objectives.MLM]\nmask_prob = 2.0\n";

    #[test]
    fn fields_are_found_on_their_lines() {
        assert_eq!(line_of(TEXT, "train.lr"), Some(4));
        assert_eq!(line_of(TEXT, "objectives.MLM.mask_prob"), Some(7));
        assert_eq!(line_of(TEXT, "train.warmup"), None);
        assert_eq!(line_of("not [toml", "train.lr"), None);
        let sweep = "name = \"s\"\n[axes]\n\"model.dim\" = [1, 2]\n";
        assert_eq!(line_of_keys(sweep, &["axes", "model.dim"]), Some(3));
        let staged = "name = \"s\"\n[[stages]]\nsteps = 1\n\n[[stages]]\nsteps = 2\n[stages.train]\nlr = 0.1\n";
        assert_eq!(line_of(staged, "stages.1.steps"), Some(6));
        assert_eq!(line_of(staged, "stages.1.train.lr"), Some(8));
        assert_eq!(line_of(staged, "stages.2.steps"), None);
    }

    #[test]
    fn an_error_names_its_line_or_the_override_that_set_it() {
        let err = || ConfigError::invalid("objectives.MLM.mask_prob", "2 is not a probability");
        let placed = err().locate("a.toml", TEXT, &[]).to_string();
        assert!(
            placed.starts_with("invalid experiment a.toml, line 7: "),
            "{placed}"
        );
        let set = ["objectives.MLM.mask_prob=2.0".to_owned()];
        let placed = err().locate("a.toml", TEXT, &set).to_string();
        assert!(
            placed.contains("--set objectives.MLM.mask_prob=2.0"),
            "{placed}"
        );
        let unplaced = ConfigError::Override("x".into()).locate("a.toml", TEXT, &[]);
        assert!(matches!(unplaced, ConfigError::Override(_)));
    }
}
