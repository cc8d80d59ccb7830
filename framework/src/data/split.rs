//! A stratified, seeded train/validation/test split.
//!
//! Per label, units are shuffled and cut: `test` of them to test, then `valid` of
//! the rest to validation. The sets are cut from one permutation, so no example can
//! land in two of them (the reference's second split indexed the full array instead
//! of the remainder, so its validation and training sets overlapped the test set).
//! With `dedup`, a unit is a distinct name string with all its occurrences, so a
//! string never appears on two sides; its stratum is the label it is most often given.

use super::Example;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::collections::{BTreeMap, HashMap};

/// How to split.
#[derive(Debug, Clone, Copy)]
pub struct Split {
    /// Fraction of the non-test part for validation.
    pub valid: f64,
    /// Fraction of everything for test.
    pub test: f64,
    /// Keep each distinct name string on one side.
    pub dedup: bool,
    /// Shuffling seed.
    pub seed: u64,
}

/// Example indices of each set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitSets {
    /// Training examples.
    pub train: Vec<usize>,
    /// Validation examples.
    pub valid: Vec<usize>,
    /// Test examples.
    pub test: Vec<usize>,
}

impl SplitSets {
    /// The sets by name, in order: `train`, `valid`, `test`.
    pub fn named(&self) -> [(&'static str, &[usize]); 3] {
        [
            ("train", &self.train),
            ("valid", &self.valid),
            ("test", &self.test),
        ]
    }

    /// The set called `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&[usize]> {
        self.named()
            .into_iter()
            .find_map(|(n, set)| (n == name).then_some(set))
    }
}

/// Splits `examples` as `how` says.
pub fn split(examples: &[Example], how: Split) -> SplitSets {
    let mut strata: BTreeMap<u32, Vec<Vec<usize>>> = BTreeMap::new();
    for unit in units(examples, how.dedup) {
        strata
            .entry(stratum(examples, &unit))
            .or_default()
            .push(unit);
    }
    let mut rng = SmallRng::seed_from_u64(how.seed);
    let mut sets = SplitSets::default();
    for mut units in strata.into_values() {
        units.shuffle(&mut rng);
        let n_test = (units.len() as f64 * how.test).round() as usize;
        let n_valid = ((units.len() - n_test) as f64 * how.valid).round() as usize;
        for (k, unit) in units.into_iter().enumerate() {
            let set = match k {
                k if k < n_test => &mut sets.test,
                k if k < n_test + n_valid => &mut sets.valid,
                _ => &mut sets.train,
            };
            set.extend(unit);
        }
    }
    for set in [&mut sets.train, &mut sets.valid, &mut sets.test] {
        set.sort_unstable();
    }
    sets
}

/// Groups of example indices that must stay together, in first-seen order.
fn units(examples: &[Example], dedup: bool) -> Vec<Vec<usize>> {
    if !dedup {
        return (0..examples.len()).map(|i| vec![i]).collect();
    }
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    let mut units: Vec<Vec<usize>> = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        let k = *by_name.entry(&e.name).or_insert_with(|| {
            units.push(Vec::new());
            units.len() - 1
        });
        units[k].push(i);
    }
    units
}

/// The most frequent label of a unit (the lowest on ties).
fn stratum(examples: &[Example], unit: &[usize]) -> u32 {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for &i in unit {
        *counts.entry(examples[i].label).or_default() += 1;
    }
    let best = counts.values().copied().max().unwrap_or(0);
    counts
        .into_iter()
        .find(|(_, c)| *c == best)
        .map_or(0, |(l, _)| l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn corpus() -> Vec<Example> {
        (0..1000)
            .map(|i| Example {
                name: format!("n{}", i % 300),
                label: (i % 3) as u32,
            })
            .collect()
    }

    #[test]
    fn sets_are_disjoint_and_cover_everything() {
        let ex = corpus();
        let s = split(
            &ex,
            Split {
                valid: 0.1,
                test: 0.1,
                dedup: false,
                seed: 1,
            },
        );
        let all: HashSet<usize> = s
            .train
            .iter()
            .chain(&s.valid)
            .chain(&s.test)
            .copied()
            .collect();
        assert_eq!(all.len(), ex.len());
        assert_eq!(s.train.len() + s.valid.len() + s.test.len(), ex.len());
        assert!((s.test.len() as i64 - 100).abs() <= 2, "{}", s.test.len());
        assert!((s.valid.len() as i64 - 90).abs() <= 2, "{}", s.valid.len());
        assert_eq!(
            s,
            split(
                &ex,
                Split {
                    valid: 0.1,
                    test: 0.1,
                    dedup: false,
                    seed: 1
                }
            )
        );
    }

    #[test]
    fn dedup_keeps_each_string_on_one_side() {
        let ex = corpus();
        let s = split(
            &ex,
            Split {
                valid: 0.1,
                test: 0.1,
                dedup: true,
                seed: 1,
            },
        );
        let names = |set: &[usize]| {
            set.iter()
                .map(|&i| ex[i].name.clone())
                .collect::<HashSet<_>>()
        };
        let (train, valid, test) = (names(&s.train), names(&s.valid), names(&s.test));
        assert!(train.is_disjoint(&test) && train.is_disjoint(&valid) && valid.is_disjoint(&test));
        assert_eq!(s.train.len() + s.valid.len() + s.test.len(), ex.len());
        assert!(!test.is_empty() && !valid.is_empty());
    }
}
