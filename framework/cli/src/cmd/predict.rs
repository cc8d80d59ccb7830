//! `xp predict --model FILE [NAMES..]`: classes, filled masks or sampled names from an
//! exported model, through ONNX Runtime.

use crate::table::{pad, Align};
use anyhow::{bail, Context, Result};
use std::io::BufRead;
use std::path::PathBuf;
use xp_serve::predict::{self, Sampling};
use xp_serve::OnnxModel;

/// `xp predict`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The exported model.
    #[arg(long, short)]
    pub model: PathBuf,
    /// Names to classify, or inputs with [MASK]s to fill (default: standard input,
    /// one per line).
    pub names: Vec<String>,
    /// The objective to serve: a class objective (default: the first, e.g. cls),
    /// mlm to fill [MASK]s, la to sample names.
    #[arg(long)]
    pub objective: Option<String>,
    /// How many classes or characters to show.
    #[arg(long, short = 'k', default_value_t = 3)]
    pub top_k: usize,
    /// JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Names per ONNX Runtime call.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Sampling (la): how many names.
    #[arg(long, default_value_t = 10)]
    pub count: usize,
    /// Sampling (la): softmax temperature.
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f32,
    /// Sampling (la): random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sampling (la): the start of every name.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Sampling (la): the length of every name (default: random within the corpus's).
    #[arg(long)]
    pub length: Option<usize>,
}

/// Runs `xp predict --model FILE [NAMES..]`.
pub fn run(args: Args) -> Result<()> {
    let args = &args;
    let mut model = OnnxModel::load(&args.model)?;
    let objective = match &args.objective {
        Some(o) => o.clone(),
        None => model.default_objective()?,
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
