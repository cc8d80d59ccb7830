//! The local backend: a wave's tasks as `xp run` processes on this machine, all at
//! once, each writing its standard error to its log.

use super::drive::{Backend, Task};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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
        let mut children: Vec<Child> = Vec::new();
        for task in wave {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(task.log())
                .map_err(|e| format!("cannot write {}: {e}", task.log().display()))?;
            let child = Command::new(&self.exe)
                .args(task.arguments())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", self.exe.display()))?;
            children.push(child);
        }
        let mut asked = false;
        loop {
            let stopping = self.stop.is_some_and(|s| s.load(Ordering::SeqCst));
            if stopping && !asked {
                children.iter().for_each(interrupt);
                asked = true;
            }
            let mut running = false;
            for child in &mut children {
                running |= child.try_wait().map_err(|e| e.to_string())?.is_none();
            }
            if !running {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        match asked {
            true => Err(
                "stopped: the trials wrote their resume points; start the tune again to go on"
                    .into(),
            ),
            false => Ok(()),
        }
    }
}

/// Sends SIGINT to `child`: a run stops at its next step with a resume point.
fn interrupt(child: &Child) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) on a child this process started and has not reaped; it
        // touches no memory of ours.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
    }
}
