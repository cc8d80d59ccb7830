//! `xp compare RUN_OR_SWEEP...`: finished runs grouped by point (seeds pooled), each
//! objective's test loss and accuracy as mean, sd and a 95% confidence interval over
//! seeds, steps to the best checkpoint and wall time; as a table, Markdown, or
//! long-form CSV/JSON rows.

use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use xp_study::compare::{collect, long_rows, mean_sd_ci, paired_against, Run, PAIRED_OBJECTIVE};

/// `xp compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run folders or sweep folders (runs/SWEEP holds POINT/seed-N runs).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// A Markdown table.
    #[arg(long, conflicts_with_all = ["csv", "json"])]
    markdown: bool,
    /// Long-form CSV rows: point, seed, split, objective, metric, value.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// The long-form rows as JSON.
    #[arg(long)]
    json: bool,
    /// Also compare every other point with this one, on their common seeds:
    /// difference in CLS test accuracy with a bootstrap interval, McNemar's test.
    #[arg(long, value_name = "POINT")]
    against: Option<String>,
}

/// How `xp compare` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// A terminal table.
    Table,
    /// A Markdown table.
    Markdown,
    /// Long-form CSV rows: point, seed, split, objective, metric, value.
    Csv,
    /// The same rows as a JSON array.
    Json,
}

/// Runs `xp compare`; with `--against`, every other point is also compared with that
/// one.
pub fn run(args: Args) -> Result<()> {
    let format = match (args.markdown, args.csv, args.json) {
        (true, _, _) => Format::Markdown,
        (_, true, _) => Format::Csv,
        (_, _, true) => Format::Json,
        _ => Format::Table,
    };
    let (paths, against) = (&args.runs, args.against.as_deref());
    let runs = collect(paths)?;
    if let Some(reference) = against {
        if !runs.iter().any(|r| r.point == reference) {
            let points: Vec<&str> = runs.iter().map(|r| r.point.as_str()).collect();
            bail!(
                "--against {reference}: no such point; the points are {}",
                points.join(", ")
            );
        }
    }
    let rows = long_rows(&runs);
    match format {
        Format::Csv => {
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record(["point", "seed", "split", "objective", "metric", "value"])?;
            for r in &rows {
                let cells = [
                    &r.point,
                    &r.seed.to_string(),
                    &r.split,
                    &r.objective,
                    &r.metric,
                    &r.value.to_string(),
                ];
                out.write_record(cells)?;
            }
            out.flush()?;
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table | Format::Markdown => print_table(&runs, format),
    }
    if let Some(reference) = against {
        print_paired(&runs, reference)?;
    }
    if let Some(dir) = paths.first().filter(|p| p.is_dir()) {
        let figures = xp_study::compare::figures::write(&runs, dir);
        for warning in &figures.warnings {
            eprintln!("warning: {warning}");
        }
        if !figures.drawn.is_empty() {
            let drawn: Vec<String> = figures.drawn.iter().map(|p| p.display().to_string()).collect();
            eprintln!("figures: {}", drawn.join(", "));
        }
    }
    Ok(())
}

/// Every other point against `reference`, on the seeds both ran.
fn print_paired(runs: &[Run], reference: &str) -> Result<()> {
    let compared = paired_against(runs, reference)?;
    let width = compared
        .iter()
        .map(|(p, _)| p.len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!(
        "\nagainst {reference}, {PAIRED_OBJECTIVE} test accuracy on the seeds both ran (names resampled within each seed for the interval; McNemar's test pools the seeds):"
    );
    println!(
        "{:<width$} {:>5} {:>9} {:>20} {:>6} {:>6} {:>8} {:>8}",
        "point", "seeds", "diff", "95% bootstrap", "b", "c", "chi2", "p"
    );
    for (point, p) in &compared {
        println!(
            "{point:<width$} {:>5} {:>+9.4} {:>20} {:>6} {:>6} {:>8.3} {:>8}",
            p.seeds,
            p.difference,
            format!("[{:+.4}, {:+.4}]", p.interval.0, p.interval.1),
            p.only_this,
            p.only_reference,
            p.chi_square,
            p_value(p.p_value)
        );
    }
    println!("(b: names this point gets right and the reference wrong; c: the reverse)");
    Ok(())
}

/// A p-value in four decimals, or in powers of ten when smaller than they show.
fn p_value(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// A row per point: test accuracy and loss per objective, steps to best, wall time.
fn print_table(runs: &[Run], format: Format) {
    let mut points: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for run in runs {
        points.entry(run.point.as_str()).or_default().push(run);
    }
    let mut objectives: Vec<String> = Vec::new();
    for run in runs {
        let test = run.summary.split("test").into_iter();
        for (name, _) in test.flat_map(|m| &m.objectives) {
            if !objectives.contains(name) {
                objectives.push(name.clone());
            }
        }
    }
    // In name order, as the summary files listed them.
    objectives.sort();
    let mut header = vec!["point".to_owned(), "seeds".to_owned()];
    for o in &objectives {
        header.push(format!("{o} test acc"));
        header.push(format!("{o} test loss"));
    }
    header.extend(["best step".to_owned(), "wall s".to_owned()]);
    let mut lines = Vec::new();
    for (point, runs) in &points {
        let values = |f: &dyn Fn(&Run) -> Option<f64>| -> Vec<f64> {
            runs.iter().filter_map(|r| f(r)).collect()
        };
        let cell = |v: Vec<f64>, digits: usize| {
            match v.len() {
                0 => return "-".to_owned(),
                // One seed has no spread to show: its value alone.
                1 => return format!("{:.digits$}", v[0]),
                _ => {}
            }
            let (mean, sd, ci) = mean_sd_ci(&v);
            format!("{mean:.digits$} ±{ci:.digits$} (sd {sd:.digits$})")
        };
        let mut line = vec![(*point).to_owned(), runs.len().to_string()];
        for o in &objectives {
            line.push(cell(values(&|r| r.test_accuracy(o)), 3));
            line.push(cell(values(&|r| r.metric("test", o).map(|m| m.loss)), 3));
        }
        line.push(cell(values(&|r| Some(r.summary.best_step as f64)), 0));
        line.push(cell(values(&|r| Some(r.summary.train_seconds)), 1));
        lines.push(line);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let render = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        match format {
            Format::Markdown => format!("| {} |", padded.join(" | ")),
            _ => padded.join("  "),
        }
    };
    println!("{}", render(&header));
    if format == Format::Markdown {
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        println!("| {} |", rule.join(" | "));
    }
    for line in &lines {
        println!("{}", render(line));
    }
    if format == Format::Table {
        println!(
            "(mean ±half-width of a 95% confidence interval over seeds, Student's t; a point with one seed: its value; test split)"
        );
    }
}
