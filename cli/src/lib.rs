//! The `xp` command line as a library function: a binary that links its own objective
//! crates calls [`main`] and gets the whole CLI, those objectives included.

mod args;
mod bench;
mod commands;
mod reeval;
mod serving;

pub use args::Cli;

use clap::Parser;

/// Parses the process arguments, runs the command, prints any error chain once, and
/// returns the exit code (0 on success, 1 on error, 2 on bad usage).
pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match commands::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each cause once: typed errors often quote their source
/// in their own message already.
fn describe(e: &anyhow::Error) -> String {
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
