//! Driving a tune: waves of jobs (new trials, promotions) chosen by the scheduler,
//! trained by a [`Backend`], their results read from the trials' folders and written
//! to the journal before the next wave; then the final comparison.

use super::{Event, FinalRun, Job, Journal, Search, Tune};
use std::path::{Path, PathBuf};
use xp_framework::run::{state, writer, EventLog, RunEvent, RunState};

/// One training job: a run folder trained from its experiment file (`DIR.toml`, see
/// [`crate::sweep::experiment_file`]), or resumed, to
/// a step where it pauses (none: to its end).
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// For people: `trial 7 to rung 2`, `trial-005 seed 2`.
    pub label: String,
    /// The run folder.
    pub dir: PathBuf,
    /// The step to pause at.
    pub pause_at: Option<usize>,
    /// Steps of the job (for progress).
    pub steps: usize,
}

impl Task {
    /// The `xp` arguments that train it from where it stands (see
    /// [`crate::sweep::run_arguments`]), with `--pause-at` when it pauses.
    pub fn arguments(&self) -> Vec<std::ffi::OsString> {
        use crate::sweep::run_arguments;
        let mut args = run_arguments(&self.dir);
        if let Some(step) = self.pause_at {
            args.extend(["--pause-at".into(), step.to_string().into()]);
        }
        args
    }

    /// Its log (`DIR.log`).
    pub fn log(&self) -> PathBuf {
        self.dir.with_extension("log")
    }
}

/// Where a wave of tasks trains.
pub trait Backend {
    /// Trains every task of `wave` and returns once each has ended (paused, finished
    /// or failed); an error only when the backend itself fails (or was stopped).
    fn run_wave(&mut self, wave: &[Task]) -> Result<(), String>;
}

/// What happened, for people.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// A wave starts.
    Wave {
        /// Its tasks.
        tasks: Vec<String>,
    },
    /// A trial reached a rung, or failed.
    Result {
        /// `trial 3 rung 1 (3000 steps): validation CLS accuracy 0.812`.
        line: String,
        /// Steps the started jobs account for.
        spent: usize,
        /// The budget.
        budget: usize,
        /// Trials so far.
        trials: usize,
        /// The best trial so far, as a line.
        best: Option<String>,
    },
    /// The final runs start (those not done yet).
    Final {
        /// How many.
        runs: usize,
    },
}

/// Why a tune cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// The tune's folder or journal cannot be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The backend failed or was stopped.
    #[error("{0}")]
    Backend(String),
    /// The tune's folder holds another search, or none.
    #[error("{0}")]
    Folder(String),
    /// A final run's experiment is invalid.
    #[error(transparent)]
    Config(#[from] xp_framework::config::ConfigError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TuneError {
    let what = what.into();
    move |source| TuneError::Io { what, source }
}

/// A trial's folder in the tune's folder.
pub fn trial_dir(dir: &Path, id: usize) -> PathBuf {
    dir.join("trials").join(format!("trial-{id:03}"))
}

/// Runs the search in `dir` to its end (continuing what the journal records), `jobs`
/// tasks a wave; returns the search.
pub fn search(
    tune: &Tune,
    dir: &Path,
    backend: &mut dyn Backend,
    jobs: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<Search, TuneError> {
    std::fs::create_dir_all(dir.join("trials"))
        .map_err(io(format!("cannot create {}", dir.display())))?;
    // One search writes a tune's folder at a time.
    let _lock = xp_framework::run::lock(dir).map_err(|e| TuneError::Backend(e.to_string()))?;
    let (journal, events) = Journal::open(dir).map_err(io("cannot read the tune's journal"))?;
    let schedule = &tune.schedule;
    let mut search = Search::replay(&events, schedule);
    let record = |search: &mut Search, event: Event| -> Result<(), TuneError> {
        journal
            .append(&event)
            .map_err(io("cannot write the tune's journal"))?;
        search.apply(&event, schedule);
        Ok(())
    };
    loop {
        // A search stopped mid-wave first finishes the jobs it had started, and starts
        // those of the trials it had sampled.
        for id in search.unstarted() {
            record(&mut search, Event::Start { id, rung: 0 })?;
        }
        let mut wave: Vec<(usize, usize)> = search.unfinished();
        let restarting = !wave.is_empty();
        while !restarting && wave.len() < jobs.max(1) {
            let Some(job) = search.next_job(schedule) else {
                break;
            };
            let (id, rung) = match job {
                Job::Promote { id, rung } => match fitted_once(dir, &search, id) {
                    // Nothing more to train (an n-gram baseline is fitted in one go):
                    // its score holds at every rung, at no cost.
                    Some(score) => {
                        let event = Event::Rung {
                            id,
                            rung,
                            score,
                            stopped_early: false,
                        };
                        let line = describe(&event, tune);
                        record(&mut search, event)?;
                        progress(result(&search, tune, line));
                        continue;
                    }
                    None => (id, rung),
                },
                Job::New => {
                    let id = search.trials.len() + 1;
                    let sample = tune.sample(id, &search);
                    record(
                        &mut search,
                        Event::Trial {
                            id,
                            sample: sample.clone(),
                        },
                    )?;
                    if let Err(e) = tune.trial_experiment(id, &sample) {
                        let reason = format!("its sample makes no valid experiment: {e}");
                        record(
                            &mut search,
                            Event::Failed {
                                id,
                                rung: 0,
                                reason,
                            },
                        )?;
                        continue;
                    }
                    (id, 0)
                }
            };
            record(&mut search, Event::Start { id, rung })?;
            wave.push((id, rung));
        }
        if wave.is_empty() {
            return Ok(search);
        }
        let tasks = wave
            .iter()
            .map(|&(id, rung)| trial_task(tune, dir, &search, id, rung))
            .collect::<Result<Vec<_>, _>>()?;
        run_wave(backend, &tasks, progress)?;
        for ((id, rung), task) in wave.into_iter().zip(&tasks) {
            let event = outcome(task, id, rung, tune.schedule.rungs[rung]);
            let line = describe(&event, tune);
            record(&mut search, event)?;
            progress(result(&search, tune, line));
        }
    }
}

/// What a trial's result, described as `line`, leaves the search at.
fn result(search: &Search, tune: &Tune, line: String) -> Progress {
    Progress::Result {
        line,
        spent: search.spent,
        budget: tune.schedule.budget,
        trials: search.trials.len(),
        best: search.ranking().first().map(|t| best_line(t, tune)),
    }
}

/// The score of trial `id` when its run is finished before the last rung (a model
/// fitted in one go, whatever the steps): the score it reached, which no training
/// changes.
fn fitted_once(dir: &Path, search: &Search, id: usize) -> Option<f64> {
    let finished = xp_framework::run::RunFiles::at(trial_dir(dir, id))
        .summary()
        .is_file();
    let trial = search.trials.iter().find(|t| t.id == id)?;
    finished.then(|| trial.score()).flatten()
}

/// The task that trains trial `id` to `rung`, its experiment file written when it
/// has not started.
fn trial_task(
    tune: &Tune,
    dir: &Path,
    search: &Search,
    id: usize,
    rung: usize,
) -> Result<Task, TuneError> {
    let run_dir = trial_dir(dir, id);
    let file = crate::sweep::experiment_file(&run_dir);
    if state(&run_dir) == RunState::NotStarted {
        let sample = &search.trials[id - 1].sample;
        let experiment = tune.trial_experiment(id, sample)?;
        xp_framework::files::write_atomic(&file, experiment.to_toml().as_bytes())
            .map_err(|e| TuneError::Backend(e.to_string()))?;
    }
    let last = tune.schedule.rungs.len() - 1;
    Ok(Task {
        label: format!(
            "trial {id} to rung {rung} ({} steps)",
            tune.schedule.rungs[rung]
        ),
        dir: run_dir,
        pause_at: (rung < last).then(|| tune.schedule.rungs[rung]),
        steps: tune.schedule.cost(rung),
    })
}

/// Says which tasks train, waits for any run of theirs another process still writes,
/// and trains them.
fn run_wave(
    backend: &mut dyn Backend,
    tasks: &[Task],
    progress: &mut dyn FnMut(Progress),
) -> Result<(), TuneError> {
    progress(Progress::Wave {
        tasks: tasks.iter().map(|t| t.label.clone()).collect(),
    });
    for task in tasks {
        wait_unlocked(&task.dir, progress);
    }
    backend.run_wave(tasks).map_err(TuneError::Backend)
}

/// Waits while another process writes the run in `dir`: a trial that a killed search
/// left training finishes its job (a resume then finds it paused) rather than fail
/// on the run's lock.
fn wait_unlocked(dir: &Path, progress: &mut dyn FnMut(Progress)) {
    let held = || writer(dir).is_some();
    if held() {
        progress(Progress::Wave {
            tasks: vec![format!(
                "waiting for another xp to finish writing {}",
                dir.display()
            )],
        });
        while held() {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

/// What a task to rung `rung` (step `step`) left: the trial's best monitored
/// validation figure where it stopped (its run's events), or why it failed.
fn outcome(task: &Task, id: usize, rung: usize, step: usize) -> Event {
    let failed = |reason: String| Event::Failed { id, rung, reason };
    let events = EventLog::read(&task.dir);
    let stop = events.iter().rev().find_map(|e| match e {
        RunEvent::Paused(stop) | RunEvent::Trained(stop) | RunEvent::Interrupted(stop) => {
            Some(*stop)
        }
        _ => None,
    });
    // A finished run trained all it will: a model fitted in one go reaches every rung.
    let finished = xp_framework::run::RunFiles::at(&task.dir)
        .summary()
        .is_file();
    match stop {
        Some(stop) if stop.step >= step || stop.stopped_early || finished => match stop.best {
            Some(score) => Event::Rung {
                id,
                rung,
                score,
                stopped_early: stop.stopped_early,
            },
            None => failed("no evaluation gave a finite validation figure".into()),
        },
        Some(stop) => failed(format!(
            "it stopped at step {} of {step}: {}",
            stop.step,
            failure(task)
        )),
        None => failed(failure(task)),
    }
}

/// Why the run of `task` failed: the error its events record, else (an error before
/// its run began, such as a bad experiment) the last `error:` line of its log.
fn failure(task: &Task) -> String {
    match state(&task.dir) {
        RunState::Failed { message } => message,
        _ => last_error(&task.log()),
    }
}

/// The last `error:` line of a run's log.
fn last_error(log: &Path) -> String {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .rev()
        .find(|l| l.starts_with("error"))
        .map_or_else(
            || format!("it wrote no resume point (see {})", log.display()),
            str::to_owned,
        )
}

/// A score for people: an accuracy as such, a loss as such.
pub fn shown(score: f64, tune: &Tune) -> String {
    match tune.monitor_is_accuracy() {
        true => format!("{} {:.4}", tune.monitor_name(), -score),
        false => format!("{} {score:.4}", tune.monitor_name()),
    }
}

fn describe(event: &Event, tune: &Tune) -> String {
    match event {
        Event::Rung {
            id,
            rung,
            score,
            stopped_early,
        } => format!(
            "trial {id} rung {rung} ({} steps): {}{}",
            tune.schedule.rungs[*rung],
            shown(*score, tune),
            if *stopped_early {
                " (stopped early)"
            } else {
                ""
            }
        ),
        Event::Failed { id, rung, reason } => {
            format!("trial {id} FAILED on its way to rung {rung}: {reason}")
        }
        other => format!("{other:?}"),
    }
}

fn best_line(trial: &super::Trial, tune: &Tune) -> String {
    format!(
        "trial {} (rung {}): {}",
        trial.id,
        trial.scores.len() - 1,
        trial.score().map_or_else(String::new, |s| shown(s, tune))
    )
}

/// Trains the final comparison in `dir/final` (the runs not done yet), `jobs` at a
/// time; returns its runs.
pub fn final_comparison(
    tune: &Tune,
    dir: &Path,
    search: &Search,
    backend: &mut dyn Backend,
    jobs: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<FinalRun>, TuneError> {
    let _lock = xp_framework::run::lock(dir).map_err(|e| TuneError::Backend(e.to_string()))?;
    let runs = tune.final_runs(search)?;
    let root = dir.join("final");
    let mut tasks = Vec::new();
    for run in &runs {
        let run_dir = root.join(&run.point).join(format!("seed-{}", run.seed));
        if state(&run_dir) == RunState::Finished {
            continue;
        }
        let file = crate::sweep::experiment_file(&run_dir);
        std::fs::create_dir_all(root.join(&run.point))
            .map_err(io(format!("cannot create {}", root.display())))?;
        xp_framework::files::write_atomic(&file, run.experiment.to_toml().as_bytes())
            .map_err(|e| TuneError::Backend(e.to_string()))?;
        tasks.push(Task {
            label: format!("{} seed {}", run.point, run.seed),
            dir: run_dir,
            pause_at: None,
            steps: run.experiment.train.steps,
        });
    }
    progress(Progress::Final { runs: tasks.len() });
    for wave in tasks.chunks(jobs.max(1)) {
        run_wave(backend, wave, progress)?;
        for task in wave {
            if state(&task.dir) != RunState::Finished {
                return Err(TuneError::Backend(format!(
                    "{} did not finish: {}",
                    task.label,
                    failure(task)
                )));
            }
        }
    }
    Ok(runs)
}
