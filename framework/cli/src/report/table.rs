//! The end-of-run table: loss and accuracy per objective on train, validation, test.

use std::fmt::Write;
use xp_framework::train::RunSummary;

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
