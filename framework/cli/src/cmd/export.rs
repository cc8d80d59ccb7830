//! `xp export --onnx RUN`: a trained run as one ONNX model, checked against candle
//! on request.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use xp_framework::export::check::{compare_export, TOLERANCE};
use xp_framework::export::{export_run, ExportOptions};
use xp_framework::files::write_atomic;

/// `xp export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write ONNX (the format xp exports).
    #[arg(long)]
    onnx: bool,
    /// The run directory, e.g. runs/four_losses.
    run: PathBuf,
    /// Output file (default: exported/NAME.onnx).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Then compare ONNX Runtime with candle on the run's test split, objective by
    /// objective; fail when they differ.
    #[arg(long)]
    check: bool,
    /// Fail, writing nothing, when an objective has no ONNX export.
    #[arg(long)]
    strict: bool,
    /// Also export each encoder pass's attention weights, (layers, batch, heads,
    /// seq, seq): outputs attention, attention_causal, attention_pairs.
    #[arg(long)]
    attention: bool,
}

/// Runs `xp export --onnx RUN [-o FILE] [--check] [--strict]`.
pub fn run(args: Args) -> Result<()> {
    let (run, output, checks) = (&args.run, args.output.clone(), &args);
    if !args.onnx {
        bail!(
            "say which format to export: `xp export --onnx {}`",
            run.display()
        );
    }
    let options = ExportOptions {
        attention: checks.attention,
    };
    let (experiment, exported) = export_run(run, options)?;
    if checks.strict && !exported.skipped.is_empty() {
        bail!(
            "nothing written: {} has no ONNX export (--strict); give its head an export (see docs/guide/objectives.md), or export without --strict to leave it out",
            exported.skipped.join(", ")
        );
    }
    let output =
        output.unwrap_or_else(|| Path::new("exported").join(format!("{}.onnx", experiment.name)));
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    write_atomic(&output, &exported.bytes)?;
    let outputs: Vec<String> = exported
        .objectives
        .iter()
        .map(|(name, o)| match &o.attention {
            Some(attention) => format!("{} and {attention} ({name})", o.output),
            None => format!("{} ({name})", o.output),
        })
        .collect();
    println!(
        "wrote {} ({:.1} MB): outputs {}",
        output.display(),
        exported.bytes.len() as f64 / 1e6,
        outputs.join(", ")
    );
    if !exported.skipped.is_empty() {
        eprintln!(
            "warning: left out (no ONNX export): {}",
            exported.skipped.join(", ")
        );
    }
    if checks.check {
        check_export(run, &output)?;
    }
    Ok(())
}

/// Prints the comparison of every exported objective; fails when one differs.
fn check_export(run: &Path, onnx: &Path) -> Result<()> {
    let checks = compare_export(run, onnx, crate::resolve::with_corpus)?;
    let mut failed = Vec::new();
    for c in &checks {
        let verdict = if c.passed() { "ok" } else { "DIFFERS" };
        let attention = c
            .attention_worst
            .map_or(String::new(), |w| format!(", attention {w:.1e}"));
        println!(
            "check {} ({}): {} test names, max |xp - onnxruntime| = {:.1e}{attention}  {verdict}",
            c.objective, c.output, c.names, c.worst
        );
        if !c.passed() {
            failed.push(c.objective.as_str());
        }
    }
    if !failed.is_empty() {
        bail!(
            "ONNX Runtime differs from candle by more than {:e} for {}: the export of that head does not compute what its candle head does",
            TOLERANCE,
            failed.join(", ")
        );
    }
    Ok(())
}
