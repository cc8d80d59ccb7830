//! The Slurm backend: the sweep's unfinished runs as one job array (`sbatch --array`),
//! a task per run. Each task runs `xp sweep-task`, which trains its run, or resumes it
//! when a requeued or preempted task finds it interrupted. Slurm does the scheduling;
//! the sweep's folder records each submission (`slurm/jobs.tsv`, a task list per
//! submission) for `xp sweep --status`.

use super::{run_arguments, run_state, write_experiment, RunState, SweepOptions};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use xp_study::sweep::{Sweep, SweepRun};

/// `--backend slurm`'s options, passed to `sbatch`.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (Slurm's format, e.g. `1:00:00`).
    pub time: Option<String>,
    /// `--cpus-per-task` (default: the runs' `train.threads`, at least 1).
    pub cpus_per_task: Option<usize>,
}

/// The folder of the Slurm files inside the sweep's folder.
pub(super) const SLURM_DIR: &str = "slurm";
/// One line per submission: job id, tab, its task list's file name.
const JOBS_FILE: &str = "jobs.tsv";
/// The task script every submission runs.
const TASK_SCRIPT: &str = "task.sh";

/// A submission: the job array's id and its tasks' run folders (array index order).
#[derive(Debug, Clone)]
pub(super) struct Submission {
    pub job: String,
    pub runs: Vec<PathBuf>,
}

/// Submits the unfinished ones of `runs` as one job array.
pub(super) fn submit(
    sweep: &Sweep,
    runs: &[&SweepRun],
    dir: &Path,
    options: &SweepOptions,
) -> Result<()> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let submissions = submissions(&dir)?;
    let queued = queued_runs(&submissions)?;
    if !queued.is_empty() {
        let mut jobs: Vec<&str> = queued.values().map(|t| t.job.as_str()).collect();
        jobs.sort_unstable();
        jobs.dedup();
        bail!(
            "{} runs of this sweep are still in Slurm's queue (jobs {}): wait for them (`xp sweep --status {}`), or cancel them with scancel, before submitting again",
            queued.len(),
            jobs.join(", "),
            dir.display()
        );
    }
    let mut todo = Vec::new();
    for run in runs {
        let run_dir = run.dir(&dir);
        match run_state(&run_dir) {
            RunState::Done => {}
            RunState::Pending => {
                write_experiment(run, &run_dir)?;
                todo.push(run_dir);
            }
            RunState::Interrupted => todo.push(run_dir),
        }
    }
    if todo.is_empty() {
        eprintln!(
            "{}: all {} runs are done in {}",
            sweep.name,
            runs.len(),
            dir.display()
        );
        return Ok(());
    }
    let slurm = dir.join(SLURM_DIR);
    std::fs::create_dir_all(&slurm)
        .with_context(|| format!("cannot create {}", slurm.display()))?;
    let tasks_name = format!("submission-{}.tasks", submissions.len() + 1);
    let tasks: String = todo.iter().map(|d| format!("{}\n", d.display())).collect();
    xp_framework::files::write_atomic(&slurm.join(&tasks_name), tasks.as_bytes())?;
    let script = slurm.join(TASK_SCRIPT);
    write_task_script(&script)?;
    let threads = runs.first().map_or(1, |r| r.experiment.train.threads);
    let job = sbatch(
        &sweep.name,
        (&slurm, &script, &slurm.join(&tasks_name)),
        todo.len(),
        threads,
        (options.jobs, &options.slurm),
    )?;
    let mut jobs = std::fs::read_to_string(slurm.join(JOBS_FILE)).unwrap_or_default();
    jobs.push_str(&format!("{job}\t{tasks_name}\n"));
    xp_framework::files::write_atomic(&slurm.join(JOBS_FILE), jobs.as_bytes())?;
    eprintln!(
        "{}: submitted {} runs as Slurm job array {job} ({} already done); follow it with `xp sweep --status {}`; task outputs in {}",
        sweep.name,
        todo.len(),
        runs.len() - todo.len(),
        dir.display(),
        slurm.display()
    );
    Ok(())
}

/// The script of every task: `xp sweep-task TASKS INDEX`, with this very `xp`.
pub(crate) fn write_task_script(path: &Path) -> Result<()> {
    let exe = std::env::current_exe().context("cannot find the xp program for the Slurm tasks")?;
    let script = format!(
        "#!/bin/sh\n# Written by `xp sweep --backend slurm`: trains (or resumes) the run on line\n# $SLURM_ARRAY_TASK_ID of the task list given as the first argument.\nexec {} sweep-task \"$1\" \"$SLURM_ARRAY_TASK_ID\"\n",
        shell_quote(&exe.display().to_string())
    );
    xp_framework::files::write_atomic(path, script.as_bytes())?;
    Ok(())
}

/// `text` as one shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs `sbatch` for `count` tasks of the task list `tasks`, each running `script`,
/// their outputs in the folder `slurm`, at most `jobs` at once; returns the job id.
pub(crate) fn sbatch(
    name: &str,
    (slurm, script, tasks): (&Path, &Path, &Path),
    count: usize,
    threads: usize,
    (jobs, options): (Option<usize>, &SlurmOptions),
) -> Result<String> {
    let cpus = options.cpus_per_task.unwrap_or(threads.max(1));
    let mut array = format!("0-{}", count - 1);
    if let Some(jobs) = jobs {
        array.push_str(&format!("%{jobs}"));
    }
    let mut command = Command::new("sbatch");
    command.args([
        "--parsable".to_owned(),
        format!("--array={array}"),
        format!("--job-name=xp-{name}"),
        format!("--cpus-per-task={cpus}"),
        format!("--output={}/%A_%a.out", slurm.display()),
        "--open-mode=append".to_owned(),
        "--requeue".to_owned(),
        format!("--chdir={}", slurm.display()),
    ]);
    if let Some(partition) = &options.partition {
        command.arg(format!("--partition={partition}"));
    }
    if let Some(time) = &options.time {
        command.arg(format!("--time={time}"));
    }
    command.arg(script).arg(tasks);
    let stdout = slurm_output(
        &mut command,
        "the Slurm backend submits with sbatch; run on a machine of the Slurm cluster (a login node), or use --backend local",
    )?;
    // `--parsable` prints `ID` or `ID;CLUSTER`.
    let job = stdout
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    if job.is_empty() || !job.chars().all(|c| c.is_ascii_digit()) {
        bail!("sbatch answered {:?}, not a job id", stdout.trim());
    }
    Ok(job)
}

/// The sweep's submissions, oldest first (none when it never went to Slurm).
pub(super) fn submissions(dir: &Path) -> Result<Vec<Submission>> {
    let slurm = dir.join(SLURM_DIR);
    let Ok(jobs) = std::fs::read_to_string(slurm.join(JOBS_FILE)) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for line in jobs.lines().filter(|l| !l.trim().is_empty()) {
        let Some((job, tasks)) = line.split_once('\t') else {
            bail!(
                "{}: a malformed line {line:?}",
                slurm.join(JOBS_FILE).display()
            );
        };
        out.push(Submission {
            job: job.to_owned(),
            runs: task_list(&slurm.join(tasks))?,
        });
    }
    Ok(out)
}

fn task_list(path: &Path) -> Result<Vec<PathBuf>> {
    Ok(task_lines(path)?.into_iter().map(|(dir, _)| dir).collect())
}

/// The lines of a task list: a run folder, and after a tab the step to pause it at
/// (a tune's rung).
fn task_lines(path: &Path) -> Result<Vec<(PathBuf, Option<usize>)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the task list {}", path.display()))?;
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once('\t') {
            None => Ok((PathBuf::from(line), None)),
            Some((dir, step)) => {
                let step = step.parse().with_context(|| {
                    format!("{}: {line:?} has no step after its tab", path.display())
                })?;
                Ok((PathBuf::from(dir), Some(step)))
            }
        })
        .collect()
}

/// A task list's line for `dir`, paused at `pause_at`.
pub(crate) fn task_line(dir: &Path, pause_at: Option<usize>) -> String {
    match pause_at {
        Some(step) => format!("{}\t{step}\n", dir.display()),
        None => format!("{}\n", dir.display()),
    }
}

/// A Slurm task of the sweep, as `squeue` shows it.
#[derive(Debug, Clone)]
pub(super) struct Task {
    /// The array job's id.
    pub job: String,
    /// `JOB_INDEX`, what `scancel` and `scontrol requeue` take.
    pub id: String,
    /// `PENDING`, `RUNNING`, ...
    pub state: String,
    /// Why it waits, when it does.
    pub reason: String,
}

/// The task of each run of `submissions` that Slurm still holds (queued or running),
/// keyed by run folder. Empty, without asking Slurm, when there is no submission.
pub(super) fn queued_runs(submissions: &[Submission]) -> Result<BTreeMap<PathBuf, Task>> {
    if submissions.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut out = BTreeMap::new();
    for line in squeue()?.lines() {
        let fields: Vec<&str> = line.trim().split('|').collect();
        let [job, index, state, reason] = fields[..] else {
            continue;
        };
        let Some(submission) = submissions.iter().find(|s| s.job == job) else {
            continue;
        };
        let Some(run) = index
            .parse::<usize>()
            .ok()
            .and_then(|i| submission.runs.get(i))
        else {
            continue;
        };
        out.insert(
            run.clone(),
            Task {
                job: job.to_owned(),
                id: format!("{job}_{index}"),
                state: state.to_owned(),
                reason: reason.to_owned(),
            },
        );
    }
    Ok(out)
}

/// `squeue`'s array tasks, one per line: array job id, task index, state, reason.
fn squeue() -> Result<String> {
    slurm_output(
        Command::new("squeue").args(["--noheader", "--array", "--format=%F|%K|%T|%r"]),
        "this sweep went to Slurm; ask from a machine of the cluster",
    )
}

/// The standard output of a Slurm command; its error output when it fails, and
/// `missing` (what to do) when the command is not installed.
pub(crate) fn slurm_output(command: &mut Command, missing: &str) -> Result<String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!("{program} not found: {missing}"),
        _ => anyhow::anyhow!("cannot run {program}: {e}"),
    })?;
    if !output.status.success() {
        bail!(
            "{program} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The output file of task `index` of `job`.
pub(super) fn task_output(dir: &Path, job: &str, index: usize) -> PathBuf {
    dir.join(SLURM_DIR).join(format!("{job}_{index}.out"))
}

/// `xp sweep-task TASKS INDEX`: what a Slurm task runs. Trains the run on line
/// `index` of `tasks` from where it stands (nothing when it is done; a resume when a
/// requeued or preempted task finds it interrupted), as this very process.
pub fn run_task(tasks: &Path, index: usize) -> Result<()> {
    let runs = task_lines(tasks)?;
    let Some((dir, pause_at)) = runs.get(index) else {
        bail!(
            "task {index}: {} lists {} runs",
            tasks.display(),
            runs.len()
        );
    };
    let state = run_state(dir);
    if state == RunState::Done {
        eprintln!("{} is done already", dir.display());
        return Ok(());
    }
    eprintln!(
        "task {index}: {} {}",
        if state == RunState::Interrupted {
            "resuming"
        } else {
            "starting"
        },
        dir.display()
    );
    let exe = std::env::current_exe().context("cannot find the xp program")?;
    let mut command = Command::new(exe);
    command.args(run_arguments(dir, state));
    if let Some(step) = pause_at {
        command.args(["--pause-at", &step.to_string()]);
    }
    exec(&mut command)
}

/// Replaces this process with `command`, so that Slurm's signals reach the run.
#[cfg(unix)]
fn exec(command: &mut Command) -> Result<()> {
    use std::os::unix::process::CommandExt;
    Err(command.exec()).context("cannot start the run")
}
