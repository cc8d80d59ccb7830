//! The search space: for each dotted field a distribution, `choice`, `uniform`,
//! `log_uniform`, `int` or `log_int`, and what a sampled value becomes in an
//! experiment.
//!
//! ```toml
//! [space]
//! "train.lr" = { log_uniform = [1e-4, 3e-3] }
//! "model.dim" = { choice = [128, 192, 256] }
//! "model.layers" = { int = [2, 4] }
//! objectives = { choice = [["CLS"], ["CLS", "MLM"]] }
//! "objectives.MLM.weight" = { uniform = [0.25, 1.0] }   # sampled when MLM trains
//! ```

use rand::rngs::SmallRng;
use rand::Rng;
use serde::{Deserialize, Serialize};
use xp_framework::config::ConfigError;

/// One field's distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Dist {
    /// One of these values, equally likely a priori.
    Choice(Vec<toml::Value>),
    /// A real number in `[lo, hi]`, uniform.
    Uniform(f64, f64),
    /// A real number in `[lo, hi]`, uniform in its logarithm.
    LogUniform(f64, f64),
    /// A whole number in `[lo, hi]`.
    Int(i64, i64),
    /// A whole number in `[lo, hi]`, uniform in its logarithm.
    LogInt(i64, i64),
}

/// A field of the space and its distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The dotted field (`train.lr`, `objectives`, `objectives.MLM.weight`).
    pub field: String,
    /// Its distribution.
    pub dist: Dist,
}

impl Param {
    /// The objective whose field this is (`objectives.MLM.weight` -> `MLM`): such a
    /// field is sampled only for trials that train it.
    pub fn objective(&self) -> Option<&str> {
        self.field.strip_prefix("objectives.")?.split('.').next()
    }

    /// A value drawn from the prior.
    pub fn draw(&self, rng: &mut SmallRng) -> toml::Value {
        match &self.dist {
            Dist::Choice(values) => values[rng.random_range(0..values.len())].clone(),
            Dist::Uniform(lo, hi) => toml::Value::Float(lo + (hi - lo) * rng.random::<f64>()),
            Dist::LogUniform(lo, hi) => {
                let (a, b) = (lo.ln(), hi.ln());
                toml::Value::Float((a + (b - a) * rng.random::<f64>()).exp())
            }
            Dist::Int(lo, hi) => toml::Value::Integer(rng.random_range(*lo..=*hi)),
            Dist::LogInt(lo, hi) => {
                let (a, b) = ((*lo as f64 - 0.5).ln(), (*hi as f64 + 0.5).ln());
                let x = (a + (b - a) * rng.random::<f64>()).exp().round() as i64;
                toml::Value::Integer(x.clamp(*lo, *hi))
            }
        }
    }

    /// Where `value` lies on the axis the sampler models: the index of a choice, the
    /// logarithm on a log scale, the number itself otherwise.
    pub fn coordinate(&self, value: &toml::Value) -> Option<f64> {
        let number = value
            .as_float()
            .or_else(|| value.as_integer().map(|i| i as f64));
        match &self.dist {
            Dist::Choice(values) => values.iter().position(|v| v == value).map(|i| i as f64),
            Dist::Uniform(..) | Dist::Int(..) => number,
            Dist::LogUniform(..) | Dist::LogInt(..) => number.filter(|x| *x > 0.0).map(f64::ln),
        }
    }

    /// The value at `x` on the sampler's axis (see [`Param::coordinate`]), inside
    /// the range.
    pub fn value_at(&self, x: f64) -> toml::Value {
        match &self.dist {
            Dist::Choice(values) => {
                values[(x.round().max(0.0) as usize).min(values.len() - 1)].clone()
            }
            Dist::Uniform(lo, hi) => toml::Value::Float(x.clamp(*lo, *hi)),
            Dist::LogUniform(lo, hi) => toml::Value::Float(x.exp().clamp(*lo, *hi)),
            Dist::Int(lo, hi) => toml::Value::Integer((x.round() as i64).clamp(*lo, *hi)),
            Dist::LogInt(lo, hi) => toml::Value::Integer((x.exp().round() as i64).clamp(*lo, *hi)),
        }
    }

    /// The sampler's axis: `(low, high)` (for choices, the indices).
    pub fn bounds(&self) -> (f64, f64) {
        match &self.dist {
            Dist::Choice(values) => (0.0, (values.len() - 1) as f64),
            Dist::Uniform(lo, hi) => (*lo, *hi),
            Dist::LogUniform(lo, hi) => (lo.ln(), hi.ln()),
            Dist::Int(lo, hi) => (*lo as f64, *hi as f64),
            Dist::LogInt(lo, hi) => ((*lo as f64).ln(), (*hi as f64).ln()),
        }
    }
}

/// Reads `[space]`: each key a dotted field, each value a one-key table naming the
/// distribution. `objectives` comes first: the other fields' conditions depend on it.
pub fn parse_space(table: &toml::Table) -> Result<Vec<Param>, ConfigError> {
    let mut params: Vec<Param> = table
        .iter()
        .map(|(field, spec)| parse_param(field, spec))
        .collect::<Result<_, _>>()?;
    params.sort_by_key(|p| p.field != "objectives");
    if params.is_empty() {
        return Err(ConfigError::invalid(
            "space",
            "the search space is empty: add fields, e.g. \"train.lr\" = { log_uniform = [1e-4, 3e-3] }",
        ));
    }
    Ok(params)
}

const KINDS: [&str; 5] = ["choice", "uniform", "log_uniform", "int", "log_int"];

fn parse_param(field: &str, spec: &toml::Value) -> Result<Param, ConfigError> {
    let at = format!("space.\"{field}\"");
    let kinds = KINDS.join(", ");
    let table = spec.as_table().filter(|t| t.len() == 1).ok_or_else(|| {
        ConfigError::invalid(
            &at,
            format!(
                "give one distribution as a table, e.g. {{ log_uniform = [1e-4, 3e-3] }} ({kinds})"
            ),
        )
    })?;
    let (kind, value) = table.iter().next().expect("one entry");
    let list = value.as_array().ok_or_else(|| {
        ConfigError::invalid(&at, format!("`{kind}` takes a list, e.g. {kind} = [1, 2]"))
    })?;
    let pair = |what: &str| -> Result<(f64, f64), ConfigError> {
        let numbers: Option<Vec<f64>> = list
            .iter()
            .map(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
            .collect();
        match numbers.as_deref() {
            Some([lo, hi]) if lo.is_finite() && hi.is_finite() && lo < hi => Ok((*lo, *hi)),
            Some([lo, hi]) => Err(ConfigError::invalid(
                &at,
                format!("the range [{lo}, {hi}] is empty: give [low, high] with low < high"),
            )),
            _ => Err(ConfigError::invalid(
                &at,
                format!("`{kind}` takes two {what}: [low, high]"),
            )),
        }
    };
    let whole = |(lo, hi): (f64, f64)| -> Result<(i64, i64), ConfigError> {
        let ints = list.iter().all(|v| v.is_integer());
        match ints {
            true => Ok((lo as i64, hi as i64)),
            false => Err(ConfigError::invalid(
                &at,
                format!("`{kind}` takes whole numbers: [low, high]"),
            )),
        }
    };
    let positive = |(lo, hi): (f64, f64)| -> Result<(f64, f64), ConfigError> {
        match lo > 0.0 {
            true => Ok((lo, hi)),
            false => Err(ConfigError::invalid(
                &at,
                format!("a log scale needs bounds above 0, got [{lo}, {hi}]: use `{}` or a positive low bound", kind.trim_start_matches("log_")),
            )),
        }
    };
    let dist = match kind.as_str() {
        "choice" if list.is_empty() => {
            return Err(ConfigError::invalid(
                &at,
                "the choice is empty: give at least one value",
            ))
        }
        "choice" => Dist::Choice(list.clone()),
        "uniform" => pair("numbers").map(|(lo, hi)| Dist::Uniform(lo, hi))?,
        "log_uniform" => positive(pair("numbers")?).map(|(lo, hi)| Dist::LogUniform(lo, hi))?,
        "int" => whole(pair("whole numbers")?).map(|(lo, hi)| Dist::Int(lo, hi))?,
        "log_int" => {
            whole(positive(pair("whole numbers")?)?).map(|(lo, hi)| Dist::LogInt(lo, hi))?
        }
        other => {
            let hint = xp_framework::config::nearest(other, KINDS.iter().copied())
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(ConfigError::invalid(
                &at,
                format!("unknown distribution `{other}`{hint}: use one of {kinds}"),
            ));
        }
    };
    Ok(Param {
        field: field.to_owned(),
        dist,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn space(text: &str) -> Result<Vec<Param>, ConfigError> {
        parse_space(&toml::from_str(text).unwrap())
    }

    #[test]
    fn draws_stay_in_their_ranges_and_map_back() {
        let params = space(
            "\"train.lr\" = { log_uniform = [1e-4, 1e-2] }\n\"model.layers\" = { int = [1, 3] }\n\"model.dim\" = { choice = [64, 128] }\n\"b\" = { log_int = [16, 128] }\n",
        )
        .unwrap();
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..200 {
            for p in &params {
                let v = p.draw(&mut rng);
                let x = p.coordinate(&v).expect("a coordinate");
                let (lo, hi) = p.bounds();
                assert!(lo - 1e-9 <= x && x <= hi + 1e-9, "{} {v} {x}", p.field);
                assert_eq!(p.value_at(x), v, "{}", p.field);
            }
        }
    }

    #[test]
    fn mistakes_say_what_to_change() {
        let msg = |t: &str| space(t).unwrap_err().to_string();
        assert!(msg("a = { uniform = [2, 1] }").contains("is empty"));
        assert!(msg("a = { log_uniform = [0, 1] }").contains("above 0"));
        assert!(msg("a = { choice = [] }").contains("choice is empty"));
        assert!(msg("a = { int = [1.5, 3] }").contains("whole numbers"));
        assert!(msg("a = { lgo_uniform = [1, 3] }").contains("did you mean `log_uniform`"));
        assert!(msg("a = 3").contains("one distribution"));
        assert!(msg("").contains("empty"));
    }
}
