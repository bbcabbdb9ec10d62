//! Runs the parser over every file of MI's own integration-test artifacts
//! (`/work/shared/corpus/synapse/<kind>/*.xml`): no panic, every file parses or fails with an error
//! located in that file, and prints accepted / rejected-by-reason counts.

use std::collections::BTreeMap;
use std::path::Path;

use conflux_artifacts::{load_synapse_dir, parse_artifact, read_artifact_file};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/synapse"
);

#[test]
fn every_corpus_file_parses_or_fails_located() {
    let root = Path::new(CORPUS);
    if !root.is_dir() {
        println!("corpus not found at {CORPUS}; skipping");
        return;
    }
    let mut folders: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    folders.sort();
    let mut accepted: BTreeMap<String, usize> = BTreeMap::new();
    let mut rejected: BTreeMap<String, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut total = 0;
    for folder in folders.iter().filter(|p| p.is_dir()) {
        let kind = folder.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "xml"))
        {
            total += 1;
            let label = format!("{kind}/{}", file.file_name().unwrap().to_string_lossy());
            let result =
                read_artifact_file(&label, file).and_then(|text| parse_artifact(&label, &text));
            match result {
                Ok(_) => *accepted.entry(kind.clone()).or_default() += 1,
                Err(err) => {
                    assert_eq!(
                        &*err.span().file,
                        label.as_str(),
                        "error names the wrong file: {err}"
                    );
                    let text = err.to_string();
                    assert!(
                        text.contains(&format!(" at {label}")),
                        "error is not located: {text}"
                    );
                    if err.kind() == "xml-syntax" || err.span().line > 0 {
                        assert!(err.span().line > 0 && err.span().column > 0, "{text}");
                    }
                    *rejected.entry(kind.clone()).or_default() += 1;
                    *reasons.entry(err.reason()).or_default() += 1;
                    if std::env::var_os("CORPUS_VERBOSE").is_some() {
                        println!("  {text}");
                    }
                }
            }
        }
    }
    let accepted_total: usize = accepted.values().sum();
    println!(
        "corpus: {total} files, {accepted_total} accepted, {} rejected",
        total - accepted_total
    );
    let kinds: std::collections::BTreeSet<&String> =
        accepted.keys().chain(rejected.keys()).collect();
    for kind in kinds {
        let ok = accepted.get(kind).copied().unwrap_or(0);
        println!(
            "  {kind}: {ok} accepted, {} rejected",
            rejected.get(kind).copied().unwrap_or(0)
        );
    }
    let mut top: Vec<_> = reasons.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!("top rejection reasons:");
    for (reason, n) in top.iter().take(15) {
        println!("  {n:4}  {reason}");
    }
    assert!(total > 0);
    assert!(accepted_total > 0, "nothing in the corpus was accepted");
}

#[test]
fn corpus_as_a_deployment_folder_loads_without_panic() {
    let root = Path::new(CORPUS);
    if !root.is_dir() {
        println!("corpus not found at {CORPUS}; skipping");
        return;
    }
    let report = load_synapse_dir(root);
    let unresolved = report.artifacts.check_references();
    println!(
        "load_synapse_dir: {} artifacts, {} errors, {} unresolved references",
        report.artifacts.len(),
        report.errors.len(),
        unresolved.len()
    );
    for err in report.errors.iter().chain(&unresolved) {
        assert!(err.to_string().contains(" at "), "{err}");
    }
    assert!(!report.artifacts.is_empty());
}
