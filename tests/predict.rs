//! `xp predict` end to end on a model trained for a few steps and exported: tables,
//! JSON lines, arguments and standard input, mask filling, sampling, and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{assert_clean_failure, write, xp, ALL_OBJECTIVES};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// One exported model shared by the tests of this file.
fn model() -> &'static str {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = MODEL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (_, onnx) = common::trained_export(dir.path(), "p", ALL_OBJECTIVES, &[]);
        (dir, onnx)
    });
    path.to_str().unwrap()
}

fn predict(args: &[&str]) -> Output {
    let mut all = vec!["predict", "-m", model()];
    all.extend_from_slice(args);
    xp(&all)
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{}", common::stderr(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn with_stdin(args: &[&str], input: &str) -> Output {
    let mut all = vec!["predict", "-m", model()];
    all.extend_from_slice(args);
    let mut child = Command::new(env!("CARGO_BIN_EXE_xp"))
        .args(&all)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn classifies_names_as_a_table() {
    let text = stdout(&predict(&["Smith", "Nakamura", "Ślusarski"]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (line, name) in lines.iter().zip(["Smith", "Nakamura", "Ślusarski"]) {
        assert!(line.starts_with(name), "{line}");
        let probs: Vec<f32> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(probs.len(), 3, "{line}");
        assert!(probs.windows(2).all(|w| w[0] >= w[1]), "{line}");
        assert!(probs.iter().sum::<f32>() <= 1.001, "{line}");
    }
}

#[test]
fn json_lines_from_arguments_equal_those_from_stdin() {
    let from_args = json_lines(&predict(&["--json", "-k", "2", "Smith", "Nakamura"]));
    let from_stdin = json_lines(&with_stdin(&["--json", "-k", "2"], "Smith\n\nNakamura\n"));
    assert_eq!(from_args, from_stdin);
    assert_eq!(from_args.len(), 2);
    assert_eq!(from_args[0]["name"], "Smith");
    let top = from_args[0]["top"].as_array().unwrap();
    assert_eq!(top.len(), 2);
    assert!(top[0]["probability"].as_f64().unwrap() >= top[1]["probability"].as_f64().unwrap());
}

#[test]
fn batching_does_not_change_predictions() {
    let names: String = [
        "Abe", "Smith", "Nakamura", "Rossi", "Dvorak", "Muller", "Chen",
    ]
    .iter()
    .cycle()
    .take(70)
    .map(|n| format!("{n}\n"))
    .collect();
    let one = json_lines(&with_stdin(&["--json", "--batch-size", "256"], &names));
    let many = json_lines(&with_stdin(&["--json", "--batch-size", "8"], &names));
    assert_eq!(one.len(), 70);
    for (a, b) in one.iter().zip(&many) {
        assert_eq!(a["top"][0]["label"], b["top"][0]["label"]);
        let (pa, pb) = (&a["top"][0]["probability"], &b["top"][0]["probability"]);
        assert!((pa.as_f64().unwrap() - pb.as_f64().unwrap()).abs() < 1e-5);
    }
}

#[test]
fn fills_masks() {
    let lines = json_lines(&predict(&[
        "--objective",
        "mlm",
        "--json",
        "Ma[MASK]t[MASK]n",
    ]));
    let filled = lines[0]["filled"].as_str().unwrap();
    assert_eq!(filled.len(), 6, "{filled}");
    assert!(
        filled.starts_with("Ma") && !filled.contains("[MASK]"),
        "{filled}"
    );
    assert_eq!(lines[0]["masks"].as_array().unwrap().len(), 2);
}

#[test]
fn samples_names_reproducibly() {
    let args = [
        "--objective",
        "la",
        "--count",
        "4",
        "--seed",
        "5",
        "--prefix",
        "Mc",
        "--length",
        "6",
    ];
    let first = stdout(&predict(&args));
    assert_eq!(first, stdout(&predict(&args)));
    let names: Vec<&str> = first.lines().collect();
    assert_eq!(names.len(), 4);
    for n in names {
        assert!(n.starts_with("Mc") && n.chars().count() == 6, "{n}");
    }
}

#[test]
fn bad_names_get_clear_errors() {
    // A bad name costs its own row: the error is printed in its place.
    let row_fails = |out: Output, needle: &str| {
        assert_clean_failure(&out, "1 of 1 inputs could not be predicted");
        let rows = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(rows.contains(needle), "expected `{needle}` in: {rows}");
    };
    row_fails(predict(&[""]), "has no token the model reads");
    row_fails(predict(&["123"]), "has no token the model reads");
    row_fails(predict(&[&"a".repeat(300)]), "the model reads at most 256");
    row_fails(
        predict(&["Mr.Smith"]),
        "\".\" is not in the model's vocabulary",
    );
    row_fails(predict(&["--objective", "mlm", "Martin"]), "has no [MASK]");
    assert_clean_failure(
        &predict(&["--objective", "SOP", "Martin"]),
        "has no objective SOP; it has CLS, LA, MLM, NSP",
    );
    assert_clean_failure(&with_stdin(&[], "\n"), "no names given");
}

#[test]
fn a_bad_line_costs_that_line_only() {
    // Papadopoulos (12 letters) is longer than the training names (4..11): the
    // sinusoidal positions read it, and its record says so.
    let out = with_stdin(&["--json"], "Nakamura\nPapadopoulos\nSchmidt\n");
    let records: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = records
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Nakamura", "Papadopoulos", "Schmidt"]);
    assert_eq!(records[1]["outside_training_lengths"], true);
    assert!(records[0].get("outside_training_lengths").is_none());
    // An unreadable line gets an error record in its place; the others are kept.
    let out = with_stdin(&["--json"], "Nakamura\n12345\nSchmidt\n");
    assert_clean_failure(&out, "1 of 3 inputs could not be predicted");
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    assert_eq!(records[1]["name"], "12345");
    assert!(records[1]["error"].as_str().unwrap().contains("no token"));
    assert!(records[0]["top"].is_array() && records[2]["top"].is_array());
    // The table shows the error in the row.
    let out = with_stdin(&[], "Nakamura\n12345\n");
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(table.lines().nth(1).unwrap().contains("error:"), "{table}");
}

#[test]
fn bad_model_files_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.onnx");
    let out = xp(&["predict", "-m", missing.to_str().unwrap(), "Smith"]);
    assert_clean_failure(&out, "does not exist");
    let corrupt = write(dir.path(), "corrupt.onnx", "not a protobuf at all");
    let out = xp(&["predict", "-m", corrupt.to_str().unwrap(), "Smith"]);
    assert_clean_failure(&out, "is not a valid ONNX model");
    // A valid ONNX model that xp did not write.
    let mut g = xp_models::onnx::OnnxGraph::new();
    let x = g.input_i64("tokens", &[xp_models::onnx::Dim::Dynamic("batch")]);
    let y = g.op("Cast", &[&x], &[("to", xp_models::onnx::Attr::Int(1))]);
    g.output_f32("y", &y, &[xp_models::onnx::Dim::Dynamic("batch")]);
    let bytes = xp_models::onnx::Message::write_to_bytes(&g.finish("foreign", &[])).unwrap();
    let foreign = dir.path().join("foreign.onnx");
    std::fs::write(&foreign, bytes).unwrap();
    let out = xp(&["predict", "-m", foreign.to_str().unwrap(), "Smith"]);
    assert_clean_failure(&out, "is not a model exported by xp");
}

#[test]
fn export_needs_a_format_and_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert_clean_failure(&xp(&["export", d]), "--onnx");
    assert_clean_failure(&xp(&["export", "--onnx", d]), "is not a run directory");
}

#[test]
fn a_missing_onnx_runtime_says_how_to_install_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_xp"))
        .args(["predict", "-m", model(), "Smith"])
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .output()
        .unwrap();
    assert_clean_failure(&out, "pip install onnxruntime");
}

#[test]
fn a_closed_output_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_xp"))
        .args(["predict", "-m", model(), "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Far more output than a pipe holds, so the writer meets the closed pipe.
    let names = "Nakamura\n".repeat(5000);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(names.as_bytes())
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone, as with `xp predict ... | head -1`.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(first.contains("Nakamura"), "{first}");
    assert!(!err.contains("panicked"), "{err}");
}
