//! `xp export` and `xp predict`.

use crate::args::PredictArgs;
use crate::table::{pad, Align};
use anyhow::{bail, Context, Result};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use xp_framework::export::{to_onnx, ExportOptions};
use xp_framework::files::write_atomic;
use xp_framework::train::RunDir;
use xp_serve::predict::{self, Sampling};
use xp_serve::OnnxModel;

/// What `xp export` adds and checks besides writing.
#[derive(Debug, Clone, Copy)]
pub struct ExportChecks {
    /// Compare ONNX Runtime with candle after writing.
    pub check: bool,
    /// Refuse a model with an objective left out.
    pub strict: bool,
    /// Add the attention weights as outputs.
    pub attention: bool,
}

/// `xp export --onnx RUN [-o FILE] [--check] [--strict]`.
pub fn export(onnx: bool, run: &Path, output: Option<PathBuf>, checks: ExportChecks) -> Result<()> {
    if !onnx {
        bail!(
            "say which format to export: `xp export --onnx {}`",
            run.display()
        );
    }
    let (experiment, info, model) = RunDir::load(run, &candle_core::Device::Cpu)?;
    let options = ExportOptions {
        attention: checks.attention,
    };
    let exported = to_onnx(&model, &experiment, &info, options)?;
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
    let checks = crate::export_check::compare_export(run, onnx)?;
    let mut failed = Vec::new();
    for c in &checks {
        let verdict = if c.passed() { "ok" } else { "DIFFERS" };
        let attention = c
            .attention_worst
            .map_or(String::new(), |w| format!(", attention {w:.1e}"));
        println!(
            "check {} ({}): {} test names, max |candle - onnxruntime| = {:.1e}{attention}  {verdict}",
            c.objective, c.output, c.names, c.worst
        );
        if !c.passed() {
            failed.push(c.objective.as_str());
        }
    }
    if !failed.is_empty() {
        bail!(
            "ONNX Runtime differs from candle by more than {:e} for {}: the export of that head does not compute what its candle head does",
            crate::export_check::TOLERANCE,
            failed.join(", ")
        );
    }
    Ok(())
}

/// `xp predict --model FILE [NAMES..]`.
pub fn predict(args: &PredictArgs) -> Result<()> {
    let mut model = OnnxModel::load(&args.model)?;
    let objective = match &args.objective {
        Some(o) => o.clone(),
        None => model
            .info
            .objectives
            .iter()
            .find(|(_, o)| o.classes.is_some() && !o.segments)
            .map(|(name, _)| name.clone())
            .context("the model has no class objective; choose one with --objective")?,
    };
    let (_, served) = model.objective(&objective)?;
    if served.causal {
        let sampling = Sampling {
            count: args.count,
            temperature: args.temperature,
            seed: args.seed,
            prefix: args.prefix.clone(),
            length: args.length,
        };
        for name in predict::sample(&mut model, &objective, &sampling)? {
            if args.json {
                println!("{}", serde_json::json!({ "name": name }));
            } else {
                println!("{name}");
            }
        }
        return Ok(());
    }
    let inputs = inputs(&args.names)?;
    let failed = if served.classes.is_some() {
        let answers =
            predict::classify(&mut model, &objective, &inputs, args.top_k, args.batch_size)?;
        print_answers(&inputs, answers, args.json, |r| {
            let top: Vec<String> = r
                .top
                .iter()
                .map(|s| format!("{} {:.3}", s.label, s.probability))
                .collect();
            let notes = Notes {
                outside: r.outside_training_lengths,
                unknown: r.unknown_tokens,
            };
            (top.join("  "), notes)
        })?
    } else {
        let answers = predict::fill_masks(&mut model, &objective, &inputs, args.top_k)?;
        print_answers(&inputs, answers, args.json, |f| {
            let masks: Vec<String> = f
                .masks
                .iter()
                .map(|m| {
                    let top: Vec<String> = m
                        .iter()
                        .map(|s| format!("{:?} {:.3}", s.label, s.probability))
                        .collect();
                    format!("[{}]", top.join(" "))
                })
                .collect();
            let notes = Notes {
                outside: f.outside_training_lengths,
                unknown: f.unknown_tokens,
            };
            (
                format!("{} {}", pad(&f.filled, 14, Align::Left), masks.join(" ")),
                notes,
            )
        })?
    };
    if failed > 0 {
        bail!(
            "{failed} of {} inputs could not be predicted (see their rows); the others were",
            inputs.len()
        );
    }
    Ok(())
}

/// What is worth saying of an answer besides it.
struct Notes {
    /// Its length lies outside the training lengths.
    outside: bool,
    /// Tokens read as `[UNK]`.
    unknown: usize,
}

impl Notes {
    fn text(&self) -> String {
        let mut notes = Vec::new();
        if self.outside {
            notes.push("outside the training lengths".to_owned());
        }
        if self.unknown > 0 {
            notes.push(format!(
                "{} token(s) unseen in training, read as [UNK]",
                self.unknown
            ));
        }
        match notes.is_empty() {
            true => String::new(),
            false => format!("  ({})", notes.join("; ")),
        }
    }
}

/// Prints one row (or JSON line) per input in input order: its answer, or its error
/// in its place; returns how many inputs failed. `row` gives an answer's table text
/// and what to note of it.
fn print_answers<T: serde::Serialize>(
    inputs: &[String],
    answers: Vec<predict::Answer<T>>,
    json: bool,
    row: impl Fn(&T) -> (String, Notes),
) -> Result<usize> {
    let mut failed = 0;
    for (input, answer) in inputs.iter().zip(answers) {
        let shown = pad(input, 20, Align::Left);
        match (answer, json) {
            (Ok(a), true) => println!("{}", serde_json::to_string(&a)?),
            (Ok(a), false) => {
                let (text, notes) = row(&a);
                println!("{shown} {text}{}", notes.text());
            }
            (Err(e), true) => {
                failed += 1;
                let record = serde_json::json!({ "name": input, "error": e.to_string() });
                println!("{record}");
            }
            (Err(e), false) => {
                failed += 1;
                println!("{shown} error: {e}");
            }
        }
    }
    Ok(failed)
}

/// The names given as arguments, else the lines of standard input.
fn inputs(names: &[String]) -> Result<Vec<String>> {
    if !names.is_empty() {
        return Ok(names.to_vec());
    }
    let mut lines = Vec::new();
    for line in std::io::stdin().lock().split(b'\n') {
        let line = line.context("cannot read names from standard input")?;
        // Bytes that are not UTF-8 become U+FFFD, which no model reads: that line's
        // row says so, the others are predicted.
        let line = String::from_utf8_lossy(&line);
        if !line.trim().is_empty() {
            lines.push(line.trim().to_owned());
        }
    }
    if lines.is_empty() {
        bail!("no names given: pass them as arguments or one per line on standard input");
    }
    Ok(lines)
}

/// A model to serve: an exported file, or a run folder exported in memory with its
/// attention maps (what `xp attention` and `xp serve` accept).
pub(crate) enum ModelSource {
    /// An `.onnx` file.
    File(PathBuf),
    /// A run, exported: the file's bytes and the run's folder.
    Run(Vec<u8>, String),
}

impl ModelSource {
    /// The source at `path`: a run folder when it is a folder, else a file.
    pub(crate) fn at(path: &Path) -> Result<Self> {
        if !path.is_dir() {
            return Ok(Self::File(path.to_path_buf()));
        }
        let (experiment, info, model) = RunDir::load(path, &candle_core::Device::Cpu)?;
        let options = ExportOptions { attention: true };
        let exported = to_onnx(&model, &experiment, &info, options)?;
        Ok(Self::Run(exported.bytes, path.display().to_string()))
    }

    /// A session of the model.
    pub(crate) fn open(&self) -> std::result::Result<OnnxModel, xp_serve::ServeError> {
        match self {
            Self::File(path) => OnnxModel::load(path),
            Self::Run(bytes, origin) => OnnxModel::from_bytes(bytes, origin),
        }
    }
}
