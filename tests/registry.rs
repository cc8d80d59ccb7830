//! Nothing dropped by the linker: every objective crate under `objectives/` is
//! registered in the built `xp` binary. Objective crates live in a folder named after
//! the objective, in lower case (`objectives/sop` registers `SOP`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;

/// The objective names implied by the crate folders under `objectives/`.
fn objective_folders() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("objectives");
    let mut names: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().to_uppercase())
        .collect();
    names.sort();
    names
}

#[test]
fn the_xp_binary_registers_every_objective_crate() {
    let folders = objective_folders();
    assert!(folders.len() >= 5, "{folders:?}");
    let out = common::xp(&["objectives"]);
    assert!(out.status.success());
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert_eq!(
        listed, folders,
        "every crate under objectives/ must be a dependency of the xp binary"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("mask_prob = 0.15"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("swap_prob = 0.5"));
}
