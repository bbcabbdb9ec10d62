//! Link layout of the release `conflux` binary (issue 22, idle memory).
//!
//! The 23 MB of `.text` hold start-up, deployment and request code interleaved with everything
//! else, so an idle process touched code all over it, and every touch maps a whole page-cache folio
//! (64 KiB and more) into the process: 14.7 MB of the idle RSS was code. `link-order.txt` (written by
//! `bench/link-order.sh` from callgrind) lists the functions that run from start to idle after
//! serving; lld's `--symbol-ordering-file` places them first and contiguous, so the same work maps
//! some 4.6 MB. Nothing else changes: same code, same instructions per request.
//!
//! `-z pack-relative-relocs` stores the 52,000 relative relocations as a RELR bitmap (a few KB)
//! instead of 833 KB of `.rela.dyn` that the loader reads in full at every start (glibc >= 2.36
//! reads it; Debian 12 has 2.36).
//!
//! Release builds for x86_64-unknown-linux-gnu only, where rustc links with its bundled lld by
//! default; `CONFLUX_PLAIN_LINK=1` turns both off (e.g. for a linker other than lld).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=CONFLUX_PLAIN_LINK");

    let var = |name: &str| env::var(name).unwrap_or_default();
    let release = var("PROFILE") == "release";
    let x86_64_linux_gnu = var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu";
    if !release || !x86_64_linux_gnu || var("CONFLUX_PLAIN_LINK") == "1" {
        return;
    }
    let order = PathBuf::from(var("CARGO_MANIFEST_DIR")).join("link-order.txt");
    if order.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        // Names the build no longer has (renamed or inlined functions) are skipped silently.
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
}
