//! Training with the fused CPU kernels gives the losses of the composed layers
//! (`train.kernels`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

extern crate xp_objective_cls as _;
extern crate xp_objective_la as _;
extern crate xp_objective_mlm as _;
extern crate xp_objective_nsp as _;

use common::{tiny_experiment, ALL_OBJECTIVES};
use xp_framework::config::Experiment;
use xp_framework::train::{relative_difference, step_losses};

#[test]
fn fused_kernels_train_like_the_composed_layers() {
    for variant in [
        vec![],
        vec![
            "model.norm_first=true",
            "model.activation=\"gelu\"",
            "model.positions=\"learned\"",
            "model.conv_width=3",
        ],
    ] {
        let with = |kernels: &str| {
            let mut overrides: Vec<String> = variant.iter().map(|s| s.to_string()).collect();
            overrides.push(format!("train.kernels=\"{kernels}\""));
            Experiment::parse(&tiny_experiment("f", ALL_OBJECTIVES), "test", &overrides).unwrap()
        };
        let exp = with("fused");
        assert!(exp.model.dropout > 0.0, "dropout must be exercised");
        let fused = step_losses(exp, 5).unwrap();
        let composed = step_losses(with("composed"), 5).unwrap();
        for (step, (f, c)) in fused.iter().zip(&composed).enumerate() {
            for ((name, f), (_, c)) in f.iter().zip(c) {
                let rel = relative_difference(*c, *f);
                assert!(rel < 1e-4, "{variant:?} step {step} {name}: {f} vs {c}");
            }
        }
    }
}
