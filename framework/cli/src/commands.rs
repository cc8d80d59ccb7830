//! What each command does: library calls and printing, no tensor work.

use crate::args::{Cli, Command, ExperimentArgs};
use crate::corpus::with_corpus;
use crate::progress::{PlainReporter, ProgressReporter};
use crate::report::{self, summary_table};
use crate::serving::ExportChecks;
use anyhow::{bail, Result};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use xp_framework::config::Experiment;
use xp_framework::gradcheck::gradient_check;
use xp_framework::objective::{config_fields, registered, ObjectiveError, ObjectiveSettings};
use xp_framework::train::{self, Reporter, ResumePoint, RunDir, Session, TrainOptions};
use xp_framework::XpError;

/// Runs one parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            experiment,
            set,
            out,
            resume,
            plain,
            pause_at,
        } => match (resume, experiment) {
            (Some(dir), _) => {
                crate::resume::resume_run(&dir, &set.all(), RunControl { plain, pause_at })
            }
            (None, Some(experiment)) => run_experiment(
                &ExperimentArgs { experiment, set },
                out,
                RunControl { plain, pause_at },
            ),
            (None, None) => bail!("give an experiment file, or --resume RUN_DIR"),
        },
        Command::Check { experiment } => check(&experiment),
        Command::Compare {
            runs,
            markdown,
            csv,
            json,
            against,
        } => {
            use crate::compare::Format;
            let format = match (markdown, csv, json) {
                (true, _, _) => Format::Markdown,
                (_, true, _) => Format::Csv,
                (_, _, true) => Format::Json,
                _ => Format::Table,
            };
            crate::compare::compare(&runs, format, against.as_deref())
        }
        Command::Sweep {
            sweep,
            status,
            set,
            dry_run,
            out,
            jobs,
            only,
            backend,
        } => match (status, sweep) {
            (Some(dir), _) => crate::sweep::status(&dir),
            (None, Some(sweep)) => crate::sweep::sweep(
                &sweep,
                &crate::sweep::SweepOptions {
                    overrides: set.all(),
                    dry_run,
                    out,
                    jobs,
                    only,
                    backend: backend.backend,
                    slurm: backend.slurm(),
                },
            ),
            (None, None) => anyhow::bail!("give a sweep file, or --status DIR"),
        },
        Command::Tune {
            tune,
            status,
            set,
            out,
            jobs,
            budget,
            dry_run,
            backend,
        } => match (status, tune) {
            (Some(dir), _) => crate::tune::status(&dir),
            (None, Some(tune)) => crate::tune::tune(
                &tune,
                &crate::tune::TuneOptions {
                    overrides: set.all(),
                    out,
                    jobs,
                    budget,
                    dry_run,
                    backend: backend.backend,
                    slurm: backend.slurm(),
                },
            ),
            (None, None) => anyhow::bail!("give a tune file, or --status DIR"),
        },
        Command::SweepTask { tasks, index } => crate::sweep::run_task(&tasks, index),
        Command::Parity {
            experiment,
            steps,
            tolerance,
            json,
        } => device_parity(&experiment, steps, tolerance, json.as_deref()),
        Command::Objectives => {
            list_objectives();
            Ok(())
        }
        Command::Data {
            experiment,
            mut set,
            json,
            dir,
            write,
        } => match write {
            Some(dir) => crate::corpus::write(&dir),
            None => {
                set.extend(dir.map(|d| format!("data.dir={:?}", d.display().to_string())));
                crate::corpus::show(experiment.as_deref(), &set, json)
            }
        },
        Command::Export {
            onnx,
            run,
            output,
            check,
            strict,
            attention,
        } => crate::serving::export(
            onnx,
            &run,
            output,
            ExportChecks {
                check,
                strict,
                attention,
            },
        ),
        Command::Predict(args) => crate::serving::predict(&args),
        Command::Serve {
            model,
            addr,
            sessions,
            max_body,
            max_names,
            max_generate,
            batch_window_ms,
        } => crate::web::serve(
            &model,
            addr,
            sessions,
            xp_http::Limits {
                max_body_bytes: max_body,
                max_names,
                max_generate,
                batch_window: std::time::Duration::from_millis(batch_window_ms),
                ..xp_http::Limits::default()
            },
        ),
        Command::Figures { run, counts } => {
            let cells = match counts {
                true => crate::report::figures::Cells::Counts,
                false => crate::report::figures::Cells::Percent,
            };
            let drawn = match crate::tune::is_tune(&run) {
                true => crate::tune::redraw(&run)?,
                false => crate::report::redraw(&run, cells)?,
            };
            for path in drawn {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Attention {
            model,
            names,
            objective,
            out,
        } => crate::attention::run(&model, &names, &objective, out),
        Command::Eval { run, splits, draws } => crate::reeval::evaluate_run(&run, &splits, draws),
        Command::Bench { what, json } => crate::bench::run(what, json.as_deref()),
    }
}

fn open(args: &ExperimentArgs) -> Result<Session> {
    let overrides = args.all_overrides();
    let experiment = Experiment::load(&args.experiment, &overrides)?;
    crate::threads::set_threads(experiment.train.threads);
    let session = Session::open(with_corpus(experiment))
        .map_err(|e| locate(e, &args.experiment, &overrides))?;
    warn(&session.warnings);
    Ok(session)
}

/// Prints each warning on standard error.
pub(crate) fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// `error` with, when it is about a field of the experiment at `path` (an
/// objective's own field, found while its objective is built), the line or the
/// `--set` that gave the field.
pub(crate) fn locate(error: XpError, path: &Path, overrides: &[String]) -> anyhow::Error {
    let config = match error {
        XpError::Config(c) | XpError::Objective(ObjectiveError::Config(c)) => c,
        other => return other.into(),
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    config
        .locate(&path.display().to_string(), &text, overrides)
        .into()
}

/// The gradient check on one training batch.
fn check_gradients(session: &Session) -> Result<String> {
    let n = session
        .experiment
        .train
        .batch_size
        .min(session.sets.train.len());
    let batch = session.dataset.batch(&session.sets.train[..n]);
    let report = gradient_check(&session.model, &batch, session.experiment.seed)?.into_result()?;
    Ok(format!(
        "gradient check: all {} parameter tensors get gradients from the total and from each of {} objectives",
        report.params,
        report.losses - 1
    ))
}

fn check(args: &ExperimentArgs) -> Result<()> {
    let session = open(args)?;
    println!("{}", check_gradients(&session)?);
    Ok(())
}

/// How a run is shown and where it pauses.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunControl {
    /// Plain lines instead of a bar.
    pub plain: bool,
    /// The step to pause at.
    pub pause_at: Option<usize>,
}

fn run_experiment(args: &ExperimentArgs, out: Option<PathBuf>, control: RunControl) -> Result<()> {
    let session = open(args)?;
    let copied = session
        .apply_init()
        .map_err(|e| locate(e, &args.experiment, &args.all_overrides()))?;
    let out = out.unwrap_or_else(|| RunDir::next_free(Path::new("runs"), &session.experiment.name));
    let run = RunDir::create(&out)?;
    let memory = xp_framework::memory::estimate(
        &session.experiment,
        &session.info,
        &session.model,
        &session.sample(),
    );
    eprintln!(
        "{}: {} parameters, memory {}; data: {}",
        session.experiment.name,
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
    eprintln!("{}", check_gradients(&session)?);
    train_and_report(&session, &run, None, control)
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

/// Trains `session` into `run` (from `resume` when given), stopping at Ctrl-C or
/// SIGTERM with a resume point, then writes the reports and prints the summary.
pub(crate) fn train_and_report(
    session: &Session,
    run: &RunDir,
    resume: Option<ResumePoint>,
    control: RunControl,
) -> Result<()> {
    let mut reporter: Box<dyn Reporter> = if control.plain || !std::io::stderr().is_terminal() {
        Box::new(PlainReporter::new())
    } else {
        Box::new(ProgressReporter::new())
    };
    let stop = crate::signals::stop_flag()?;
    let options = TrainOptions {
        stop: Some(&stop),
        resume,
        pause_at: control.pause_at,
    };
    let trained = match train::train(session, run, reporter.as_mut(), options) {
        Ok(trained) => trained,
        Err(paused @ XpError::Paused { .. }) => {
            eprintln!("{paused}");
            return Ok(());
        }
        Err(e) => {
            let ended = match e {
                XpError::Interrupted { .. } => Ok(()),
                _ => xp_study::sweep::hparams::end_session(&run.path, false),
            };
            if let Err(also) = ended {
                eprintln!("warning: {also:#}");
            }
            return Err(e.into());
        }
    };
    let summary = &trained.summary;
    let test: Vec<report::TestText> = session
        .sets
        .test
        .iter()
        .map(|&i| report::TestText {
            id: session.examples[i].id.clone(),
            text: session.examples[i].text.clone(),
        })
        .collect();
    let warnings = report::write_reports(
        run,
        &trained.metrics,
        summary,
        trained.model(session),
        &test,
    )?;
    xp_study::sweep::hparams::end_session(&run.path, true)?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    println!("{}", summary_table(summary));
    println!(
        "{} steps ({:.1} steps/s), best at step {}{}; outputs in {}",
        summary.steps,
        summary.steps_per_second,
        summary.best_step,
        if summary.stopped_early {
            ", stopped early"
        } else {
            ""
        },
        run.path.display()
    );
    Ok(())
}

/// `xp parity`: CPU against `--device` (default `cuda`), loss by loss.
fn device_parity(
    args: &ExperimentArgs,
    steps: usize,
    tolerance: f64,
    json: Option<&Path>,
) -> Result<()> {
    let overrides = args.all_overrides();
    let experiment = with_corpus(Experiment::load(&args.experiment, &overrides)?);
    crate::threads::set_threads(experiment.train.threads);
    let device = match (&args.set.device, experiment.train.device.as_str()) {
        (None, "cpu") => "cuda".to_owned(),
        (_, named) => named.to_owned(),
    };
    let report = train::parity(&experiment, &device, steps)
        .map_err(|e| locate(e, &args.experiment, &overrides))?;
    println!(
        "{:>5} {:>12} {:>12} {:>10}  in",
        "step",
        "total cpu",
        format!("total {device}"),
        "worst rel"
    );
    for s in &report.steps {
        let (rel, name) = s.worst();
        let (_, cpu, dev) = s.losses.last().cloned().unwrap_or_default();
        println!("{:>5} {cpu:>12.6} {dev:>12.6} {rel:>10.2e}  {name}", s.step);
    }
    let (worst, step, name) = report.worst();
    if let Some(path) = json {
        write_parity_json(path, &report, tolerance)?;
    }
    if worst <= tolerance {
        println!("parity: {steps} steps on cpu and {device} agree: largest relative difference {worst:.2e} ({name}, step {step}) <= {tolerance:.0e}");
        Ok(())
    } else {
        anyhow::bail!("parity: cpu and {device} differ: relative difference {worst:.2e} in the {name} loss at step {step}, above {tolerance:.0e}")
    }
}

/// The parity report as JSON: the worst difference, then each step's losses.
fn write_parity_json(path: &Path, report: &train::ParityReport, tolerance: f64) -> Result<()> {
    let (worst, step, name) = report.worst();
    let steps: Vec<_> = report
        .steps
        .iter()
        .map(|s| {
            let losses: Vec<_> = s
                .losses
                .iter()
                .map(|(n, cpu, dev)| serde_json::json!({"loss": n, "cpu": cpu, "device": dev}))
                .collect();
            serde_json::json!({"step": s.step, "worst_relative": s.worst().0, "losses": losses})
        })
        .collect();
    let doc = serde_json::json!({
        "device": report.device,
        "tolerance": tolerance,
        "worst_relative": worst,
        "worst_step": step,
        "worst_loss": name,
        "agree": worst <= tolerance,
        "steps": steps,
    });
    xp_framework::files::write_atomic(path, serde_json::to_string_pretty(&doc)?.as_bytes())?;
    Ok(())
}

fn list_objectives() {
    for entry in registered() {
        println!("{:<6} {}", entry.name, entry.description);
        let mut fields = (entry.defaults)();
        fields.extend(config_fields::<ObjectiveSettings>());
        let docs: std::collections::HashMap<&str, &str> = entry
            .fields
            .iter()
            .chain(&ObjectiveSettings::FIELDS)
            .map(|f| (f.name, f.doc))
            .collect();
        for (key, value) in fields {
            let setting = format!("{key} = {value}");
            match docs.get(key.as_str()) {
                Some(doc) => println!("         {setting:<24} # {doc}"),
                None => println!("         {setting}"),
            }
        }
    }
}
