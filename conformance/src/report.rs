//! What a run means: the pass rate by module (the table the test prints and the README quotes),
//! the failures nobody expected, the known divergences that pass now, and the generated
//! `KNOWN_DIVERGENCES.md`.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::runner::{CaseResult, Outcome};

/// Counts for one module (or the total).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub cases: usize,
    pub passed: usize,
    /// Failed and listed as a known divergence.
    pub known: usize,
    /// Failed and not listed.
    pub unexpected: usize,
    pub skipped: usize,
}

impl Counts {
    fn add(&mut self, result: &CaseResult) {
        self.cases += 1;
        match (&result.outcome, &result.known_divergence) {
            (Outcome::Pass, _) => self.passed += 1,
            (Outcome::Skipped(_), _) => self.skipped += 1,
            (Outcome::Fail(_), Some(_)) => self.known += 1,
            (Outcome::Fail(_), None) => self.unexpected += 1,
        }
    }

    /// Cases that ran (not skipped).
    pub fn ran(&self) -> usize {
        self.cases - self.skipped
    }

    /// Passed over ran, in percent.
    pub fn pass_rate(&self) -> f64 {
        if self.ran() == 0 {
            return 0.0;
        }
        100.0 * self.passed as f64 / self.ran() as f64
    }
}

/// The results of a run, summed up.
pub struct Summary<'a> {
    pub results: &'a [CaseResult],
    pub by_module: BTreeMap<String, Counts>,
    pub total: Counts,
}

impl<'a> Summary<'a> {
    pub fn new(results: &'a [CaseResult]) -> Summary<'a> {
        let mut by_module: BTreeMap<String, Counts> = BTreeMap::new();
        let mut total = Counts::default();
        for result in results {
            by_module
                .entry(result.module.clone())
                .or_default()
                .add(result);
            total.add(result);
        }
        Summary {
            results,
            by_module,
            total,
        }
    }

    /// The table by module, in Markdown (printed by the test, quoted in the README).
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| module | cases | ran | passed | known divergences | unexpected failures | skipped | pass rate |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        let mut row = |name: &str, c: &Counts| {
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} | {} | {:.1} % |",
                c.cases,
                c.ran(),
                c.passed,
                c.known,
                c.unexpected,
                c.skipped,
                c.pass_rate()
            );
        };
        for (module, counts) in &self.by_module {
            row(module, counts);
        }
        row("**total**", &self.total);
        out
    }

    /// Failing cases that are not listed as known divergences, with what went wrong.
    pub fn unexpected_failures(&self) -> Vec<String> {
        self.results
            .iter()
            .filter_map(|r| match (&r.outcome, &r.known_divergence) {
                (Outcome::Fail(problems), None) => Some(format!(
                    "{} {}::{}\n    {}",
                    r.file.display(),
                    short_class(&r.class),
                    r.method,
                    problems.join("\n    ")
                )),
                _ => None,
            })
            .collect()
    }

    /// Cases listed as known divergences that pass now (the mark should go).
    pub fn fixed_divergences(&self) -> Vec<String> {
        self.results
            .iter()
            .filter(|r| r.outcome == Outcome::Pass && r.known_divergence.is_some())
            .map(|r| {
                format!(
                    "{} {}::{}",
                    r.file.display(),
                    short_class(&r.class),
                    r.method
                )
            })
            .collect()
    }

    /// Every failing known divergence with what the runner saw (for `--nocapture` readers).
    pub fn known_failures(&self) -> Vec<String> {
        self.results
            .iter()
            .filter_map(|r| match (&r.outcome, &r.known_divergence) {
                (Outcome::Fail(problems), Some(_)) => Some(format!(
                    "{}::{}: {}",
                    short_class(&r.class),
                    r.method,
                    problems.first().map(String::as_str).unwrap_or_default()
                )),
                _ => None,
            })
            .collect()
    }
}

/// `KNOWN_DIVERGENCES.md`: every case marked `known_divergence`, by module and class, with the
/// reason, generated from the case files so that it cannot drift from them.
pub fn known_divergences_markdown(results: &[CaseResult]) -> String {
    let mut out = String::from(
        "# Known divergences\n\n\
         Generated from the `known_divergence` marks of `cases/` by the conformance test \
         (`CONFORMANCE_BLESS=1 cargo test -p conflux --test conformance`); do not edit by hand.\n\
         Each entry is a case of MI's own integration tests where Conflux answers differently \
         from what the Java test asserts, and why.\n",
    );
    let mut module = String::new();
    let mut class = String::new();
    for result in results {
        let Some(reason) = &result.known_divergence else {
            continue;
        };
        if result.module != module {
            module = result.module.clone();
            let _ = write!(out, "\n## {module}\n");
            class.clear();
        }
        if result.class != class {
            class = result.class.clone();
            let _ = write!(
                out,
                "\n### {} (`{}`)\n\n",
                short_class(&class),
                result.file.display()
            );
        }
        let _ = writeln!(out, "- `{}`: {}", result.method, reason.trim());
    }
    out
}

fn short_class(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn result(module: &str, outcome: Outcome, known: Option<&str>) -> CaseResult {
        CaseResult {
            file: PathBuf::from("m/x/C.toml"),
            module: module.into(),
            class: "a.b.C".into(),
            method: "testIt".into(),
            known_divergence: known.map(str::to_string),
            outcome,
        }
    }

    #[test]
    fn counts_separate_known_from_unexpected_and_leave_skips_out_of_the_rate() {
        let results = vec![
            result("m1", Outcome::Pass, None),
            result("m1", Outcome::Fail(vec!["x".into()]), Some("why")),
            result("m1", Outcome::Skipped("jms".into()), None),
            result("m2", Outcome::Fail(vec!["y".into()]), None),
            result("m2", Outcome::Pass, Some("stale")),
        ];
        let summary = Summary::new(&results);
        let m1 = summary.by_module["m1"];
        assert_eq!((m1.passed, m1.known, m1.skipped, m1.ran()), (1, 1, 1, 2));
        assert_eq!(m1.pass_rate(), 50.0);
        assert_eq!(summary.total.unexpected, 1);
        assert_eq!(summary.unexpected_failures().len(), 1);
        assert_eq!(summary.fixed_divergences().len(), 1);
        let md = known_divergences_markdown(&results);
        assert!(md.contains("## m1") && md.contains("- `testIt`: why"));
        assert!(
            summary
                .table()
                .contains("| **total** | 5 | 4 | 2 | 1 | 1 | 1 | 50.0 % |")
        );
    }
}
