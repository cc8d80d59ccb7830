//! The `xp` binary: the CLI of `xp-cli` with the objectives of this workspace linked in.

// Name every objective crate, or the linker drops it with its registration.
extern crate xp_objective_cls as _;
extern crate xp_objective_la as _;
extern crate xp_objective_mlm as _;
extern crate xp_objective_nsp as _;

// Training allocates and frees many large tensors every step; glibc serves each
// with a fresh mmap, and the page faults cost a quarter of a step. mimalloc reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    xp_cli::main()
}
