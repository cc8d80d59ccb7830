//! `xp ensemble RUN... --out DIR`: finished runs of one data and seed mixed into one
//! classifier, the weights fitted on the validation split alone; prints each member's
//! figures and weight and the ensemble's, test accuracy with a bootstrap interval.

use crate::table::{Align, Table};
use anyhow::Result;
use std::path::PathBuf;
use xp_framework::run::RunSummary;
use xp_study::compare::accuracy_interval;
use xp_study::ensemble::{make, Member};

/// `xp ensemble`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Finished run folders of one data and seed (transformers, n-gram baselines).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// The ensemble's folder (it reads as a run's: `xp compare`, `xp export` take it).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The class objective whose probabilities are mixed.
    #[arg(long, default_value = "CLS", value_name = "NAME")]
    objective: String,
}

/// Runs `xp ensemble`.
pub fn run(args: Args) -> Result<()> {
    let made = make(&args.runs, &args.objective, &args.out)?;
    let objective = &made.record.objective;
    let accuracy = |s: &RunSummary, split: &str| {
        s.split(split)
            .and_then(|m| m.objectives.iter().find(|(o, _)| o == objective))
            .map_or("-".to_owned(), |(_, m)| format!("{:.4}", m.accuracy))
    };
    let mut table = Table::new(
        &["member", "seed", "valid acc", "test acc", "weight"],
        &[Align::Left, Align::Right, Align::Right, Align::Right, Align::Right],
    );
    for (member, record) in made.members.iter().zip(&made.record.members) {
        table.row(vec![
            member.dir.display().to_string(),
            member.summary.seed.to_string(),
            accuracy(&member.summary, "valid"),
            accuracy(&member.summary, "test"),
            format!("{:.4}", record.weight),
        ]);
    }
    table.row(vec![
        "ensemble".into(),
        made.summary.seed.to_string(),
        accuracy(&made.summary, "valid"),
        accuracy(&made.summary, "test"),
        "1".into(),
    ]);
    print!("{}", table.render());
    let (low, high) = accuracy_interval(&test_correct(&made.summary, objective));
    println!(
        "weights fitted on valid ({} EM iterations, valid NLL {:.4}); {objective} test accuracy 95% bootstrap interval [{low:.4}, {high:.4}]",
        made.record.iterations, made.record.valid_nll
    );
    best_member_note(&made.members, objective, &args.out);
    for warning in &made.warnings {
        eprintln!("warning: {warning}");
    }
    println!("wrote {}", args.out.display());
    Ok(())
}

/// Which test rows the ensemble got right.
fn test_correct(summary: &RunSummary, objective: &str) -> Vec<bool> {
    summary
        .split("test")
        .and_then(|m| m.predictions.iter().find(|(o, _)| o == objective))
        .map(|(_, p)| p.pairs.iter().map(|(p, t)| p == t).collect())
        .unwrap_or_default()
}

/// How to test the ensemble in `out` against its member best on validation.
fn best_member_note(members: &[Member], objective: &str, out: &std::path::Path) {
    let valid = |m: &Member| {
        m.summary
            .split("valid")
            .and_then(|s| s.objectives.iter().find(|(o, _)| o == objective))
            .map_or(f64::NEG_INFINITY, |(_, m)| m.accuracy)
    };
    let Some(best) = members.iter().max_by(|a, b| valid(a).total_cmp(&valid(b))) else {
        return;
    };
    let Ok(runs) = xp_study::compare::collect(std::slice::from_ref(&best.dir)) else {
        return;
    };
    if let Some(point) = runs.first().map(|r| &r.point) {
        println!(
            "against the member best on valid: xp compare {} {} --against {point}",
            best.dir.display(),
            out.display()
        );
    }
}
