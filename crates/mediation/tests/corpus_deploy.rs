//! Deploys every artifact of MI's own test corpus (`../shared/corpus/synapse/`) through the parser
//! and the runtime compiler: none may crash, and each is either deployed or rejected with a reason
//! located in its own file. Named endpoints and sequences that the corpus defines are available to
//! every file, as they would be in the MI deployment the file came from. Prints the counts the
//! README quotes. Skips with a message when the corpus is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use conflux_artifacts::{Artifact, Artifacts, parse_artifact};
use conflux_mediation::runtime::compile::compile;

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/synapse");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent", dir.display());
        None
    }
}

fn files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut kinds: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    kinds.sort();
    for kind in kinds.iter().filter(|p| p.is_dir()) {
        let mut entries: Vec<_> = std::fs::read_dir(kind)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        {
            let label = format!(
                "{}/{}",
                kind.file_name().unwrap().to_string_lossy(),
                path.file_name().unwrap().to_string_lossy()
            );
            out.push((label, path));
        }
    }
    out
}

#[test]
fn every_corpus_artifact_deploys_or_fails_with_a_located_reason() {
    let Some(dir) = corpus() else { return };
    let all = files(&dir);
    let mut parsed = Vec::new();
    let mut parse_failures = 0usize;
    for (label, path) in &all {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        match parse_artifact(label, &text) {
            Ok(artifact) => parsed.push((label.clone(), artifact)),
            Err(e) => {
                assert!(
                    e.to_string().contains(label.as_str()),
                    "error not located in {label}: {e}"
                );
                parse_failures += 1;
            }
        }
    }
    // The pool: every named endpoint and sequence of the corpus.
    let pool: Vec<&Artifact> = parsed
        .iter()
        .map(|(_, a)| a)
        .filter(|a| matches!(a, Artifact::Endpoint(_) | Artifact::Sequence(_)))
        .collect();
    let mut deployed = 0usize;
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for (label, artifact) in &parsed {
        // The file itself first, so that its name wins over a pool entry of the same name.
        let mut set = Artifacts::default();
        let _ = set.insert(artifact.clone());
        for other in &pool {
            let _ = set.insert((*other).clone());
        }
        let (_, errors) = compile(&set);
        let own: Vec<_> = errors.iter().filter(|e| e.file == *label).collect();
        if own.is_empty() {
            deployed += 1;
        } else {
            for e in &own {
                assert!(
                    e.span.starts_with(label.as_str()),
                    "error not located in {label}: {e}"
                );
            }
            let reason = own[0].message.split(" (").next().unwrap_or("").to_string();
            let reason = reason
                .split(" is not deployed")
                .next()
                .unwrap_or("")
                .to_string();
            *reasons.entry(reason).or_default() += 1;
        }
    }
    let total = all.len();
    println!(
        "corpus: {total} files; {} parse; {deployed} deploy with the runtime ({:.1} %); {parse_failures} rejected by the parser",
        parsed.len(),
        100.0 * deployed as f64 / total as f64
    );
    let mut top: Vec<_> = reasons.into_iter().collect();
    top.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (reason, n) in top.iter().take(15) {
        println!("  {n:5}  {reason}");
    }
    assert!(
        total > 1000,
        "expected the corpus' ~1,500 files, found {total}"
    );
}
