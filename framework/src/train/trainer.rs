//! The training loop, composed of its parts: [`Batches`] feed the [`Trainer`]'s steps,
//! a [`TrainWindow`] follows the train losses, every `eval_every` steps the (averaged,
//! see [`WeightAverage`]) weights are evaluated, logged ([`MetricsLog`]) and judged
//! by the [`Checkpointer`]; every `checkpoint_every` steps, at the end and when asked
//! to stop, a [`ResumePoint`] is written; at the end the best weights are evaluated on
//! every split.
//!
//! A run in stages runs that loop once per stage: the stage's objectives and training
//! fields, its own optimiser, schedule, early stopping and best checkpoint, over one
//! stream of batches and one log; each stage starts from the best weights of the one
//! before, and the last stage's best is the run's model.

use super::{
    evaluate, with_average, Batches, BatchesPosition, Checkpointer, LogRow, LoopCounters,
    MetricsLog, Reporter, ResumePoint, ResumeState, Session, SplitMetrics, StagePosition,
    TrainWindow, Trainer, WeightAverage,
};
use crate::config::{Experiment, Stage};
use crate::error::{Result, XpError};
use crate::model::{DataInfo, Model};
use crate::run::{RunDir, RunSummary, StageSummary, Stop};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// How training ended.
pub enum Trained {
    /// Every step trained (or patience ran out): the best weights evaluated.
    Finished(Box<TrainedRun>),
    /// Paused at the step asked for, with a resume point.
    Paused(Stop),
    /// Stopped on the stop flag, with a resume point.
    Interrupted(Stop),
}

/// A finished run: its summary and every logged metric row.
pub struct TrainedRun {
    /// The summary.
    pub summary: RunSummary,
    /// The best monitored validation figure (none when no evaluation gave a finite one).
    pub best: Option<f64>,
    /// The rows of `metrics.csv`.
    pub metrics: Vec<LogRow>,
    /// The last stage's model, holding the best weights, when that is not the
    /// session's (a run in stages).
    pub last_stage: Option<Model>,
}

impl TrainedRun {
    /// The run's model with its best weights: the last stage's.
    pub fn model<'a>(&'a self, session: &'a Session) -> &'a Model {
        self.last_stage.as_ref().unwrap_or(&session.model)
    }
}

/// How a run is driven from outside.
#[derive(Debug, Default)]
pub struct TrainOptions<'a> {
    /// Checked after every step: once set, the run writes a resume point and stops
    /// ([`Trained::Interrupted`]).
    pub stop: Option<&'a AtomicBool>,
    /// Continue from this resume point of the run instead of from the first step.
    pub resume: Option<ResumePoint>,
    /// Pause at this step of the run: write a resume point and end
    /// ([`Trained::Paused`]; nothing else changes: resumed, the run trains what it
    /// would have without the pause). A run already there pauses at once.
    pub pause_at: Option<usize>,
}

/// Trains `session`'s model (stage after stage), writing the experiment, vocabulary,
/// metrics, best checkpoints and resume points into `run`; the last stage's model
/// ends holding the best weights. A fresh run first takes the weights `[init]` names
/// (see [`Session::apply_init`]).
pub fn train(
    session: &Session,
    run: &RunDir,
    reporter: &mut dyn Reporter,
    options: TrainOptions,
) -> Result<Trained> {
    if session.experiment.model.kind == crate::config::ModelKind::Ngram {
        return super::ngram::fit(session, run, reporter);
    }
    let stages = session.experiment.stages()?;
    check_same_data(session, run, options.resume.as_ref())?;
    let experiment_toml = write_run_description(session, run)?;
    let mut resume = options.resume;
    let mut carried = match &resume {
        Some(point) => Carried::resumed(run, experiment_toml, &point.state)?,
        None => {
            session.apply_init()?;
            Carried::fresh(run, experiment_toml)?
        }
    };
    reporter.start(session.experiment.train.steps);
    let mut previous: Option<Model> = None;
    for (index, stage) in stages.iter().enumerate().skip(carried.done.len()) {
        let mut built: Option<Model> = None;
        let model = match index {
            0 => &session.model,
            _ => {
                let from = previous.as_ref().unwrap_or(&session.model);
                // A resumed stage takes its weights from the resume point.
                let from = resume.is_none().then_some(from);
                &*built.insert(stage_model(session, stage, from)?)
            }
        };
        let mut stage_loop =
            Loop::start(session, run, (index, stage), model, carried, resume.take())?;
        let pause = |l: &Loop| options.pause_at.is_some_and(|at| l.run_step() >= at);
        if stage_loop.more() && pause(&stage_loop) {
            reporter.finish();
            return Ok(Trained::Paused(stage_loop.pause()?));
        }
        while stage_loop.more() {
            stage_loop.step(reporter)?;
            // A stop asked for during the last step lets the stage finish.
            if stage_loop.more() && options.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                reporter.finish();
                stage_loop.save_resume_point()?;
                return Ok(Trained::Interrupted(stage_loop.stop()));
            }
            if stage_loop.more() && pause(&stage_loop) {
                reporter.finish();
                return Ok(Trained::Paused(stage_loop.pause()?));
            }
        }
        if index + 1 == stages.len() {
            reporter.finish();
            let best = stage_loop.stop().best;
            let (summary, metrics) = stage_loop.finish(stages.len() > 1)?;
            return Ok(Trained::Finished(Box::new(TrainedRun {
                summary,
                best,
                metrics,
                last_stage: built,
            })));
        }
        carried = stage_loop.end_stage()?;
        if built.is_some() {
            previous = built;
        }
    }
    Err(XpError::Run("the experiment has no stage to train".into()))
}

/// The model of a later stage: fresh parameters from the run's seed, then every
/// parameter it shares with `from` (the encoder, the heads of objectives trained
/// before) copied from there.
fn stage_model(session: &Session, stage: &Stage, from: Option<&Model>) -> Result<Model> {
    let exp = &stage.experiment;
    let params = crate::params::ParamStore::new(exp.seed);
    let mut model = Model::build(exp, &session.info, params, &session.model.device)?;
    model.frozen = stage.freeze.clone();
    if let Some(from) = from {
        model.params.copy_shared(&from.params)?;
    }
    Ok(model)
}

/// What passes from one stage to the next: the log, the data stream, the counters.
struct Carried {
    experiment_toml: String,
    log: MetricsLog,
    /// The stages finished.
    done: Vec<StageSummary>,
    /// Where the batches stand (none before the first stage).
    batches: Option<BatchesPosition>,
    /// The run's steps so far.
    steps: usize,
    skipped: usize,
    seconds: f64,
    eval_seconds: f64,
}

impl Carried {
    /// A run's first stage.
    fn fresh(run: &RunDir, experiment_toml: String) -> Result<Self> {
        Ok(Self {
            experiment_toml,
            log: MetricsLog::create(&run.files)?,
            done: Vec::new(),
            batches: None,
            steps: 0,
            skipped: 0,
            seconds: 0.0,
            eval_seconds: 0.0,
        })
    }

    /// The stage a resume point was written in (the point itself restores the rest).
    fn resumed(run: &RunDir, experiment_toml: String, state: &ResumeState) -> Result<Self> {
        Ok(Self {
            experiment_toml,
            log: MetricsLog::resume(&run.files, state.step, state.events_len)?,
            done: state.stages.stages_done.clone(),
            batches: None,
            steps: state.stages.stage_start,
            skipped: 0,
            seconds: 0.0,
            eval_seconds: 0.0,
        })
    }
}

/// The parts of a stage between two steps.
struct Loop<'a> {
    session: &'a Session,
    run: &'a RunDir,
    stage: &'a Stage,
    index: usize,
    model: &'a Model,
    carried: Carried,
    trainer: Trainer,
    average: Option<WeightAverage>,
    checkpoints: Checkpointer,
    batches: Batches<'a>,
    window: TrainWindow,
    /// Steps of this stage.
    steps: usize,
    /// The run's step of the last resume point written.
    resumable_step: usize,
    stopped_early: bool,
    start: Instant,
}

impl<'a> Loop<'a> {
    /// The parts of stage `index`, fresh or as `resume` left them.
    fn start(
        session: &'a Session,
        run: &'a RunDir,
        (index, stage): (usize, &'a Stage),
        model: &'a Model,
        carried: Carried,
        resume: Option<ResumePoint>,
    ) -> Result<Self> {
        let exp = &stage.experiment;
        let cfg = &exp.train;
        let last = index + 1 == session.experiment.stages.len().max(1);
        let checkpoint = match last {
            true => run.files.checkpoint(),
            false => run.files.stage_checkpoint(&stage.name),
        };
        let mut batches = Batches::training(session);
        if let Some(position) = &carried.batches {
            batches.restore(position.clone()).map_err(XpError::Run)?;
        }
        let trainable = model.trainable().into_iter().map(|(_, v)| v).collect();
        let mut parts = Self {
            session,
            run,
            stage,
            index,
            model,
            trainer: Trainer::new(model, cfg, exp.seed)?.after(carried.steps),
            average: WeightAverage::new(trainable, cfg.ema)?,
            checkpoints: Checkpointer::new(exp.monitor()?, cfg.patience, checkpoint)
                .with_metadata(session.info.metadata()?),
            batches,
            window: TrainWindow::new(model),
            steps: 0,
            resumable_step: carried.steps,
            stopped_early: false,
            start: Instant::now(),
            carried,
        };
        if let Some(point) = resume {
            parts.restore(&point)?;
        }
        Ok(parts)
    }

    /// The stage's experiment.
    fn experiment(&self) -> &'a Experiment {
        &self.stage.experiment
    }

    /// The run's step (earlier stages' steps and this one's).
    fn run_step(&self) -> usize {
        self.carried.steps + self.steps
    }

    /// Whether the stage has steps to go.
    fn more(&self) -> bool {
        self.steps < self.experiment().train.steps && !self.stopped_early
    }

    /// Puts every part back where `point` left it, each from its own record.
    fn restore(&mut self, point: &ResumePoint) -> Result<()> {
        let state = &point.state;
        point.restore_weights(&self.model.params)?;
        self.trainer.load_optimizer(&state.optimizer, point)?;
        if let Some(average) = &mut self.average {
            let names = self.trainer.names();
            average.load(&state.average, names, |n| point.tensor(n))?;
        }
        self.batches
            .restore(state.batches.clone())
            .map_err(XpError::Run)?;
        self.checkpoints.restore_state(&state.checkpoints);
        self.window.restore(&state.window);
        self.steps = state.step - state.stages.stage_start;
        self.resumable_step = state.step;
        let counters = &state.counters;
        self.carried.skipped = counters.skipped;
        self.stopped_early = counters.stopped_early;
        (self.carried.seconds, self.carried.eval_seconds) =
            (counters.train_seconds, counters.eval_seconds);
        Ok(())
    }

    /// One training step, then the evaluation and resume point it is due.
    fn step(&mut self, reporter: &mut dyn Reporter) -> Result<()> {
        let (cfg, model) = (&self.experiment().train, self.model);
        let prepared = self.batches.next(model);
        let step = self.trainer.step(model, &prepared, self.steps)?;
        self.steps += 1;
        let run_step = self.run_step();
        if let Some(what) = step.not_finite {
            self.carried.skipped += 1;
            if self.carried.skipped > cfg.skip_nonfinite {
                let kept = match self.checkpoints.best_step() {
                    0 => "nothing: no evaluation had run".to_owned(),
                    best => format!(
                        "its best checkpoint (step {best}) and last resume point (step {})",
                        self.resumable_step
                    ),
                };
                return Err(XpError::NotFinite {
                    step: run_step,
                    what,
                    kept,
                });
            }
            reporter.note(&format!(
                "step {run_step}: {what} is not finite: step skipped ({} of {} allowed)",
                self.carried.skipped, cfg.skip_nonfinite
            ));
        } else {
            if let Some(average) = &mut self.average {
                average.update()?;
            }
            self.window.add(&step.outputs)?;
        }
        let losses = self.window.losses(self.steps)?;
        self.carried.log.log_running(run_step, &losses)?;
        reporter.step(run_step, &losses);
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
        let (session, stage, model, step) = (self.session, self.stage, self.model, self.run_step());
        let (log, checkpoints, window) = (
            &mut self.carried.log,
            &mut self.checkpoints,
            &mut self.window,
        );
        let verdict = with_average(&mut self.average, || {
            let valid = evaluate_and_log(
                session,
                (&stage.experiment, model),
                log,
                step,
                lr,
                window.take(),
            )?;
            let verdict = checkpoints.observe(step, &valid, &model.params)?;
            reporter.eval(step, &valid, verdict.improved);
            Ok(verdict)
        })?;
        self.carried.eval_seconds += eval_start.elapsed().as_secs_f64();
        if verdict.stop {
            reporter.note(&self.checkpoints.stop_message(step));
            self.stopped_early = true;
        }
        Ok(())
    }

    /// Writes the run's resume point (the live weights, not the average): each part
    /// gives its own record and tensors.
    fn save_resume_point(&mut self) -> Result<()> {
        let mut tensors = ResumePoint::weights(&self.model.params);
        let (optimizer, moments) = self.trainer.save_optimizer()?;
        tensors.extend(moments);
        let average = match &self.average {
            Some(average) => {
                let (state, averages) = average.save(self.trainer.names())?;
                tensors.extend(averages);
                state
            }
            None => Default::default(),
        };
        let state = ResumeState {
            format: ResumeState::FORMAT,
            step: self.run_step(),
            experiment: self.carried.experiment_toml.clone(),
            optimizer,
            batches: self.batches.position().map_err(XpError::Run)?,
            checkpoints: self.checkpoints.state(),
            window: self.window.sums(),
            average,
            counters: LoopCounters {
                skipped: self.carried.skipped,
                stopped_early: self.stopped_early,
                train_seconds: self.seconds(),
                eval_seconds: self.carried.eval_seconds,
            },
            events_len: Some(self.carried.log.events_len()),
            stages: StagePosition {
                stage: self.index,
                stage_start: self.carried.steps,
                stages_done: self.carried.done.clone(),
            },
            data: Some(self.session.info.clone()),
        };
        ResumePoint::save(&self.run.files.resume_point(), &state, tensors)?;
        self.resumable_step = self.run_step();
        Ok(())
    }

    /// Pauses: a resume point at this step (unless one was just written).
    fn pause(&mut self) -> Result<Stop> {
        if self.resumable_step != self.run_step() {
            self.save_resume_point()?;
        }
        Ok(self.stop())
    }

    /// Where the run stands now.
    fn stop(&self) -> Stop {
        Stop {
            step: self.run_step(),
            best: self.checkpoints.state().best,
            stopped_early: self.stopped_early,
        }
    }

    /// Wall time of the run's loops, earlier stages and sessions included.
    fn seconds(&self) -> f64 {
        self.carried.seconds + self.start.elapsed().as_secs_f64()
    }

    /// What the stage did.
    fn summary(&self) -> StageSummary {
        let freeze = &self.stage.freeze;
        StageSummary {
            name: self.stage.name.clone(),
            objectives: self.experiment().objectives.keys().cloned().collect(),
            frozen: freeze
                .encoder
                .then(|| "encoder".to_owned())
                .into_iter()
                .chain(freeze.heads.iter().cloned())
                .collect(),
            first_step: self.carried.steps,
            steps: self.steps,
            best_step: self.checkpoints.best_step(),
            stopped_early: self.stopped_early,
        }
    }

    /// Ends a stage that is not the last: its best weights back in its model, and
    /// what the next stage carries on with.
    fn end_stage(self) -> Result<Carried> {
        self.checkpoints
            .restore(&self.model.params, &self.model.device)?;
        let summary = self.summary();
        let mut carried = self.carried;
        carried.seconds += self.start.elapsed().as_secs_f64();
        carried.steps += self.steps;
        carried.batches = Some(self.batches.position().map_err(XpError::Run)?);
        carried.done.push(summary);
        Ok(carried)
    }

    /// The best weights on every split, and the summary (with the stages when
    /// `staged`) and the metric rows.
    fn finish(mut self, staged: bool) -> Result<(RunSummary, Vec<LogRow>)> {
        let model = self.model;
        let train_seconds = self.seconds();
        self.checkpoints.restore(&model.params, &model.device)?;
        let mut stages = Vec::new();
        if staged {
            stages = self.carried.done.clone();
            stages.push(self.summary());
        }
        let exp = &self.session.experiment;
        let steps = self.run_step();
        let summary = RunSummary {
            format: RunSummary::FORMAT,
            name: exp.name.clone(),
            seed: exp.seed,
            corpus: self.session.source(),
            experiment_sha256: crate::files::sha256_hex(self.carried.experiment_toml.as_bytes()),
            steps,
            best_step: self.checkpoints.best_step(),
            stopped_early: self.stopped_early,
            skipped_steps: self.carried.skipped,
            train_seconds,
            steps_per_second: steps as f64 / (train_seconds - self.carried.eval_seconds).max(1e-9),
            parameters: model.params.count(),
            stages,
            splits: evaluate_splits(self.session, (self.experiment(), model))?,
        };
        self.carried.log.log_best(summary.steps, &summary.splits)?;
        Ok((summary, self.carried.log.rows))
    }
}
/// Evaluates the current weights on validation and test and logs them with the
/// train window's metrics; returns the validation metrics.
fn evaluate_and_log(
    session: &Session,
    (exp, model): (&Experiment, &Model),
    log: &mut MetricsLog,
    step: usize,
    lr: f64,
    train: SplitMetrics,
) -> Result<SplitMetrics> {
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

/// The current weights on every split; validation and test keep their predictions.
fn evaluate_splits(
    session: &Session,
    (exp, model): (&Experiment, &Model),
) -> Result<Vec<(String, SplitMetrics)>> {
    session
        .sets
        .named()
        .into_iter()
        .map(|(split, indices)| {
            let batch_size = exp.train.eval_batch_size;
            let keep = split != "train";
            let metrics = evaluate(model, &session.dataset, indices, batch_size, exp.seed, keep)?;
            Ok((split.to_owned(), metrics))
        })
        .collect()
}

/// Refuses to go on with a run whose data no longer reads as it did when the run
/// started (other tokens, labels or normalisation), before anything is written: the
/// numbers would not be the run's.
pub(super) fn check_same_data(
    session: &Session,
    run: &RunDir,
    point: Option<&ResumePoint>,
) -> Result<()> {
    let recorded = match point.and_then(|p| p.state.data.clone()) {
        Some(info) => Some(info),
        None => {
            let path = run.files.vocab();
            path.exists().then(|| DataInfo::load(&path)).transpose()?
        }
    };
    match recorded {
        Some(info) if info != session.info => Err(XpError::Run(format!(
            "the data of {} no longer reads as it did when the run started ({}): put the data back as it was, or start a new run",
            run.path.display(),
            info.differences(&session.info).join("; ")
        ))),
        _ => Ok(()),
    }
}

/// Writes the resolved experiment (every default and objective field filled), the
/// vocabulary and the data report; returns the experiment as written.
pub(super) fn write_run_description(session: &Session, run: &RunDir) -> Result<String> {
    let mut exp = session.experiment.clone();
    exp.data.settle();
    if exp.stages.is_empty() {
        for active in &session.model.objectives {
            exp.objectives
                .insert(active.name.clone(), active.resolved_fields());
        }
    } else {
        // Each objective's own fields: a stage's own go over them when it trains.
        let staged = exp
            .stages()?
            .into_iter()
            .flat_map(|s| s.experiment.objectives.into_keys());
        let names: std::collections::BTreeSet<String> =
            exp.objectives.keys().cloned().chain(staged).collect();
        for name in names {
            let table = exp.objectives.get(&name).cloned().unwrap_or_default();
            let fields = crate::model::resolved_fields(&name, &table)?;
            exp.objectives.insert(name, fields);
        }
    }
    let text = exp.to_toml();
    crate::files::write_atomic(&run.files.experiment(), text.as_bytes())?;
    session.info.save(&run.files.vocab())?;
    let report = serde_json::to_string_pretty(&session.report)
        .map_err(|e| crate::XpError::Run(format!("cannot write the data report: {e}")))?;
    crate::files::write_atomic(&run.files.data(), report.as_bytes())?;
    Ok(text)
}
