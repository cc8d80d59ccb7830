//! `xp run --resume RUN_DIR`: continue a run from its resume point.

use anyhow::{bail, Result};
use std::path::Path;
use xp_framework::config::Experiment;
use xp_framework::train::{changed_fields, ResumePoint, RunDir, Session};

/// Continues the run at `dir` with `overrides` (only `train.steps` may change): from
/// its resume point, or from its first step when it stopped before writing one; a
/// run that finished training but not its reports gets them.
pub fn resume_run(
    dir: &Path,
    overrides: &[String],
    control: crate::commands::RunControl,
) -> Result<()> {
    let run = RunDir::reopen(dir)?;
    let path = run.file(RunDir::EXPERIMENT);
    let experiment = Experiment::load_recorded(&path, overrides)
        .map_err(|e| crate::commands::locate(e.into(), &path, overrides))?;
    let file = run.file(ResumePoint::FILE);
    let point = match file.exists() {
        true => Some(ResumePoint::load(&file, &candle_core::Device::Cpu)?),
        false => None,
    };
    if let Some(point) = &point {
        check_resumable(dir, point, &experiment)?;
    }
    crate::threads::set_threads(experiment.train.threads);
    let session = Session::open(crate::corpus::with_corpus(experiment))?;
    crate::commands::warn(&session.warnings);
    let step = point.as_ref().map_or(0, |p| p.state.step);
    eprintln!(
        "{}: resuming at step {step} of {} in {}",
        session.experiment.name,
        session.experiment.train.steps,
        dir.display()
    );
    crate::commands::train_and_report(&session, &run, point, control)
}

/// Refuses a changed experiment, and a run that has nothing left to do.
fn check_resumable(dir: &Path, point: &ResumePoint, experiment: &Experiment) -> Result<()> {
    // Read as recorded, so that a point of an older xp compares in today's terms.
    let saved = Experiment::parse_recorded(&point.state.experiment, "the resume point", &[])?;
    let changed = changed_fields(&saved.to_toml(), &experiment.to_toml())?;
    if !changed.is_empty() {
        bail!(
            "{} differs from the experiment of its resume point in {}: a resumed run must train what it started (only train.steps may be raised); put those fields back, or start a new run",
            dir.join(RunDir::EXPERIMENT).display(),
            changed.join(", ")
        );
    }
    let (step, steps) = (point.state.step, experiment.train.steps);
    let trained = point.state.stopped_early || step >= steps;
    if trained && dir.join(crate::report::SUMMARY).exists() {
        let hint = match point.state.stopped_early {
            true => "it stopped early (train.patience)".to_owned(),
            false => format!("to train on, raise train.steps (--set train.steps=N, N > {step})"),
        };
        bail!("{} is finished at step {step}: {hint}", dir.display());
    }
    Ok(())
}
