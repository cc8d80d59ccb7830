//! xp as one dependency: the command line with the objectives built into xp (`xp
//! objectives` lists them). A project with objectives of its own depends on `xp` and on
//! its objective crates, and its binary names only its own:
//!
//! ```no_run
//! # mod my_objective { pub const OBJECTIVE: xp::ObjectiveEntry = xp::BUILTIN[0]; }
//! fn main() -> std::process::ExitCode {
//!     xp::main_with(&[my_objective::OBJECTIVE])
//! }
//! ```
//!
//! Naming a crate's `OBJECTIVE` (made by `xp_objective::register!`) is what links it in
//! with its registration; a crate that is a dependency but is not named is dropped by
//! the linker, and its objective is unknown.

pub use xp_cli::ObjectiveEntry;

// `BUILTIN`: every `xp-objective-*` dependency of this package (see build.rs).
include!(concat!(env!("OUT_DIR"), "/objectives.rs"));

// Training allocates and frees many large tensors every step; glibc serves each
// with a fresh mmap, and the page faults cost a quarter of a step. mimalloc reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs the `xp` command line with the built-in objectives and `extra` (a project's
/// own), and returns the exit code (0 on success, 1 on error, 2 on bad usage).
pub fn main_with(extra: &[ObjectiveEntry]) -> std::process::ExitCode {
    std::process::ExitCode::from(main_from(extra, std::env::args_os()))
}

/// [`main_with`] on the arguments `args` (the program's name first), the exit code as
/// a number: what the Python package's `xp` script runs.
pub fn main_from(
    extra: &[ObjectiveEntry],
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> u8 {
    let mut all = BUILTIN.to_vec();
    all.extend_from_slice(extra);
    xp_cli::main_from(&all, args)
}
