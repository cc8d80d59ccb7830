//! The local backend: a wave's tasks as `xp run` processes on this machine, all at
//! once (see [`crate::runner::Pool`]).

use super::drive::{Backend, Task};
use crate::runner::{Job, Pool, Quiet};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

/// Runs tasks with the `xp` program at `exe`.
pub struct LocalBackend<'a> {
    /// The `xp` program.
    pub exe: PathBuf,
    /// Once set, the running tasks are asked to stop (each writes a resume point) and
    /// the wave ends with an error.
    pub stop: Option<&'a AtomicBool>,
}

impl Backend for LocalBackend<'_> {
    fn run_wave(&mut self, wave: &[Task]) -> Result<(), String> {
        let pool = Pool {
            exe: self.exe.clone(),
            at_once: wave.len(),
            stop: self.stop,
        };
        let jobs = wave.iter().map(|task| {
            Ok(Job {
                label: task.label.clone(),
                args: task.arguments(),
                log: task.log(),
                dir: task.dir.clone(),
                steps: task.steps,
            })
        });
        let ended = pool.run(jobs, &mut Quiet).map_err(|e| e.to_string())?;
        match ended.stopped {
            true => Err(
                "stopped: the trials wrote their resume points; start the tune again to go on"
                    .into(),
            ),
            false => Ok(()),
        }
    }
}
