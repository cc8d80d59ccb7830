//! `xp bench`: timings as a table (and JSON), each the median of several runs.

use crate::resolve::{self, with_corpus};
use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use xp_framework::config::Experiment;
use xp_framework::data::{Corpus, CLS, PAD};
use xp_framework::files::write_atomic;
use xp_framework::model::Model;
use xp_framework::train::{Batches, Session, Trainer};
use xp_serve::predict::{classify, softmax};
use xp_serve::OnnxModel;

/// `xp bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to measure.
    #[command(subcommand)]
    what: BenchKind,
    /// Also write the table as JSON here.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
}

/// What `xp bench` measures.
#[derive(Debug, clap::Subcommand)]
pub enum BenchKind {
    /// Training: milliseconds per step (forward, backward, update) and per batch of
    /// each objective's transform, for each experiment and batch size.
    Train {
        /// Experiments to time.
        #[arg(default_values = ["experiments/cls_only.toml", "experiments/four_losses.toml"])]
        experiments: Vec<PathBuf>,
        /// Batch sizes to time.
        #[arg(long, value_delimiter = ',', default_value = "32,256")]
        batch_sizes: Vec<usize>,
        /// Steps per timed run.
        #[arg(long, default_value_t = 30)]
        steps: usize,
        /// Timed runs (the median is reported).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Override experiment fields, as in `xp run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// CLS inference: names/s in batches and single-name latency, ONNX Runtime against
    /// candle in-process, on the corpus's names.
    Serve {
        /// The exported model.
        #[arg(long, short)]
        model: PathBuf,
        /// The run it was exported from (for candle).
        #[arg(long)]
        run: PathBuf,
        /// Names per batch.
        #[arg(long, default_value_t = 256)]
        batch_size: usize,
        /// Timed passes over the corpus (the median is reported).
        #[arg(long, default_value_t = 5)]
        repeats: usize,
    },
}

/// One measured row.
#[derive(Debug, Serialize)]
pub struct Timing {
    /// What was measured.
    pub what: String,
    /// Median over the repeats.
    pub median: f64,
    /// Unit of `median`.
    pub unit: &'static str,
    /// How many repeats.
    pub repeats: usize,
}

/// Runs one benchmark and prints its table.
pub fn run(args: Args) -> Result<()> {
    let json = args.json.as_deref();
    let rows = match args.what {
        BenchKind::Train {
            experiments,
            batch_sizes,
            steps,
            repeats,
            overrides,
        } => {
            let mut rows = Vec::new();
            for exp in &experiments {
                for &b in &batch_sizes {
                    rows.extend(train(exp, &overrides, b, steps, repeats)?);
                }
            }
            rows
        }
        BenchKind::Serve {
            model,
            run,
            batch_size,
            repeats,
        } => serve(&model, &run, batch_size, repeats)?,
    };
    for r in &rows {
        println!("{:<48} {:>12.3} {}", r.what, r.median, r.unit);
    }
    if let Some(path) = json {
        write_atomic(path, serde_json::to_string_pretty(&rows)?.as_bytes())?;
    }
    Ok(())
}

/// The median of `samples` (sorted in place).
pub fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Times `f` `repeats` times (after one warm-up) and returns the seconds of each.
fn seconds(repeats: usize, mut f: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    f()?;
    (0..repeats.max(1))
        .map(|_| {
            let start = Instant::now();
            f()?;
            Ok(start.elapsed().as_secs_f64())
        })
        .collect()
}

/// Step and transform times of one experiment at batch size `batch`.
fn train(
    path: &Path,
    overrides: &[String],
    batch: usize,
    steps: usize,
    repeats: usize,
) -> Result<Vec<Timing>> {
    let mut overrides = overrides.to_vec();
    overrides.push(format!("train.batch_size={batch}"));
    let experiment = Experiment::load(path, &overrides)?;
    let label = format!("{} b{batch}", experiment.name);
    // Effective once per process: the first experiment's setting holds.
    resolve::set_threads(experiment.train.threads);
    let session = Session::open(with_corpus(experiment))
        .map_err(|e| resolve::locate(e, path, &overrides))?;
    let model = &session.model;
    let mut trainer = Trainer::new(model, &session.experiment.train, session.experiment.seed)?;
    let mut batches = Batches::training(&session);
    let n_obj = model.objectives.len();
    let (mut total, mut fwd, mut bwd, mut upd) = (vec![], vec![], vec![], vec![]);
    let mut transform = vec![vec![]; n_obj];
    // One untimed run first: allocator and caches warm up.
    for run in 0..=repeats.max(1) {
        let mut phase = [Duration::ZERO; 3];
        let mut per_objective = vec![Duration::ZERO; n_obj];
        let start = Instant::now();
        for step in 0..steps.max(1) {
            let (prepared, transform_times) = batches.next_timed(model);
            for (total, t) in per_objective.iter_mut().zip(transform_times) {
                *total += t;
            }
            let times = trainer.step(model, &prepared, step)?.times;
            phase[0] += times.forward;
            phase[1] += times.backward;
            phase[2] += times.update;
        }
        if run == 0 {
            continue;
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3 / steps.max(1) as f64;
        total.push(ms(start.elapsed()));
        fwd.push(ms(phase[0]));
        bwd.push(ms(phase[1]));
        upd.push(ms(phase[2]));
        for (t, d) in transform.iter_mut().zip(&per_objective) {
            t.push(ms(*d));
        }
    }
    let mut rows = vec![
        timing(
            format!("{label} step (batch to update)"),
            median(&mut total),
            "ms",
            repeats,
        ),
        timing(format!("{label} forward"), median(&mut fwd), "ms", repeats),
        timing(format!("{label} backward"), median(&mut bwd), "ms", repeats),
        timing(format!("{label} update"), median(&mut upd), "ms", repeats),
    ];
    for (active, t) in model.objectives.iter().zip(transform.iter_mut()) {
        rows.push(timing(
            format!("{label} transform {}", active.name),
            median(t),
            "ms",
            repeats,
        ));
    }
    let steps_per_s = 1e3 / rows[0].median;
    rows.push(timing(
        format!("{label} steps per second"),
        steps_per_s,
        "steps/s",
        repeats,
    ));
    Ok(rows)
}

fn serve(onnx: &Path, run: &Path, batch_size: usize, repeats: usize) -> Result<Vec<Timing>> {
    let (experiment, info, model) = xp_framework::run::load(run, &Device::Cpu)?;
    let corpus = Corpus::load(&resolve::data(experiment.data))?;
    let names: Vec<String> = corpus.examples.iter().map(|e| e.text.clone()).collect();
    let mut session = OnnxModel::load(onnx)?;
    let cls = session
        .info
        .objectives
        .iter()
        .find(|(_, o)| o.classes.is_some() && !o.segments)
        .map(|(n, _)| n.clone())
        .context("the model has no class objective to time")?;
    let n = names.len() as f64;
    let single = &names[..200.min(names.len())];
    let mut rows = Vec::new();
    let mut ort_batch = seconds(repeats, || {
        let answers = classify(&mut session, &cls, &names, 1, batch_size)?;
        answers.into_iter().try_for_each(|a| a.map(drop))?;
        Ok(())
    })?;
    rows.push(timing(
        format!("onnxruntime {cls}, batches of {batch_size}"),
        n / median(&mut ort_batch),
        "names/s",
        repeats,
    ));
    let mut ort_single = seconds(repeats, || {
        for name in single {
            classify(&mut session, &cls, std::slice::from_ref(name), 1, 1)?;
        }
        Ok(())
    })?;
    rows.push(timing(
        format!("onnxruntime {cls}, one name"),
        median(&mut ort_single) * 1e3 / single.len() as f64,
        "ms",
        repeats,
    ));
    let encode = |batch: &[String]| -> Result<Tensor> {
        let rule = info.normalization;
        let seq = 1 + batch.iter().map(|n| rule.count(n)).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(batch.len() * seq);
        for name in batch {
            ids.push(CLS);
            ids.extend(info.vocab.encode_tokens(&rule.split(name))?.0);
            ids.resize(ids.len().div_ceil(seq) * seq, PAD);
        }
        Ok(Tensor::from_vec(ids, (batch.len(), seq), &Device::Cpu)?)
    };
    let candle = |batch: &[String], model: &Model| -> Result<()> {
        let logits = model.serve(&cls, &encode(batch)?, None)?;
        for row in logits.to_vec2::<f32>()? {
            std::hint::black_box(softmax(&row, 1.0));
        }
        Ok(())
    };
    let mut candle_batch = seconds(repeats, || {
        names.chunks(batch_size).try_for_each(|b| candle(b, &model))
    })?;
    rows.push(timing(
        format!("candle {cls}, batches of {batch_size}"),
        n / median(&mut candle_batch),
        "names/s",
        repeats,
    ));
    let mut candle_single = seconds(repeats, || {
        single
            .iter()
            .try_for_each(|name| candle(std::slice::from_ref(name), &model))
    })?;
    rows.push(timing(
        format!("candle {cls}, one name"),
        median(&mut candle_single) * 1e3 / single.len() as f64,
        "ms",
        repeats,
    ));
    Ok(rows)
}

fn timing(what: String, median: f64, unit: &'static str, repeats: usize) -> Timing {
    Timing {
        what,
        median,
        unit,
        repeats,
    }
}
