//! Sweeps: a grid of runs from a base experiment and axes, its names, include and
//! exclude, clear errors for bad sweep files, and a local sweep that, stopped in the
//! middle and started again, reruns nothing it finished.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

extern crate xp_objective_cls as _;
extern crate xp_objective_la as _;
extern crate xp_objective_mlm as _;
extern crate xp_objective_nsp as _;

use common::{tiny_experiment, write, ALL_OBJECTIVES};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use xp_study::sweep::Sweep;

/// A tiny base experiment and a sweep over it in `dir`; returns the sweep's path.
fn sweep_file(dir: &Path, body: &str) -> PathBuf {
    write(dir, "base.toml", &tiny_experiment("base", ALL_OBJECTIVES));
    write(
        dir,
        "sweep.toml",
        &format!("name = \"tiny\"\nbase = \"base.toml\"\n{body}"),
    )
}

const GRID: &str = r#"
[axes]
objectives = [["CLS", "MLM"], ["CLS", "MLM", "LA", "NSP"]]
"model.norm_first" = [false, true]
seed = [1, 2]
[set]
"train.steps" = 30
"#;

#[test]
fn axes_expand_to_a_named_grid_with_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = Sweep::load(&sweep_file(dir.path(), GRID), &["train.lr=0.01".into()]).unwrap();
    assert_eq!(sweep.name, "tiny");
    assert_eq!(
        sweep.points(),
        [
            "norm_first=false_CLS+MLM",
            "norm_first=false_CLS+MLM+LA+NSP",
            "norm_first=true_CLS+MLM",
            "norm_first=true_CLS+MLM+LA+NSP",
        ]
    );
    assert_eq!(sweep.runs.len(), 8);
    let run = &sweep.runs[3];
    assert_eq!(
        (run.point.as_str(), run.seed),
        ("norm_first=false_CLS+MLM+LA+NSP", 2)
    );
    let exp = &run.experiment;
    assert_eq!(exp.seed, 2);
    assert_eq!(exp.train.steps, 30, "[set]");
    assert_eq!(exp.train.lr, 0.01, "--set");
    assert!(!exp.model.norm_first);
    let names: Vec<&str> = exp.objectives.keys().map(String::as_str).collect();
    assert_eq!(names, ["CLS", "LA", "MLM", "NSP"]);
    assert_eq!(
        run.dir(Path::new("runs/tiny")),
        Path::new("runs/tiny/norm_first=false_CLS+MLM+LA+NSP/seed-2")
    );
    assert!(sweep.resolved.contains("train.lr"), "{}", sweep.resolved);
}

#[test]
fn a_sweep_varies_the_recipe_of_stages() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"
[axes]
stages = [
  [{ name = "joint", steps = 40, objectives = ["CLS", "MLM"] }],
  [{ name = "pre", steps = 20, objectives = ["MLM"] }, { name = "probe", steps = 20, objectives = ["CLS"], freeze = ["encoder"] }],
]
"#;
    let sweep = Sweep::load(&sweep_file(dir.path(), body), &[]).unwrap();
    assert_eq!(sweep.points(), ["CLS+MLM", "MLM_then_CLS-freeze-encoder"]);
    let staged = &sweep.runs[1].experiment;
    let stages = staged.stages().unwrap();
    assert_eq!(staged.train.steps, 40, "the stages' sum");
    assert_eq!(stages[1].name, "probe");
    assert!(stages[1].freeze.encoder);
    let names: Vec<&str> = stages[0]
        .experiment
        .objectives
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["MLM"]);
}

#[test]
fn exclude_include_and_fields_of_absent_objectives() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"
[axes]
objectives = [["MLM"], ["CLS", "MLM"]]
"objectives.CLS.detach" = [false, true]
[[exclude]]
objectives = ["CLS", "MLM"]
"objectives.CLS.detach" = true
[[include]]
objectives = ["CLS", "MLM", "LA"]
"objectives.CLS.detach" = true
"#;
    let sweep = Sweep::load(&sweep_file(dir.path(), body), &[]).unwrap();
    // MLM alone has no CLS to detach: its two points are one run.
    assert_eq!(
        sweep.points(),
        [
            "MLM_CLS.detach=false",
            "CLS+MLM_CLS.detach=false",
            "CLS+MLM+LA_CLS.detach=true"
        ]
    );
    let included = &sweep.runs[2].experiment;
    assert_eq!(included.objectives["CLS"]["detach"].as_bool(), Some(true));
    assert!(!sweep.runs[0].experiment.objectives.contains_key("CLS"));
}

#[test]
fn bad_sweep_files_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let fails = |body: &str, needle: &str| {
        let err = Sweep::load(&sweep_file(dir.path(), body), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "expected `{needle}` in: {err}");
    };
    fails("[axis]\nseed = [1]\n", "unknown field `axis`");
    fails("[axes]\n\"model.norm_first\" = []\n", "the axis is empty");
    fails(
        "[axes]\n\"model.norm_first\" = [1, 2]\n",
        "`model.norm_first`: invalid type",
    );
    fails(
        "[axes]\nobjectives = [[\"CLS\", \"MLMM\"]]\n",
        "unknown objective `MLMM`",
    );
    fails("[axes]\nseed = [\"one\"]\n", "seeds are whole numbers");
    fails(
        "[axes]\nseed = [1]\n[[include]]\nseed = 2\n",
        "gives values for the sweep's axes only",
    );
    // A field's mistake is placed in the sweep file, on the line of its axis or
    // [set] key, not in the experiment generated for a point.
    let sweep = dir.path().join("sweep.toml").display().to_string();
    fails(
        "[axes]\nseed = [1]\n\"train.stepz\" = [1, 2]\n",
        &format!("{sweep}, line 5: `train.stepz`"),
    );
    fails(
        "[axes]\nseed = [1]\n[set]\n\"model.dim\" = \"big\"\n",
        &format!("{sweep}, line 6: `model.dim`"),
    );
    // A run's seed and name are the sweep's own: [set] cannot give them.
    fails(
        "[axes]\nseed = [1, 2]\n[set]\nseed = 5\n",
        "`[final] seeds`; set it there",
    );
    fails(
        "[axes]\nseed = [1]\n[set]\nname = \"x\"\n",
        "named after its point",
    );
    let err = Sweep::load(
        &sweep_file(dir.path(), "[axes]\nseed = [1]\n"),
        &["train.lr=-1".into()],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--set train.lr=-1"), "{err}");
}

#[test]
fn a_sweep_without_a_name_is_named_after_its_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base.toml",
        &tiny_experiment("base", ALL_OBJECTIVES),
    );
    let path = write(
        dir.path(),
        "my_study.toml",
        "base = \"base.toml\"\n[axes]\nseed = [1, 2]\n",
    );
    let sweep = Sweep::load(&path, &[]).unwrap();
    assert_eq!(sweep.name, "my_study");
    assert!(
        sweep.resolved.contains("name = \"my_study\""),
        "{}",
        sweep.resolved
    );
}

#[test]
fn compare_says_when_a_folder_does_not_exist() {
    let out = common::xp(&["compare", "/nonexistent/runs/study"]);
    common::assert_clean_failure(&out, "/nonexistent/runs/study does not exist");
}

/// `xp sweep` on `sweep` with `--jobs 2`, as a child.
fn run_sweep(sweep: &Path, out: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_xp"))
        .args([
            "sweep",
            sweep.to_str().unwrap(),
            "--jobs",
            "2",
            "--out",
            out.to_str().unwrap(),
        ])
        .env_remove("XP_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_stopped_sweep_started_again_reruns_nothing_it_finished() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = sweep_file(dir.path(), GRID);
    let out = dir.path().join("runs");
    let summaries = || -> Vec<(PathBuf, std::time::SystemTime)> {
        Sweep::load(&sweep, &[])
            .unwrap()
            .runs
            .iter()
            .map(|r| r.dir(&out).join("summary.json"))
            .filter(|p| p.exists())
            .map(|p| {
                let modified = std::fs::metadata(&p).unwrap().modified().unwrap();
                (p, modified)
            })
            .collect()
    };
    // Stopped (SIGINT, as Ctrl-C) once some runs are done.
    let mut child = run_sweep(&sweep, &out);
    while summaries().len() < 2 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before two runs finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let stopped = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let first = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(!err.contains("panicked"), "{err}");
    let done_before = summaries();
    assert!(
        done_before.len() < 8,
        "the sweep ended before it was stopped: {err}"
    );
    // `--status` sees the finished runs, and the others stopped or not started.
    let status = common::xp(&["sweep", "--status", out.to_str().unwrap()]);
    assert!(status.status.success(), "{}", common::stderr(&status));
    let report = String::from_utf8_lossy(&status.stdout).into_owned();
    let done = report.lines().filter(|l| l.contains(" done ")).count();
    assert_eq!(done, done_before.len(), "{report}");
    assert!(
        !report.contains("failed") && !report.contains("running"),
        "{report}"
    );
    // Started again: the finished runs are left alone, the others run or resume.
    let again = run_sweep(&sweep, &out).wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{err}");
    assert!(
        err.contains(&format!("{} already done", done_before.len())),
        "{err}"
    );
    let done_after = summaries();
    assert_eq!(done_after.len(), 8, "{err}");
    for (path, modified) in done_before {
        let now = done_after.iter().find(|(p, _)| *p == path).unwrap().1;
        assert_eq!(now, modified, "{} was run again", path.display());
    }
    assert!(out.join("sweep.toml").exists());
    // The comparison of the sweep draws its validation curves too.
    let compared = common::xp(&["compare", out.to_str().unwrap()]);
    assert!(compared.status.success(), "{}", common::stderr(&compared));
    for figure in ["compare_valid.png", "compare_CLS.png"] {
        assert!(
            std::fs::read(out.join(figure))
                .unwrap()
                .starts_with(b"\x89PNG"),
            "{figure}"
        );
    }
}

/// A finished run folder holding only a summary with these test figures.
fn hand_made_run(dir: &Path, seed: u64, cls_accuracy: f64) {
    std::fs::create_dir_all(dir).unwrap();
    let summary = serde_json::json!({
        "format": 2, "name": "h", "seed": seed, "experiment_sha256": "00",
        "steps": 100, "best_step": 100, "stopped_early": false, "skipped_steps": 0,
        "train_seconds": 10.0, "steps_per_second": 10.0, "parameters": 1,
        "splits": {"test": {"total": 1.0, "objectives": {"CLS": {"loss": 1.0, "accuracy": cls_accuracy}}}}
    });
    std::fs::write(dir.join("summary.json"), summary.to_string()).unwrap();
}

#[test]
fn compare_pools_seeds_with_known_means_and_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep");
    for (seed, acc) in [(1, 0.70), (2, 0.72), (3, 0.75)] {
        hand_made_run(&sweep.join("a").join(format!("seed-{seed}")), seed, acc);
    }
    hand_made_run(&sweep.join("b").join("seed-1"), 1, 0.5);
    let out = common::xp(&["compare", sweep.to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    // Mean 0.7233, 95% half-width 0.0625 (t with 2 degrees of freedom), sd 0.0252.
    let a = table.lines().find(|l| l.starts_with("a ")).unwrap();
    assert!(a.contains("0.723 ±0.063 (sd 0.025)"), "{table}");
    let b = table.lines().find(|l| l.starts_with("b ")).unwrap();
    // One seed: its value, no interval.
    let cells: Vec<&str> = b.split_whitespace().collect();
    assert_eq!(cells[1..3], ["1", "0.500"], "{table}");
    assert!(!b.contains('±'), "{table}");
    // The dot-and-interval figure of CLS test accuracy (no metrics logged: no curves).
    let figure = std::fs::read(sweep.join("compare_CLS.png")).unwrap();
    assert!(figure.starts_with(b"\x89PNG"));
    assert!(!sweep.join("compare_valid.png").exists());
    let out = common::xp(&["compare", sweep.to_str().unwrap(), "--csv"]);
    let csv = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        csv.starts_with("point,seed,split,objective,metric,value\n"),
        "{csv}"
    );
    assert!(csv.contains("a,3,test,CLS,accuracy,0.75\n"), "{csv}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let missing = common::xp(&["compare", empty.to_str().unwrap()]);
    common::assert_clean_failure(&missing, "holds no finished run");
}

/// Writes `test_predictions_CLS.csv` in `run`: `right[i]` says whether name i is right.
fn predictions(run: &Path, right: impl Iterator<Item = bool>) {
    let mut csv = String::from("row,true,predicted\n");
    for (i, ok) in right.enumerate() {
        csv.push_str(&format!(
            "{i},Czech,{}\n",
            if ok { "Czech" } else { "Dutch" }
        ));
    }
    std::fs::write(run.join("test_predictions_CLS.csv"), csv).unwrap();
}

#[test]
fn compare_against_a_point_gives_the_paired_difference_and_mcnemar() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep");
    let (a, b) = (sweep.join("a/seed-1"), sweep.join("b/seed-1"));
    hand_made_run(&a, 1, 0.5);
    hand_made_run(&b, 1, 0.6);
    // 100 names: both right on 0..40, only b on 40..50 and only a on 50..52.
    predictions(&a, (0..100).map(|i| i < 40 || (50..52).contains(&i)));
    predictions(&b, (0..100).map(|i| i < 50));
    let out = common::xp(&["compare", sweep.to_str().unwrap(), "--against", "a"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let row = table
        .lines()
        .rev()
        .find(|l| l.starts_with("b "))
        .unwrap()
        .to_owned();
    let cells: Vec<&str> = row.split_whitespace().collect();
    // b - a = (50 - 42) / 100; b = 10, c = 2: chi2 = (8 - 1)^2 / 12, p = 0.0433.
    assert_eq!(cells[2], "+0.0800", "{table}");
    assert_eq!(&cells[5..], ["10", "2", "4.083", "0.0433"], "{table}");
    let missing = common::xp(&["compare", sweep.to_str().unwrap(), "--against", "z"]);
    common::assert_clean_failure(&missing, "no such point; the points are a, b");
}

#[test]
fn only_picks_points_and_names_the_points_when_it_misses() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = sweep_file(dir.path(), GRID);
    let out = dir.path().join("runs");
    let sweep_arg = sweep.to_str().unwrap();
    let out_arg = out.to_str().unwrap();
    let only = ["--only", "norm_first=true_CLS+MLM"];
    let plan = common::xp(
        &[
            &["sweep", sweep_arg, "--dry-run", "--out", out_arg][..],
            &only[..],
        ]
        .concat(),
    );
    assert!(plan.status.success(), "{}", common::stderr(&plan));
    let lines = String::from_utf8_lossy(&plan.stdout).into_owned();
    let runs: Vec<&str> = lines.lines().filter(|l| l.contains(" seed ")).collect();
    assert_eq!(runs.len(), 2, "{lines}");
    assert!(
        runs.iter()
            .all(|l| l.starts_with("norm_first=true_CLS+MLM ")),
        "{lines}"
    );
    assert!(lines.contains("2 runs of 1 point, 2 to run"), "{lines}");
    let wrong = common::xp(&["sweep", sweep_arg, "--only", "norm_first=maybe"]);
    common::assert_clean_failure(
        &wrong,
        "--only norm_first=maybe: the sweep has no such point",
    );
    let empty = tempfile::tempdir().unwrap();
    let not_a_sweep = common::xp(&["sweep", "--status", empty.path().to_str().unwrap()]);
    common::assert_clean_failure(&not_a_sweep, "is not a sweep folder");
}

#[test]
fn the_slurm_backend_without_slurm_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = sweep_file(dir.path(), GRID);
    let out = dir.path().join("runs");
    let submitted = Command::new(env!("CARGO_BIN_EXE_xp"))
        .args(["sweep", sweep.to_str().unwrap(), "--backend", "slurm"])
        .args(["--out", out.to_str().unwrap()])
        .env("PATH", dir.path().join("no-slurm-here"))
        .env_remove("XP_DATA_DIR")
        .output()
        .unwrap();
    common::assert_clean_failure(
        &submitted,
        "sbatch not found: the Slurm backend submits with sbatch",
    );
    // Nothing was half-submitted: the runs' experiments are written, ready for a retry.
    let status = common::xp(&["sweep", "--status", out.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(report.contains("tiny: 8 runs: 8 pending"), "{report}");
}

/// On an xp built without CUDA, `--device cuda` is refused before any run starts.
#[cfg(not(feature = "cuda"))]
#[test]
fn a_device_this_build_cannot_use_is_refused_before_any_run() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = sweep_file(dir.path(), GRID);
    let out = dir.path().join("runs");
    let refused = common::xp(&[
        "sweep",
        sweep.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--device",
        "cuda",
    ]);
    common::assert_clean_failure(&refused, "built without CUDA");
    assert!(!out.exists(), "a refused sweep wrote {}", out.display());
}
