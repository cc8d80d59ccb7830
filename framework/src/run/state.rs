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
    if files.summary().is_file() {
        return RunState::Finished;
    }
    let events = EventLog::read(dir);
    let last_step = last_step(&events);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Result, XpError};

    fn folder() -> Result<tempfile::TempDir> {
        tempfile::tempdir().map_err(|e| XpError::Run(e.to_string()))
    }

    /// A run folder whose experiment is written and whose events are `events`.
    fn run_with(dir: &Path, events: &[RunEvent]) -> Result<()> {
        let files = RunFiles::at(dir);
        std::fs::write(files.experiment(), "name = \"t\"\n")
            .map_err(|e| XpError::write(files.experiment(), e))?;
        let mut log = EventLog::open(&files)?;
        for event in events {
            log.record(event)?;
        }
        Ok(())
    }

    fn started(step: usize) -> RunEvent {
        RunEvent::Started {
            step,
            steps: 100,
            pid: 1,
        }
    }

    const STOP: Stop = Stop {
        step: 40,
        best: Some(0.5),
        stopped_early: false,
    };

    #[test]
    fn an_empty_folder_holds_no_run() -> Result<()> {
        let dir = folder()?;
        assert_eq!(state(dir.path()), RunState::NotStarted);
        assert_eq!(state(&dir.path().join("absent")), RunState::NotStarted);
        Ok(())
    }

    #[test]
    fn a_locked_run_is_running_at_its_last_step_and_a_stale_lock_is_not() -> Result<()> {
        let dir = folder()?;
        run_with(dir.path(), &[started(0), RunEvent::Progress { step: 30 }])?;
        let held = super::super::lock(dir.path())?;
        assert_eq!(
            state(dir.path()),
            RunState::Running {
                pid: Some(std::process::id()),
                step: Some(30)
            }
        );
        drop(held);
        // The lock file stays with the id of a process that is gone: a killed run.
        assert_eq!(
            state(dir.path()),
            RunState::Interrupted {
                step: Some(30),
                killed: true
            }
        );
        Ok(())
    }

    #[test]
    fn how_a_run_ended_is_its_last_event() -> Result<()> {
        let cases = [
            (RunEvent::Paused(STOP), RunState::Paused(STOP)),
            (
                RunEvent::Interrupted(STOP),
                RunState::Interrupted {
                    step: Some(40),
                    killed: false,
                },
            ),
            (
                RunEvent::Failed {
                    message: "step 7: loss is not finite".into(),
                },
                RunState::Failed {
                    message: "step 7: loss is not finite".into(),
                },
            ),
            // Trained, then killed while writing its reports: it resumes.
            (
                RunEvent::Trained(STOP),
                RunState::Interrupted {
                    step: Some(40),
                    killed: true,
                },
            ),
        ];
        for (last, expected) in cases {
            let dir = folder()?;
            run_with(dir.path(), &[started(0), last.clone()])?;
            assert_eq!(state(dir.path()), expected, "after {last:?}");
            assert!(state(dir.path()).is_resumable());
        }
        Ok(())
    }

    #[test]
    fn a_run_with_a_summary_is_finished_and_a_run_of_an_older_xp_resumes() -> Result<()> {
        let dir = folder()?;
        run_with(dir.path(), &[])?;
        assert_eq!(
            state(dir.path()),
            RunState::Interrupted {
                step: None,
                killed: true
            }
        );
        let summary = RunFiles::at(dir.path()).summary();
        std::fs::write(&summary, "{}").map_err(|e| XpError::write(&summary, e))?;
        assert_eq!(state(dir.path()), RunState::Finished);
        assert_eq!(state(dir.path()).word(), "finished");
        Ok(())
    }

    #[test]
    fn a_line_cut_short_by_a_kill_is_skipped() -> Result<()> {
        let dir = folder()?;
        run_with(dir.path(), &[started(0), RunEvent::Paused(STOP)])?;
        let events = RunFiles::at(dir.path()).events();
        let mut text = std::fs::read_to_string(&events).map_err(|e| XpError::read(&events, e))?;
        text.push_str("{\"event\":\"progr");
        std::fs::write(&events, text).map_err(|e| XpError::write(&events, e))?;
        assert_eq!(state(dir.path()), RunState::Paused(STOP));
        Ok(())
    }
}
