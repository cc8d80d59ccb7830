//! The one step from parsed arguments to what the library takes: an experiment read
//! with its overrides, its data stated (`[data]`, else `$XP_DATA_DIR`, else the
//! corpus built into xp), the process's threads sized, a session opened; errors about
//! a field placed at their line or `--set`.

use crate::args::ExperimentArgs;
use anyhow::Result;
use candle_core::Device;
use std::path::{Path, PathBuf};
use xp_framework::config::{DataConfig, Experiment};
use xp_framework::objective::ObjectiveError;
use xp_framework::train::Session;
use xp_framework::XpError;

/// `data` with `$XP_DATA_DIR` as its folder when it names no data and does not ask for
/// the corpus built into xp.
pub fn data(mut data: DataConfig) -> DataConfig {
    if data.reads_embedded() && !data.embedded {
        data.dir = std::env::var_os("XP_DATA_DIR").map(PathBuf::from);
    }
    data
}

/// `experiment` with its data stated ([`data`]), as the run records it.
pub fn with_corpus(mut experiment: Experiment) -> Experiment {
    experiment.data = data(experiment.data);
    experiment
}

/// The experiment of `args`, its data stated and the threads sized for it.
pub fn experiment(args: &ExperimentArgs) -> Result<Experiment> {
    let experiment = with_corpus(Experiment::load(&args.experiment, &args.set.all())?);
    set_threads(experiment.train.threads);
    Ok(experiment)
}

/// The session of `args`' experiment; prints its warnings.
pub fn session(args: &ExperimentArgs) -> Result<Session> {
    open(experiment(args)?).map_err(|e| locate_in(args, e))
}

/// A session of `experiment` (its data stated already), threads sized; prints its
/// warnings.
pub fn session_of(experiment: Experiment) -> Result<Session> {
    set_threads(experiment.train.threads);
    Ok(open(experiment)?)
}

/// Opens the session of `experiment` and prints its warnings.
fn open(experiment: Experiment) -> std::result::Result<Session, XpError> {
    let session = Session::open(experiment)?;
    warn(&session.warnings);
    Ok(session)
}

/// Prints each warning on standard error.
pub fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// `error` placed in `args`' experiment file or overrides.
pub fn locate_in(args: &ExperimentArgs, error: XpError) -> anyhow::Error {
    locate(error, &args.experiment, &args.set.all())
}

/// `error` with, when it is about a field of the experiment at `path` (an
/// objective's own field, found while its objective is built), the line or the
/// `--set` that gave the field.
pub fn locate(error: XpError, path: &Path, overrides: &[String]) -> anyhow::Error {
    let config = match error {
        XpError::Config(c) | XpError::Objective(ObjectiveError::Config(c)) => c,
        other => return other.into(),
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    config
        .locate(&path.display().to_string(), &text, overrides)
        .into()
}

/// Sizes the pool that trains batch slices and evaluates batches: `threads` workers
/// (0: one per core), and makes candle's own kernels single-threaded inside each
/// worker: for a model this small, slices of a batch on separate cores beat one matrix
/// product split across them. The binary owns the process, so it, not the library,
/// sizes the thread pools; called before any tensor work.
pub fn set_threads(threads: usize) {
    let workers = xp_framework::train::slice_count(threads, &Device::Cpu);
    // candle reads these at every matrix product; it has no other setting.
    for var in ["RAYON_NUM_THREADS", "CANDLE_NUM_THREADS"] {
        std::env::set_var(var, "1");
    }
    // Fails only when the pool already exists (a second experiment in one process).
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build_global();
}
