//! The training loop and what it needs: evaluation, metrics, logs, progress, checkpoints.

mod average;
mod batches;
mod checkpoint;
mod evaluate;
mod init;
mod log;
mod metrics;
mod ngram;
mod parity;
mod progress;
mod resume;
mod session;
mod slices;
mod step;
mod trainer;

pub use average::{with_average, AverageState, WeightAverage};
pub use batches::{Batches, BatchesPosition};
pub use checkpoint::{CheckpointState, Checkpointer, Verdict};
pub use evaluate::evaluate;
pub use log::{LogRow, MetricsLog};
pub use metrics::{as_object, from_object, Metric, Predictions, SplitMetrics, Tally, TrainWindow};
pub use parity::{parity, relative_difference, step_losses, ParityReport, ParityStep};
pub use progress::{Reporter, SilentReporter};
pub use resume::{changed_fields, LoopCounters, ResumePoint, ResumeState, StagePosition};
pub use session::{check_device, Session};
pub use slices::{merge_outputs, slice_count, sum_gradients, Slices};
pub use step::{Step, StepTimes, Trainer};
pub use trainer::{train, TrainOptions, Trained, TrainedRun};
