//! Training in stages and from another run: a two-stage run stopped anywhere, the
//! stage boundary included, resumes to the bytes of a run that never stopped; a
//! frozen encoder ends bit for bit as it started; a one-stage `[[stages]]` trains
//! what the same experiment without stages trains; `[init]` starts from another
//! run's weights; bad stage files and sources are refused before anything runs.

use crate::common;

use common::{assert_clean_failure, stderr, tiny_experiment, write, xp, ALL_OBJECTIVES};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use xp_framework::train::ResumePoint;

/// Steps of each of the two stages.
const STAGE_STEPS: usize = 60;

/// Pre-train MLM and NSP, then fine-tune CLS at another learning rate (with `freeze`
/// in the second stage when given); a weight average, and resume points at steps
/// that are not evaluations, so that every part of a resume point is exercised.
fn two_stages(dir: &Path, name: &str, freeze: &str) -> PathBuf {
    let text = tiny_experiment(name, ALL_OBJECTIVES).replace(
        "eval_every = 15",
        "eval_every = 10\nema = 0.9\ncheckpoint_every = 7",
    ) + &format!(
        r#"
[[stages]]
name = "pre"
steps = {STAGE_STEPS}
objectives = ["MLM", "NSP"]

[[stages]]
name = "fine"
steps = {STAGE_STEPS}
objectives = ["CLS"]
train = {{ lr = 1e-3, warmup = 3 }}
freeze = [{freeze}]
"#
    );
    write(dir, &format!("{name}.toml"), &text)
}

fn run(exp: &Path, out: &Path, more: &[&str]) {
    let args = [
        &[
            "run",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--plain",
        ][..],
        more,
    ]
    .concat();
    let out = xp(&args);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The tensors of a safetensors file, as raw bytes by name.
fn tensors(path: &Path) -> HashMap<String, Vec<u8>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect()
}

/// What must not depend on interruptions: the logs, both stages' checkpoints, the
/// summary without its wall-clock fields, the TensorBoard events without wall times.
fn outputs(run: &Path) -> Vec<Vec<u8>> {
    let read = |name: &str| std::fs::read(run.join(name)).expect(name);
    let mut summary: serde_json::Value = serde_json::from_slice(&read("summary.json")).unwrap();
    for field in ["train_seconds", "steps_per_second"] {
        summary.as_object_mut().unwrap().remove(field);
    }
    let mut all = vec![
        read("metrics.csv"),
        read("metrics.jsonl"),
        read("model-pre.safetensors"),
        read("model.safetensors"),
        summary.to_string().into_bytes(),
    ];
    all.extend(common::events_without_wall_time(run));
    all
}

/// The step of the last row of the run's `metrics.jsonl`.
fn logged_step(run: &Path) -> usize {
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap_or_default();
    text.lines()
        .rev()
        .find_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .and_then(|row| row["step"].as_u64())
        .unwrap_or(0) as usize
}

fn start(exp: &Path, out: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_xp"))
        .args([
            "run",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--plain",
        ])
        .env_remove("XP_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Starts the run, stops it with `signal` once it has logged `step`, and returns the
/// stage (0 or 1) its resume point was written in.
fn stop_at(exp: &Path, out: &Path, step: usize, signal: &str) -> Option<usize> {
    let _ = std::fs::remove_dir_all(out);
    let mut child = start(exp, out);
    while child.try_wait().unwrap().is_none() && logged_step(out) < step {
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let ended = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&ended.stderr);
    assert!(!err.contains("panicked"), "{err}");
    let point = ResumePoint::load(
        &xp_framework::run::RunFiles::at(out).resume_point(),
        &candle_core::Device::Cpu,
    );
    point.ok().map(|p| p.state.stages.stage)
}

#[test]
fn a_two_stage_run_resumed_anywhere_ends_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let exp = two_stages(dir.path(), "staged", "");
    let reference = dir.path().join("reference");
    run(&exp, &reference, &[]);
    let expected = outputs(&reference);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reference.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["stages"][1]["first_step"], STAGE_STEPS, "{summary}");
    assert_eq!(summary["steps"], 2 * STAGE_STEPS);
    // Steps before, at and after the boundary, drawn afresh for each test run.
    let mut state = 0x2545_f491_4f6c_dd1du64 ^ u64::from(std::process::id());
    let mut draw = move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    let total = 2 * STAGE_STEPS;
    let steps = [
        draw(STAGE_STEPS),
        STAGE_STEPS - 1 - draw(3),
        STAGE_STEPS,
        STAGE_STEPS + 1 + draw(3),
        STAGE_STEPS + draw(STAGE_STEPS - 1),
    ];
    let out = dir.path().join("run");
    let mut stopped_in = Vec::new();
    for (i, &step) in steps.iter().enumerate() {
        let signal = if i % 2 == 0 { "-INT" } else { "-KILL" };
        let stage = stop_at(&exp, &out, step.min(total - 1), signal);
        let resumed = match out.join("experiment.toml").exists() {
            true => xp(&["run", "--resume", out.to_str().unwrap(), "--plain"]),
            false => xp(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]),
        };
        let err = stderr(&resumed);
        assert!(
            resumed.status.success() || err.contains("is finished"),
            "{signal} after step {step}: {err}"
        );
        assert!(
            outputs(&out) == expected,
            "{signal} after step {step} (resume point in stage {stage:?}): outputs differ"
        );
        stopped_in.push(stage);
    }
    assert!(
        stopped_in.contains(&Some(0)) && stopped_in.contains(&Some(1)),
        "no stop landed in each stage: {stopped_in:?} at steps {steps:?}"
    );
}

#[test]
fn a_frozen_encoder_ends_bit_for_bit_as_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let exp = two_stages(dir.path(), "probe", "\"encoder\"");
    let out = dir.path().join("probe");
    run(&exp, &out, &[]);
    let before = tensors(&out.join("model-pre.safetensors"));
    let after = tensors(&out.join("model.safetensors"));
    let encoder: Vec<&String> = after.keys().filter(|n| n.starts_with("encoder.")).collect();
    assert!(encoder.len() > 5, "{encoder:?}");
    for name in encoder {
        assert!(before[name] == after[name], "{name} changed in the probe");
    }
    // The head did train, and the heads of the first stage are not the run's model.
    let fresh = dir.path().join("fresh");
    run(&exp, &fresh, &["--set", "stages.fine.steps=1"]);
    let trained = tensors(&out.join("model.safetensors"));
    let head = "heads.CLS.out.weight";
    let one_step = tensors(&fresh.join("model.safetensors"));
    assert!(trained.contains_key(head), "{:?}", trained.keys());
    assert!(
        trained[head] != one_step[head],
        "the probe's head did not train"
    );
    assert!(!trained.keys().any(|n| n.starts_with("heads.MLM")));
}

#[test]
fn one_stage_trains_what_the_experiment_without_stages_trains() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write(
        dir.path(),
        "plain.toml",
        &tiny_experiment("plain", ALL_OBJECTIVES),
    );
    let staged = write(
        dir.path(),
        "one.toml",
        &(tiny_experiment("plain", ALL_OBJECTIVES)
            + "\n[[stages]]\nsteps = 30\nobjectives = [\"CLS\", \"LA\", \"MLM\", \"NSP\"]\n"),
    );
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run(&plain, &a, &[]);
    run(&staged, &b, &[]);
    common::assert_same_outputs(&a, &b);
}

#[test]
fn a_run_starts_from_another_runs_weights() {
    let dir = tempfile::tempdir().unwrap();
    let source_exp = write(
        dir.path(),
        "source.toml",
        &tiny_experiment("source", ALL_OBJECTIVES),
    );
    let source = dir.path().join("source");
    run(&source_exp, &source, &[]);
    let probe = tiny_experiment("probe", "[objectives.CLS]\n")
        + &format!(
            "\n[init]\nfrom = \"{}\"\nparts = [\"encoder\"]\n\n[[stages]]\nsteps = 20\nobjectives = [\"CLS\"]\nfreeze = [\"encoder\"]\n",
            source.display()
        );
    let exp = write(dir.path(), "probe.toml", &probe);
    let out = dir.path().join("probe");
    run(&exp, &out, &[]);
    let (theirs, ours) = (
        tensors(&source.join("model.safetensors")),
        tensors(&out.join("model.safetensors")),
    );
    for (name, bytes) in ours.iter().filter(|(n, _)| n.starts_with("encoder.")) {
        assert!(
            theirs.get(name) == Some(bytes),
            "{name} is not the source's"
        );
    }
    // Another shape is refused, naming the tensors and the fields; nothing is written.
    let wider = dir.path().join("wider");
    let refused = xp(&[
        "run",
        exp.to_str().unwrap(),
        "--set",
        "model.ffn_dim=48",
        "--out",
        wider.to_str().unwrap(),
    ]);
    assert_clean_failure(&refused, "init.from");
    let err = stderr(&refused);
    assert!(err.contains("model.ffn_dim (32 there, 48 here)"), "{err}");
    assert!(err.contains("encoder.layers.0"), "{err}");
    assert!(!wider.exists(), "a refused run wrote {}", wider.display());
    // A folder without a checkpoint.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let refused = xp(&[
        "run",
        exp.to_str().unwrap(),
        "--set",
        &format!("init.from=\"{}\"", empty.display()),
        "--out",
        wider.to_str().unwrap(),
    ]);
    assert_clean_failure(&refused, "has no model.safetensors");
    assert!(!wider.exists());
}

#[test]
fn bad_stage_files_say_what_to_change_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let base = tiny_experiment("bad", ALL_OBJECTIVES);
    let cases = [
        (
            "[[stages]]\nsteps = 5\nobjectives = []\n",
            "stages.0.objectives",
            "trains no objective",
        ),
        (
            "[[stages]]\nsteps = 5\nobjectives = [\"CLS\"]\nfreez = [\"encoder\"]\n",
            "freez",
            "did you mean `freeze`",
        ),
        (
            "[[stages]]\nsteps = 5\nobjectives = [\"MLM\"]\nfreeze = [\"CLS\"]\n",
            "stages.0.freeze",
            "neither `encoder` nor an objective of this stage",
        ),
        (
            "[[stages]]\nsteps = 5\nobjectives = [\"CLS\"]\ntrain = { lr = 1e-3, stesp = 4 }\n",
            "stages.0.train.stesp",
            "did you mean `steps`",
        ),
        (
            "[[stages]]\nsteps = 5\nobjectives = [\"CLS\"]\ntrain = { batch_size = 8 }\n",
            "stages.0.train.batch_size",
            "holds for the whole run",
        ),
        (
            "[[stages]]\nsteps = 5\nobjectives = [\"CLS\"]\nfreeze = [\"encoder\", \"CLS\"]\n",
            "stages.0.freeze",
            "nothing would train",
        ),
        (
            "[[stages]]\nname = \"a\"\nsteps = 5\nobjectives = [\"CLS\"]\n[[stages]]\nname = \"a\"\nsteps = 5\nobjectives = [\"MLM\"]\n",
            "stages.1.name",
            "two stages are named `a`",
        ),
    ];
    for (i, (stages, field, reason)) in cases.iter().enumerate() {
        let exp = write(
            dir.path(),
            &format!("bad{i}.toml"),
            &format!("{base}\n{stages}"),
        );
        let out = dir.path().join(format!("out{i}"));
        let refused = xp(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_clean_failure(&refused, field);
        let err = stderr(&refused);
        assert!(err.contains(reason), "case {i}: {err}");
        assert!(
            err.contains(&format!("bad{i}.toml, line")),
            "case {i}: {err}"
        );
        assert!(
            !out.exists(),
            "case {i}: a refused run wrote {}",
            out.display()
        );
    }
}
