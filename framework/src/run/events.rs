//! A run's life as typed JSON lines (`events.jsonl`): when it started, how far it
//! got, its evaluations, and how it ended. What `xp sweep --status`, the search and
//! [`super::state`] read instead of a person's log.

use super::RunFiles;
use crate::error::{Result, XpError};
use crate::train::{Reporter, SplitMetrics};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// One record of `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// Training started (or resumed) at `step` of `steps`, in process `pid`.
    Started {
        /// The run's step it started at.
        step: usize,
        /// Steps in all.
        steps: usize,
        /// The process training it.
        pid: u32,
    },
    /// Training reached `step` (recorded every [`PROGRESS_EVERY`]).
    Progress {
        /// Steps done.
        step: usize,
    },
    /// An evaluation on validation.
    Evaluated {
        /// Steps done.
        step: usize,
        /// The weighted total validation loss.
        valid_total: f64,
        /// Whether it is the best so far.
        improved: bool,
    },
    /// Something worth telling (an early stop, a skipped step).
    Note {
        /// What.
        message: String,
    },
    /// Paused at `step` with a resume point; it continues with `xp run --resume`.
    Paused(Stop),
    /// Stopped on a signal at `step` with a resume point.
    Interrupted(Stop),
    /// Training ended; the reports follow, then the summary.
    Trained(Stop),
    /// The reports and the summary are written.
    Finished {
        /// Steps trained.
        step: usize,
    },
    /// The run ended with this error.
    Failed {
        /// The error.
        message: String,
    },
}

/// Where a run stopped training, and how it stood.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// The run's step.
    pub step: usize,
    /// The best monitored validation figure so far (none before a finite one).
    pub best: Option<f64>,
    /// Whether patience ran out.
    pub stopped_early: bool,
}

/// How often a [`RunEvent::Progress`] is recorded.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Appends [`RunEvent`]s to a run's `events.jsonl`, each line flushed as written.
pub struct EventLog {
    file: File,
    path: std::path::PathBuf,
}

impl EventLog {
    /// Opens the event log of the run folder `files` to append to it.
    pub fn open(files: &RunFiles) -> Result<Self> {
        let path = files.events();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| XpError::write(&path, e))?;
        Ok(Self { file, path })
    }

    /// Appends `event` as one line.
    pub fn record(&mut self, event: &RunEvent) -> Result<()> {
        let mut line = serde_json::to_string(event).map_err(|e| XpError::Run(e.to_string()))?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| XpError::write(&self.path, e))
    }

    /// The events of the run in `dir`, oldest first; a line a killed writer left
    /// half-written is skipped.
    pub fn read(dir: &Path) -> Vec<RunEvent> {
        std::fs::read_to_string(RunFiles::at(dir).events())
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// A [`Reporter`] that records what it is told in the run's event log and passes it
/// on to the reporter a person watches.
pub struct Recorder<'a> {
    log: EventLog,
    inner: &'a mut dyn Reporter,
    last_progress: Instant,
    /// The first error writing the log, kept to report once training returns.
    pub error: Option<XpError>,
}

impl<'a> Recorder<'a> {
    /// Records into `log`, passing everything on to `inner`.
    pub fn new(log: EventLog, inner: &'a mut dyn Reporter) -> Self {
        Self {
            log,
            inner,
            last_progress: Instant::now(),
            error: None,
        }
    }

    /// Records `event`, keeping the first error.
    pub fn record(&mut self, event: &RunEvent) {
        if let Err(e) = self.log.record(event) {
            self.error.get_or_insert(e);
        }
    }
}

impl Reporter for Recorder<'_> {
    fn start(&mut self, steps: usize) {
        self.inner.start(steps);
    }
    fn step(&mut self, step: usize, losses: &[(String, f64)]) {
        if self.last_progress.elapsed() >= PROGRESS_EVERY {
            self.last_progress = Instant::now();
            self.record(&RunEvent::Progress { step });
        }
        self.inner.step(step, losses);
    }
    fn eval(&mut self, step: usize, valid: &SplitMetrics, best: bool) {
        self.record(&RunEvent::Evaluated {
            step,
            valid_total: valid.total,
            improved: best,
        });
        self.inner.eval(step, valid, best);
    }
    fn note(&mut self, message: &str) {
        self.record(&RunEvent::Note {
            message: message.to_owned(),
        });
        self.inner.note(message);
    }
    fn finish(&mut self) {
        self.inner.finish();
    }
}
