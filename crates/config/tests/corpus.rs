//! Every `deployment.toml` that MI's own tests use, and MI's shipped ones, must load (warnings are
//! fine). The files are read from `../shared/corpus/`; the test skips with a message when absent.

use std::path::{Path, PathBuf};

use conflux_config::{SystemProperties, load};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent", dir.display());
        None
    }
}

fn check_all(files: Vec<PathBuf>) -> usize {
    let mut failures = Vec::new();
    for file in &files {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join("conf")).unwrap();
        std::fs::copy(file, home.path().join("conf/deployment.toml")).unwrap();
        // $sys{} placeholders in the corpus name properties MI's tests pass on their command line.
        let props = SystemProperties::from_definitions(["carbon.home=/tmp"]);
        match load(home.path(), props) {
            Ok(config) => {
                for w in &config.warnings {
                    eprintln!("{}: warning: {w}", file.display());
                }
            }
            Err(e) => failures.push(format!("{}:\n{e}", file.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} files failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    files.len()
}

#[test]
fn every_corpus_deployment_toml_loads() {
    let Some(dir) = corpus() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("deployment-toml"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let n = check_all(files);
    assert!(n >= 40, "expected the corpus' 42 files, found {n}");
}

#[test]
fn mi_shipped_deployment_tomls_load() {
    let Some(dir) = corpus() else { return };
    let dir = dir.join("mi-default-conf");
    check_all(vec![
        dir.join("deployment.toml"),
        dir.join("deployment-full.toml"),
    ]);
}
