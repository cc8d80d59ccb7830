//! The n-gram baseline (`model.kind = "ngram"`) end to end: an ordinary run folder
//! (summary, metrics, validation and test predictions with probabilities), the same
//! numbers for the same seed, an ONNX export that ONNX Runtime and `xp predict` compute
//! as the run did, and clear refusals of what it cannot fit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

extern crate xp_objective_cls as _;

use common::{assert_clean_failure, tiny_experiment, write, xp};
use std::path::{Path, PathBuf};
use xp_framework::export::check::compare_export;

pub(crate) const CLS: &str = "[objectives.CLS]\nmasked = false\neval_masked = false\n";
const NGRAM: [&str; 2] = ["model.kind=\"ngram\"", "model.ngram.max_iterations=40"];

/// `(text, true, predicted, probabilities)` of each row of a predictions file.
pub(crate) type Rows = Vec<(String, String, String, Vec<f32>)>;

/// The classes and rows of a predictions file.
pub(crate) fn read_predictions(path: &Path) -> (Vec<String>, Rows) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let classes = header
        .iter()
        .filter_map(|h| h.strip_prefix("p_").map(String::from))
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let p = r.iter().skip(4).map(|v| v.parse().unwrap()).collect();
            (r[1].to_owned(), r[2].to_owned(), r[3].to_owned(), p)
        })
        .collect();
    (classes, rows)
}

/// An n-gram run of the tiny experiment `name` in `dir`.
pub(crate) fn ngram_run(dir: &Path, name: &str) -> PathBuf {
    let exp = write(dir, &format!("{name}.toml"), &tiny_experiment(name, CLS));
    let run = dir.join(name);
    let mut args = vec!["run", exp.to_str().unwrap(), "--out", run.to_str().unwrap()];
    for o in NGRAM {
        args.extend(["--set", o]);
    }
    let out = xp(&args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    run
}

#[test]
fn an_ngram_run_is_an_ordinary_run_that_exports_and_predicts_what_it_computed() {
    let dir = tempfile::tempdir().unwrap();
    let run = ngram_run(dir.path(), "ngram");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let accuracy = summary["splits"]["test"]["objectives"]["CLS"]["accuracy"]
        .as_f64()
        .unwrap();
    // 18 languages: chance is under 0.1, and the majority class about 0.3.
    assert!(accuracy > 0.6, "test accuracy {accuracy}");
    for file in ["metrics.csv", "confusion_CLS.csv", "ngram.safetensors"] {
        assert!(run.join(file).is_file(), "{file}");
    }
    for split in ["valid", "test"] {
        let (classes, rows) = read_predictions(&run.join(format!("{split}_predictions_CLS.csv")));
        assert_eq!(classes.len(), 18);
        assert!(rows.len() > 1000, "{split}: {} rows", rows.len());
        for (_, _, predicted, p) in &rows {
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
            assert_eq!(&classes[best], predicted);
        }
    }
    let (_, test) = read_predictions(&run.join("test_predictions_CLS.csv"));
    let right = test.iter().filter(|(_, t, p, _)| t == p).count();
    assert!((right as f64 / test.len() as f64 - accuracy).abs() < 1e-9);

    // The same seed, the same numbers.
    let again = ngram_run(dir.path(), "again");
    for file in [
        "test_predictions_CLS.csv",
        "valid_predictions_CLS.csv",
        "metrics.csv",
    ] {
        let (a, b) = (run.join(file), again.join(file));
        assert_eq!(
            std::fs::read(a).unwrap(),
            std::fs::read(b).unwrap(),
            "{file}"
        );
    }

    let onnx = dir.path().join("ngram.onnx");
    let out = common::export(&run, &onnx, &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let checks = compare_export(&run, &onnx, |e| e).unwrap();
    let int8 = common::export(&run, &dir.path().join("int8.onnx"), &["--quantize", "int8"]);
    assert!(!int8.status.success());
    assert!(common::stderr(&int8).contains("not a transformer run"));
    assert_eq!(checks.len(), 1);
    assert!(
        checks[0].names > 1000 && checks[0].passed(),
        "{:?}",
        checks[0].worst
    );
    if let Some(out) = std::env::var_os("XP_ONNX_FIXTURES") {
        let out = PathBuf::from(out);
        std::fs::create_dir_all(&out).unwrap();
        std::fs::copy(&onnx, out.join("ngram.onnx")).unwrap();
        let cases = serde_json::to_string(&checks[0].samples).unwrap();
        std::fs::write(out.join("ngram.json"), cases).unwrap();
    }

    // `xp predict` serves the probabilities the run wrote.
    let texts: Vec<&str> = test.iter().take(50).map(|(t, ..)| t.as_str()).collect();
    let mut args = vec![
        "predict",
        "-m",
        onnx.to_str().unwrap(),
        "--json",
        "-k",
        "18",
    ];
    args.extend(&texts);
    let out = xp(&args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let (classes, _) = read_predictions(&run.join("test_predictions_CLS.csv"));
    let lines = String::from_utf8(out.stdout).unwrap();
    for (line, (_, _, _, p)) in lines.lines().zip(&test) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for top in v["top"].as_array().unwrap() {
            let class = classes
                .iter()
                .position(|c| c == top["label"].as_str().unwrap());
            let served = top["probability"].as_f64().unwrap() as f32;
            assert!((served - p[class.unwrap()]).abs() < 1e-5, "{line}");
        }
    }
    assert_eq!(lines.lines().count(), texts.len());
}

#[test]
fn an_ngram_run_refuses_what_it_cannot_fit() {
    let dir = tempfile::tempdir().unwrap();
    let both = format!("{CLS}[objectives.MLM]\n");
    let exp = write(dir.path(), "two.toml", &tiny_experiment("two", &both));
    let out = xp(&["run", exp.to_str().unwrap(), "--set", NGRAM[0]]);
    assert_clean_failure(&out, "exactly one objective that predicts them");
    let exp = write(dir.path(), "bad.toml", &tiny_experiment("bad", CLS));
    let set = ["--set", NGRAM[0], "--set", "model.ngram.min_n=0"];
    let out = xp(&[&["run", exp.to_str().unwrap()][..], &set].concat());
    assert_clean_failure(&out, "model.ngram.min_n");
    let out = xp(&["run", exp.to_str().unwrap(), "--set", "model.kind=\"bag\""]);
    assert_clean_failure(&out, "model.kind");
}
