//! `xp parity EXPERIMENT`: the first steps on the CPU and on a GPU, loss by loss.

use crate::args::ExperimentArgs;
use crate::resolve;
use anyhow::Result;
use std::path::{Path, PathBuf};
use xp_framework::train;

/// `xp parity`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment; `--device` is the device compared with the CPU (default cuda).
    #[command(flatten)]
    experiment: ExperimentArgs,
    /// Steps to compare.
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// Largest relative difference allowed between two losses.
    #[arg(long, default_value_t = 1e-3)]
    tolerance: f64,
    /// Also write every step's losses on both devices as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Runs `xp parity`: CPU against `--device` (default `cuda`), loss by loss.
pub fn run(args: Args) -> Result<()> {
    let (steps, tolerance, json) = (args.steps, args.tolerance, args.json.as_deref());
    let args = &args.experiment;
    let experiment = resolve::experiment(args)?;
    let device = match (&args.set.device, experiment.train.device.as_str()) {
        (None, "cpu") => "cuda".to_owned(),
        (_, named) => named.to_owned(),
    };
    let report =
        train::parity(&experiment, &device, steps).map_err(|e| resolve::locate_in(args, e))?;
    println!(
        "{:>5} {:>12} {:>12} {:>10}  in",
        "step",
        "total cpu",
        format!("total {device}"),
        "worst rel"
    );
    for s in &report.steps {
        let (rel, name) = s.worst();
        let (_, cpu, dev) = s.losses.last().cloned().unwrap_or_default();
        println!("{:>5} {cpu:>12.6} {dev:>12.6} {rel:>10.2e}  {name}", s.step);
    }
    let (worst, step, name) = report.worst();
    if let Some(path) = json {
        write_parity_json(path, &report, tolerance)?;
    }
    if worst <= tolerance {
        println!("parity: {steps} steps on cpu and {device} agree: largest relative difference {worst:.2e} ({name}, step {step}) <= {tolerance:.0e}");
        Ok(())
    } else {
        anyhow::bail!("parity: cpu and {device} differ: relative difference {worst:.2e} in the {name} loss at step {step}, above {tolerance:.0e}")
    }
}

/// The parity report as JSON: the worst difference, then each step's losses.
fn write_parity_json(path: &Path, report: &train::ParityReport, tolerance: f64) -> Result<()> {
    let (worst, step, name) = report.worst();
    let steps: Vec<_> = report
        .steps
        .iter()
        .map(|s| {
            let losses: Vec<_> = s
                .losses
                .iter()
                .map(|(n, cpu, dev)| serde_json::json!({"loss": n, "cpu": cpu, "device": dev}))
                .collect();
            serde_json::json!({"step": s.step, "worst_relative": s.worst().0, "losses": losses})
        })
        .collect();
    let doc = serde_json::json!({
        "device": report.device,
        "tolerance": tolerance,
        "worst_relative": worst,
        "worst_step": step,
        "worst_loss": name,
        "agree": worst <= tolerance,
        "steps": steps,
    });
    xp_framework::files::write_atomic(path, serde_json::to_string_pretty(&doc)?.as_bytes())?;
    Ok(())
}
