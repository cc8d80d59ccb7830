//! The local runner: training processes (`xp run ...`), a given number at once, each
//! writing its standard error to its log; a stop is passed on to every process (each
//! writes its resume point and ends). Sweeps and tunes both run their jobs here; what a
//! person sees is the caller's [`Watch`].

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A training process: `xp` with `args`, its standard error appended to `log`.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// For people: `POINT seed N`, `trial 7 to rung 2`.
    pub label: String,
    /// The `xp` arguments.
    pub args: Vec<OsString>,
    /// Its log.
    pub log: PathBuf,
    /// Its run folder (whose events say how far it got).
    pub dir: PathBuf,
    /// Its training steps (for progress).
    pub steps: usize,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It exited well.
    Done,
    /// It failed (its log's last lines say why).
    Failed,
    /// It was stopped with the pool: it resumes when started again.
    Stopped,
}

/// What a person sees of the pool.
pub trait Watch {
    /// `job` started; returns what to do with each line of its standard error (the
    /// line is in its log already).
    fn started(&mut self, job: &Job) -> Box<dyn FnMut(&str) + Send>;
    /// `job` ended.
    fn ended(&mut self, job: &Job, outcome: Outcome);
    /// Called about ten times a second while jobs run.
    fn tick(&mut self) {}
}

/// A watch that shows nothing.
pub struct Quiet;

impl Watch for Quiet {
    fn started(&mut self, _job: &Job) -> Box<dyn FnMut(&str) + Send> {
        Box::new(|_| {})
    }
    fn ended(&mut self, _job: &Job, _outcome: Outcome) {}
}

/// Runs jobs with the `xp` program at `exe`, `at_once` at a time.
pub struct Pool<'a> {
    /// The `xp` program.
    pub exe: PathBuf,
    /// Jobs at once.
    pub at_once: usize,
    /// Once set, no job starts, and the running ones are asked to stop.
    pub stop: Option<&'a AtomicBool>,
}

/// What a pool's run left.
#[derive(Debug, Clone, Default)]
pub struct Ended {
    /// The jobs that failed.
    pub failed: Vec<Job>,
    /// Whether the pool was stopped before every job ran.
    pub stopped: bool,
}

struct Running {
    job: Job,
    child: Child,
    /// Copies its standard error; joined when it ends, so that its log is whole.
    copier: std::thread::JoinHandle<()>,
}

impl Pool<'_> {
    /// Runs `jobs` (each made when its turn comes: an error ends the pool, after the
    /// running jobs), telling `watch`.
    pub fn run(
        &self,
        jobs: impl IntoIterator<Item = std::io::Result<Job>>,
        watch: &mut dyn Watch,
    ) -> std::io::Result<Ended> {
        let stopping = || self.stop.is_some_and(|s| s.load(Ordering::SeqCst));
        let mut queue = jobs.into_iter();
        let mut running: Vec<Running> = Vec::new();
        let mut ended = Ended::default();
        let mut forwarded = false;
        let mut failure = None;
        loop {
            if stopping() && !forwarded {
                // A SIGTERM from a scheduler reaches this process only: pass it on.
                running.iter().for_each(|r| interrupt(&r.child));
                forwarded = true;
            }
            while running.len() < self.at_once.max(1) && !stopping() && failure.is_none() {
                match queue.next() {
                    Some(Ok(job)) => running.push(self.start(job, watch)?),
                    Some(Err(e)) => failure = Some(e),
                    None => break,
                }
            }
            if running.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            watch.tick();
            let mut still = Vec::new();
            for mut r in running {
                let Some(status) = r.child.try_wait()? else {
                    still.push(r);
                    continue;
                };
                let Running { job, copier, .. } = r;
                let _ = copier.join();
                let outcome = match (status.success(), forwarded) {
                    (true, _) => Outcome::Done,
                    (false, true) => Outcome::Stopped,
                    (false, false) => Outcome::Failed,
                };
                if outcome == Outcome::Failed {
                    ended.failed.push(job.clone());
                }
                watch.ended(&job, outcome);
            }
            running = still;
        }
        ended.stopped = stopping();
        match failure {
            Some(e) => Err(e),
            None => Ok(ended),
        }
    }

    /// Starts `job`, its standard error copied to its log and to the watch.
    fn start(&self, job: Job, watch: &mut dyn Watch) -> std::io::Result<Running> {
        let mut child = Command::new(&self.exe)
            .args(&job.args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("cannot start {}: {e}", self.exe.display()),
                )
            })?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| std::io::Error::other("no standard error from a job"))?;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&job.log)?;
        let mut sink = watch.started(&job);
        let copier = std::thread::spawn(move || {
            for line in BufReader::new(stderr)
                .lines()
                .map_while(std::result::Result::ok)
            {
                let _ = writeln!(log, "{line}");
                sink(&line);
            }
        });
        Ok(Running { job, child, copier })
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
