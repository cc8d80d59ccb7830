//! Where a run stands, from its folder alone: the one answer that sweeps, searches,
//! `xp compare` and the servers use.

use super::{writer, EventLog, RunEvent, RunFiles, Stop};
use std::path::Path;

/// The state of a run folder.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// No run was started there.
    NotStarted,
    /// A live process is training it (or writing its reports).
    Running {
        /// That process's id, when its lock file says it.
        pid: Option<u32>,
        /// The last step it recorded.
        step: Option<usize>,
    },
    /// Paused with a resume point (`xp run --pause-at`, a search's rung).
    Paused(Stop),
    /// Stopped before its end and resumable: on a signal (`killed` false), or by a
    /// process that died without a word (`killed`: killed, out of memory, the machine
    /// went down), then at its last resume point.
    Interrupted {
        /// The last step it recorded.
        step: Option<usize>,
        /// Whether it ended without recording why.
        killed: bool,
    },
    /// Its reports and summary are written.
    Finished,
    /// It ended with an error.
    Failed {
        /// The error.
        message: String,
    },
}

impl RunState {
    /// A word for tables: `not started`, `running`, `paused`, `interrupted`,
    /// `finished`, `failed`.
    pub fn word(&self) -> &'static str {
        match self {
            RunState::NotStarted => "not started",
            RunState::Running { .. } => "running",
            RunState::Paused(_) => "paused",
            RunState::Interrupted { .. } => "interrupted",
            RunState::Finished => "finished",
            RunState::Failed { .. } => "failed",
        }
    }

    /// Whether the run can go on (`xp run --resume`).
    pub fn is_resumable(&self) -> bool {
        matches!(
            self,
            RunState::Paused(_) | RunState::Interrupted { .. } | RunState::Failed { .. }
        )
    }
}

/// The state of the run in `dir`.
pub fn state(dir: &Path) -> RunState {
    let files = RunFiles::at(dir);
    let events = EventLog::read(dir);
    let last_step = last_step(&events);
    if files.summary().is_file() {
        return RunState::Finished;
    }
    if let Some(pid) = writer(dir) {
        return RunState::Running {
            pid,
            step: last_step,
        };
    }
    if !files.is_run() && events.is_empty() {
        return RunState::NotStarted;
    }
    match events.last() {
        Some(RunEvent::Paused(stop)) => RunState::Paused(*stop),
        Some(RunEvent::Interrupted(stop)) => RunState::Interrupted {
            step: Some(stop.step),
            killed: false,
        },
        Some(RunEvent::Failed { message }) => RunState::Failed {
            message: message.clone(),
        },
        // Started, progressed or trained, and then nothing: the process died.
        Some(_) => RunState::Interrupted {
            step: last_step,
            killed: true,
        },
        // A run of an older xp (no events), or one that died before its first step.
        None => RunState::Interrupted {
            step: None,
            killed: true,
        },
    }
}

/// The last step `events` record.
fn last_step(events: &[RunEvent]) -> Option<usize> {
    events.iter().rev().find_map(|e| match e {
        RunEvent::Started { step, .. }
        | RunEvent::Progress { step }
        | RunEvent::Evaluated { step, .. }
        | RunEvent::Finished { step } => Some(*step),
        RunEvent::Paused(stop) | RunEvent::Interrupted(stop) | RunEvent::Trained(stop) => {
            Some(stop.step)
        }
        RunEvent::Note { .. } | RunEvent::Failed { .. } => None,
    })
}
