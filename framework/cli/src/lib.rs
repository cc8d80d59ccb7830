//! The `xp` command line as a library function: a binary names the objective crates
//! it links in [`main_with`] and gets the whole CLI, those objectives included.
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     xp_cli::main_with(&[my_objective::OBJECTIVE, xp_objective_cls::OBJECTIVE])
//! }
//! ```
//!
//! Naming each crate's `OBJECTIVE` (made by `xp_objective::register!`) is what keeps
//! the linker from dropping the crate and its registration.

pub mod args;
mod cmd;
mod model_source;
mod pool_view;
pub mod resolve;
pub mod show;
mod table;
mod watch;

pub use xp_framework::objective::ObjectiveEntry;

use clap::Parser;
use xp_framework::objective::registered;

/// Train character-level transformers on the names corpus with any mix of objectives.
#[derive(Debug, Parser)]
#[command(name = "xp", version)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: cmd::Command,
}

/// Checks that every objective in `linked` is registered, then parses the process
/// arguments, runs the command, prints any error chain once, and returns the exit code
/// (0 on success, 1 on error, 2 on bad usage).
pub fn main_with(linked: &[ObjectiveEntry]) -> std::process::ExitCode {
    std::process::ExitCode::from(main_from(linked, std::env::args_os()))
}

/// [`main_with`] on the arguments `args` (the program's name first), returning the
/// exit code as a number: what a host that starts the command itself calls, such as
/// the Python package's `xp` script.
pub fn main_from(
    linked: &[ObjectiveEntry],
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> u8 {
    quiet_broken_pipe();
    if let Err(e) = check_linked(linked) {
        eprintln!("error: {e}");
        return 1;
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command.run() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            1
        }
    }
}

/// Every named objective must be in the registry, and no two crates may register
/// one name.
fn check_linked(linked: &[ObjectiveEntry]) -> Result<(), String> {
    let all = registered();
    for entry in linked {
        if !all.iter().any(|e| e.name == entry.name) {
            return Err(format!(
                "objective {} is named in main_with but not registered: its crate must submit it with xp_objective::register!",
                entry.name
            ));
        }
    }
    if let Some(pair) = all.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!(
            "two linked crates register an objective named {}: rename one",
            pair[0].name
        ));
    }
    Ok(())
}

/// The error and its causes, each cause once: typed errors often quote their source
/// in their own message already.
pub fn describe(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Ends the process quietly when its output is closed (`xp objectives | head`), as
/// other command-line tools do, instead of panicking in `println!`: Rust starts
/// programs with SIGPIPE ignored, so a write to a closed pipe is an error it panics on.
fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition at start-up, before any thread
    // exists, touches no memory; it is what a C program starts with.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
