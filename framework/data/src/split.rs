//! The train/validation/test split: the user's own, or a stratified, seeded one.
//!
//! Per label, units are shuffled and cut: `test` of them to test, then `valid` of
//! the rest to validation. The sets are cut from one permutation, so no example can
//! land in two of them (the reference's second split indexed the full array instead
//! of the remainder, so its validation and training sets overlapped the test set).
//! With `dedup`, a unit is a distinct text with all its occurrences, so a text never
//! appears on two sides; its stratum is the label it is most often given.
//!
//! Data that names its split (a column, or one file per split) keeps it; a split it
//! lacks is cut from its training texts the same way, and the report says so.

use crate::{DataError, Example};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One of the three sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitName {
    /// Training.
    Train,
    /// Validation.
    Valid,
    /// Test.
    Test,
}

/// Where the sets came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitOrigin {
    /// xp's seeded, stratified split.
    Seeded,
    /// The data's own; a set it lacked was cut from its training texts.
    Given {
        /// Validation was cut from the training texts.
        cut_valid: bool,
        /// Test was cut from the training texts.
        cut_test: bool,
    },
}

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

/// The sets of `examples`: the split they name, else xp's seeded one (see the module).
/// `place` says where an example is written, for messages.
pub fn split_examples(
    examples: &[Example],
    how: Split,
    place: impl Fn(&Example) -> String,
) -> Result<(SplitSets, SplitOrigin), DataError> {
    let named = examples.iter().filter(|e| e.split.is_some()).count();
    if named == 0 {
        return Ok((split(examples, how), SplitOrigin::Seeded));
    }
    if let Some(e) = examples.iter().find(|e| e.split.is_none()) {
        return Err(DataError::Invalid {
            field: "data.columns.split".into(),
            reason: format!(
                "{named} texts name their split and {} do not (the first at {}): give every text a split, or none",
                examples.len() - named,
                place(e)
            ),
        });
    }
    let given = |name| -> Vec<usize> {
        (0..examples.len())
            .filter(|&i| examples[i].split == Some(name))
            .collect()
    };
    let mut sets = SplitSets {
        train: given(SplitName::Train),
        valid: given(SplitName::Valid),
        test: given(SplitName::Test),
    };
    let (cut_test, cut_valid) = (sets.test.is_empty(), sets.valid.is_empty());
    if cut_test {
        let cut = seeded(examples, &sets.train, Split { valid: 0.0, ..how });
        (sets.train, sets.test) = (cut.train, cut.test);
    }
    if cut_valid {
        let cut = seeded(
            examples,
            &sets.train,
            Split {
                test: how.valid,
                valid: 0.0,
                ..how
            },
        );
        (sets.train, sets.valid) = (cut.train, cut.test);
    }
    Ok((
        sets,
        SplitOrigin::Given {
            cut_valid,
            cut_test,
        },
    ))
}

/// Splits `examples` as `how` says.
pub fn split(examples: &[Example], how: Split) -> SplitSets {
    let all: Vec<usize> = (0..examples.len()).collect();
    seeded(examples, &all, how)
}

/// Splits the examples at `indices` as `how` says.
fn seeded(examples: &[Example], indices: &[usize], how: Split) -> SplitSets {
    let mut strata: BTreeMap<u32, Vec<Vec<usize>>> = BTreeMap::new();
    for unit in units(examples, indices, how.dedup) {
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

/// Groups of the example indices `indices` that must stay together, in first-seen
/// order.
fn units(examples: &[Example], indices: &[usize], dedup: bool) -> Vec<Vec<usize>> {
    if !dedup {
        return indices.iter().map(|&i| vec![i]).collect();
    }
    let mut by_text: HashMap<&str, usize> = HashMap::new();
    let mut units: Vec<Vec<usize>> = Vec::new();
    for &i in indices {
        let k = *by_text.entry(&examples[i].text).or_insert_with(|| {
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
            .map(|i| Example::new(format!("n{}", i % 300), (i % 3) as u32))
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
                .map(|&i| ex[i].text.clone())
                .collect::<HashSet<_>>()
        };
        let (train, valid, test) = (names(&s.train), names(&s.valid), names(&s.test));
        assert!(train.is_disjoint(&test) && train.is_disjoint(&valid) && valid.is_disjoint(&test));
        assert_eq!(s.train.len() + s.valid.len() + s.test.len(), ex.len());
        assert!(!test.is_empty() && !valid.is_empty());
    }

    #[test]
    fn a_given_split_is_kept_and_a_missing_set_cut_from_train() {
        let mut ex = corpus();
        for (i, e) in ex.iter_mut().enumerate() {
            e.split = Some(if i % 10 == 0 {
                SplitName::Test
            } else {
                SplitName::Train
            });
        }
        let how = Split {
            valid: 0.2,
            test: 0.1,
            dedup: false,
            seed: 3,
        };
        let (sets, origin) =
            split_examples(&ex, how, |_| String::new()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            origin,
            SplitOrigin::Given {
                cut_valid: true,
                cut_test: false
            }
        );
        assert!(sets.test.iter().all(|i| i % 10 == 0) && sets.test.len() == 100);
        assert!(
            (sets.valid.len() as i64 - 180).abs() <= 3,
            "{}",
            sets.valid.len()
        );
        assert_eq!(sets.train.len() + sets.valid.len(), 900);
        ex[5].split = None;
        let err = split_examples(&ex, how, |e| format!("line {}", e.line))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("999 texts name their split and 1 do not"),
            "{err}"
        );
    }
}
