//! `xp ensemble` end to end: an n-gram baseline and a transformer of one seed mixed
//! with weights fitted on validation alone (a test split changed afterwards changes no
//! weight), a folder `xp compare` pairs with its members, an ONNX export that ONNX
//! Runtime and `xp predict` compute as the ensemble did, and clear refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::baseline::{ngram_run, read_predictions, CLS};
use crate::common::{self, assert_clean_failure, tiny_experiment, write, xp};
use std::path::{Path, PathBuf};
use xp_framework::export::check::compare_export;
use xp_framework::run::EnsembleRecord;

fn transformer_run(dir: &Path, name: &str, seed: u64) -> PathBuf {
    let exp = write(dir, &format!("{name}.toml"), &tiny_experiment(name, CLS));
    let run = dir.join(name);
    let seed = format!("seed={seed}");
    let (exp, out_dir) = (exp.to_str().unwrap(), run.to_str().unwrap());
    let out = xp(&["run", exp, "--out", out_dir, "--set", &seed]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    run
}

fn ensemble(members: &[&Path], out: &Path) -> std::process::Output {
    let mut args = vec!["ensemble"];
    args.extend(members.iter().map(|m| m.to_str().unwrap()));
    args.extend(["--out", out.to_str().unwrap()]);
    xp(&args)
}

/// Mean negative log-likelihood of the true classes of a predictions file.
fn nll(path: &Path) -> f64 {
    let (classes, rows) = read_predictions(path);
    let sum: f64 = rows
        .iter()
        .map(|(_, truth, _, p)| {
            let c = classes.iter().position(|c| c == truth).unwrap();
            -f64::from(p[c]).ln()
        })
        .sum();
    sum / rows.len() as f64
}

#[test]
fn an_ensemble_fits_on_validation_reads_as_a_run_and_exports_as_one_graph() {
    let dir = tempfile::tempdir().unwrap();
    let ngram = ngram_run(dir.path(), "ngram");
    let tiny = transformer_run(dir.path(), "tiny", 7);
    let ens = dir.path().join("ens");
    let out = ensemble(&[&ngram, &tiny], &ens);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(printed.contains("95% bootstrap interval"), "{printed}");

    let record = EnsembleRecord::read(&ens).unwrap();
    assert_eq!(record.members.len(), 2);
    let total: f64 = record.members.iter().map(|m| m.weight).sum();
    assert!((total - 1.0).abs() < 1e-9, "{total}");
    assert!(record.members.iter().all(|m| m.weight >= 0.0));
    // The fit is at least as likely on validation as either member alone.
    for member in [&ngram, &tiny] {
        let alone = nll(&member.join("valid_predictions_CLS.csv"));
        assert!(
            record.valid_nll <= alone + 1e-9,
            "{} > {alone}",
            record.valid_nll
        );
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ens.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["seed"], 7);
    let accuracy = summary["splits"]["test"]["objectives"]["CLS"]["accuracy"]
        .as_f64()
        .unwrap();
    let (classes, test) = read_predictions(&ens.join("test_predictions_CLS.csv"));
    let right = test.iter().filter(|(_, t, p, _)| t == p).count();
    assert!((right as f64 / test.len() as f64 - accuracy).abs() < 1e-9);
    for (_, _, predicted, p) in &test {
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(&classes[best], predicted);
    }
    assert!(ens.join("confusion_CLS.csv").is_file());
    let out = xp(&["figures", ens.to_str().unwrap(), "--counts"]);
    assert!(out.status.success(), "{}", common::stderr(&out));

    // Selection reads validation only: the same members with another test split's
    // probabilities get the same weights.
    let test_file = tiny.join("test_predictions_CLS.csv");
    let kept = std::fs::read(&test_file).unwrap();
    let (_, rows) = read_predictions(&test_file);
    let mut writer = csv::Writer::from_path(&test_file).unwrap();
    let mut header = vec![
        "row".to_owned(),
        "text".into(),
        "true".into(),
        "predicted".into(),
    ];
    header.extend(classes.iter().map(|c| format!("p_{c}")));
    writer.write_record(&header).unwrap();
    for (i, (text, truth, _, _)) in rows.iter().enumerate() {
        let mut cells = vec![i.to_string(), text.clone(), truth.clone(), truth.clone()];
        cells.extend(
            classes
                .iter()
                .map(|c| if c == truth { "1" } else { "0" }.to_owned()),
        );
        writer.write_record(&cells).unwrap();
    }
    writer.flush().unwrap();
    let again = dir.path().join("again");
    let out = ensemble(&[&ngram, &tiny], &again);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let weights = |r: &EnsembleRecord| r.members.iter().map(|m| m.weight).collect::<Vec<_>>();
    assert_eq!(
        weights(&EnsembleRecord::read(&again).unwrap()),
        weights(&record)
    );
    std::fs::write(&test_file, kept).unwrap();

    // xp compare pairs it with its members (one seed).
    let out = xp(&[
        "compare",
        ngram.to_str().unwrap(),
        tiny.to_str().unwrap(),
        ens.to_str().unwrap(),
        "--against",
        "ngram",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = table
        .lines()
        .rev()
        .find(|l| l.starts_with("ens "))
        .unwrap_or("");
    assert!(line.split_whitespace().count() >= 8, "{table}");

    // One ONNX graph computes what the ensemble computed.
    let onnx = dir.path().join("ens.onnx");
    let out = common::export(&ens, &onnx, &["--check"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let checks = compare_export(&ens, &onnx, |e| e).unwrap();
    assert!(
        checks[0].passed() && checks[0].names == test.len(),
        "{:?}",
        checks[0].worst
    );
    if let Some(out) = std::env::var_os("XP_ONNX_FIXTURES") {
        let out = PathBuf::from(out);
        std::fs::create_dir_all(&out).unwrap();
        std::fs::copy(&onnx, out.join("ensemble.onnx")).unwrap();
        let cases = serde_json::to_string(&checks[0].samples).unwrap();
        std::fs::write(out.join("ensemble.json"), cases).unwrap();
    }
    // xp serve takes the ensemble's folder as it takes a run's.
    let server = common::server::Server::start(&ens, &[]);
    let (status, body) = server.post("/api/classify", &serde_json::json!({"names": ["Nakamura"]}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["objective"], "CLS", "{body}");
    assert!(server.stop().success());
    let texts: Vec<&str> = test.iter().take(30).map(|(t, ..)| t.as_str()).collect();
    let mut args = vec!["predict", "-m", onnx.to_str().unwrap(), "--json", "-k", "3"];
    args.extend(&texts);
    let out = xp(&args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let lines = String::from_utf8(out.stdout).unwrap();
    assert_eq!(lines.lines().count(), texts.len());
    for (line, (_, _, _, p)) in lines.lines().zip(&test) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for top in v["top"].as_array().unwrap() {
            let label = top["label"].as_str().unwrap();
            let class = classes.iter().position(|c| c == label).unwrap();
            let served = top["probability"].as_f64().unwrap() as f32;
            assert!((served - p[class]).abs() < 1e-5, "{line}");
        }
    }
}

#[test]
fn an_ensemble_refuses_what_does_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let a = transformer_run(dir.path(), "a", 7);
    let other_seed = transformer_run(dir.path(), "b", 8);
    let out = dir.path().join("ens");
    assert_clean_failure(&ensemble(&[&a], &out), "at least two");
    assert_clean_failure(&ensemble(&[&a, &a], &out), "given twice");
    assert_clean_failure(
        &ensemble(&[&a, &other_seed], &out),
        "were not evaluated on one valid split",
    );
    let missing = dir.path().join("nothing");
    assert_clean_failure(&ensemble(&[&a, &missing], &out), "not a finished run");
    assert!(!out.join("summary.json").exists());
}
