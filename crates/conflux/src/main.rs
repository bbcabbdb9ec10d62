//! The `conflux` executable: everything lives in the library; this only picks and tunes the
//! allocator and hands over the arguments.

/// mimalloc instead of glibc's malloc: the proxy allocates and frees small buffers, header maps
/// and futures per request, which mimalloc's thread-local free lists serve with fewer
/// instructions (callgrind figures in bench/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit`, the fifth entry of `mi_option_e` in the bundled mimalloc 2.x
/// (`libmimalloc-sys` `c_src/mimalloc/v2/include/mimalloc.h`); the crate has no constant for it.
#[cfg(target_os = "linux")]
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// On Linux mimalloc commits its arenas eagerly, which lets the kernel back them with transparent
/// huge pages: +6 MB idle RSS and +10 MB at 500 connections, for no measurable speed. Committed on
/// demand, RSS is glibc's again. The option must be set before the first allocation creates an
/// arena, and the Rust runtime allocates before `main`: hence a load-time constructor.
#[cfg(target_os = "linux")]
extern "C" fn commit_arenas_on_demand() {
    // SAFETY: sets a process-wide mimalloc option before any thread or allocation exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static COMMIT_ARENAS_ON_DEMAND: extern "C" fn() = commit_arenas_on_demand;

fn main() -> std::process::ExitCode {
    conflux::cli::main()
}
