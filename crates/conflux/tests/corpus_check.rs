//! `conflux check` over MI's own test corpus (`../shared/corpus/synapse/`), all of it deployed into
//! one temporary home: it must finish, never crash, and name a file for every rejected artifact.
//! Skips with a message when the corpus is absent.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
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
    let child = Command::new(BIN)
        .args(["check", "--home", home.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Read the pipes while waiting (thousands of error lines would fill them otherwise).
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let out = match finished.recv_timeout(CHECK_DEADLINE) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            signal(pid, "KILL");
            panic!("conflux check did not finish within {CHECK_DEADLINE:?}");
        }
    };
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
