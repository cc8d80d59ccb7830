//! `xp export --onnx RUN`: a trained run as one ONNX model, checked against candle
//! on request.

use anyhow::{bail, Result};
use std::path::PathBuf;
use xp_framework::export::check::compare_export_as;
use xp_framework::export::{verdict, write_run, ExportOptions, WeightFormat};

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
    if !args.onnx {
        bail!(
            "say which format to export: `xp export --onnx {}`",
            args.run.display()
        );
    }
    let options = ExportOptions {
        attention: args.attention,
        weights: match args.quantize {
            None => WeightFormat::F32,
            Some(Quantize::Int8) => WeightFormat::Int8,
        },
    };
    let written = write_run(&args.run, args.output.as_deref(), options, args.strict)?;
    println!(
        "wrote {} ({:.1} MB): outputs {}",
        written.path.display(),
        written.export.bytes.len() as f64 / 1e6,
        written.outputs().join(", ")
    );
    if !written.export.skipped.is_empty() {
        eprintln!(
            "warning: left out (no ONNX export): {}",
            written.export.skipped.join(", ")
        );
    }
    if args.check {
        let checks =
            compare_export_as(&args.run, &written.path, options.weights, crate::resolve::with_corpus)?;
        for c in &checks {
            let verdict = if c.passed() { "ok" } else { "DIFFERS" };
            println!("check {} ({}): {}  {verdict}", c.objective, c.output, c.describe());
        }
        verdict(&checks, options.weights)?;
    }
    Ok(())
}
