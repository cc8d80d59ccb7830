//! The training loop and what it needs: evaluation, metrics, logs, progress, checkpoints.

mod average;
mod evaluate;
mod log;
mod metrics;
mod parity;
mod progress;
mod session;
mod slices;
mod step;
mod trainer;

pub use average::WeightAverage;
pub use evaluate::evaluate;
pub use log::{LogRow, MetricsLog};
pub use metrics::{Metric, SplitMetrics, Tally};
pub use parity::{parity, relative_difference, step_losses, ParityReport, ParityStep};
pub use progress::{PlainReporter, ProgressReporter, Reporter, SilentReporter};
pub use session::{set_threads, RunDir, Session};
pub use slices::{merge_outputs, slice_count, sum_gradients, Slices};
pub use step::{StepTimes, Trainer};
pub use trainer::{train, RunSummary};
