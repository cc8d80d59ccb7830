//! Property tests over hostile input: the experiment parser with `--set` overrides,
//! name folding and tokenizing, the checkpoint and resume-point loaders on corrupt
//! files, and the ONNX metadata reader. None may panic; each answers `Ok` or a clear
//! `Err`.
//!
//! The test command runs proptest's default number of cases; a longer run:
//! `PROPTEST_CASES=20000 cargo test --release --test fuzz`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

extern crate xp_objective_cls as _;
extern crate xp_objective_mlm as _;

use candle_core::Device;
use proptest::prelude::*;
use std::collections::BTreeMap;
use xp_format::{fold_name, ModelMetadata, Normalization, FOLDING_RULE};
use xp_framework::config::Experiment;
use xp_framework::params::ParamStore;
use xp_framework::train::ResumePoint;
use xp_serve::encode::Tokenizer;

/// Fields and values an experiment may plausibly be given, well-formed or not.
fn override_strategy() -> impl Strategy<Value = String> {
    let keys = prop::sample::select(vec![
        "name",
        "seed",
        "data.min_len",
        "data.max_len",
        "data.valid",
        "model.dim",
        "model.heads",
        "model.dropout",
        "model.positions",
        "train.steps",
        "train.lr",
        "train.kernels",
        "train.monitor",
        "objectives.CLS.mask_prob",
        "objectives.CLS.pool",
        "objectives.MLM",
        "objectives",
        "train",
        "",
        ".",
        "a..b",
    ]);
    let values = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        "[a-z\"\\[\\]{}=.,0-9 -]{0,12}",
        Just("\"mean\"".to_owned()),
        Just("[1, 2]".to_owned()),
        Just("{ a = 1 }".to_owned()),
    ];
    (keys, values, prop::bool::ANY).prop_map(|(k, v, eq)| match eq {
        true => format!("{k}={v}"),
        false => format!("{k}{v}"),
    })
}

/// A model's metadata, for the tokenizer.
fn metadata() -> ModelMetadata {
    let mut vocab: Vec<String> = ["[PAD]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    vocab.extend(('a'..='z').chain('A'..='Z').map(String::from));
    ModelMetadata {
        experiment: "fuzz".into(),
        experiment_toml: String::new(),
        specials: vocab[..4]
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i as i64))
            .collect(),
        vocab,
        labels: vec!["A".into()],
        min_len: 2,
        max_len: 11,
        readable_len: 20,
        folding: FOLDING_RULE.into(),
        normalization: Normalization::REFERENCE,
        objectives: BTreeMap::new(),
        weights_sha256: String::new(),
    }
}

/// The bytes of a small checkpoint.
fn checkpoint() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let params = ParamStore::new(1);
    let vb = params.var_builder(&Device::Cpu);
    vb.get_with_hints((3, 4), "w", candle_nn::Init::Const(0.5))
        .unwrap();
    let path = dir.path().join("c.safetensors");
    params.save(&path).unwrap();
    std::fs::read(path).unwrap()
}

proptest! {
    #[test]
    fn the_experiment_parser_never_panics(
        text in "[a-z_\\[\\].=\"0-9 \n-]{0,120}",
        overrides in prop::collection::vec(override_strategy(), 0..4),
    ) {
        let _ = Experiment::parse(&text, "fuzz.toml", &overrides);
        let base = common::tiny_experiment("f", "[objectives.CLS]\n");
        if let Ok(exp) = Experiment::parse(&base, "fuzz.toml", &overrides) {
            // What parses also validates and writes back.
            prop_assert!(exp.validate().is_ok());
            prop_assert!(Experiment::parse(&exp.to_toml(), "again", &[]).is_ok());
        }
    }

    #[test]
    fn folding_keeps_only_the_corpus_alphabet(name in any::<String>()) {
        let folded = fold_name(&name);
        prop_assert!(folded.chars().all(|c| c.is_ascii_alphabetic() || " .,;'".contains(c)));
        prop_assert_eq!(fold_name(&folded), folded.clone());
    }

    #[test]
    fn tokenizing_never_panics(name in any::<String>(), masks in any::<bool>()) {
        let tokenizer = Tokenizer::new(&metadata()).unwrap();
        if let Ok(ids) = tokenizer.encode(&name, masks) {
            prop_assert!(!ids.is_empty() && ids.len() <= 20);
        }
    }

    #[test]
    fn corrupt_checkpoints_and_resume_points_are_refused(
        cut in 0usize..400,
        flips in prop::collection::vec((0usize..400, any::<u8>()), 0..6),
    ) {
        let mut bytes = checkpoint();
        bytes.truncate(cut.min(bytes.len()));
        for (at, value) in flips {
            if let Some(b) = bytes.get_mut(at) {
                *b = value;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.safetensors");
        std::fs::write(&path, &bytes).unwrap();
        let _ = ParamStore::load(&path, &Device::Cpu);
        prop_assert!(ResumePoint::load(&path, &Device::Cpu).is_err());
    }

    #[test]
    fn the_metadata_reader_never_panics(
        values in prop::collection::btree_map(
            prop::sample::select(vec![
                "xp.experiment", "xp.vocab", "xp.specials", "xp.labels", "xp.min_len",
                "xp.max_len", "xp.readable_len", "xp.folding", "xp.objectives",
                "xp.weights_sha256",
            ]),
            "[\\[\\]{}\":,a-z0-9]{0,24}",
            0..10,
        ),
    ) {
        let _ = ModelMetadata::from_lookup(|k| values.get(k).map(|v| v.to_string()));
    }
}
