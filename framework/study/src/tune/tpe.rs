//! The samplers: random (each field from its prior), and a tree-structured Parzen
//! estimator (TPE, Bergstra et al. 2011, univariate as in Optuna): the trials scored
//! so far are cut into the best quarter and the rest; for each field a density of
//! the good values `l` and of the others `g` is estimated (Gaussian kernels on the
//! field's axis, a share of the prior mixed in; counts for a choice), and of a few
//! dozen draws from `l` the one with the highest `l / g` is taken.

use super::space::{Dist, Param};
use rand::rngs::SmallRng;
use rand::Rng;
use std::collections::BTreeMap;

/// Values of the fields of one trial, by field.
pub type Sample = BTreeMap<String, toml::Value>;

/// Draws per field among which TPE picks.
const CANDIDATES: usize = 24;
/// Share of the scored trials that count as good.
const GAMMA: f64 = 0.25;

/// A field's value: from the prior when `history` (samples and their scores, lower
/// better) holds too little about it, else by TPE.
pub fn suggest(param: &Param, history: &[(&Sample, f64)], rng: &mut SmallRng) -> toml::Value {
    let mut scored: Vec<(f64, f64)> = history
        .iter()
        .filter_map(|(sample, score)| Some((param.coordinate(sample.get(&param.field)?)?, *score)))
        .collect();
    if scored.len() < 4 {
        return param.draw(rng);
    }
    scored.sort_by(|a, b| a.1.total_cmp(&b.1));
    let good_n = ((scored.len() as f64 * GAMMA).ceil() as usize).max(1);
    let good: Vec<f64> = scored[..good_n].iter().map(|s| s.0).collect();
    let bad: Vec<f64> = scored[good_n..].iter().map(|s| s.0).collect();
    let (l, g) = (Density::new(param, &good), Density::new(param, &bad));
    let mut best: Option<(f64, f64)> = None;
    for _ in 0..CANDIDATES {
        let x = l.draw(rng);
        let ratio = l.log_pdf(x) - g.log_pdf(x);
        if best.is_none_or(|(_, r)| ratio > r) {
            best = Some((x, ratio));
        }
    }
    best.map_or_else(|| param.draw(rng), |(x, _)| param.value_at(x))
}

/// A Parzen density on a field's axis: kernels at `points` and the prior.
struct Density {
    points: Vec<f64>,
    sigma: f64,
    bounds: (f64, f64),
    /// Choices: the number of values (the axis holds their indices).
    choices: Option<usize>,
}

impl Density {
    fn new(param: &Param, points: &[f64]) -> Self {
        let bounds = param.bounds();
        let width = (bounds.1 - bounds.0).max(1e-12);
        let n = points.len().max(1) as f64;
        let mean = points.iter().sum::<f64>() / n;
        let sd = (points.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / n).sqrt();
        // Scott's rule, at least a hundredth of the range; a tenth of it when the
        // points coincide.
        let sigma = match sd > 0.0 {
            true => (1.06 * sd * n.powf(-0.2)).clamp(width / 100.0, width),
            false => width / 10.0,
        };
        Self {
            points: points.to_vec(),
            sigma,
            bounds,
            choices: match &param.dist {
                Dist::Choice(values) => Some(values.len()),
                _ => None,
            },
        }
    }

    /// Weight of the prior among the `points.len() + 1` components.
    fn prior_share(&self) -> f64 {
        1.0 / (self.points.len() as f64 + 1.0)
    }

    fn draw(&self, rng: &mut SmallRng) -> f64 {
        let (lo, hi) = self.bounds;
        let component = rng.random_range(0..=self.points.len());
        if let Some(k) = self.choices {
            return match self.points.get(component) {
                Some(&x) => x,
                None => rng.random_range(0..k) as f64,
            };
        }
        match self.points.get(component) {
            None => lo + (hi - lo) * rng.random::<f64>(),
            Some(&centre) => {
                let (u1, u2) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                (centre + self.sigma * z).clamp(lo, hi)
            }
        }
    }

    fn log_pdf(&self, x: f64) -> f64 {
        let share = self.prior_share();
        let density = match self.choices {
            Some(k) => {
                let count = self.points.iter().filter(|p| (**p - x).abs() < 0.5).count();
                share / k as f64 + (1.0 - share) * count as f64 / self.points.len().max(1) as f64
            }
            None => {
                let (lo, hi) = self.bounds;
                let prior = 1.0 / (hi - lo).max(1e-12);
                let norm = 1.0 / (self.sigma * (std::f64::consts::TAU).sqrt());
                let kernels: f64 = self
                    .points
                    .iter()
                    .map(|p| norm * (-0.5 * ((x - p) / self.sigma).powi(2)).exp())
                    .sum();
                share * prior + (1.0 - share) * kernels / self.points.len().max(1) as f64
            }
        };
        density.max(1e-300).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn tpe_moves_toward_the_good_region() {
        let param = Param {
            field: "x".into(),
            dist: Dist::Uniform(0.0, 10.0),
        };
        // Scores: lower near 8.
        let samples: Vec<Sample> = (0..40)
            .map(|i| Sample::from([("x".into(), toml::Value::Float(i as f64 / 4.0))]))
            .collect();
        let history: Vec<(&Sample, f64)> = samples
            .iter()
            .map(|s| (s, (s["x"].as_float().unwrap() - 8.0).abs()))
            .collect();
        let mut rng = SmallRng::seed_from_u64(3);
        let draws: Vec<f64> = (0..50)
            .map(|_| suggest(&param, &history, &mut rng).as_float().unwrap())
            .collect();
        let near = draws.iter().filter(|x| (**x - 8.0).abs() < 2.0).count();
        assert!(near > 40, "{near} of 50 near the best: {draws:?}");
        // Too little history: the prior.
        let few = &history[..2];
        let x = suggest(&param, few, &mut rng).as_float().unwrap();
        assert!((0.0..=10.0).contains(&x));
    }

    #[test]
    fn tpe_prefers_the_good_choice() {
        let values: Vec<toml::Value> = ["a", "b", "c"]
            .iter()
            .map(|s| toml::Value::String((*s).into()))
            .collect();
        let param = Param {
            field: "c".into(),
            dist: Dist::Choice(values.clone()),
        };
        let samples: Vec<Sample> = (0..30)
            .map(|i| Sample::from([("c".into(), values[i % 3].clone())]))
            .collect();
        let history: Vec<(&Sample, f64)> = samples
            .iter()
            .map(|s| {
                (
                    s,
                    if s["c"].as_str() == Some("b") {
                        0.0
                    } else {
                        1.0
                    },
                )
            })
            .collect();
        let mut rng = SmallRng::seed_from_u64(5);
        let bs = (0..40)
            .filter(|_| suggest(&param, &history, &mut rng).as_str() == Some("b"))
            .count();
        assert!(bs > 35, "{bs} of 40");
    }
}
