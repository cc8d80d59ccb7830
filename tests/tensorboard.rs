//! TensorBoard reads what xp writes: a small sweep, one of its runs extended past its
//! end with `--resume`, then `tests/tensorboard_check.py` reads every event file with
//! TensorBoard's own reader (its event accumulator) and checks the scalars, images and
//! HParams data against the CSV, PNG and JSON files of each run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{stderr, tiny_experiment, write, ALL_OBJECTIVES};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python with the `tensorboard` package: `$XP_TEST_PYTHON`, else `./.venv`'s, which
/// `scripts/test.sh` installs.
fn python() -> PathBuf {
    let path = std::env::var_os("XP_TEST_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "{} is missing: run ./scripts/test.sh (it installs tensorboard into ./.venv) or set XP_TEST_PYTHON",
        path.display()
    );
    path
}

#[test]
fn tensorboards_reader_reads_every_scalar_image_and_the_hparams_of_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base.toml",
        &tiny_experiment("base", ALL_OBJECTIVES),
    );
    let sweep = write(
        dir.path(),
        "sweep.toml",
        "name = \"tb\"\nbase = \"base.toml\"\n[axes]\n\"model.norm_first\" = [false, true]\nseed = [1, 2]\n[set]\n\"train.steps\" = 100\n\"train.eval_every\" = 25\n",
    );
    let out = dir.path().join("runs");
    let done = common::xp(&[
        "sweep",
        sweep.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(done.status.success(), "{}", stderr(&done));
    let extended = out.join("norm_first=true/seed-2");
    let more = common::xp(&[
        "run",
        "--resume",
        extended.to_str().unwrap(),
        "--set",
        "train.steps=150",
    ]);
    assert!(more.status.success(), "{}", stderr(&more));
    let check = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tensorboard_check.py"))
        .args([&out, &extended])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(check.status.success(), "{said}");
    assert!(said.contains("tensorboard: 4 runs"), "{said}");
    eprintln!("{said}");
}
