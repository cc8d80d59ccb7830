//! The training loop, composed of its parts: [`Batches`] feed the [`Trainer`]'s steps,
//! a [`TrainWindow`] follows the train losses, every `eval_every` steps the (averaged,
//! see [`WeightAverage`]) weights are evaluated, logged ([`MetricsLog`]) and judged
//! by the [`Checkpointer`]; at the end the best weights are evaluated on every split.

use super::{
    evaluate, with_average, Batches, Checkpointer, LogRow, MetricsLog, Reporter, RunDir, Session,
    SplitMetrics, TrainWindow, Trainer, WeightAverage,
};
use crate::error::Result;
use serde::Serialize;
use std::time::Instant;

/// What a finished run reports.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Experiment name.
    pub name: String,
    /// Steps trained.
    pub steps: usize,
    /// Step of the best checkpoint.
    pub best_step: usize,
    /// Whether patience ran out before `train.steps`.
    pub stopped_early: bool,
    /// Wall time of the training loop (evaluations included).
    pub train_seconds: f64,
    /// Training steps per second, evaluations excluded.
    pub steps_per_second: f64,
    /// Number of scalar parameters.
    pub parameters: usize,
    /// Metrics of the best checkpoint on train, valid and test.
    pub splits: Vec<(String, SplitMetrics)>,
}

/// A finished run: its summary and every logged metric row.
#[derive(Debug, Clone)]
pub struct TrainedRun {
    /// The summary.
    pub summary: RunSummary,
    /// The rows of `metrics.csv`.
    pub metrics: Vec<LogRow>,
}

/// Trains `session`'s model, writing the experiment, vocabulary, metrics and best
/// checkpoint into `run`; the model ends holding the best weights.
pub fn train(session: &Session, run: &RunDir, reporter: &mut dyn Reporter) -> Result<TrainedRun> {
    let (exp, model) = (&session.experiment, &session.model);
    let cfg = &exp.train;
    write_run_description(session, run)?;
    let mut trainer = Trainer::new(model, cfg, exp.seed)?;
    let mut average = WeightAverage::new(&model.params, cfg.ema)?;
    let mut log = MetricsLog::create(&run.path)?;
    let mut checkpoints =
        Checkpointer::new(exp.monitor()?, cfg.patience, run.file(RunDir::CHECKPOINT));
    let mut batches = Batches::training(session);
    let mut window = TrainWindow::new(model);
    let (start, mut eval_seconds) = (Instant::now(), 0.0);
    let (mut steps, mut stopped_early) = (0, false);
    reporter.start(cfg.steps);
    while steps < cfg.steps && !stopped_early {
        let (outputs, lr, _) = trainer.step(model, &batches.next(model), steps)?;
        if let Some(average) = &mut average {
            average.update()?;
        }
        window.add(&outputs)?;
        steps += 1;
        reporter.step(steps, &window.losses(steps)?);
        if steps % cfg.eval_every == 0 || steps == cfg.steps {
            let eval_start = Instant::now();
            let verdict = with_average(&mut average, || {
                let valid = evaluate_and_log(session, &mut log, steps, lr, window.take())?;
                let verdict = checkpoints.observe(steps, &valid, &model.params)?;
                reporter.eval(steps, &valid, verdict.improved);
                Ok(verdict)
            })?;
            eval_seconds += eval_start.elapsed().as_secs_f64();
            if verdict.stop {
                reporter.note(&checkpoints.stop_message(steps));
                stopped_early = true;
            }
        }
    }
    reporter.finish();
    let train_seconds = start.elapsed().as_secs_f64();
    checkpoints.restore(&model.params, &model.device)?;
    let summary = RunSummary {
        name: exp.name.clone(),
        steps,
        best_step: checkpoints.best_step(),
        stopped_early,
        train_seconds,
        steps_per_second: steps as f64 / (train_seconds - eval_seconds).max(1e-9),
        parameters: model.params.count(),
        splits: evaluate_splits(session)?,
    };
    Ok(TrainedRun {
        summary,
        metrics: log.rows,
    })
}

/// Evaluates the current weights on validation and test and logs them with the
/// train window's metrics; returns the validation metrics.
fn evaluate_and_log(
    session: &Session,
    log: &mut MetricsLog,
    step: usize,
    lr: f64,
    train: SplitMetrics,
) -> Result<SplitMetrics> {
    let (exp, model) = (&session.experiment, &session.model);
    let on = |indices: &[usize]| {
        let batch_size = exp.train.eval_batch_size;
        evaluate(
            model,
            &session.dataset,
            indices,
            batch_size,
            exp.seed,
            false,
        )
    };
    let valid = on(&session.sets.valid)?;
    let test = on(&session.sets.test)?;
    log.log(step, "train", &train, lr)?;
    log.log(step, "valid", &valid, lr)?;
    log.log(step, "test", &test, lr)?;
    Ok(valid)
}

/// The current weights on every split; the test split keeps its predictions.
fn evaluate_splits(session: &Session) -> Result<Vec<(String, SplitMetrics)>> {
    let (exp, model) = (&session.experiment, &session.model);
    session
        .sets
        .named()
        .into_iter()
        .map(|(split, indices)| {
            let batch_size = exp.train.eval_batch_size;
            let keep = split == "test";
            let metrics = evaluate(model, &session.dataset, indices, batch_size, exp.seed, keep)?;
            Ok((split.to_owned(), metrics))
        })
        .collect()
}

/// The resolved experiment (every default and objective field filled) and the vocabulary.
fn write_run_description(session: &Session, run: &RunDir) -> Result<()> {
    let mut exp = session.experiment.clone();
    exp.data.dir = Some(session.corpus_dir.clone());
    for active in &session.model.objectives {
        let mut table = active.config.clone();
        table.insert("weight".into(), toml::Value::Float(active.settings.weight));
        table.insert(
            "detach".into(),
            toml::Value::Boolean(active.settings.detach),
        );
        exp.objectives.insert(active.name.clone(), table);
    }
    crate::files::write_atomic(&run.file(RunDir::EXPERIMENT), exp.to_toml().as_bytes())?;
    session.info.save(&run.file(RunDir::VOCAB))
}
