//! Paired comparisons (`xp compare --against POINT`): every other point against POINT on the seeds both
//! ran, from the runs' saved test predictions: the difference in test accuracy with a
//! bootstrap interval, and McNemar's test on the names one gets right and the other
//! wrong.

use super::CompareError;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use statrs::distribution::{ChiSquared, ContinuousCDF};
use std::path::Path;

/// Bootstrap resamples.
const RESAMPLES: usize = 2000;

/// Which test names one run got right, in split order.
pub type Correct = Vec<bool>;

/// The outcome of one point against the reference point.
#[derive(Debug, Clone, PartialEq)]
pub struct Paired {
    /// Seeds both points ran.
    pub seeds: usize,
    /// Mean difference in accuracy (this point minus the reference) over the
    /// seeds' test names pooled.
    pub difference: f64,
    /// 95% bootstrap interval of `difference` (names resampled within each seed).
    pub interval: (f64, f64),
    /// Names this point got right and the reference wrong.
    pub only_this: usize,
    /// Names the reference got right and this point wrong.
    pub only_reference: usize,
    /// McNemar's statistic, with continuity correction.
    pub chi_square: f64,
    /// Its p-value (chi-square, one degree of freedom).
    pub p_value: f64,
}

/// Which test texts a run got right, from its `test_predictions_NAME.csv` (read by its
/// `true` and `predicted` columns, whatever else it has).
pub fn correct(run: &Path, objective: &str) -> Result<Correct, CompareError> {
    let path = xp_framework::run::RunFiles::at(run).test_predictions_csv(objective);
    let bad = |e: String| CompareError::Runs(format!("{}: {e}", path.display()));
    let mut reader = csv::Reader::from_path(&path).map_err(|e| {
        CompareError::Runs(format!(
            "cannot read {}: {e}: --against needs the test predictions runs save (run again with this xp)",
            path.display()
        ))
    })?;
    let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("no column `{name}`")))
    };
    let (truth, predicted) = (column("true")?, column("predicted")?);
    reader
        .records()
        .enumerate()
        .map(|(i, row)| {
            let row = row.map_err(|e| bad(format!("row {}: {e}", i + 1)))?;
            match (row.get(truth), row.get(predicted)) {
                (Some(t), Some(p)) => Ok(t == p),
                _ => Err(bad(format!("row {} is short", i + 1))),
            }
        })
        .collect()
}

/// This point's `runs` against the reference's, seed by seed (pairs of the same seed).
pub fn paired(pairs: &[(Correct, Correct)]) -> Result<Paired, CompareError> {
    if pairs.is_empty() {
        return Err(CompareError::Runs(
            "no seed in common with the reference point".into(),
        ));
    }
    for (a, b) in pairs {
        if a.len() != b.len() {
            return Err(CompareError::Runs(
                "two runs of one seed have test splits of different sizes: they are not comparable"
                    .into(),
            ));
        }
    }
    let diffs: Vec<Vec<f64>> = pairs
        .iter()
        .map(|(this, reference)| {
            this.iter()
                .zip(reference)
                .map(|(t, r)| f64::from(u8::from(*t)) - f64::from(u8::from(*r)))
                .collect()
        })
        .collect();
    let difference = pooled_mean(&diffs);
    let interval = bootstrap_interval(&diffs);
    let count = |pick: fn(bool, bool) -> bool| {
        pairs
            .iter()
            .flat_map(|(t, r)| t.iter().zip(r))
            .filter(|(t, r)| pick(**t, **r))
            .count()
    };
    let only_this = count(|t, r| t && !r);
    let only_reference = count(|t, r| !t && r);
    let (chi_square, p_value) = mcnemar(only_this, only_reference);
    Ok(Paired {
        seeds: pairs.len(),
        difference,
        interval,
        only_this,
        only_reference,
        chi_square,
        p_value,
    })
}

/// The mean of `groups`' values pooled.
fn pooled_mean(groups: &[Vec<f64>]) -> f64 {
    let n: usize = groups.iter().map(Vec::len).sum();
    groups.iter().flatten().sum::<f64>() / n.max(1) as f64
}

/// A 95% bootstrap interval of the pooled mean of `groups`, each group resampled
/// within itself (a seed's test names), with a fixed generator: the same values give
/// the same interval.
pub fn bootstrap_interval(groups: &[Vec<f64>]) -> (f64, f64) {
    let mut rng = SmallRng::seed_from_u64(0x5eed);
    let mut resampled: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let draw: Vec<Vec<f64>> = groups
                .iter()
                .map(|d| {
                    (0..d.len())
                        .map(|_| d[rng.random_range(0..d.len())])
                        .collect()
                })
                .collect();
            pooled_mean(&draw)
        })
        .collect();
    resampled.sort_by(f64::total_cmp);
    let at = |q: f64| resampled[((q * RESAMPLES as f64) as usize).min(RESAMPLES - 1)];
    (at(0.025), at(0.975))
}

/// A 95% bootstrap interval of an accuracy: the share of `correct` that is true.
pub fn accuracy_interval(correct: &[bool]) -> (f64, f64) {
    let values = correct.iter().map(|&c| f64::from(u8::from(c))).collect();
    bootstrap_interval(&[values])
}

/// McNemar's statistic `(|b - c| - 1)^2 / (b + c)` and its p-value; `(0, 1)` when no
/// name tells the two apart.
pub fn mcnemar(b: usize, c: usize) -> (f64, f64) {
    if b + c == 0 {
        return (0.0, 1.0);
    }
    let (b, c) = (b as f64, c as f64);
    let chi = ((b - c).abs() - 1.0).max(0.0).powi(2) / (b + c);
    // The survival function, not 1 - cdf: that rounds every p below 1e-16 to 0.
    let p = ChiSquared::new(1.0).map_or(f64::NAN, |d| d.sf(chi));
    (chi, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcnemar_matches_the_value_computed_by_hand() {
        // b = 10, c = 2: (8 - 1)^2 / 12 = 4.0833; p = erfc(sqrt(4.0833 / 2)) = 0.043308.
        let (chi, p) = mcnemar(10, 2);
        assert!((chi - 4.083_333_333).abs() < 1e-9);
        assert!((p - 0.043_308_142_8).abs() < 1e-6, "{p}");
        assert_eq!(mcnemar(0, 0), (0.0, 1.0));
        // A large difference keeps its tiny p: (436 - 1)^2 / 676 = 279.92, erfc(sqrt(139.96)).
        let (_, p) = mcnemar(556, 120);
        assert!((p / 7.822_149_411e-63 - 1.0).abs() < 1e-6, "{p}");
    }

    #[test]
    fn the_paired_difference_and_its_interval() -> Result<(), CompareError> {
        // 100 names: this point right on 60, the reference on 50; 10 + 0 discordant.
        // The resampled difference is about Binomial(100, 0.1) / 100: 0.05..0.17.
        let this: Correct = (0..100).map(|i| i < 60).collect();
        let reference: Correct = (0..100).map(|i| i < 50).collect();
        let p = paired(&[(this, reference)])?;
        assert!((p.difference - 0.10).abs() < 1e-12);
        assert_eq!((p.only_this, p.only_reference), (10, 0));
        assert!(
            p.interval.0 > 0.03 && p.interval.0 < 0.10,
            "{:?}",
            p.interval
        );
        assert!(
            p.interval.1 > 0.10 && p.interval.1 < 0.18,
            "{:?}",
            p.interval
        );
        Ok(())
    }
}
