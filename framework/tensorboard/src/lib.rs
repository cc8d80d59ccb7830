//! TensorBoard event files without TensorFlow: scalars, PNG images and the HParams
//! plugin's data, framed as TFRecords, written by appending and resumed by cutting back
//! to a step.
//!
//! The few messages an event file needs are encoded by hand ([`proto`]) from the field
//! numbers of TensorBoard's `.proto` files, so the crate needs no protobuf compiler and
//! no generated code; the tests compare bytes with TensorBoard's own encoding, and the
//! workspace's end-to-end test reads the files back with TensorBoard's reader.
//!
//! ```no_run
//! # fn main() -> Result<(), xp_tensorboard::EventFileError> {
//! let path = std::path::Path::new("runs/demo").join(xp_tensorboard::RUN_FILE);
//! let mut events = xp_tensorboard::EventWriter::create(&path)?;
//! events.scalars(500, [("CLS/valid/accuracy", 0.71), ("lr", 1e-4)])?;
//! events.flush()?;
//! # Ok(())
//! # }
//! ```

pub mod event;
pub mod hparams;
pub mod proto;
pub mod record;
mod writer;

pub use writer::{now, EventFileError, EventWriter};

/// The event file a run writes its scalars and figures to. TensorBoard reads every file
/// whose name holds `tfevents`.
pub const RUN_FILE: &str = "events.out.tfevents.xp-run";

/// The event file of HParams data that a sweep writes: the study's description in the
/// sweep's folder, a session's hyperparameters in each run's. It sorts before
/// [`RUN_FILE`], so a reader meets a run's hyperparameters first.
pub const HPARAMS_FILE: &str = "events.out.tfevents.xp-hparams";
