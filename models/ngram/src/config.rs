//! `[model.ngram]`: the n-gram lengths, the vocabulary's cut and the regularisation.

use serde::{Deserialize, Serialize};

/// How the n-gram baseline is built and fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NgramConfig {
    /// Shortest n-gram, in tokens.
    pub min_n: usize,
    /// Longest n-gram, in tokens.
    pub max_n: usize,
    /// Keep n-grams found in at least this many training texts.
    pub min_count: usize,
    /// Inverse regularisation strength (scikit-learn's `C`): the loss is `c` times the
    /// summed cross-entropy plus half the squared weights (biases unpenalised).
    pub c: f64,
    /// Most L-BFGS iterations.
    pub max_iterations: u64,
}

impl Default for NgramConfig {
    fn default() -> Self {
        Self {
            min_n: 1,
            max_n: 5,
            min_count: 1,
            c: 10.0,
            max_iterations: 300,
        }
    }
}

impl NgramConfig {
    /// Refuses lengths or a strength that cannot be fitted, naming the field.
    pub fn check(&self) -> Result<(), crate::NgramError> {
        let bad = |field: &'static str, reason: String| {
            Err(crate::NgramError::Field {
                field: format!("model.ngram.{field}"),
                reason,
            })
        };
        if self.min_n == 0 || self.min_n > self.max_n {
            return bad(
                "min_n",
                format!(
                    "min_n = {} and max_n = {}: need 1 <= min_n <= max_n",
                    self.min_n, self.max_n
                ),
            );
        }
        if self.max_n > 16 {
            return bad(
                "max_n",
                format!("{} is longer than 16 tokens: lower it", self.max_n),
            );
        }
        if !(self.c.is_finite() && self.c > 0.0) {
            return bad("c", format!("{} must be positive, e.g. 10", self.c));
        }
        if self.min_count == 0 {
            return bad("min_count", "must be at least 1".into());
        }
        Ok(())
    }
}
