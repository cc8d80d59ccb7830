//! `xp export --onnx RUN`: a trained run as one ONNX model, checked against candle
//! on request.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use xp_framework::export::check::{
    compare_export_as, ObjectiveCheck, INT8_ACCURACY_DROP, INT8_TOLERANCE, TOLERANCE,
};
use xp_framework::export::{export_run, ExportOptions, WeightFormat};
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
    /// Quantize the weight products: int8 (weights per output channel, activations
    /// dynamically per tensor; ONNX Runtime's integer kernels). --check then compares
    /// probabilities and test accuracy with the f32 model.
    #[arg(long, value_name = "FORMAT")]
    quantize: Option<Quantize>,
}

/// A `--quantize` format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Quantize {
    /// 8-bit integers.
    Int8,
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
        weights: match checks.quantize {
            None => WeightFormat::F32,
            Some(Quantize::Int8) => WeightFormat::Int8,
        },
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
        check_export(run, &output, options.weights)?;
    }
    Ok(())
}

/// Prints the comparison of every exported objective; fails when one differs.
fn check_export(run: &Path, onnx: &Path, weights: WeightFormat) -> Result<()> {
    let checks = compare_export_as(run, onnx, weights, crate::resolve::with_corpus)?;
    let mut failed = Vec::new();
    for c in &checks {
        let verdict = if c.passed() { "ok" } else { "DIFFERS" };
        println!("check {} ({}): {}  {verdict}", c.objective, c.output, describe(c));
        if !c.passed() {
            failed.push(c.objective.as_str());
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    if weights == WeightFormat::Int8 {
        bail!(
            "the int8 export is further from f32 than allowed (probabilities within {INT8_TOLERANCE}, test accuracy at most {INT8_ACCURACY_DROP} lower) for {}: serve the f32 export of this run",
            failed.join(", ")
        );
    }
    bail!(
        "ONNX Runtime differs from candle by more than {:e} for {}: the export of that head does not compute what its candle head does",
        TOLERANCE,
        failed.join(", ")
    )
}

/// One objective's figures: the largest difference, or an int8 export's distance from
/// f32.
fn describe(c: &ObjectiveCheck) -> String {
    let Some(q) = &c.quantized else {
        let attention = c
            .attention_worst
            .map_or(String::new(), |w| format!(", attention {w:.1e}"));
        return format!(
            "{} test names, max |xp - onnxruntime| = {:.1e}{attention}",
            c.names, c.worst
        );
    };
    let accuracy = q.accuracies().map_or(String::new(), |(f32_acc, int8_acc)| {
        format!(", test accuracy f32 {f32_acc:.4}, int8 {int8_acc:.4}")
    });
    format!(
        "{} test names, int8 against f32: max |p| difference {:.1e}, same answer {:.2}% of {} rows{accuracy}",
        c.names,
        q.probability_worst,
        100.0 * q.same_answer as f64 / q.rows.max(1) as f64,
        q.rows
    )
}
