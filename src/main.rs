//! The `xp` binary: the CLI of `xp-cli` with the objectives of this workspace linked in.

// `OBJECTIVES`: every `xp-objective-*` dependency (see build.rs). A crate that is never
// named is dropped by the linker with its registration.
include!(concat!(env!("OUT_DIR"), "/objectives.rs"));

// Training allocates and frees many large tensors every step; glibc serves each
// with a fresh mmap, and the page faults cost a quarter of a step. mimalloc reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    xp_cli::main_with(OBJECTIVES)
}
