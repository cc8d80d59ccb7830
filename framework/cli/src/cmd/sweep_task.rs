//! `xp sweep-task TASKS INDEX`: what a Slurm task of a sweep runs.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::Command;

/// `xp sweep-task`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The submission's task list.
    tasks: PathBuf,
    /// The array task's index ($SLURM_ARRAY_TASK_ID).
    index: usize,
}

/// Runs `xp sweep-task`: trains the run on line `index` of `tasks` from where it
/// stands (nothing when it is done; a resume when a requeued or preempted task finds
/// it started), as this very process.
pub fn run(args: Args) -> Result<()> {
    let (dir, arguments) = xp_study::sweep::task(&args.tasks, args.index)?;
    let Some(arguments) = arguments else {
        eprintln!("{} is done already", dir.display());
        return Ok(());
    };
    let resuming = arguments.iter().any(|a| a == "--resume");
    eprintln!(
        "task {}: {} {}",
        args.index,
        if resuming { "resuming" } else { "starting" },
        dir.display()
    );
    let exe = std::env::current_exe().context("cannot find the xp program")?;
    let mut command = Command::new(exe);
    command.args(arguments);
    exec(&mut command)
}

/// Replaces this process with `command`, so that Slurm's signals reach the run.
#[cfg(unix)]
fn exec(command: &mut Command) -> Result<()> {
    use std::os::unix::process::CommandExt;
    Err(command.exec()).context("cannot start the run")
}
