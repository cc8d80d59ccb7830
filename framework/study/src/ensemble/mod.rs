//! Ensembles of finished runs (`xp ensemble`): the class probabilities of runs on one
//! split of one data, mixed with weights fitted on the validation split alone
//! ([`weights`]), evaluated on test, and written as a folder that reads as a run's
//! (summary, predictions, confusion matrix, per-class scores) with `ensemble.json`
//! naming its members.

pub mod weights;

use std::path::{Path, PathBuf};
use std::time::Instant;
use xp_framework::run::{
    read_predictions_csv, write_class_reports, EnsembleMember, EnsembleRecord, PredictionsTable,
    RunDir, RunFiles, RunSummary,
};
use xp_framework::train::{Metric, Predictions, SplitMetrics};
use xp_framework::XpError;

/// Why an ensemble cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum EnsembleError {
    /// The members do not make an ensemble: the message says which and what to do.
    #[error("{0}")]
    Members(String),
    /// A member's files or the ensemble's folder could not be read or written.
    #[error(transparent)]
    Run(#[from] XpError),
}

/// The splits an ensemble reads of its members: it fits on the first, reports both.
pub const SPLITS: [&str; 2] = ["valid", "test"];

/// A member read for the ensemble.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its folder, absolute.
    pub dir: PathBuf,
    /// Its summary.
    pub summary: RunSummary,
    /// Its validation and test predictions of the objective, columns in the first
    /// member's class order.
    pub splits: [PredictionsTable; 2],
}

/// An ensemble made.
#[derive(Debug, Clone)]
pub struct Made {
    /// Its members, in the order given.
    pub members: Vec<Member>,
    /// What `ensemble.json` says.
    pub record: EnsembleRecord,
    /// Its summary.
    pub summary: RunSummary,
    /// Figures that could not be drawn.
    pub warnings: Vec<String>,
}

/// Makes the ensemble of the finished runs `runs` for class objective `objective` in
/// the folder `out`: reads each run's validation and test predictions, fits the
/// weights on validation, mixes both splits and writes the folder (its summary last).
pub fn make(runs: &[PathBuf], objective: &str, out: &Path) -> Result<Made, EnsembleError> {
    let start = Instant::now();
    if runs.len() < 2 {
        return Err(EnsembleError::Members(
            "an ensemble needs at least two finished runs".into(),
        ));
    }
    let members = read_members(runs, objective)?;
    let valid = true_probabilities(&members, 0);
    let fit = weights::fit(&valid);
    let mixed: Vec<(String, SplitMetrics)> = SPLITS
        .iter()
        .enumerate()
        .map(|(s, split)| {
            let metrics = mix(&members, s, &fit.weights, objective);
            (split.to_string(), metrics)
        })
        .collect();
    let dir = RunDir::create(out)?;
    let first = &members[0];
    let record = EnsembleRecord {
        format: EnsembleRecord::FORMAT,
        objective: objective.to_owned(),
        classes: first.splits[0].classes.clone(),
        valid_nll: fit.nll,
        iterations: fit.iterations,
        members: members
            .iter()
            .zip(&fit.weights)
            .map(|(m, &weight)| EnsembleMember {
                run: m.dir.clone(),
                weight,
                seed: m.summary.seed,
                experiment_sha256: m.summary.experiment_sha256.clone(),
            })
            .collect(),
    };
    let seconds = start.elapsed().as_secs_f64();
    let summary = RunSummary {
        format: RunSummary::FORMAT,
        name: folder_name(out),
        seed: first.summary.seed,
        corpus: first.summary.corpus.clone(),
        experiment_sha256: String::new(),
        steps: fit.iterations,
        best_step: fit.iterations,
        stopped_early: false,
        skipped_steps: 0,
        train_seconds: seconds,
        steps_per_second: fit.iterations as f64 / seconds.max(1e-9),
        parameters: members.iter().map(|m| m.summary.parameters).sum(),
        stages: Vec::new(),
        splits: mixed,
    };
    let texts: Vec<(String, Vec<_>)> = SPLITS
        .iter()
        .zip(&first.splits)
        .map(|(split, table)| (split.to_string(), table.texts.clone()))
        .collect();
    let figures = write_class_reports(&dir.files, objective, &record.classes, &summary, &texts)?;
    let warnings = figures
        .into_iter()
        .filter_map(|(path, r)| r.err().map(|e| format!("figure {}: {e}", path.display())))
        .collect();
    let written = record.write(&dir.files)?;
    let summary = RunSummary {
        experiment_sha256: xp_framework::files::sha256_hex(&written),
        ..summary
    };
    summary.write(&dir.files)?;
    Ok(Made {
        members,
        record,
        summary,
        warnings,
    })
}

/// The folder's last component, the ensemble's name.
fn folder_name(out: &Path) -> String {
    out.file_name()
        .map_or_else(|| "ensemble".into(), |n| n.to_string_lossy().into_owned())
}

/// Each run of `runs`, refusing what does not make an ensemble with the first: not a
/// finished run, an ensemble itself, other classes, or another split (other texts or
/// true classes, row by row).
fn read_members(runs: &[PathBuf], objective: &str) -> Result<Vec<Member>, EnsembleError> {
    let mut members: Vec<Member> = Vec::new();
    for run in runs {
        let member = read_member(run, objective)?;
        if let Some(first) = members.first() {
            let member = aligned(first, member)?;
            members.push(member);
        } else {
            members.push(member);
        }
    }
    let mut dirs: Vec<&Path> = members.iter().map(|m| m.dir.as_path()).collect();
    dirs.sort();
    if let Some(twice) = dirs.windows(2).find(|w| w[0] == w[1]) {
        return Err(EnsembleError::Members(format!(
            "{} is given twice: give each member once",
            twice[0].display()
        )));
    }
    Ok(members)
}

fn read_member(run: &Path, objective: &str) -> Result<Member, EnsembleError> {
    let files = RunFiles::at(run);
    if files.is_ensemble() {
        return Err(EnsembleError::Members(format!(
            "{} is an ensemble: give its members (see its {}) instead",
            run.display(),
            RunFiles::ENSEMBLE
        )));
    }
    if !files.summary().is_file() {
        return Err(EnsembleError::Members(format!(
            "{} is not a finished run (it has no {}): finish it first (`xp run --resume {}`)",
            run.display(),
            RunFiles::SUMMARY,
            run.display()
        )));
    }
    let summary = RunSummary::read(run)?;
    let dir = std::fs::canonicalize(run).map_err(|e| XpError::read(run, e))?;
    let table = |split: &str| -> Result<PredictionsTable, EnsembleError> {
        let path = files.predictions_csv(split, objective);
        if !path.is_file() {
            return Err(EnsembleError::Members(format!(
                "{} has no {}: it has no class objective {objective}, or an older xp ran it (run it again)",
                run.display(),
                path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            )));
        }
        Ok(read_predictions_csv(&path)?)
    };
    Ok(Member {
        dir,
        summary,
        splits: [table(SPLITS[0])?, table(SPLITS[1])?],
    })
}

/// `member` with its probability columns in `first`'s class order; refused when its
/// classes or its splits are not `first`'s.
fn aligned(first: &Member, mut member: Member) -> Result<Member, EnsembleError> {
    let (ours_name, theirs_name) = (first.dir.display(), member.dir.display().to_string());
    for (split, (a, b)) in SPLITS
        .iter()
        .zip(first.splits.iter().zip(&mut member.splits))
    {
        let mut ours = a.classes.clone();
        let mut theirs = b.classes.clone();
        ours.sort();
        theirs.sort();
        if ours != theirs {
            return Err(EnsembleError::Members(format!(
                "{} and {} predict other classes: an ensemble's members classify the same labels",
                ours_name, theirs_name
            )));
        }
        let order: Vec<usize> = a
            .classes
            .iter()
            .filter_map(|c| b.classes.iter().position(|d| d == c))
            .collect();
        let to_first: Vec<u32> = b
            .classes
            .iter()
            .filter_map(|c| a.classes.iter().position(|d| d == c).map(|i| i as u32))
            .collect();
        for row in &mut b.predictions.probabilities {
            *row = order.iter().map(|&c| row[c]).collect();
        }
        for pair in &mut b.predictions.pairs {
            *pair = (to_first[pair.0 as usize], to_first[pair.1 as usize]);
        }
        b.classes = a.classes.clone();
        same_rows(split, a, b).map_err(|why| {
            EnsembleError::Members(format!(
                "{} and {} were not evaluated on one {split} split ({why}): ensemble runs of one data and seed",
                ours_name, theirs_name
            ))
        })?;
    }
    Ok(member)
}

/// Why two runs' tables of one split are not of the same rows, if they are not.
fn same_rows(split: &str, a: &PredictionsTable, b: &PredictionsTable) -> Result<(), String> {
    let (n, m) = (a.predictions.pairs.len(), b.predictions.pairs.len());
    if n != m {
        return Err(format!("{n} {split} rows against {m}"));
    }
    let texts = !a.texts.is_empty() && !b.texts.is_empty();
    for row in 0..n {
        if texts && a.texts[row].text != b.texts[row].text {
            return Err(format!(
                "row {row}: {:?} against {:?}",
                a.texts[row].text, b.texts[row].text
            ));
        }
        if a.predictions.pairs[row].1 != b.predictions.pairs[row].1 {
            return Err(format!("row {row} has another true class"));
        }
    }
    Ok(())
}

/// Per member, the probability it gives each row's true class on split `s`.
fn true_probabilities(members: &[Member], s: usize) -> Vec<Vec<f64>> {
    members
        .iter()
        .map(|m| {
            let p = &m.splits[s].predictions;
            p.pairs
                .iter()
                .zip(&p.probabilities)
                .map(|(&(_, truth), row)| f64::from(row[truth as usize]))
                .collect()
        })
        .collect()
}

/// The members' probabilities on split `s` mixed with `weights`: the mixture's
/// predictions, accuracy and negative log-likelihood (the loss it reports).
fn mix(members: &[Member], s: usize, weights: &[f64], objective: &str) -> SplitMetrics {
    let first = &members[0].splits[s].predictions;
    let classes = members[0].splits[s].classes.len();
    let mut predictions = Predictions::default();
    let mut nll = 0.0;
    for (row, &(_, truth)) in first.pairs.iter().enumerate() {
        let mut mixture = vec![0.0f64; classes];
        for (member, &w) in members.iter().zip(weights) {
            let p = &member.splits[s].predictions.probabilities[row];
            for (q, &pc) in mixture.iter_mut().zip(p) {
                *q += w * f64::from(pc);
            }
        }
        let predicted =
            mixture
                .iter()
                .enumerate()
                .fold(0, |best, (c, &q)| if q > mixture[best] { c } else { best });
        nll -= mixture[truth as usize].max(f64::MIN_POSITIVE).ln();
        predictions.pairs.push((predicted as u32, truth));
        predictions
            .probabilities
            .push(mixture.iter().map(|&q| q as f32).collect());
    }
    let rows = first.pairs.len().max(1) as f64;
    let correct = predictions.pairs.iter().filter(|(p, t)| p == t).count() as f64;
    let metric = Metric {
        loss: nll / rows,
        accuracy: correct / rows,
    };
    SplitMetrics {
        objectives: vec![(objective.to_owned(), metric)],
        total: metric.loss,
        predictions: vec![(objective.to_owned(), predictions)],
    }
}
