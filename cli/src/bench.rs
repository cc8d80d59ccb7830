//! `xp bench`: timings as a table (and JSON), each the median of several runs.

use crate::args::BenchKind;
use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;
use xp_framework::data::{locate_corpus, Corpus, CLS, PAD};
use xp_framework::files::write_atomic;
use xp_framework::model::Model;
use xp_framework::train::RunDir;
use xp_serve::predict::{classify, softmax};
use xp_serve::OnnxModel;

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
pub fn run(what: BenchKind, json: Option<&Path>) -> Result<()> {
    let rows = match what {
        BenchKind::Serve {
            model,
            run,
            batch_size,
            repeats,
        } => serve(&model, &run, batch_size, repeats)?,
    };
    for r in &rows {
        println!("{:<48} {:>12.2} {}", r.what, r.median, r.unit);
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

fn serve(onnx: &Path, run: &Path, batch_size: usize, repeats: usize) -> Result<Vec<Timing>> {
    let (experiment, info, model) = RunDir::load(run, &Device::Cpu)?;
    let corpus_dir = locate_corpus(experiment.data.dir.as_deref())?;
    let corpus = Corpus::load(
        &corpus_dir,
        experiment.data.min_len,
        experiment.data.max_len,
    )?;
    let names: Vec<String> = corpus.examples.iter().map(|e| e.name.clone()).collect();
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
        classify(&mut session, &cls, &names, 1, batch_size).map(|_| ())?;
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
        let seq = 1 + batch.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(batch.len() * seq);
        for name in batch {
            ids.push(CLS);
            ids.extend(info.vocab.encode(name)?);
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
