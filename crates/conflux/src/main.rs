//! The `conflux` executable: everything lives in the library; this only hands over the arguments
//! and picks the allocator.

/// mimalloc instead of glibc's malloc: the proxy allocates and frees small buffers and headers per
/// request on every worker thread, which mimalloc's thread-local free lists serve with less CPU
/// (measured in bench/BENCHMARKS.md) and a flatter RSS under many connections.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    conflux::cli::main()
}
