//! ONNX export: ONNX Runtime's outputs equal candle's for every head on the whole test
//! split (`xp export --check`'s comparison), across encoder variants, with batch and
//! sequence lengths unlike training's.
//!
//! With `XP_ONNX_FIXTURES=DIR`, each exported model is also written to `DIR` with
//! inputs and candle's outputs, for the Python check (`tests/onnx_check.py`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

extern crate xp_objective_cls as _;
extern crate xp_objective_la as _;
extern crate xp_objective_mlm as _;
extern crate xp_objective_nsp as _;
extern crate xp_objective_sop as _;

use common::{trained_export, ALL_OBJECTIVES};
use std::path::PathBuf;
use xp_format::output_name;
use xp_framework::export::check::{compare_export, compare_export_as};
use xp_framework::export::WeightFormat;

fn compare_variant(name: &str, overrides: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let objectives = format!("{ALL_OBJECTIVES}[objectives.SOP]\n");
    let (run, onnx_path) = trained_export(dir.path(), name, &objectives, overrides);
    let checks = compare_export(&run, &onnx_path, |e| e).unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c.objective.as_str()).collect();
    assert_eq!(names, ["CLS", "LA", "MLM", "NSP", "SOP"], "{name}");
    for check in &checks {
        assert_eq!(check.output, output_name(&check.objective));
        assert_eq!(check.attention_worst, None, "exported without --attention");
        assert!(check.names > 1000, "{name}: {} test names", check.names);
        eprintln!(
            "{name} {}: max |candle - onnxruntime| = {:e}",
            check.objective, check.worst
        );
        assert!(
            check.passed(),
            "{name} {}: difference {}",
            check.objective,
            check.worst
        );
    }
    if let Some(out) = std::env::var_os("XP_ONNX_FIXTURES") {
        let out = PathBuf::from(out);
        std::fs::create_dir_all(&out).unwrap();
        std::fs::copy(&onnx_path, out.join(format!("{name}.onnx"))).unwrap();
        let samples: Vec<_> = checks.iter().flat_map(|c| &c.samples).collect();
        let cases = serde_json::to_string(&samples).unwrap();
        std::fs::write(out.join(format!("{name}.json")), cases).unwrap();
    }
}

#[test]
fn post_norm_sinusoidal_relu_untied_matches_candle() {
    compare_variant("post_sin_relu", &[]);
}

#[test]
fn pre_norm_learned_gelu_tied_both_fronts_match_candle() {
    compare_variant(
        "pre_learned_gelu_tied_fronts",
        &[
            "model.conv_width=3",
            "model.hashed_ngrams=64",
            "model.norm_first=true",
            "model.positions=\"learned\"",
            "model.activation=\"gelu\"",
            "model.tie_embeddings=true",
            "model.layers=2",
        ],
    );
}

#[test]
fn mean_pooling_and_clean_input_match_candle() {
    compare_variant(
        "mean_pool",
        &[
            "objectives.CLS.pool=\"mean\"",
            "objectives.CLS.masked=false",
            "objectives.NSP.pool=\"mean\"",
            "model.positions=\"learned\"",
        ],
    );
}

#[test]
fn attention_outputs_match_candle_and_name_their_pass() {
    let dir = tempfile::tempdir().unwrap();
    let overrides = ["model.layers=2", "model.norm_first=true"];
    let (run, plain) = trained_export(dir.path(), "attention", ALL_OBJECTIVES, &overrides);
    let with = dir.path().join("with_attention.onnx");
    let (run_arg, with_arg) = (run.to_str().unwrap(), with.to_str().unwrap());
    let out = common::xp(&["export", "--onnx", run_arg, "-o", with_arg, "--attention"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("cls and attention (CLS)"), "{said}");
    assert!(said.contains("la and attention_causal (LA)"), "{said}");
    assert!(said.contains("nsp and attention_pairs (NSP)"), "{said}");
    // The plain file is smaller: no attention outputs, nothing else changed in kind.
    assert!(std::fs::metadata(&plain).unwrap().len() < std::fs::metadata(&with).unwrap().len());
    for check in compare_export(&run, &with, |e| e).unwrap() {
        let worst = check.attention_worst.expect("attention compared");
        eprintln!(
            "{} attention: max |candle - onnxruntime| = {worst:e}",
            check.objective
        );
        assert!(
            check.passed(),
            "{}: {} / {worst}",
            check.objective,
            check.worst
        );
    }
}

#[test]
fn an_int8_export_is_integer_products_within_its_tolerance_of_f32() {
    let dir = tempfile::tempdir().unwrap();
    let overrides = [
        "model.conv_width=3",
        "model.hashed_ngrams=64",
        "model.norm_first=true",
    ];
    let (run, f32_onnx) = trained_export(dir.path(), "int8", ALL_OBJECTIVES, &overrides);
    let int8 = dir.path().join("quantized.onnx");
    let out = common::export(&run, &int8, &["--quantize", "int8", "--check"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}{}", common::stderr(&out));
    assert!(
        said.contains("int8 against f32") && said.contains("test accuracy f32"),
        "{said}"
    );

    let (f32_bytes, int8_bytes) = (
        std::fs::read(&f32_onnx).unwrap(),
        std::fs::read(&int8).unwrap(),
    );
    let has = |bytes: &[u8], op: &[u8]| bytes.windows(op.len()).any(|w| w == op);
    assert!(has(&int8_bytes, b"MatMulInteger") && !has(&f32_bytes, b"MatMulInteger"));
    assert!(
        int8_bytes.len() < f32_bytes.len(),
        "weights in one byte each"
    );

    let checks = compare_export_as(&run, &int8, WeightFormat::Int8, |e| e).unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c.objective.as_str()).collect();
    assert_eq!(names, ["CLS", "LA", "MLM", "NSP"]);
    for check in &checks {
        let q = check.quantized.as_ref().expect("an int8 check");
        eprintln!("{}: {q:?}", check.objective);
        assert!(check.passed(), "{}: {q:?}", check.objective);
        assert!(q.rows >= check.names && q.same_answer > 0);
        // Quantized for real: not within the f32 export's tolerance of candle.
        assert!(q.probability_worst > 1e-4, "{}: {q:?}", check.objective);
        assert_eq!(q.accuracies().is_some(), check.objective == "CLS");
    }
}

#[test]
fn a_batch_cut_into_lanes_gives_the_outputs_of_one_session() {
    let dir = tempfile::tempdir().unwrap();
    let (run, plain) = trained_export(dir.path(), "lanes", ALL_OBJECTIVES, &[]);
    let onnx = dir.path().join("with_attention.onnx");
    let out = common::export(&run, &onnx, &["--attention"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(plain.is_file());
    let (batch, seq) = (203, 11);
    // Rows unlike each other (ids cycle through the characters at different rates), a
    // [CLS] first and pads at the end of some, so a row out of place shows.
    let tokens: Vec<i64> = (0..batch * seq)
        .map(|cell| {
            let (row, col) = (cell / seq, cell % seq);
            match col {
                0 => 1,
                c if c > 4 + row % 6 => 0,
                c => 7 + ((row * 7 + c * 3) % 40) as i64,
            }
        })
        .collect();
    // Attention weights `(layers, batch, ..)` run whole; the objectives' outputs on lanes.
    for output in ["cls", "mlm", "attention"] {
        let run = |threads: usize| {
            let mut model = xp_serve::OnnxModel::load(&onnx)
                .unwrap()
                .with_threads(threads);
            model.run(output, tokens.clone(), batch, None).unwrap()
        };
        let (one, lanes) = (run(1), run(4));
        assert_eq!(xp_serve::lanes::lane_count(4, batch, seq), 4);
        assert_eq!(one.shape, lanes.shape, "{output}");
        let batch_axis = usize::from(output == "attention");
        assert_eq!(one.shape[batch_axis], batch);
        let worst = one
            .values
            .iter()
            .zip(&lanes.values)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst <= 1e-5, "{output}: lanes differ by {worst}");
        let rows_differ = one.values[..one.values.len() / batch]
            != one.values[one.values.len() / batch..2 * one.values.len() / batch];
        assert!(rows_differ, "{output}: the rows tell each other apart");
    }
}
