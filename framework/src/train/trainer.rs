//! The training loop: batches, transforms, forward, backward, clipping, the optimiser
//! step on a warm-up/cosine schedule; evaluation every `eval_every` steps, the best
//! checkpoint by the monitored validation figure (`train.monitor`, default the total
//! loss), early stopping; then the best weights are
//! evaluated on every split and the run's figures and tables are written.

use super::{
    evaluate, MetricsLog, Reporter, RunDir, Session, SplitMetrics, Tally, Trainer, WeightAverage,
};
use crate::error::{Result, XpError};
use crate::params::ParamStore;
use crate::report;
use rand::rngs::SmallRng;
use rand::SeedableRng;
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

/// Trains `session`'s model, writing everything into `run`.
pub fn train(session: &Session, run: &RunDir, reporter: &mut dyn Reporter) -> Result<RunSummary> {
    let exp = &session.experiment;
    let cfg = &exp.train;
    let model = &session.model;
    write_run_description(session, run)?;

    let monitor = exp.monitor()?;
    let mut trainer = Trainer::new(model, cfg, exp.seed)?;
    let mut average = WeightAverage::new(&model.params, cfg.ema)?;
    let mut log = MetricsLog::create(&run.path)?;
    let names: Vec<String> = model.objectives.iter().map(|a| a.name.clone()).collect();
    let weights: Vec<f64> = model.objectives.iter().map(|a| a.settings.weight).collect();
    let mut shuffler = crate::data::Shuffler::new(session.sets.train.clone(), cfg.batch_size);
    let mut rng = SmallRng::seed_from_u64(exp.seed);
    let mut window = vec![Tally::default(); names.len()];

    let (mut best, mut best_step, mut stale, mut steps_done) = (f64::INFINITY, 0, 0, 0);
    let mut stopped_early = false;
    let (start, mut eval_time) = (Instant::now(), 0.0);
    reporter.start(cfg.steps);
    for step in 0..cfg.steps {
        let batch = session
            .dataset
            .batch(shuffler.next_batch(&mut rng))
            .training();
        let prepared = model.prepare(&batch, &mut rng);
        let (outputs, lr, _) = trainer.step(model, &prepared, step)?;
        if let Some(average) = &mut average {
            average.update()?;
        }
        for (tally, out) in window.iter_mut().zip(&outputs) {
            tally.add(out, false)?;
        }
        steps_done = step + 1;
        let losses: Vec<(String, f64)> = names
            .iter()
            .cloned()
            .zip(window.iter().map(|t| t.metric().loss))
            .collect();
        if losses.iter().any(|(_, l)| !l.is_finite()) {
            return Err(XpError::Run(format!("loss became {losses:?} at step {steps_done}: lower train.lr or raise train.grad_clip")));
        }
        reporter.step(steps_done, &losses);

        if steps_done % cfg.eval_every == 0 || steps_done == cfg.steps {
            let t = Instant::now();
            // Evaluate (and checkpoint) the averaged weights, then train on.
            if let Some(average) = &mut average {
                average.swap()?;
            }
            let train_m = SplitMetrics::from_tallies(
                &names,
                &weights,
                std::mem::replace(&mut window, vec![Tally::default(); names.len()]),
            );
            let valid = evaluate(
                model,
                &session.dataset,
                &session.sets.valid,
                cfg.eval_batch_size,
                exp.seed,
                false,
            )?;
            let test = evaluate(
                model,
                &session.dataset,
                &session.sets.test,
                cfg.eval_batch_size,
                exp.seed,
                false,
            )?;
            log.log(steps_done, "train", &train_m, lr)?;
            log.log(steps_done, "valid", &valid, lr)?;
            log.log(steps_done, "test", &test, lr)?;
            let score = monitor.score(
                valid.total,
                valid
                    .objectives
                    .iter()
                    .map(|(n, m)| (n.as_str(), m.loss, m.accuracy)),
            );
            let improved = score < best;
            reporter.eval(steps_done, &valid, improved);
            if improved {
                (best, best_step, stale) = (score, steps_done, 0);
                model.params.save(&run.file(RunDir::CHECKPOINT))?;
            } else {
                stale += 1;
            }
            if let Some(average) = &mut average {
                average.swap()?;
            }
            eval_time += t.elapsed().as_secs_f64();
            if cfg.patience > 0 && stale >= cfg.patience {
                reporter.note(&format!(
                    "early stop at step {steps_done}: no better {} in {stale} evaluations",
                    monitor.describe()
                ));
                stopped_early = true;
                break;
            }
        }
    }
    reporter.finish();
    let train_seconds = start.elapsed().as_secs_f64();

    model.params.copy_from(&ParamStore::load(
        &run.file(RunDir::CHECKPOINT),
        &model.device,
    )?)?;
    let mut splits = Vec::new();
    for (split, indices) in session.sets.named() {
        let keep = split == "test";
        splits.push((
            split.to_owned(),
            evaluate(
                model,
                &session.dataset,
                indices,
                cfg.eval_batch_size,
                exp.seed,
                keep,
            )?,
        ));
    }
    let summary = RunSummary {
        name: exp.name.clone(),
        steps: steps_done,
        best_step,
        stopped_early,
        train_seconds,
        steps_per_second: steps_done as f64 / (train_seconds - eval_time).max(1e-9),
        parameters: model.params.count(),
        splits,
    };
    let warnings = report::write_reports(run, &log.rows, &summary, model)?;
    for w in warnings {
        reporter.note(&format!("warning: {w}"));
    }
    Ok(summary)
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
