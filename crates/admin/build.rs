//! Rebuilds this crate when anything under `console/` changes: `include_dir!` embeds that
//! directory (`src/console/assets.rs`), and Cargo only notices a file added to or removed from it
//! when told to watch the directory.

fn main() {
    println!("cargo:rerun-if-changed=console");
    println!("cargo:rerun-if-changed=build.rs");
}
