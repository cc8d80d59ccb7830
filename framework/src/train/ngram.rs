//! A run of the n-gram baseline (`model.kind = "ngram"`): fitted once on the training
//! texts, then evaluated and logged as a transformer run is, so that its folder reads
//! the same to every report, comparison and export.

use super::trainer::{check_same_data, write_run_description};
use super::{LogRow, MetricsLog, Reporter, Session, SplitMetrics, Tally, Trained, TrainedRun};
use crate::error::{Result, XpError};
use crate::model::{Active, ObjectiveOutput};
use crate::run::{RunDir, RunSummary};
use candle_core::{Device, Tensor};
use std::time::Instant;
use xp_format::PAD;
use xp_ngram::NgramModel;

/// Fits the n-gram baseline of `session` into `run`: the experiment, vocabulary and
/// data report, the model (`ngram.safetensors`), its metrics on every split (logged at
/// the solver's last iteration) and its summary.
pub fn fit(session: &Session, run: &RunDir, reporter: &mut dyn Reporter) -> Result<Trained> {
    let objective = class_objective(session)?;
    check_same_data(session, run, None)?;
    let experiment_toml = write_run_description(session, run)?;
    let mut log = MetricsLog::create(&run.files)?;
    let config = &session.experiment.model.ngram;
    let train = &session.sets.train;
    reporter.note(&format!(
        "fitting the {}..{}-gram baseline on {} texts",
        config.min_n,
        config.max_n,
        train.len()
    ));
    let start = Instant::now();
    let rows: Vec<Vec<u32>> = train
        .iter()
        .map(|&i| session.dataset.served_row(i))
        .collect();
    let row_refs: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();
    let labels: Vec<u32> = train.iter().map(|&i| session.dataset.label(i)).collect();
    let classes = session.info.labels.len();
    let (model, fitted) = NgramModel::fit(config, &row_refs, &labels, classes, PAD)
        .map_err(|e| XpError::Run(e.to_string()))?;
    let train_seconds = start.elapsed().as_secs_f64();
    reporter.note(&format!(
        "fitted {} n-grams in {} L-BFGS iterations ({train_seconds:.1} s)",
        model.features.len(),
        fitted.iterations
    ));
    model
        .save(&run.files.ngram_model())
        .map_err(|e| XpError::Run(e.to_string()))?;
    let step = fitted.iterations as usize;
    let splits = session
        .sets
        .named()
        .into_iter()
        .map(|(split, indices)| {
            let metrics = evaluate(&model, session, objective, indices, split != "train")?;
            Ok((split.to_owned(), metrics))
        })
        .collect::<Result<Vec<_>>>()?;
    let on = |name: &str| splits.iter().find(|(s, _)| s == name).map(|(_, m)| m);
    let logged: Vec<(&str, &SplitMetrics)> = ["train", "valid", "test"]
        .into_iter()
        .filter_map(|s| on(s).map(|m| (s, m)))
        .collect();
    log.log(step, &logged, 0.0)?;
    log.log_best(step, &splits)?;
    let monitor = session.experiment.monitor()?;
    let best = on("valid")
        .map(|v| v.score(&monitor))
        .filter(|b| b.is_finite());
    let summary = RunSummary {
        format: RunSummary::FORMAT,
        name: session.experiment.name.clone(),
        seed: session.experiment.seed,
        corpus: session.source(),
        experiment_sha256: crate::files::sha256_hex(experiment_toml.as_bytes()),
        steps: step,
        best_step: step,
        stopped_early: false,
        skipped_steps: 0,
        train_seconds,
        steps_per_second: step as f64 / train_seconds.max(1e-9),
        parameters: model.parameters(),
        stages: Vec::new(),
        splits,
    };
    let metrics: Vec<LogRow> = log.rows;
    Ok(Trained::Finished(Box::new(TrainedRun {
        summary,
        best,
        metrics,
        last_stage: None,
    })))
}

/// The experiment's one objective, which must predict the data's labels: the baseline
/// stands in for its head.
fn class_objective(session: &Session) -> Result<&Active> {
    let objectives = &session.model.objectives;
    let labels = &session.info.labels;
    match objectives.as_slice() {
        [one] if one.objective.class_names().as_ref() == Some(labels) => Ok(one),
        _ => Err(XpError::Run(format!(
            "model.kind = \"ngram\" is one classifier of the data's labels: give the experiment exactly one objective that predicts them (e.g. [objectives.CLS]); it has {}",
            objectives
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The baseline's metrics on the texts at `indices`, with the objective's own loss;
/// their predictions kept when `keep`.
fn evaluate(
    model: &NgramModel,
    session: &Session,
    objective: &Active,
    indices: &[usize],
    keep: bool,
) -> Result<SplitMetrics> {
    let mut tally = Tally::default();
    if !indices.is_empty() {
        let logits: Vec<f32> = indices
            .iter()
            .flat_map(|&i| model.logits(&session.dataset.served_row(i)))
            .collect();
        let targets: Vec<u32> = indices.iter().map(|&i| session.dataset.label(i)).collect();
        let classes = session.info.labels.len();
        let logits = Tensor::from_vec(logits, (indices.len(), classes), &Device::Cpu)?;
        let targets = Tensor::new(targets, &Device::Cpu)?;
        let loss = objective.objective.loss(&logits, &targets)?;
        tally.add(
            &ObjectiveOutput {
                loss,
                logits,
                targets,
            },
            keep,
        )?;
    }
    let names = [objective.name.clone()];
    Ok(SplitMetrics::from_tallies(
        &names,
        &[objective.settings.weight],
        vec![tally],
    ))
}
