//! A run's life, start to end: a new run's folder, or a stopped one reopened; its
//! training; then its reports and, last, its summary. What the command line, the
//! sweeps and the Python package call; they only show what happens.

use super::classes::RowText;
use super::{reports, EventLog, Recorder, RunDir, RunEvent, RunFiles, RunSummary, Stop};
use crate::config::Experiment;
use crate::error::{Result, XpError};
use crate::train::{self, changed_fields, Reporter, ResumePoint, Session, TrainOptions, Trained};
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// How a run is driven and watched.
pub struct Options<'a> {
    /// Told every step, evaluation and note (a progress bar, plain lines).
    pub reporter: &'a mut dyn Reporter,
    /// Checked after every step: once set, the run writes a resume point and stops.
    pub stop: Option<&'a AtomicBool>,
    /// Pause at this step of the run, with a resume point.
    pub pause_at: Option<usize>,
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Trained, evaluated, reported: the summary is written.
    Finished(Box<Finished>),
    /// Paused at the step asked for; `xp run --resume` continues it.
    Paused(Stop),
    /// Stopped on the stop flag; `xp run --resume` continues it.
    Interrupted(Stop),
}

/// A finished run.
#[derive(Debug)]
pub struct Finished {
    /// Its summary, as written.
    pub summary: RunSummary,
    /// What could not be drawn.
    pub warnings: Vec<String>,
}

/// The folder of a new run of `session`: `out`, else `runs/NAME` (or `runs/NAME-2`..
/// when taken), created and locked. The weights `[init]` names are copied first, so
/// that a bad source is refused before anything is written; returns the parameter
/// tensors copied.
pub fn create(session: &Session, out: Option<&Path>) -> Result<(RunDir, Vec<String>)> {
    let copied = session.apply_init()?;
    let out = out.map_or_else(
        || RunDir::next_free(Path::new("runs"), &session.experiment.name),
        Path::to_path_buf,
    );
    Ok((RunDir::create(&out)?, copied))
}

/// A stopped run opened to go on.
pub struct Reopened {
    /// Its folder, locked.
    pub run: RunDir,
    /// The experiment it started with, `train.steps` as overridden.
    pub experiment: Experiment,
    /// Its resume point (none when it stopped before writing one: it starts over).
    pub point: Option<ResumePoint>,
}

/// Opens the run in `dir` to continue it with `overrides` (only `train.steps` may
/// change); refuses a changed experiment and a run with nothing left to do.
pub fn reopen(dir: &Path, overrides: &[String]) -> Result<Reopened> {
    let run = RunDir::reopen(dir)?;
    let experiment = Experiment::load_recorded(&run.files.experiment(), overrides)?;
    let file = run.files.resume_point();
    let point = match file.exists() {
        true => Some(ResumePoint::load(&file, &candle_core::Device::Cpu)?),
        false => None,
    };
    match &point {
        Some(point) => check_resumable(&run.files, point, &experiment)?,
        // A run fitted in one go (the n-gram baseline) has no resume point to go on from.
        None if run.files.summary().exists() => {
            return Err(XpError::Run(format!(
                "{} is finished (it has its {}): start a new run to train again",
                run.files.path().display(),
                RunFiles::SUMMARY
            )))
        }
        None => {}
    }
    Ok(Reopened {
        run,
        experiment,
        point,
    })
}

/// Refuses a changed experiment, and a run that has nothing left to do.
fn check_resumable(files: &RunFiles, point: &ResumePoint, experiment: &Experiment) -> Result<()> {
    // Read as recorded, so that a point of an older xp compares in today's terms.
    let saved = Experiment::parse_recorded(&point.state.experiment, "the resume point", &[])?;
    let changed = changed_fields(&saved.to_toml(), &experiment.to_toml())?;
    if !changed.is_empty() {
        return Err(XpError::Run(format!(
            "{} differs from the experiment of its resume point in {}: a resumed run must train what it started (only train.steps may be raised); put those fields back, or start a new run",
            files.experiment().display(),
            changed.join(", ")
        )));
    }
    let (step, steps) = (point.state.step, experiment.train.steps);
    let trained = point.state.counters.stopped_early || step >= steps;
    if trained && files.summary().exists() {
        let hint = match point.state.counters.stopped_early {
            true => "it stopped early (train.patience)".to_owned(),
            false => format!("to train on, raise train.steps (--set train.steps=N, N > {step})"),
        };
        return Err(XpError::Run(format!(
            "{} is finished at step {step}: {hint}",
            files.path().display()
        )));
    }
    Ok(())
}

/// Trains `session` into `run` (from `resume` when given), then writes the reports
/// and, last, the summary. Every stage of it is recorded in the run's event log; an
/// error is recorded there too, and ends a sweep run's HParams session as failed.
pub fn execute(
    session: &Session,
    run: &RunDir,
    resume: Option<ResumePoint>,
    options: Options,
) -> Result<Outcome> {
    let mut log = EventLog::open(&run.files)?;
    log.record(&RunEvent::Started {
        step: resume.as_ref().map_or(0, |p| p.state.step),
        steps: session.experiment.train.steps,
        pid: std::process::id(),
    })?;
    let mut recorder = Recorder::new(log, options.reporter);
    let train_options = TrainOptions {
        stop: options.stop,
        resume,
        pause_at: options.pause_at,
    };
    let result = train::train(session, run, &mut recorder, train_options)
        .and_then(|trained| finish(session, run, trained, &mut recorder));
    match &result {
        Ok(Outcome::Finished(done)) => recorder.record(&RunEvent::Finished {
            step: done.summary.steps,
        }),
        Ok(Outcome::Paused(stop)) => recorder.record(&RunEvent::Paused(*stop)),
        Ok(Outcome::Interrupted(stop)) => recorder.record(&RunEvent::Interrupted(*stop)),
        Err(e) => {
            recorder.record(&RunEvent::Failed {
                message: e.to_string(),
            });
            // The error is what the caller needs to hear; a failure to record the
            // end as well changes nothing of it.
            let _ = end_hparams_session(&run.files, false);
        }
    }
    match recorder.error.take() {
        Some(e) if result.is_ok() => Err(e),
        _ => result,
    }
}

/// The reports and summary of a run that finished training.
fn finish(
    session: &Session,
    run: &RunDir,
    trained: Trained,
    recorder: &mut Recorder,
) -> Result<Outcome> {
    let trained = match trained {
        Trained::Finished(trained) => trained,
        Trained::Paused(stop) => return Ok(Outcome::Paused(stop)),
        Trained::Interrupted(stop) => return Ok(Outcome::Interrupted(stop)),
    };
    let summary = trained.summary.clone();
    recorder.record(&RunEvent::Trained(Stop {
        step: summary.steps,
        best: trained.best,
        stopped_early: summary.stopped_early,
    }));
    let warnings = reports::write_reports(
        &run.files,
        &trained.metrics,
        &summary,
        trained.model(session),
        &split_texts(session),
    )?;
    end_hparams_session(&run.files, true)?;
    // Last: a run with a summary has all its reports.
    summary.write(&run.files)?;
    Ok(Outcome::Finished(Box::new(Finished { summary, warnings })))
}

/// Each split's texts in split order, as the predictions files name them.
fn split_texts(session: &Session) -> Vec<(String, Vec<RowText>)> {
    let text = |&i: &usize| RowText {
        id: session.examples[i].id.clone(),
        text: session.examples[i].text.clone(),
    };
    let named = session.sets.named().into_iter();
    named
        .map(|(split, indices)| (split.to_owned(), indices.iter().map(text).collect()))
        .collect()
}

/// Records in a sweep run's HParams events how it ended (a run outside a sweep has
/// none, and records nothing).
fn end_hparams_session(files: &RunFiles, success: bool) -> Result<()> {
    use xp_tensorboard::hparams::{session_end, Status};
    let path = files.hparams();
    if !path.exists() {
        return Ok(());
    }
    let status = match success {
        true => Status::Success,
        false => Status::Failure,
    };
    let mut events = xp_tensorboard::EventWriter::append(&path)?;
    events.write(0, vec![session_end(status, xp_tensorboard::now())])?;
    Ok(events.flush()?)
}

/// The message of a run that stopped with a resume point, and how to continue it.
pub fn stopped_message(how: &str, stop: &Stop, dir: &Path) -> String {
    format!(
        "{how} at step {}; continue with: xp run --resume {}",
        stop.step,
        dir.display()
    )
}
