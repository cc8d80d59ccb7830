//! Training end to end on the test corpus with a tiny model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

extern crate xp_objective_cls as _;
extern crate xp_objective_la as _;
extern crate xp_objective_mlm as _;
extern crate xp_objective_nsp as _;

use common::{tiny_experiment, write, xp, ALL_OBJECTIVES};
use rand::SeedableRng;
use xp_framework::config::Experiment;
use xp_framework::run::RunDir;
use xp_framework::train::{evaluate, Session, SilentReporter, Trained};
use xp_framework::SmallRng;

fn session(objectives: &str, overrides: &[&str]) -> Session {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let exp = Experiment::parse(&tiny_experiment("t", objectives), "test", &overrides).unwrap();
    Session::open(exp).unwrap()
}

#[test]
fn the_reference_model_has_the_reference_parameter_count() {
    let exp = Experiment::parse(&tiny_experiment("t", ALL_OBJECTIVES), "test", &[]).unwrap();
    let mut exp = exp;
    exp.model = Default::default();
    let s = Session::open(exp).unwrap();
    assert_eq!(s.info.vocab.len(), 59);
    assert_eq!(s.model.params.count(), 489_226);
}

#[test]
fn checkpoint_keys_are_stable() {
    let s = session(ALL_OBJECTIVES, &["model.positions=\"learned\""]);
    let names: Vec<String> = s.model.params.vars().into_iter().map(|(n, _)| n).collect();
    for expected in [
        "encoder.tok_emb.weight",
        "encoder.pos_emb.weight",
        "encoder.seg_emb.weight",
        "encoder.layers.0.attn.in_proj.weight",
        "encoder.layers.0.attn.out_proj.bias",
        "encoder.layers.0.ffn.lin1.weight",
        "encoder.layers.0.ffn.lin2.bias",
        "encoder.layers.0.norm1.weight",
        "encoder.layers.0.norm2.bias",
        "heads.CLS.dense.weight",
        "heads.CLS.norm.weight",
        "heads.CLS.out.weight",
        "heads.MLM.out.bias",
        "heads.LA.out.weight",
        "heads.NSP.out.weight",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "missing {expected} in {names:?}"
        );
    }
    assert_eq!(names.len(), 3 + 12 + 4 * 6);
}

#[test]
fn one_stacked_encoder_pass_equals_one_pass_per_objective() {
    let s = session(ALL_OBJECTIVES, &["model.norm_first=true"]);
    let batch = s.dataset.batch(&s.sets.train[..24]);
    let prepared = s.model.prepare(&batch, &mut SmallRng::seed_from_u64(1));
    let mode = xp_models::Mode::eval();
    let stacked = s.model.forward(&prepared, &mode).unwrap();
    let separate = s.model.forward_unstacked(&prepared, &mode).unwrap();
    for (a, b) in stacked.iter().zip(&separate) {
        let (a, b) = (
            a.loss.to_scalar::<f32>().unwrap(),
            b.loss.to_scalar::<f32>().unwrap(),
        );
        assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn masked_cls_reads_mlms_masked_names_and_shares_its_rows() {
    let s = session(ALL_OBJECTIVES, &[]);
    let batch = s.dataset.batch(&s.sets.train[..24]);
    let prepared = s.model.prepare(&batch, &mut SmallRng::seed_from_u64(1));
    let index = |name: &str| {
        s.model
            .objectives
            .iter()
            .position(|a| a.name == name)
            .unwrap()
    };
    let (cls, mlm) = (index("CLS"), index("MLM"));
    assert_eq!(prepared[cls].input, prepared[mlm].input);
    assert_ne!(prepared[cls].input.tokens, batch.tokens, "names are masked");
    let stacked =
        xp_framework::stack::Stacked::new(&prepared, 2, &candle_core::Device::Cpu).unwrap();
    assert_eq!(stacked.blocks[cls], stacked.blocks[mlm]);
    assert_eq!(
        stacked.input().tokens.dim(0).unwrap(),
        3 * 24,
        "one block for both"
    );
    // Batches differ in masking.
    let other = s.model.prepare(&batch, &mut SmallRng::seed_from_u64(2));
    assert_ne!(prepared[mlm].input, other[mlm].input);
}

#[test]
fn gradients_reach_every_parameter_and_detach_stops_them() {
    let out = xp(&[
        "check",
        write(
            tempfile::tempdir().unwrap().keep().as_path(),
            "e.toml",
            &tiny_experiment("g", ALL_OBJECTIVES),
        )
        .to_str()
        .unwrap(),
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("from each of 4 objectives"));

    let s = session("[objectives.CLS]\ndetach = true\n[objectives.MLM]\n", &[]);
    let batch = s.dataset.batch(&s.sets.train[..16]);
    let prepared = s.model.prepare(&batch, &mut SmallRng::seed_from_u64(1));
    let outputs = s
        .model
        .forward(&prepared, &xp_models::Mode::eval())
        .unwrap();
    let cls = s
        .model
        .objectives
        .iter()
        .position(|a| a.name == "CLS")
        .unwrap();
    let grads = outputs[cls].loss.backward().unwrap();
    for (name, var) in s.model.params.vars() {
        let reached = grads.get(&var).is_some();
        assert_eq!(
            reached,
            name.starts_with("heads.CLS."),
            "{name}: detached CLS reaches only its head"
        );
    }
}

#[test]
fn a_run_writes_everything_and_learns() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(
        dir.path(),
        "e.toml",
        &tiny_experiment("all", ALL_OBJECTIVES),
    );
    let run = dir.path().join("run");
    let out = xp(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--set",
        "train.steps=60",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    for needle in ["CLS", "MLM", "LA", "NSP", "total", "test loss/acc"] {
        assert!(table.contains(needle), "{table}");
    }
    for file in [
        "experiment.toml",
        "vocab.json",
        "model.safetensors",
        "metrics.csv",
        "metrics.jsonl",
        "metrics.png",
        "total_loss.png",
        "summary.json",
        "confusion_CLS.csv",
        "confusion_CLS.png",
        "classes_CLS.csv",
        "test_predictions_CLS.csv",
        "resume.safetensors",
        "events.out.tfevents.xp-run",
    ] {
        assert!(run.join(file).is_file(), "missing {file}");
    }
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("step,split,objective,loss,accuracy,lr"));
    let total = |step: &str| -> f64 {
        let row = csv
            .lines()
            .find(|l| l.starts_with(&format!("{step},valid,total,")))
            .unwrap();
        row.split(',').nth(3).unwrap().parse().unwrap()
    };
    assert!(total("60") < total("15"), "validation loss falls:\n{csv}");
    // The resolved experiment is complete and loads again; the run refuses a second use.
    let resolved = std::fs::read_to_string(run.join("experiment.toml")).unwrap();
    assert!(resolved.contains("mask_prob = 0.15") && resolved.contains("swap_prob = 0.5"));
    let again = xp(&["run", exp.to_str().unwrap(), "--out", run.to_str().unwrap()]);
    common::assert_clean_failure(&again, "already holds a run");

    // `xp eval`: draw 0 is the run's own test figure; more draws spread MLM and NSP.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let reported = summary["splits"]["test"]["objectives"]["CLS"]["accuracy"]
        .as_f64()
        .unwrap();
    // The layout a jq or pandas user expects: objects keyed by split and objective.
    assert_eq!(summary["format"], 2);
    assert_eq!(summary["seed"], 7);
    let hash = summary["experiment_sha256"].as_str().unwrap();
    assert!(
        hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{hash}"
    );
    assert!(summary["splits"]["valid"]["total"].is_f64());
    let predictions = std::fs::read_to_string(run.join("test_predictions_CLS.csv")).unwrap();
    assert!(
        predictions.starts_with("row,text,true,predicted,p_"),
        "{predictions}"
    );
    let eval = |draws: &str| {
        let out = xp(&["eval", run.to_str().unwrap(), "--draws", draws]);
        assert!(out.status.success(), "{}", common::stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // An objective's numbers: loss, its sd, accuracy, its sd.
    let numbers = |text: &str, objective: &str| -> Vec<f64> {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{objective} ")))
            .unwrap();
        line.split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect()
    };
    let one = eval("1");
    assert!(one.contains("1 draw of the transforms"), "{one}");
    assert!(
        (numbers(&one, "CLS")[2] - reported).abs() < 5e-5,
        "{one} vs {reported}"
    );
    let four = eval("4");
    assert!(
        numbers(&four, "MLM")[3] > 0.0,
        "masking differs between draws: {four}"
    );
    assert_eq!(numbers(&four, "LA")[3], 0.0, "LA draws nothing: {four}");
    common::assert_clean_failure(
        &xp(&["eval", run.to_str().unwrap(), "--splits", "tset"]),
        "unknown split `tset`",
    );
    common::assert_clean_failure(
        &xp(&["eval", dir.path().to_str().unwrap()]),
        "is not a run directory",
    );
}

#[test]
fn same_seed_same_metrics_and_the_checkpoint_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let objectives = "[objectives.CLS]\n[objectives.NSP]\n";
    let train = |name: &str, extra: &[&str]| {
        let overrides = [&["train.steps=20", "train.eval_every=10"], extra].concat();
        let s = session(objectives, &overrides);
        let run = RunDir::create(&dir.path().join(name)).unwrap();
        let summary =
            xp_framework::train::train(&s, &run, &mut SilentReporter, Default::default()).unwrap();
        let Trained::Finished(trained) = summary else {
            panic!("the run did not finish");
        };
        serde_json::to_value(&trained.summary.splits).unwrap()
    };
    // The test metrics of a run's checkpoint, evaluated afresh.
    let reloaded = |name: &str| {
        let (exp, _, model) =
            xp_framework::run::load(&dir.path().join(name), &candle_core::Device::Cpu).unwrap();
        let s = session(objectives, &[]);
        let test = evaluate(
            &model,
            &s.dataset,
            &s.sets.test,
            exp.train.eval_batch_size,
            exp.seed,
            false,
        )
        .unwrap();
        serde_json::to_value(&test).unwrap()["objectives"].clone()
    };
    let first = train("r0", &[]);
    assert_eq!(first, train("r1", &[]));
    assert_eq!(reloaded("r0"), first[2][1]["objectives"]);

    // With weight averaging, the checkpoint holds (and the run reports) the average.
    let averaged = train("ema", &["train.ema=0.9"]);
    assert_ne!(averaged, first);
    assert_eq!(reloaded("ema"), averaged[2][1]["objectives"]);
}

#[test]
fn a_corrupt_checkpoint_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(
        "[objectives.CLS]\n",
        &["train.steps=10", "train.eval_every=10"],
    );
    let run = RunDir::create(&dir.path().join("r")).unwrap();
    xp_framework::train::train(&s, &run, &mut SilentReporter, Default::default()).unwrap();
    std::fs::write(run.files.checkpoint(), b"garbage").unwrap();
    let err = xp_framework::run::load(&run.path, &candle_core::Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("cannot load checkpoint"), "{err}");
}

#[test]
fn parity_runs_both_devices_with_dropout_off_and_compares_every_loss() {
    let exp = Experiment::parse(&tiny_experiment("t", ALL_OBJECTIVES), "test", &[]).unwrap();
    assert!(
        exp.model.dropout > 0.0,
        "the tiny experiment should use dropout"
    );
    let report = xp_framework::train::parity(&exp, "cpu", 4).unwrap();
    assert_eq!(report.steps.len(), 4);
    for s in &report.steps {
        let names: Vec<&str> = s.losses.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["CLS", "LA", "MLM", "NSP", "total"]);
        assert!(s.losses.iter().all(|(_, c, d)| c.is_finite() && c == d));
    }
    assert_eq!(report.worst().0, 0.0);
    // The losses move: these are training steps, not four evaluations.
    let totals: Vec<f64> = report.steps.iter().map(|s| s.losses[4].1).collect();
    assert!(totals.windows(2).any(|w| w[0] != w[1]));
    assert!(xp_framework::train::relative_difference(1.0, 1.0005) < 1e-3);
    assert!(xp_framework::train::relative_difference(1.0, f64::NAN).is_nan());

    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "exp.toml",
        &tiny_experiment("p", ALL_OBJECTIVES),
    );
    let out = xp(&[
        "parity",
        path.to_str().unwrap(),
        "--device",
        "cpu",
        "--steps",
        "2",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("2 steps on cpu and cpu agree"), "{stdout}");
}

#[test]
fn slices_on_threads_train_like_the_whole_batch() {
    // Dropout off: slicing then changes nothing but float rounding. Three slices of
    // 16 names are uneven, and some hold more targets than others.
    let losses = |threads: &str, dropout: &str| {
        let overrides: Vec<String> = [
            format!("model.dropout={dropout}"),
            format!("model.head_dropout={dropout}"),
            threads.to_owned(),
        ]
        .to_vec();
        let exp =
            Experiment::parse(&tiny_experiment("s", ALL_OBJECTIVES), "test", &overrides).unwrap();
        xp_framework::train::step_losses(exp, 5).unwrap()
    };
    let whole = losses("train.threads=1", "0.0");
    let sliced = losses("train.threads=3", "0.0");
    for (step, (w, s)) in whole.iter().zip(&sliced).enumerate() {
        for ((name, w), (_, s)) in w.iter().zip(s) {
            let rel = xp_framework::train::relative_difference(*w, *s);
            assert!(rel < 1e-5, "step {step} {name}: {w} vs {s}");
        }
    }
    // The weights moved the same way: step 5's losses come from four updates.
    assert!(whole[4] != whole[0]);
    // With dropout each slice draws its own masks: the batch really was sliced.
    let first = |l: Vec<Vec<(String, f64)>>| l[0].clone();
    assert_ne!(
        first(losses("train.threads=1", "0.1")),
        first(losses("train.threads=3", "0.1"))
    );
}

#[test]
fn a_loose_length_bound_costs_what_the_data_needs() {
    let loose = session("[objectives.CLS]\n", &["data.max_len=400"]);
    let longest = loose
        .dataset
        .batch(&loose.sets.train)
        .lengths
        .into_iter()
        .chain(loose.dataset.batch(&loose.sets.valid).lengths)
        .chain(loose.dataset.batch(&loose.sets.test).lengths)
        .max()
        .unwrap();
    assert!(longest < 400, "the corpus has no 400-letter name");
    // Sequences and position tables follow the longest name, not the bound.
    assert_eq!(loose.info.max_len, longest);
    assert_eq!(loose.dataset.batch(&[0]).seq_len, longest + 1);
    let table = loose.model.encoder.positions().table().dims().to_vec();
    assert_eq!(table[0], longest + 2);
}
