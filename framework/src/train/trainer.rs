//! The training loop, composed of its parts: [`Batches`] feed the [`Trainer`]'s steps,
//! a [`TrainWindow`] follows the train losses, every `eval_every` steps the (averaged,
//! see [`WeightAverage`]) weights are evaluated, logged ([`MetricsLog`]) and judged
//! by the [`Checkpointer`]; every `checkpoint_every` steps, at the end and when asked
//! to stop, a [`ResumePoint`] is written; at the end the best weights are evaluated on
//! every split.

use super::{
    evaluate, with_average, Batches, Checkpointer, LogRow, MetricsLog, Reporter, ResumePoint,
    ResumeState, ResumeTensors, RunDir, Session, SplitMetrics, TrainWindow, Trainer, WeightAverage,
};
use crate::error::{Result, XpError};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What a finished run reports (`summary.json`).
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Layout version of `summary.json`.
    pub format: u32,
    /// Experiment name.
    pub name: String,
    /// The experiment's seed.
    pub seed: u64,
    /// The corpus read: `embedded` (the one built into xp) or its folder.
    pub corpus: String,
    /// SHA-256 of the resolved experiment (`experiment.toml`): runs of one
    /// configuration share it.
    pub experiment_sha256: String,
    /// Steps trained.
    pub steps: usize,
    /// Step of the best checkpoint.
    pub best_step: usize,
    /// Whether patience ran out before `train.steps`.
    pub stopped_early: bool,
    /// Steps skipped because a loss or gradient was not finite.
    pub skipped_steps: usize,
    /// Wall time of the training loop (evaluations included).
    pub train_seconds: f64,
    /// Training steps per second, evaluations excluded.
    pub steps_per_second: f64,
    /// Number of scalar parameters.
    pub parameters: usize,
    /// Metrics of the best checkpoint on train, valid and test; written as an
    /// object keyed by split.
    #[serde(serialize_with = "super::metrics::as_object")]
    pub splits: Vec<(String, SplitMetrics)>,
}

impl RunSummary {
    /// The layout version written in `format`.
    pub const FORMAT: u32 = 2;
}

/// A finished run: its summary and every logged metric row.
#[derive(Debug, Clone)]
pub struct TrainedRun {
    /// The summary.
    pub summary: RunSummary,
    /// The rows of `metrics.csv`.
    pub metrics: Vec<LogRow>,
}

/// How a run is driven from outside.
#[derive(Debug, Default)]
pub struct TrainOptions<'a> {
    /// Checked after every step: once set, the run writes a resume point and stops
    /// with [`XpError::Interrupted`].
    pub stop: Option<&'a AtomicBool>,
    /// Continue from this resume point of the run instead of from the first step.
    pub resume: Option<ResumePoint>,
}

/// Trains `session`'s model, writing the experiment, vocabulary, metrics, best
/// checkpoint and resume points into `run`; the model ends holding the best weights.
pub fn train(
    session: &Session,
    run: &RunDir,
    reporter: &mut dyn Reporter,
    options: TrainOptions,
) -> Result<TrainedRun> {
    let cfg = &session.experiment.train;
    let mut run_loop = Loop::start(session, run, options.resume)?;
    reporter.start(cfg.steps);
    let more = |l: &Loop| l.steps < cfg.steps && !l.stopped_early;
    while more(&run_loop) {
        run_loop.step(reporter)?;
        // A stop asked for during the last step lets the run finish.
        if more(&run_loop) && options.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            reporter.finish();
            run_loop.save_resume_point()?;
            return Err(XpError::Interrupted {
                step: run_loop.steps,
                run: run.path.clone(),
            });
        }
    }
    reporter.finish();
    run_loop.finish()
}

/// The parts of a run between two steps.
struct Loop<'a> {
    session: &'a Session,
    run: &'a RunDir,
    experiment_toml: String,
    trainer: Trainer,
    average: Option<WeightAverage>,
    log: MetricsLog,
    checkpoints: Checkpointer,
    batches: Batches<'a>,
    window: TrainWindow,
    steps: usize,
    /// The step of the last resume point written.
    resumable_step: usize,
    skipped: usize,
    stopped_early: bool,
    start: Instant,
    seconds_before: f64,
    eval_seconds: f64,
}

impl<'a> Loop<'a> {
    /// The parts, fresh or as `resume` left them.
    fn start(session: &'a Session, run: &'a RunDir, resume: Option<ResumePoint>) -> Result<Self> {
        let (exp, model) = (&session.experiment, &session.model);
        let cfg = &exp.train;
        let experiment_toml = write_run_description(session, run)?;
        let checkpoint = run.file(RunDir::CHECKPOINT);
        let mut parts = Self {
            session,
            run,
            experiment_toml,
            trainer: Trainer::new(model, cfg, exp.seed)?,
            average: WeightAverage::new(&model.params, cfg.ema)?,
            log: match &resume {
                Some(point) => {
                    MetricsLog::resume(&run.path, point.state.step, point.state.events_len)?
                }
                None => MetricsLog::create(&run.path)?,
            },
            checkpoints: Checkpointer::new(exp.monitor()?, cfg.patience, checkpoint),
            batches: Batches::training(session),
            window: TrainWindow::new(model),
            steps: 0,
            resumable_step: 0,
            skipped: 0,
            stopped_early: false,
            start: Instant::now(),
            seconds_before: 0.0,
            eval_seconds: 0.0,
        };
        if let Some(point) = resume {
            parts.restore(&point)?;
        }
        Ok(parts)
    }

    /// Puts every part back where `point` left it.
    fn restore(&mut self, point: &ResumePoint) -> Result<()> {
        let (state, params) = (&point.state, &self.session.model.params);
        point.restore_weights(params)?;
        self.trainer
            .restore_optimizer(state.optimizer_steps, point.moments(params)?)?;
        if let (Some(average), Some(updates)) = (&mut self.average, state.average_updates) {
            average.restore(updates, point.tensors("average", params)?)?;
        }
        self.batches
            .restore(state.batches.clone())
            .map_err(XpError::Run)?;
        self.checkpoints
            .restore_state((state.best, state.best_step, state.stale));
        self.window.restore(&state.window);
        (self.steps, self.skipped) = (state.step, state.skipped);
        self.resumable_step = state.step;
        self.stopped_early = state.stopped_early;
        (self.seconds_before, self.eval_seconds) = (state.train_seconds, state.eval_seconds);
        Ok(())
    }

    /// One training step, then the evaluation and resume point it is due.
    fn step(&mut self, reporter: &mut dyn Reporter) -> Result<()> {
        let (cfg, model) = (&self.session.experiment.train, &self.session.model);
        let prepared = self.batches.next(model);
        let step = self.trainer.step(model, &prepared, self.steps)?;
        self.steps += 1;
        if let Some(what) = step.not_finite {
            self.skipped += 1;
            if self.skipped > cfg.skip_nonfinite {
                let kept = match self.checkpoints.best_step() {
                    0 => "nothing: no evaluation had run".to_owned(),
                    best => format!(
                        "its best checkpoint (step {best}) and last resume point (step {})",
                        self.resumable_step
                    ),
                };
                return Err(XpError::NotFinite {
                    step: self.steps,
                    what,
                    kept,
                });
            }
            reporter.note(&format!(
                "step {}: {what} is not finite: step skipped ({} of {} allowed)",
                self.steps, self.skipped, cfg.skip_nonfinite
            ));
        } else {
            if let Some(average) = &mut self.average {
                average.update()?;
            }
            self.window.add(&step.outputs)?;
        }
        let losses = self.window.losses(self.steps)?;
        self.log.log_running(self.steps, &losses)?;
        reporter.step(self.steps, &losses);
        let last = self.steps == cfg.steps;
        if self.steps.is_multiple_of(cfg.eval_every) || last {
            self.evaluate(step.lr, reporter)?;
        }
        let every = match cfg.checkpoint_every {
            0 => cfg.eval_every,
            n => n,
        };
        if self.steps.is_multiple_of(every) || last || self.stopped_early {
            self.save_resume_point()?;
        }
        Ok(())
    }

    /// Evaluates, logs and judges the (averaged) weights.
    fn evaluate(&mut self, lr: f64, reporter: &mut dyn Reporter) -> Result<()> {
        let eval_start = Instant::now();
        let (session, steps) = (self.session, self.steps);
        let (log, checkpoints, window) = (&mut self.log, &mut self.checkpoints, &mut self.window);
        let verdict = with_average(&mut self.average, || {
            let valid = evaluate_and_log(session, log, steps, lr, window.take())?;
            let verdict = checkpoints.observe(steps, &valid, &session.model.params)?;
            reporter.eval(steps, &valid, verdict.improved);
            Ok(verdict)
        })?;
        self.eval_seconds += eval_start.elapsed().as_secs_f64();
        if verdict.stop {
            reporter.note(&self.checkpoints.stop_message(steps));
            self.stopped_early = true;
        }
        Ok(())
    }

    /// Writes the run's resume point (the live weights, not the average).
    fn save_resume_point(&mut self) -> Result<()> {
        let params = &self.session.model.params;
        let names: Vec<String> = params.vars().into_iter().map(|(n, _)| n).collect();
        let (optimizer_steps, moments) = self.trainer.optimizer_state()?;
        let (average_updates, averages) = match &self.average {
            Some(average) => {
                let (updates, averages) = average.state()?;
                (Some(updates), names.iter().cloned().zip(averages).collect())
            }
            None => (None, Vec::new()),
        };
        let (best, best_step, stale) = self.checkpoints.state();
        let state = ResumeState {
            format: ResumeState::FORMAT,
            step: self.steps,
            experiment: self.experiment_toml.clone(),
            optimizer_steps,
            batches: self.batches.position().map_err(XpError::Run)?,
            best,
            best_step,
            stale,
            window: self.window.sums(),
            average_updates,
            skipped: self.skipped,
            stopped_early: self.stopped_early,
            train_seconds: self.seconds(),
            eval_seconds: self.eval_seconds,
            events_len: Some(self.log.events_len()),
        };
        let tensors = ResumeTensors {
            weights: params
                .vars()
                .into_iter()
                .map(|(n, v)| (n, v.as_tensor().clone()))
                .collect(),
            moments: names.into_iter().zip(moments).collect(),
            averages,
        };
        ResumePoint::save(&self.run.file(ResumePoint::FILE), &state, &tensors)?;
        self.resumable_step = self.steps;
        Ok(())
    }

    /// Wall time of the loop, earlier sessions of the run included.
    fn seconds(&self) -> f64 {
        self.seconds_before + self.start.elapsed().as_secs_f64()
    }

    /// The best weights on every split, and the summary.
    fn finish(mut self) -> Result<TrainedRun> {
        let model = &self.session.model;
        let train_seconds = self.seconds();
        self.checkpoints.restore(&model.params, &model.device)?;
        let summary = RunSummary {
            format: RunSummary::FORMAT,
            name: self.session.experiment.name.clone(),
            seed: self.session.experiment.seed,
            corpus: match &self.session.corpus {
                crate::data::CorpusSource::Embedded => "embedded".into(),
                crate::data::CorpusSource::Dir(dir) => dir.display().to_string(),
            },
            experiment_sha256: sha256_hex(self.experiment_toml.as_bytes()),
            steps: self.steps,
            best_step: self.checkpoints.best_step(),
            stopped_early: self.stopped_early,
            skipped_steps: self.skipped,
            train_seconds,
            steps_per_second: self.steps as f64 / (train_seconds - self.eval_seconds).max(1e-9),
            parameters: model.params.count(),
            splits: evaluate_splits(self.session)?,
        };
        self.log.log_best(summary.steps, &summary.splits)?;
        Ok(TrainedRun {
            summary,
            metrics: self.log.rows,
        })
    }
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
    log.log(
        step,
        &[("train", &train), ("valid", &valid), ("test", &test)],
        lr,
    )?;
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

/// Writes the resolved experiment (every default and objective field filled) and the
/// vocabulary; returns the experiment as written.
fn write_run_description(session: &Session, run: &RunDir) -> Result<String> {
    let mut exp = session.experiment.clone();
    exp.data.set_source(&session.corpus);
    for active in &session.model.objectives {
        let mut table = active.config.clone();
        table.insert("weight".into(), toml::Value::Float(active.settings.weight));
        table.insert(
            "detach".into(),
            toml::Value::Boolean(active.settings.detach),
        );
        exp.objectives.insert(active.name.clone(), table);
    }
    let text = exp.to_toml();
    crate::files::write_atomic(&run.file(RunDir::EXPERIMENT), text.as_bytes())?;
    session.info.save(&run.file(RunDir::VOCAB))?;
    Ok(text)
}

/// The SHA-256 of `bytes`, in hex.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}
