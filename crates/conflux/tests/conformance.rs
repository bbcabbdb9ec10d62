//! MI's own integration tests, replayed against the real binary (`conformance/`): every case file
//! runs, the table by module is printed, and the run fails on any failure that is not a listed
//! known divergence, or when `conformance/KNOWN_DIVERGENCES.md` no longer matches the case files.
//!
//! `CONFORMANCE_ONLY=<part of a case path>` runs a subset; `CONFORMANCE_BLESS=1` rewrites
//! KNOWN_DIVERGENCES.md and the README's conformance table. The artifacts come from `../shared/corpus/synapse/`; without it the test
//! says so and passes.

use std::path::PathBuf;

use conflux_conformance::report::known_divergences_markdown;
use conflux_conformance::{Options, Summary, load, run};

/// Groups (one server each) that run at the same time.
const PARALLEL_GROUPS: usize = 3;
/// The bar for the whole suite: this many cases that run (skipped ones do not count) ...
const MIN_CASES: usize = 400;
/// ... and this share of them passing (percent of the cases that ran).
const MIN_PASS_RATE: f64 = 95.0;

#[test]
fn mi_integration_tests_pass_on_conflux() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let corpus = root.join("../shared/corpus/synapse");
    if !corpus.is_dir() {
        eprintln!(
            "conformance: skipped, the corpus {} is absent",
            corpus.display()
        );
        return;
    }
    let only = std::env::var("CONFORMANCE_ONLY").ok();
    let cases_dir = root.join("conformance/cases");
    let files = load(&cases_dir, only.as_deref()).unwrap_or_else(|e| panic!("{e}"));
    let options = Options {
        bin: PathBuf::from(env!("CARGO_BIN_EXE_conflux")),
        corpus,
        parallel: PARALLEL_GROUPS,
    };
    let results = run(&files, &options);
    let summary = Summary::new(&results);
    println!("\n{}", summary.table());
    for known in summary.known_failures() {
        println!("known divergence: {known}");
    }
    for fixed in summary.fixed_divergences() {
        println!("passes now, remove its known_divergence: {fixed}");
    }

    let unexpected = summary.unexpected_failures();
    assert!(
        unexpected.is_empty(),
        "{} case(s) fail that are not known divergences:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    if only.is_some() {
        return;
    }
    let markdown = known_divergences_markdown(&results);
    let path = root.join("conformance/KNOWN_DIVERGENCES.md");
    if std::env::var_os("CONFORMANCE_BLESS").is_some() {
        std::fs::write(&path, &markdown).expect("write KNOWN_DIVERGENCES.md");
        bless_readme_table(&root.join("README.md"), &summary.table());
    } else {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == markdown,
            "conformance/KNOWN_DIVERGENCES.md is out of date: run \
             CONFORMANCE_BLESS=1 cargo test -p conflux --test conformance"
        );
    }
    assert!(
        summary.total.ran() >= MIN_CASES,
        "{} cases ran, the suite needs {MIN_CASES}",
        summary.total.ran()
    );
    assert!(
        summary.total.pass_rate() >= MIN_PASS_RATE,
        "pass rate {:.1} % below {MIN_PASS_RATE} %",
        summary.total.pass_rate()
    );
}

/// Rewrites the README's conformance table (between its marker comments) with this run's figures.
fn bless_readme_table(readme: &std::path::Path, table: &str) {
    const START: &str = "<!-- conformance-table:start -->\n";
    const END: &str = "<!-- conformance-table:end -->";
    let text = std::fs::read_to_string(readme).expect("read README.md");
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        panic!("README.md has no {START:?} ... {END:?} markers");
    };
    let blessed = format!("{}{START}{table}{}", &text[..start], &text[end..]);
    std::fs::write(readme, blessed).expect("write README.md");
}
