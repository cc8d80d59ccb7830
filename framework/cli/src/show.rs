//! What the command line shows of a run: the end-of-run table (loss and accuracy per
//! objective on train, validation, test) and the gradient check's line.

use std::fmt::Write;
use xp_framework::gradcheck::gradient_check as check;
use xp_framework::run::RunSummary;
use xp_framework::train::Session;

/// A plain-text table of `summary`'s final metrics.
pub fn summary_table(summary: &RunSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:>16} {:>16} {:>16}",
        "objective", "train loss/acc", "valid loss/acc", "test loss/acc"
    );
    let Some((_, first)) = summary.splits.first() else {
        return out;
    };
    for (i, (name, _)) in first.objectives.iter().enumerate() {
        let cells: Vec<String> = summary
            .splits
            .iter()
            .map(|(_, m)| {
                m.objectives.get(i).map_or(String::new(), |(_, x)| {
                    format!("{:.4}/{:.4}", x.loss, x.accuracy)
                })
            })
            .collect();
        let _ = writeln!(
            out,
            "{name:<10} {:>16} {:>16} {:>16}",
            cells[0],
            cells.get(1).cloned().unwrap_or_default(),
            cells.get(2).cloned().unwrap_or_default()
        );
    }
    let totals: Vec<String> = summary
        .splits
        .iter()
        .map(|(_, m)| format!("{:.4}", m.total))
        .collect();
    let _ = writeln!(
        out,
        "{:<10} {:>16} {:>16} {:>16}",
        "total",
        totals[0],
        totals.get(1).cloned().unwrap_or_default(),
        totals.get(2).cloned().unwrap_or_default()
    );
    out
}

/// The gradient check on one training batch.
pub fn gradient_check(session: &Session) -> anyhow::Result<String> {
    let n = session
        .experiment
        .train
        .batch_size
        .min(session.sets.train.len());
    let batch = session.dataset.batch(&session.sets.train[..n]);
    let report = check(&session.model, &batch, session.experiment.seed)?.into_result()?;
    Ok(format!(
        "gradient check: all {} parameter tensors get gradients from the total and from each of {} objectives",
        report.params,
        report.losses - 1
    ))
}

/// A duration for people: seconds, minutes or hours.
pub fn duration(seconds: f64) -> String {
    match seconds {
        s if s < 120.0 => format!("about {s:.0} s"),
        s if s < 7200.0 => format!("about {:.0} min", s / 60.0),
        s => format!("about {:.1} h", s / 3600.0),
    }
}
