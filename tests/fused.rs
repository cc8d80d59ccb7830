//! Training with the fused CPU kernels gives the losses of the composed layers.
//! (Its own test binary: it switches the kernels for the whole process.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

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
        ],
    ] {
        let overrides: Vec<String> = variant.iter().map(|s| s.to_string()).collect();
        let exp =
            Experiment::parse(&tiny_experiment("f", ALL_OBJECTIVES), "test", &overrides).unwrap();
        assert!(exp.model.dropout > 0.0, "dropout must be exercised");
        xp_models::set_fused_enabled(true);
        let fused = step_losses(exp.clone(), 5).unwrap();
        xp_models::set_fused_enabled(false);
        let composed = step_losses(exp, 5).unwrap();
        xp_models::set_fused_enabled(true);
        for (step, (f, c)) in fused.iter().zip(&composed).enumerate() {
            for ((name, f), (_, c)) in f.iter().zip(c) {
                let rel = relative_difference(*c, *f);
                assert!(rel < 1e-4, "{variant:?} step {step} {name}: {f} vs {c}");
            }
        }
    }
}
