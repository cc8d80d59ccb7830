//! Helpers shared by the integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)]

pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The corpus the tests read: `$XP_TEST_CORPUS`, else the project's own copy of the
/// built-in corpus (`framework/corpus/names`, the files the binary packs), so that a
/// clone anywhere runs its tests.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("XP_TEST_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("framework/corpus/names"))
}

/// A small, fast experiment over the test corpus with `objectives` (TOML tables). The
/// corpus is read as the reference reads it (folded to ASCII, 4..=11 characters, the
/// whole corpus's alphabet), as a run of the built-in corpus would.
pub fn tiny_experiment(name: &str, objectives: &str) -> String {
    format!(
        r#"name = "{name}"
seed = 7
[data]
dir = "{}"
normalize = "ascii"
alphabet = "all"
min_len = 4
max_len = 11
[model]
dim = 16
heads = 2
layers = 1
ffn_dim = 32
dropout = 0.1
head_dropout = 0.1
[train]
steps = 30
batch_size = 16
eval_batch_size = 512
lr = 3e-3
warmup = 5
eval_every = 15
{objectives}
"#,
        corpus_dir().display()
    )
}

/// Every objective of this workspace.
pub const ALL_OBJECTIVES: &str =
    "[objectives.CLS]\n[objectives.MLM]\n[objectives.LA]\n[objectives.NSP]\n";

/// Writes `text` as `name` in `dir` and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

/// Runs the built `xp` binary with `args`.
pub fn xp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xp"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("XP_DATA_DIR")
        .output()
        .expect("run xp")
}

/// `xp export --onnx RUN -o ONNX` with `more` arguments.
pub fn export(run: &Path, onnx: &Path, more: &[&str]) -> Output {
    let (run, onnx) = (run.to_str().unwrap(), onnx.to_str().unwrap());
    xp(&[&["export", "--onnx", run, "-o", onnx][..], more].concat())
}

/// Standard error of a run as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts that `out` failed cleanly (exit 1, no panic) with a message holding `needle`.
pub fn assert_clean_failure(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "exit code, stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
}

/// Trains a tiny model of `objectives` (experiment sections) with `overrides` for a
/// few steps in `dir` and exports it; returns the run directory and the ONNX file.
pub fn trained_export(
    dir: &Path,
    name: &str,
    objectives: &str,
    overrides: &[&str],
) -> (PathBuf, PathBuf) {
    let exp = write(
        dir,
        &format!("{name}.toml"),
        &tiny_experiment(name, objectives),
    );
    let run = dir.join(name);
    let mut args = vec!["run", exp.to_str().unwrap(), "--out", run.to_str().unwrap()];
    for o in overrides {
        args.extend(["--set", o]);
    }
    let out = xp(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let onnx = dir.join(format!("{name}.onnx"));
    let (run_arg, onnx_arg) = (run.to_str().unwrap(), onnx.to_str().unwrap());
    let out = xp(&["export", "--onnx", run_arg, "-o", onnx_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    (run, onnx)
}

/// The events of a run's TensorBoard event file, each without its wall time (the one
/// part that differs between two runs of one experiment).
pub fn events_without_wall_time(run: &Path) -> Vec<Vec<u8>> {
    use xp_tensorboard::{proto, record};
    let bytes = std::fs::read(run.join(xp_tensorboard::RUN_FILE)).expect("the event file");
    record::records(&bytes)
        .into_iter()
        .map(|(_, event)| {
            let fields = proto::fields(event).expect("an event");
            fields
                .iter()
                .filter(|f| f.number != 1)
                .flat_map(|f| f.raw.to_vec())
                .collect()
        })
        .collect()
}

/// Asserts that two runs wrote the same bytes: metrics, weights, test predictions.
pub fn assert_same_outputs(a: &Path, b: &Path) {
    for file in [
        "metrics.csv",
        "model.safetensors",
        "test_predictions_CLS.csv",
    ] {
        let read = |run: &Path| std::fs::read(run.join(file)).expect(file);
        assert!(
            read(a) == read(b),
            "{file} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}
