//! Fault tolerance: a run killed (SIGKILL) or stopped (SIGINT) at many moments leaves
//! only files that load, and `xp run --resume` then ends with the outputs of a run
//! that was never interrupted, byte for byte; a failed write keeps the last resume
//! point; two runs never write one folder; a loss that is not finite stops cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{tiny_experiment, write, ALL_OBJECTIVES};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use xp_framework::config::Experiment;
use xp_framework::model::DataInfo;
use xp_framework::params::ParamStore;
use xp_framework::run::{RunEvent, RunState};
use xp_framework::train::{LogRow, ResumePoint};

/// Kill moments tried with SIGKILL, and with SIGINT.
const KILLS: usize = 20;
const INTERRUPTS: usize = 5;

/// The experiment: long enough to be stopped in training, evaluation, checkpoint
/// and report writing; a weight average so that its state is resumed too.
fn experiment(dir: &Path) -> PathBuf {
    let text = tiny_experiment("kill", ALL_OBJECTIVES)
        .replace("steps = 30", "steps = 120\nema = 0.9")
        .replace("eval_every = 15", "eval_every = 20");
    write(dir, "kill.toml", &text)
}

fn xp_child(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_xp"))
        .args(args)
        .env_remove("XP_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (bool, String) {
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.success(), err)
}

/// `xp run EXPERIMENT --out RUN`, as a child.
fn start(exp: &Path, run: &Path) -> Child {
    xp_child(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--plain",
    ])
}

/// Every file a run writes loads; temporary files (hidden) are allowed.
fn assert_every_file_loads(run: &Path, moment: &str) {
    let Ok(entries) = std::fs::read_dir(run) else {
        return; // killed before the folder was made
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let what = format!("{moment}: {name}");
        match name.as_str() {
            n if n.starts_with('.') => {}
            "experiment.toml" => drop(Experiment::load_recorded(&path, &[]).expect(&what)),
            "vocab.json" => drop(DataInfo::load(&path).expect(&what)),
            "model.safetensors" => {
                drop(ParamStore::load(&path, &candle_core::Device::Cpu).expect(&what))
            }
            "resume.safetensors" => {
                drop(ResumePoint::load(&path, &candle_core::Device::Cpu).expect(&what))
            }
            "summary.json" | "data.json" => {
                let text = std::fs::read_to_string(&path).unwrap();
                serde_json::from_str::<serde_json::Value>(&text).expect(&what);
            }
            "events.jsonl" => {
                // Whole lines are events; a kill may cut the last one short.
                let text = std::fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                let whole = match text.ends_with('\n') {
                    true => &lines[..],
                    false => &lines[..lines.len().saturating_sub(1)],
                };
                for line in whole {
                    serde_json::from_str::<RunEvent>(line).expect(&what);
                }
            }
            "metrics.jsonl" => {
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    serde_json::from_str::<LogRow>(line).expect(&what);
                }
            }
            n if n.ends_with(".csv") => {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(text.ends_with('\n'), "{what}: a line cut short");
                let widths: Vec<usize> = text.lines().map(|l| l.split(',').count()).collect();
                assert!(
                    widths.windows(2).all(|w| w[0] == w[1]),
                    "{what}: {widths:?}"
                );
            }
            n if n.ends_with(".png") => {
                let bytes = std::fs::read(&path).unwrap();
                assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{what}: not a PNG");
                assert!(
                    bytes.ends_with(&[0xae, 0x42, 0x60, 0x82]),
                    "{what}: cut short"
                );
            }
            xp_tensorboard::RUN_FILE => {
                // Readable up to its last whole record: TensorBoard reads that far.
                let bytes = std::fs::read(&path).unwrap();
                let records = xp_tensorboard::record::records(&bytes);
                assert!(!records.is_empty(), "{what}: no version record");
                for (_, event) in records {
                    assert!(xp_tensorboard::proto::fields(event).is_some(), "{what}");
                }
            }
            _ => panic!("{what}: a file no run writes"),
        }
    }
}

/// The run's outputs that must not depend on interruptions: metrics, weights, the
/// summary without its wall-clock fields, and TensorBoard's events without their wall
/// times (every event once, in step order, the figures' images included).
type Outputs = (Vec<u8>, Vec<u8>, Vec<u8>, serde_json::Value, Vec<Vec<u8>>);

fn outputs(run: &Path) -> Outputs {
    let read = |name: &str| std::fs::read(run.join(name)).expect(name);
    let mut summary: serde_json::Value = serde_json::from_slice(&read("summary.json")).unwrap();
    for field in ["train_seconds", "steps_per_second"] {
        summary.as_object_mut().unwrap().remove(field);
    }
    (
        read("metrics.csv"),
        read("metrics.jsonl"),
        read("model.safetensors"),
        summary,
        common::events_without_wall_time(run),
    )
}

/// How far a stopped run had come, from what it left.
fn stage(run: &Path) -> String {
    if !run.join("experiment.toml").exists() {
        return "starting".into();
    }
    if run.join("summary.json").exists() {
        return "finished".into();
    }
    match ResumePoint::load(
        &xp_framework::run::RunFiles::at(run).resume_point(),
        &candle_core::Device::Cpu,
    ) {
        Ok(point) if point.state.step == 120 => "reports".into(),
        Ok(point) => format!("step {}", point.state.step),
        Err(_) => "step 0".into(),
    }
}

/// When to stop a run: after it has logged `evaluations` evaluations (0: at once),
/// then `delay` more.
#[derive(Debug, Clone, Copy)]
struct Moment {
    evaluations: usize,
    delay: Duration,
}

/// Waits until the run at `run` has logged `evaluations` evaluations (or ended).
fn wait_for(run: &Path, evaluations: usize, child: &mut Child) {
    // Each evaluation logs train, valid and test rows for 4 objectives and the total.
    let rows = evaluations * 15;
    while child.try_wait().unwrap().is_none() {
        let logged =
            std::fs::read_to_string(run.join("metrics.jsonl")).map_or(0, |t| t.lines().count());
        if logged >= rows {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Stops a run at `moment` with `signal`, checks what it left, then finishes it
/// with `--resume` (or anew, when it was stopped before it had a run directory);
/// returns how far it had come.
fn interrupt_and_resume(exp: &Path, run: &Path, moment: Moment, signal: &str) -> String {
    let _ = std::fs::remove_dir_all(run);
    let mut child = start(exp, run);
    wait_for(run, moment.evaluations, &mut child);
    std::thread::sleep(moment.delay);
    let moment = format!("{signal} at {moment:?}");
    let signalled = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(
        signalled.success() || signal == "-KILL",
        "{moment}: kill failed"
    );
    let (_, err) = finish(child);
    // Before its handler is installed, SIGINT ends the process as usual.
    assert!(
        !err.contains("error") || err.contains("stopped at step"),
        "{moment}: {err}"
    );
    assert_every_file_loads(run, &moment);
    let state = xp_framework::run::state(run);
    let told = match signal {
        // Killed without a word: resumable from its last resume point.
        "-KILL" => matches!(
            state,
            RunState::NotStarted | RunState::Finished | RunState::Interrupted { killed: true, .. }
        ),
        _ => !matches!(state, RunState::Running { .. } | RunState::Failed { .. }),
    };
    assert!(told, "{moment}: the run's state reads {state:?}");
    let stage = stage(run);
    let run_arg = run.to_str().unwrap();
    let resumed = if run.join("experiment.toml").exists() {
        xp_child(&["run", "--resume", run_arg, "--plain"])
    } else {
        start(exp, run)
    };
    let (ok, err) = finish(resumed);
    // A run stopped after it wrote everything is finished: nothing to resume.
    assert!(
        ok || err.contains("is finished at step 120"),
        "{moment}: {err}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".xp-tmp") || n.starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{moment}: {leftovers:?} left behind");
    stage
}

#[test]
fn killed_and_interrupted_runs_resume_to_the_uninterrupted_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let reference = dir.path().join("reference");
    let started = Instant::now();
    let (ok, err) = finish(start(&exp, &reference));
    assert!(ok, "{err}");
    let whole = started.elapsed();
    let expected = outputs(&reference);
    // The run evaluates 6 times; the time between two evaluations, roughly.
    let between = whole / 8;
    let run = dir.path().join("run");
    let mut stages = Vec::new();
    // Moments spread over the whole run, from start-up to the last report, with a
    // seeded jitter so that successive test runs hit different instants.
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(std::process::id());
    let mut jitter = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 1000) as f64 / 1000.0
    };
    // After 0..=6 evaluations (6: while the reports are written), plus a jitter of
    // up to one evaluation's time.
    let tries = (0..KILLS)
        .map(|i| ("-KILL", i))
        .chain((0..INTERRUPTS).map(|i| ("-INT", i)));
    for (signal, i) in tries {
        let at = Moment {
            evaluations: i % 7,
            delay: between.mul_f64(jitter()),
        };
        let stage = interrupt_and_resume(&exp, &run, at, signal);
        assert_eq!(
            outputs(&run),
            expected,
            "{signal} at {at:?} ({stage}): outputs differ"
        );
        stages.push(format!("{signal} {stage}"));
    }
    eprintln!(
        "{} of {} interrupted runs resumed byte-identical (uninterrupted run {whole:?}); stopped at: {}",
        stages.len(),
        KILLS + INTERRUPTS,
        stages.join(", ")
    );
}

/// Trains the tiny experiment of `steps` steps into `run`; panics on failure.
fn trained(dir: &Path, run: &Path, steps: usize) {
    let text = tiny_experiment("faults", ALL_OBJECTIVES)
        .replace("steps = 30", &format!("steps = {steps}"))
        .replace("eval_every = 15", "eval_every = 10");
    let exp = write(dir, "faults.toml", &text);
    let (ok, err) = finish(start(&exp, run));
    assert!(ok, "{err}");
}

#[test]
fn a_failed_write_keeps_the_last_resume_point() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    trained(dir.path(), &run, 40);
    // A file-size limit makes the next resume point's write fail (EFBIG, as a full
    // disk would fail it) while the smaller files still fit.
    let point = xp_framework::run::RunFiles::at(&run).resume_point();
    let size = std::fs::metadata(&point).unwrap().len();
    let weights = std::fs::metadata(run.join("model.safetensors"))
        .unwrap()
        .len();
    assert!(weights < size / 2, "weights {weights}, resume point {size}");
    let limit_kb = size * 2 / 3 / 1024;
    let script = format!(
        "ulimit -f {limit_kb}; trap '' XFSZ; exec \"$0\" run --resume \"$1\" --plain --set train.steps=80"
    );
    let out = Command::new("bash")
        .args([
            "-c",
            &script,
            env!("CARGO_BIN_EXE_xp"),
            run.to_str().unwrap(),
        ])
        .env_remove("XP_DATA_DIR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("cannot write") && err.contains(xp_framework::run::RunFiles::RESUME),
        "{err}"
    );
    let kept = ResumePoint::load(&point, &candle_core::Device::Cpu).unwrap();
    assert_eq!(kept.state.step, 40, "the last good resume point");
    assert_every_file_loads(&run, "after the failed write");
    let (ok, err) = finish(xp_child(&[
        "run",
        "--resume",
        run.to_str().unwrap(),
        "--plain",
        "--set",
        "train.steps=80",
    ]));
    assert!(ok, "{err}");
    let summary = std::fs::read_to_string(run.join("summary.json")).unwrap();
    assert!(summary.contains("\"steps\": 80"), "{summary}");
}

#[test]
fn two_runs_into_one_folder_one_proceeds() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path());
    let run = dir.path().join("shared");
    let (a, b) = (start(&exp, &run), start(&exp, &run));
    let results = [finish(a), finish(b)];
    let ok = results.iter().filter(|(ok, _)| *ok).count();
    assert_eq!(ok, 1, "{results:?}");
    let (_, refused) = results.iter().find(|(ok, _)| !ok).unwrap();
    assert!(
        refused.contains("is being written by another xp (process ")
            || refused.contains("already holds a run"),
        "{refused}"
    );
}

#[test]
fn a_loss_that_is_not_finite_stops_the_run_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(
        dir.path(),
        "nan.toml",
        &tiny_experiment("nan", ALL_OBJECTIVES).replace("lr = 3e-3", "lr = 1e30"),
    );
    let run = dir.path().join("run");
    let (ok, err) = finish(start(&exp, &run));
    assert!(!ok);
    assert!(
        err.contains("step ") && err.contains("is not finite"),
        "{err}"
    );
    assert!(
        err.contains("the loss of") || err.contains(" head"),
        "{err}"
    );
    assert_every_file_loads(&run, "after a loss that is not finite");
    // Skipping such steps instead: the run ends, its summary counts them, and no
    // weights that are not finite are kept.
    let (ok, err) = finish(xp_child(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        dir.path().join("skipped").to_str().unwrap(),
        "--set",
        "train.skip_nonfinite=1000",
    ]));
    if ok {
        let summary = std::fs::read_to_string(dir.path().join("skipped/summary.json")).unwrap();
        let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
        assert!(summary["skipped_steps"].as_u64().unwrap() > 0, "{summary}");
        let weights = ParamStore::load(
            &dir.path().join("skipped/model.safetensors"),
            &candle_core::Device::Cpu,
        )
        .unwrap();
        for (name, var) in weights.vars() {
            let values = var
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            assert!(values.iter().all(|v| v.is_finite()), "{name}");
        }
    } else {
        assert!(
            err.contains("no evaluation gave a finite validation"),
            "{err}"
        );
    }
}

#[test]
fn a_resume_with_another_experiment_is_refused_naming_the_fields() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    trained(dir.path(), &run, 20);
    let run_arg = run.to_str().unwrap();
    let resume = |extra: &[&str]| {
        let args = [&["run", "--resume", run_arg, "--plain"][..], extra].concat();
        finish(xp_child(&args))
    };
    let (ok, err) = resume(&["--set", "model.dim=8", "--set", "train.lr=0.5"]);
    assert!(!ok && err.contains("in model.dim, train.lr:"), "{err}");
    let experiment = run.join("experiment.toml");
    let text = std::fs::read_to_string(&experiment).unwrap();
    std::fs::write(&experiment, text.replace("seed = 7", "seed = 8")).unwrap();
    let (ok, err) = resume(&[]);
    assert!(
        !ok && err.contains("differs from the experiment of its resume point in seed"),
        "{err}"
    );
    std::fs::write(&experiment, text).unwrap();
    let (ok, err) = resume(&[]);
    assert!(!ok && err.contains("is finished at step 20"), "{err}");
    let (ok, err) = resume(&["--set", "train.steps=30"]);
    assert!(ok, "{err}");
}

#[test]
fn outputs_follow_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(
        dir.path(),
        "u.toml",
        &tiny_experiment("u", "[objectives.CLS]\n"),
    );
    for (umask, mode) in [("022", 0o644), ("027", 0o640)] {
        let run = dir.path().join(umask);
        let script = format!("umask {umask}; exec \"$0\" run \"$1\" --out \"$2\" --plain");
        let out = Command::new("bash")
            .args(["-c", &script, env!("CARGO_BIN_EXE_xp")])
            .args([exp.to_str().unwrap(), run.to_str().unwrap()])
            .env_remove("XP_DATA_DIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for entry in std::fs::read_dir(&run).unwrap() {
            use std::os::unix::fs::PermissionsExt;
            let entry = entry.unwrap();
            let got = entry.metadata().unwrap().permissions().mode() & 0o777;
            let name = entry.file_name();
            assert_eq!(got, mode, "umask {umask}: {name:?} is {got:o}");
        }
    }
}
