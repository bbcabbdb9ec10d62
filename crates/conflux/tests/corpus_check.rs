//! `conflux check` over MI's own test corpus (`../shared/corpus/synapse/`), all of it deployed into
//! one temporary home: it must finish, never crash, and name a file for every rejected artifact.
//! Skips with a message when the corpus is absent.

mod support;

use std::path::Path;
use std::time::Duration;

use support::*;

/// Generous for a debug build on a loaded 2-core machine; a hang is what this catches.
const CHECK_DEADLINE: Duration = Duration::from_secs(120);

#[test]
fn conflux_check_over_the_corpus_terminates_and_locates_every_error() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/synapse");
    if !corpus.is_dir() {
        eprintln!("skipping: {} is absent", corpus.display());
        return;
    }
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    let target = home
        .path()
        .join("repository/deployment/server/synapse-configs/default");
    let mut copied = 0;
    for kind in std::fs::read_dir(&corpus).unwrap().flatten() {
        let dest = target.join(kind.file_name());
        std::fs::create_dir_all(&dest).unwrap();
        for file in std::fs::read_dir(kind.path()).unwrap().flatten() {
            std::fs::copy(file.path(), dest.join(file.file_name())).unwrap();
            copied += 1;
        }
    }
    let out = check_home(home.path(), CHECK_DEADLINE);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert!(!errors.is_empty());
    for line in &errors {
        assert!(line.contains(".xml"), "an error without its file: {line}");
    }
    let summary = stdout.lines().last().unwrap_or("");
    println!(
        "corpus of {copied} files as one home: {summary}; {} error lines",
        errors.len()
    );
}
