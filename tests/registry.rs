//! Every objective crate is linked and registered: in this test binary, and in `xp`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

extern crate xp_objective_cls as _;
extern crate xp_objective_la as _;
extern crate xp_objective_mlm as _;
extern crate xp_objective_nsp as _;

const EXPECTED: [&str; 4] = ["CLS", "LA", "MLM", "NSP"];

#[test]
fn every_objective_crate_registers() {
    let names: Vec<&str> = xp_framework::objective::registered()
        .iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, EXPECTED);
}

#[test]
fn the_xp_binary_lists_every_objective() {
    let out = common::xp(&["objectives"]);
    assert!(out.status.success());
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert_eq!(listed, EXPECTED);
    assert!(String::from_utf8_lossy(&out.stdout).contains("mask_prob = 0.15"));
}
