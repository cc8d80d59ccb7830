//! A sweep's runs on disk: `POINT/seed-N` folders with `POINT/seed-N.toml` (the
//! experiment) and `POINT/seed-N.log` beside them, and the `xp` arguments that train
//! one from where it stands (which [`xp_framework::run::state`] says).

use super::{hparams, SweepRun};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use xp_framework::run::RunFiles;

/// The experiment file of the run in `dir` (`POINT/seed-N` -> `POINT/seed-N.toml`).
pub fn experiment_file(dir: &Path) -> PathBuf {
    dir.with_extension("toml")
}

/// The log of the run in `dir` (`POINT/seed-N` -> `POINT/seed-N.log`).
pub fn log_file(dir: &Path) -> PathBuf {
    dir.with_extension("log")
}

/// Writes the experiment file of `run`, and its hyperparameters for TensorBoard, to
/// start it in `dir`.
pub fn write_experiment(run: &SweepRun, dir: &Path) -> std::io::Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    xp_framework::files::write_atomic(&experiment_file(dir), run.experiment.to_toml().as_bytes())
        .map_err(std::io::Error::other)?;
    hparams::start_session(run, dir).map_err(std::io::Error::other)
}

/// The `xp` arguments that train the run in `dir` from where it stands: resume it
/// when it started, else start it from its experiment file.
pub fn run_arguments(dir: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["run".into()];
    if RunFiles::at(dir).is_run() {
        args.extend(["--resume".into(), dir.into()]);
    } else {
        args.extend([experiment_file(dir).into(), "--out".into(), dir.into()]);
    }
    args.push("--plain".into());
    args
}
