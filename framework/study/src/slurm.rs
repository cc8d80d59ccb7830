//! Slurm, as sweeps and tunes use it: job arrays submitted with `sbatch --array`
//! from a folder's `slurm/` (a task list per submission, `jobs.tsv` recording them),
//! each task running `xp sweep-task LIST INDEX` (the run on that line, started,
//! resumed, or paused at a step), and `squeue` for what is still queued.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Slurm could not be asked, or said no: the message says what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SlurmError(pub String);

type Result<T> = std::result::Result<T, SlurmError>;

fn io(what: String) -> impl FnOnce(std::io::Error) -> SlurmError {
    move |e| SlurmError(format!("{what}: {e}"))
}

/// The options passed to `sbatch`.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (Slurm's format, e.g. `1:00:00`).
    pub time: Option<String>,
    /// `--cpus-per-task` (default: the runs' `train.threads`, at least 1).
    pub cpus_per_task: Option<usize>,
}

/// The folder of the Slurm files inside a sweep's or tune's folder.
pub const SLURM_DIR: &str = "slurm";
/// One line per submission: job id, tab, its task list's file name.
const JOBS_FILE: &str = "jobs.tsv";
/// The task script every submission runs.
const TASK_SCRIPT: &str = "task.sh";

/// A submission: the job array's id and its tasks' run folders (array index order).
#[derive(Debug, Clone)]
pub struct Submission {
    /// The array job's id.
    pub job: String,
    /// Its tasks' run folders.
    pub runs: Vec<PathBuf>,
}

/// A task of a submission, as `squeue` shows it.
#[derive(Debug, Clone)]
pub struct QueuedTask {
    /// The array job's id.
    pub job: String,
    /// `JOB_INDEX`, what `scancel` and `scontrol requeue` take.
    pub id: String,
    /// `PENDING`, `RUNNING`, ...
    pub state: String,
    /// Why it waits, when it does.
    pub reason: String,
}

/// Submits one job array from `dir` (a sweep's or tune's folder): a task per line of
/// `tasks` (a run folder, and the step to pause it at), each running `exe`'s
/// `sweep-task`; `jobs` at once at most. Records the submission; returns the job id.
pub fn submit_array(
    dir: &Path,
    name: &str,
    tasks: &[(PathBuf, Option<usize>)],
    threads: usize,
    (jobs, options): (Option<usize>, &SlurmOptions),
    exe: &Path,
) -> Result<String> {
    let slurm = dir.join(SLURM_DIR);
    std::fs::create_dir_all(&slurm).map_err(io(format!("cannot create {}", slurm.display())))?;
    let tasks_name = format!("submission-{}.tasks", submissions(dir)?.len() + 1);
    let lines = tsv(tasks.iter().map(|(d, pause)| {
        let mut row = vec![d.display().to_string()];
        row.extend(pause.map(|p| p.to_string()));
        row
    }))?;
    let write = |path: &Path, text: &str| {
        xp_framework::files::write_atomic(path, text.as_bytes())
            .map_err(|e| SlurmError(e.to_string()))
    };
    write(&slurm.join(&tasks_name), &lines)?;
    let script = slurm.join(TASK_SCRIPT);
    write(&script, &task_script(exe))?;
    let job = sbatch(
        name,
        (&slurm, &script, &slurm.join(&tasks_name)),
        tasks.len(),
        threads,
        (jobs, options),
    )?;
    let mut recorded = std::fs::read_to_string(slurm.join(JOBS_FILE)).unwrap_or_default();
    recorded.push_str(&tsv([vec![job.clone(), tasks_name]])?);
    write(&slurm.join(JOBS_FILE), &recorded)?;
    Ok(job)
}

/// Waits until Slurm holds no task of `job` any more.
pub fn wait_for(job: &str) -> Result<()> {
    loop {
        let queued = slurm_output(
            Command::new("squeue").args(["--noheader", "--array", "--format=%i", "--jobs", job]),
            "run from a machine of the Slurm cluster",
        )?;
        if queued.trim().is_empty() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// The script of every task: `xp sweep-task TASKS INDEX`, with the `xp` at `exe`.
fn task_script(exe: &Path) -> String {
    format!(
        "#!/bin/sh\n# Written by xp for Slurm: trains (or resumes) the run on line\n# $SLURM_ARRAY_TASK_ID of the task list given as the first argument.\nexec {} sweep-task \"$1\" \"$SLURM_ARRAY_TASK_ID\"\n",
        shell_quote(&exe.display().to_string())
    )
}

/// `text` as one shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs `sbatch` for `count` tasks of the task list `tasks`, each running `script`,
/// their outputs in the folder `slurm`, at most `jobs` at once; returns the job id.
fn sbatch(
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
        return Err(SlurmError(format!(
            "sbatch answered {:?}, not a job id",
            stdout.trim()
        )));
    }
    Ok(job)
}

/// The submissions from `dir`, oldest first (none when it never went to Slurm).
pub fn submissions(dir: &Path) -> Result<Vec<Submission>> {
    let slurm = dir.join(SLURM_DIR);
    let Ok(jobs) = std::fs::read_to_string(slurm.join(JOBS_FILE)) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for row in rows(&jobs, &slurm.join(JOBS_FILE))? {
        let [job, tasks] = &row[..] else {
            return Err(SlurmError(format!(
                "{}: a malformed line {row:?}",
                slurm.join(JOBS_FILE).display()
            )));
        };
        out.push(Submission {
            job: job.clone(),
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
pub fn task_lines(path: &Path) -> Result<Vec<(PathBuf, Option<usize>)>> {
    let text = std::fs::read_to_string(path)
        .map_err(io(format!("cannot read the task list {}", path.display())))?;
    rows(&text, path)?
        .into_iter()
        .map(|row| match &row[..] {
            [dir] => Ok((PathBuf::from(dir), None)),
            [dir, step] => {
                let step = step.parse().map_err(|_| {
                    SlurmError(format!(
                        "{}: {row:?} has no step after its tab",
                        path.display()
                    ))
                })?;
                Ok((PathBuf::from(dir), Some(step)))
            }
            _ => Err(SlurmError(format!(
                "{}: a malformed line {row:?}",
                path.display()
            ))),
        })
        .collect()
}

/// `rows` as tab-separated lines (through the `csv` crate: a field with a tab or a line
/// end in it is quoted).
fn tsv(rows: impl IntoIterator<Item = Vec<String>>) -> Result<String> {
    let mut out = csv::WriterBuilder::new()
        .delimiter(b'\t')
        .flexible(true)
        .from_writer(Vec::new());
    for row in rows {
        out.write_record(&row)
            .map_err(|e| SlurmError(format!("cannot write a task list: {e}")))?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| SlurmError(format!("cannot write a task list: {e}")))?;
    String::from_utf8(bytes).map_err(|e| SlurmError(e.to_string()))
}

/// The rows of tab-separated `text` (from `path`, for messages).
fn rows(text: &str, path: &Path) -> Result<Vec<Vec<String>>> {
    csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| {
            r.map(|r| r.iter().map(str::to_owned).collect())
                .map_err(|e| SlurmError(format!("{}: {e}", path.display())))
        })
        .collect()
}

/// The task of each run of `submissions` that Slurm still holds (queued or running),
/// keyed by run folder. Empty, without asking Slurm, when there is no submission.
pub fn queued_runs(submissions: &[Submission]) -> Result<BTreeMap<PathBuf, QueuedTask>> {
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
            QueuedTask {
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
        "this went to Slurm; ask from a machine of the cluster",
    )
}

/// The standard output of a Slurm command; its error output when it fails, and
/// `missing` (what to do) when the command is not installed.
fn slurm_output(command: &mut Command, missing: &str) -> Result<String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SlurmError(format!("{program} not found: {missing}")),
        _ => SlurmError(format!("cannot run {program}: {e}")),
    })?;
    if !output.status.success() {
        return Err(SlurmError(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The output file of task `index` of `job`.
pub fn task_output(dir: &Path, job: &str, index: usize) -> PathBuf {
    dir.join(SLURM_DIR).join(format!("{job}_{index}.out"))
}
