//! The Slurm backend on a real one-node Slurm cluster, which `scripts/slurm-up.sh`
//! starts (the test command runs it first): a tiny sweep goes as one job array, one
//! task cancelled with `scancel` in the middle of its run and requeued resumes and
//! finishes its point, and `xp sweep --status` follows it all. Without a cluster the
//! test fails and says how to start one: it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{tiny_experiment, write, ALL_OBJECTIVES};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A command's standard output, asserting it succeeded.
fn output(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn require_cluster() {
    let up = Command::new("sinfo")
        .args(["--noheader", "--format=%t"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    assert!(
        up,
        "no Slurm cluster answers here (sinfo): start the one-node cluster with `scripts/slurm-up.sh` (as root; the test command scripts/test.sh does it)"
    );
}

/// `xp sweep --status dir`, asserting it succeeded.
fn status(dir: &Path) -> String {
    let out = common::xp(&["sweep", "--status", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `--status` line of the point's seed-1 run.
fn status_of(dir: &Path, point: &str) -> String {
    status(dir)
        .lines()
        .find(|l| l.split_whitespace().take(2).eq([point, "1"]))
        .unwrap_or_else(|| panic!("no status line for {point}"))
        .to_owned()
}

/// Waits until `done` holds, failing after `limit` with `what`.
fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The array's tasks Slurm still holds.
fn queued(job: &str) -> String {
    output(
        "squeue",
        &["--noheader", "--array", "--jobs", job, "--format=%i %T"],
    )
}

/// `xp sweep SWEEP --backend slurm --out OUT` with `more` arguments.
fn submit(sweep: &Path, out: &Path, more: &[&str]) -> std::process::Output {
    let (sweep, out) = (sweep.to_str().unwrap(), out.to_str().unwrap());
    let args = ["sweep", sweep, "--backend", "slurm", "--out", out];
    common::xp(&[&args[..], more].concat())
}

#[test]
fn a_sweep_runs_as_one_job_array_and_a_cancelled_task_requeued_resumes() {
    require_cluster();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base.toml",
        &tiny_experiment("base", ALL_OBJECTIVES),
    );
    // Long enough (a few seconds a run) to cancel a run in its middle.
    let sweep = write(
        dir.path(),
        "sweep.toml",
        r#"name = "tiny"
base = "base.toml"
[axes]
objectives = [["CLS", "MLM"], ["CLS", "MLM", "LA", "NSP"]]
"model.norm_first" = [false, true]
seed = [1, 2]
[set]
"train.steps" = 3000
"train.eval_every" = 250
"#,
    );
    let out = dir.path().join("runs");
    let submitted = submit(&sweep, &out, &["--cpus-per-task", "1"]);
    let said = common::stderr(&submitted);
    assert!(submitted.status.success(), "{said}");
    let job = said
        .split("as Slurm job array ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no job id in: {said}"))
        .to_owned();
    assert!(said.contains("submitted 8 runs"), "{said}");

    // Task 0 (the first point's seed 1) is cancelled once its first evaluation is in.
    let point = "norm_first=false_CLS+MLM";
    let run = out.join(point).join("seed-1");
    wait_for(
        Duration::from_secs(120),
        "task 0's first evaluation",
        || std::fs::read_to_string(run.join("metrics.csv")).is_ok_and(|m| m.lines().count() >= 2),
    );
    output("scancel", &[&format!("{job}_0")]);
    wait_for(Duration::from_secs(60), "task 0 to leave the queue", || {
        !queued(&job).contains(&format!("{job}_0 "))
    });
    assert!(
        !run.join("summary.json").exists(),
        "the run finished before it was cancelled: make its runs longer"
    );
    assert!(run.join("resume.safetensors").exists(), "no resume point");
    let line = status_of(&out, point);
    assert!(line.contains(" stopped "), "{line}");

    // Requeued (and made eligible now: Slurm delays a requeued task by default).
    output("scontrol", &["requeue", &format!("{job}_0")]);
    output(
        "scontrol",
        &["update", &format!("JobId={job}_0"), "StartTime=now"],
    );
    wait_for(Duration::from_secs(300), "the job array to end", || {
        queued(&job).trim().is_empty()
    });
    let report = status(&out);
    assert!(report.contains("tiny: 8 runs: 8 done"), "{report}");
    let task_log = std::fs::read_to_string(out.join("slurm").join(format!("{job}_0.out"))).unwrap();
    assert!(task_log.contains("resuming at step"), "{task_log}");

    // The resumed run is the run that was never cancelled.
    let whole = dir.path().join("whole");
    let again = common::xp(&[
        "run",
        run.with_extension("toml").to_str().unwrap(),
        "--out",
        whole.to_str().unwrap(),
        "--plain",
    ]);
    assert!(again.status.success(), "{}", common::stderr(&again));
    for file in ["metrics.csv", "model.safetensors"] {
        assert!(
            std::fs::read(run.join(file)).unwrap() == std::fs::read(whole.join(file)).unwrap(),
            "{file} of the resumed run differs from an uninterrupted run"
        );
    }

    // Submitted again, a finished sweep sends nothing.
    let resubmitted = submit(&sweep, &out, &[]);
    let said = common::stderr(&resubmitted);
    assert!(resubmitted.status.success(), "{said}");
    assert!(said.contains("all 8 runs are done"), "{said}");
}

#[test]
fn a_tune_runs_its_waves_as_job_arrays_with_the_results_of_a_local_search() {
    require_cluster();
    use crate::tune::{results, tune_files, NO_FINAL};
    let dir = tempfile::tempdir().unwrap();
    let file = tune_files(dir.path(), NO_FINAL);
    let run = |out: &Path, more: &[&str]| {
        let args = [
            &[
                "tune",
                file.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--jobs",
                "3",
            ][..],
            more,
        ]
        .concat();
        let done = common::xp(&args);
        assert!(done.status.success(), "{}", common::stderr(&done));
    };
    let (here, there) = (dir.path().join("local"), dir.path().join("slurm"));
    run(&here, &[]);
    run(&there, &["--backend", "slurm", "--cpus-per-task", "1"]);
    assert_eq!(
        results(&there),
        results(&here),
        "Slurm's waves found other trials"
    );
    let waves = std::fs::read_dir(there.join("slurm"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".tasks"))
        })
        .count();
    assert!(waves > 2, "{waves} job arrays");
    let status = common::xp(&["tune", "--status", there.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&status.stdout).contains("best so far"));
}
