//! The run folder and its owner. Everything that reads or writes a run's files goes
//! through this module:
//!
//! - [`RunFiles`]: the layout, every file name once;
//! - [`RunDir`]: a folder opened to write, holding its lock ([`lock`], [`writer`]);
//! - [`RunSummary`]: `summary.json`, read and written with one typed struct;
//! - [`EnsembleRecord`]: `ensemble.json`, an ensemble's members and weights;
//! - [`RunEvent`]: the run's life as typed JSON lines (`events.jsonl`);
//! - [`state`]: where a run stands (running, paused, interrupted, finished, failed);
//! - [`tags`]: the TensorBoard tags;
//! - [`execute`]: a run's life, from training to its reports and summary.

mod classes;
mod dir;
mod ensemble;
mod events;
mod execute;
mod files;
mod images;
mod lock;
mod reports;
mod state;
mod summary;
pub mod tags;

pub use classes::{
    confusion_matrix, per_class, read_confusion_csv, read_predictions_csv, ClassScores,
    PredictionsTable, RowText, PROBABILITY_PREFIX,
};
pub use dir::{load, load_experiment, load_info, RunDir};
pub use ensemble::{EnsembleMember, EnsembleRecord};
pub use events::{EventLog, Recorder, RunEvent, Stop, PROGRESS_EVERY};
pub use execute::{create, execute, reopen, stopped_message, Finished, Options, Outcome, Reopened};
pub use files::RunFiles;
pub(crate) use lock::remove_temporaries;
pub use lock::{lock, writer};
pub use reports::{draw, read_log, redraw, write_class_reports};
pub use state::{state, RunState};
pub use summary::{RunSummary, StageSummary};
pub use xp_figures::Cells;
