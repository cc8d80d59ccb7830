//! The `xp` binary: the command line with the objectives built into xp.

fn main() -> std::process::ExitCode {
    xp::main_with(&[])
}
