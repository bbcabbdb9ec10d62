//! The `conflux` executable: everything lives in the library; this only hands over the arguments.

fn main() -> std::process::ExitCode {
    conflux::cli::main()
}
