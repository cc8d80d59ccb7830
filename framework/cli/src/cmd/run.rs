//! `xp run EXPERIMENT` and `xp run --resume RUN_DIR`.

use crate::args::{ExperimentArgs, Overrides};
use crate::resolve;
use crate::watch::{drive, RunControl};
use anyhow::{bail, Result};
use std::path::PathBuf;
use xp_framework::config::{Experiment, ModelKind};
use xp_framework::run::{self, RunFiles};

/// `xp run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment (TOML), e.g. experiments/four_losses.toml.
    #[arg(required_unless_present = "resume", conflicts_with = "resume")]
    experiment: Option<PathBuf>,
    /// Overrides of its fields.
    #[command(flatten)]
    set: Overrides,
    /// Run directory (default: runs/NAME, or runs/NAME-2.. if taken).
    #[arg(long, short, conflicts_with = "resume")]
    out: Option<PathBuf>,
    /// Continue the run in RUN_DIR from its last resume point, with the experiment
    /// it was started with (`--set train.steps=N` extends a finished run).
    #[arg(long, value_name = "RUN_DIR")]
    resume: Option<PathBuf>,
    /// Plain progress lines instead of a progress bar.
    #[arg(long)]
    plain: bool,
    /// Pause at step STEP of the run: write a resume point there and end (exit 0);
    /// `--resume` continues with exactly the numbers of a run never paused.
    #[arg(long, value_name = "STEP")]
    pause_at: Option<usize>,
}

/// Runs `xp run`.
pub fn run(args: Args) -> Result<()> {
    let control = RunControl {
        plain: args.plain,
        pause_at: args.pause_at,
    };
    match (args.resume, args.experiment) {
        (Some(dir), _) => resume(&dir, &args.set.all(), control),
        (None, Some(experiment)) => start(
            &ExperimentArgs {
                experiment,
                set: args.set,
            },
            args.out,
            control,
        ),
        (None, None) => bail!("give an experiment file, or --resume RUN_DIR"),
    }
}

/// A new run of an experiment.
fn start(args: &ExperimentArgs, out: Option<PathBuf>, control: RunControl) -> Result<()> {
    let session = resolve::session(args)?;
    let (dir, copied) =
        run::create(&session, out.as_deref()).map_err(|e| resolve::locate_in(args, e))?;
    let exp = &session.experiment;
    if exp.model.kind == ModelKind::Ngram {
        let ngram = &exp.model.ngram;
        eprintln!(
            "{}: the n-gram baseline ({}..{}-grams, c = {}); data: {}",
            exp.name,
            ngram.min_n,
            ngram.max_n,
            ngram.c,
            session.report.summary()
        );
        return drive(&session, &dir, None, control);
    }
    let memory =
        xp_framework::memory::estimate(exp, &session.info, &session.model, &session.sample());
    eprintln!(
        "{}: {} parameters, memory {}; data: {}",
        exp.name,
        session.model.params.count(),
        memory.describe(),
        session.report.summary()
    );
    if !session.experiment.stages.is_empty() {
        eprintln!("stages: {}", describe_stages(&session.experiment)?);
    }
    if let Some(init) = &session.experiment.init {
        eprintln!(
            "starting from {}: {} parameter tensors",
            init.from.display(),
            copied.len()
        );
    }
    eprintln!("{}", crate::show::gradient_check(&session)?);
    drive(&session, &dir, None, control)
}

/// A stopped run continued from its resume point (or its first step when it stopped
/// before writing one); a run that finished training but not its reports gets them.
fn resume(dir: &std::path::Path, overrides: &[String], control: RunControl) -> Result<()> {
    let reopened = run::reopen(dir, overrides)
        .map_err(|e| resolve::locate(e, &RunFiles::at(dir).experiment(), overrides))?;
    let session = resolve::session_of(resolve::with_corpus(reopened.experiment))?;
    let step = reopened.point.as_ref().map_or(0, |p| p.state.step);
    eprintln!(
        "{}: resuming at step {step} of {} in {}",
        session.experiment.name,
        session.experiment.train.steps,
        dir.display()
    );
    drive(&session, &reopened.run, reopened.point, control)
}

/// `pretrain (LA+MLM+NSP, 10000 steps), then probe (CLS, 10000 steps, encoder frozen)`.
fn describe_stages(experiment: &Experiment) -> Result<String> {
    let stages = experiment.stages()?;
    let described: Vec<String> = stages
        .iter()
        .map(|stage| {
            let objectives: Vec<&str> = stage
                .experiment
                .objectives
                .keys()
                .map(String::as_str)
                .collect();
            let mut frozen: Vec<String> = stage
                .freeze
                .heads
                .iter()
                .map(|h| format!("{h} head"))
                .collect();
            if stage.freeze.encoder {
                frozen.insert(0, "encoder".into());
            }
            let frozen = match frozen.is_empty() {
                true => String::new(),
                false => format!(", {} frozen", frozen.join(" and ")),
            };
            format!(
                "{} ({}, {} steps{frozen})",
                stage.name,
                objectives.join("+"),
                stage.experiment.train.steps
            )
        })
        .collect();
    Ok(described.join(", then "))
}

