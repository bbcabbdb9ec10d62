//! What the corpus deploy tests (`corpus_tier1.rs`, `corpus_tier2.rs`) share: reading and
//! classifying MI's own test corpus (`../shared/corpus/synapse/`), resolving a file's references
//! by name against the corpus within a tier, deploying the file with what it needs into its own
//! temporary home, running the real `conflux check` on it, and grouping the rejections by the
//! feature Conflux lacks. The test crate declares `mod support;` and `mod synapse_features;`
//! beside this module.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::{Home, SYNAPSE, check_home};
use crate::synapse_features::{FileFeatures, NotSynapse, RefKind, classify};

/// Hang detector for one `conflux check` run (a debug build on a loaded 2-core machine).
pub const CHECK_DEADLINE: Duration = Duration::from_secs(60);

/// Parallel `conflux check` runs (the machine has 2 cores).
pub const WORKERS: usize = 2;

/// Sequences MI provides itself (synapse-subset.md §3.1), so a reference to them never dangles.
pub const IMPLICIT_SEQUENCES: &[&str] = &["main", "fault"];

/// The corpus folder, or `None` (with a message) when it is absent.
pub fn corpus_dir() -> Option<PathBuf> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/synapse");
    if corpus.is_dir() {
        Some(corpus)
    } else {
        eprintln!("skipping: {} is absent", corpus.display());
        None
    }
}

/// One corpus file and its classification.
pub struct CorpusFile {
    /// `folder/name.xml`, as `conflux check` locates errors.
    pub label: String,
    pub path: PathBuf,
    pub features: Result<FileFeatures, NotSynapse>,
}

impl CorpusFile {
    pub fn file_name(&self) -> &str {
        self.label.rsplit('/').next().unwrap_or(&self.label)
    }
}

/// Which features a tier admits: `outside` lists a file's features beyond it (empty: inside).
#[derive(Clone, Copy)]
pub struct Tier {
    pub name: &'static str,
    pub outside: for<'a> fn(&'a FileFeatures) -> Vec<&'a str>,
}

impl Tier {
    pub fn admits(&self, file: &CorpusFile) -> bool {
        file.features
            .as_ref()
            .is_ok_and(|f| (self.outside)(f).is_empty())
    }
}

pub fn read_corpus(corpus: &Path) -> Vec<CorpusFile> {
    let mut files = Vec::new();
    let mut folders: Vec<_> = std::fs::read_dir(corpus).unwrap().flatten().collect();
    folders.sort_by_key(|e| e.file_name());
    for folder in folders {
        let mut entries: Vec<_> = std::fs::read_dir(folder.path())
            .unwrap()
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".xml") {
                continue;
            }
            let text = std::fs::read(entry.path()).unwrap();
            let features = match String::from_utf8(text) {
                Ok(text) => classify(&text),
                Err(e) => Err(NotSynapse::Unparsable(e.to_string())),
            };
            files.push(CorpusFile {
                label: format!("{}/{name}", folder.file_name().to_string_lossy()),
                path: entry.path(),
                features,
            });
        }
    }
    files
}

/// How a file's references resolve against the corpus.
pub enum Closure {
    /// The file plus every artifact it needs, transitively (indices into the corpus).
    Resolved(Vec<usize>),
    /// Some reference no corpus file satisfies; the members are what does resolve. MI resolves
    /// endpoint and sequence keys per message (SYN:`endpoints/IndirectEndpoint.java`,
    /// `mediators/base/SequenceMediator.java`), and template targets too
    /// (SYN:`mediators/template/InvokeMediator.java` looks the template up in `mediate`), so it
    /// deploys such a file and faults per message; Conflux does the same with a warning, so
    /// these files are measured too.
    Dangling(Vec<usize>, String),
    /// The file needs a corpus artifact that is itself beyond the tier.
    OutsideTier(String),
}

/// Name -> candidate files, per kind.
pub type NameIndex = BTreeMap<(RefKind, String), Vec<usize>>;

pub fn name_index(files: &[CorpusFile]) -> NameIndex {
    let mut index = NameIndex::new();
    for (i, file) in files.iter().enumerate() {
        if let Ok(FileFeatures {
            defines: Some(key), ..
        }) = &file.features
        {
            index.entry(key.clone()).or_default().push(i);
        }
    }
    index
}

/// Resolves references breadth first. Sequences, endpoints and local entries share one key space
/// (§5.3), so a name is looked up in the referenced kind's table first, then in the others;
/// a template reference only finds templates. When the corpus has several files for one name
/// (copies from different MI test modules), the choice prefers a file already in the closure,
/// then one inside the tier, then the file named after the artifact, then the first by name.
pub fn closure(root: usize, files: &[CorpusFile], index: &NameIndex, tier: Tier) -> Closure {
    let mut members = vec![root];
    let mut defined: BTreeMap<(bool, String), usize> = BTreeMap::new();
    let mut queue = VecDeque::from([root]);
    let mut dangling: Option<String> = None;
    while let Some(at) = queue.pop_front() {
        let Ok(features) = &files[at].features else {
            continue;
        };
        if let Some((kind, name)) = &features.defines {
            defined
                .entry((*kind == RefKind::Template, name.clone()))
                .or_insert(at);
        }
        for (kind, name) in &features.references {
            let template = *kind == RefKind::Template;
            if defined.contains_key(&(template, name.clone())) {
                continue;
            }
            let kinds: &[RefKind] = if template {
                &[RefKind::Template]
            } else {
                &[
                    *kind,
                    RefKind::Sequence,
                    RefKind::Endpoint,
                    RefKind::LocalEntry,
                ]
            };
            let candidates = kinds
                .iter()
                .find_map(|k| index.get(&(*k, name.clone())).filter(|c| !c.is_empty()));
            let Some(candidates) = candidates else {
                if *kind == RefKind::Sequence && IMPLICIT_SEQUENCES.contains(&name.as_str()) {
                    continue;
                }
                dangling.get_or_insert_with(|| format!("{kind:?} '{name}'"));
                continue;
            };
            let chosen = *candidates
                .iter()
                .min_by_key(|&&i| {
                    let stem_matches = files[i].file_name() == format!("{name}.xml");
                    (
                        !tier.admits(&files[i]),
                        !stem_matches,
                        files[i].label.clone(),
                    )
                })
                .unwrap_or(&candidates[0]);
            if !tier.admits(&files[chosen]) {
                return Closure::OutsideTier(format!(
                    "{} ({})",
                    files[chosen].label,
                    files[chosen]
                        .features
                        .as_ref()
                        .map(|f| (tier.outside)(f).join(", "))
                        .unwrap_or_default()
                ));
            }
            defined.insert((template, name.clone()), chosen);
            if !members.contains(&chosen) {
                members.push(chosen);
                queue.push_back(chosen);
            }
        }
    }
    match dangling {
        Some(what) => Closure::Dangling(members, what),
        None => Closure::Resolved(members),
    }
}

/// One error line of `conflux check`: `error: <reason> at <folder/file.xml[:line:column]>`.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub reason: String,
    /// `folder/file.xml` of the location.
    pub file: String,
}

pub struct CheckRun {
    pub exit: Option<i32>,
    pub rejections: Vec<Rejection>,
    pub stderr: String,
}

pub fn parse_error_line(line: &str) -> Option<Rejection> {
    let message = line.strip_prefix("error: ")?;
    let (reason, location) = message.rsplit_once(" at ")?;
    let end = location.find(".xml")? + ".xml".len();
    Some(Rejection {
        reason: reason.to_string(),
        file: location[..end].to_string(),
    })
}

/// Deploys `members` into a fresh home and runs `conflux check` on it.
pub fn check(members: &[usize], files: &[CorpusFile]) -> CheckRun {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    // The `$FILE:` value MI's tests-other module provides in its `conf/file.properties`
    // (endpoints/MOCK_FILE_EP.xml reads `$FILE:stockQuoteEP`).
    home.write(
        "conf/file.properties",
        "stockQuoteEP=http://localhost:9000/services/SimpleStockQuoteService\n",
    );
    for &i in members {
        let dest = home.path().join(SYNAPSE).join(&files[i].label);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&files[i].path, dest).unwrap();
    }
    let out = check_home(home.path(), CHECK_DEADLINE);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let rejections = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .map(|l| {
            parse_error_line(l).unwrap_or_else(|| Rejection {
                reason: l.to_string(),
                file: String::new(),
            })
        })
        .collect();
    CheckRun {
        exit: out.status.code(),
        rejections,
        stderr,
    }
}

/// A rejection message as the feature Conflux lacks, so that counts group
/// (`unsupported mediator <makefault> (parsed, but ...)` -> `mediator <makefault>`).
pub fn missing_feature(reason: &str) -> String {
    if let Some(rest) = reason.strip_prefix("expression \"") {
        let expression = rest.split("\" is not supported").next().unwrap_or(rest);
        let expression = expression.trim();
        return if expression.contains("json-eval(") {
            "expression json-eval() (JSONPath)".into()
        } else if expression == "$" || expression.starts_with("$.") {
            "expression JSONPath (evaluator=\"json\")".into()
        } else if let Some(args) = expression.strip_prefix("get-property(") {
            // The scope or special name is what is missing: `registry`, `file`, `SYSTEM_DATE`.
            let first = args.split([',', ')']).next().unwrap_or("").trim();
            format!("expression get-property({first}, ...)")
        } else if expression.contains("fn:") {
            "expression XPath with fn: functions".into()
        } else {
            "expression XPath".into()
        };
    }
    if reason.starts_with("unsupported SOAP header") {
        return "header scope=default (SOAP headers)".into();
    }
    if reason.contains(" is not deployed") && !reason.contains("(no ") {
        // The name exists, but only as a `<localEntry>` (one key space, §5.3).
        return "sequence/endpoint held in a local entry".into();
    }
    if reason.contains(" is not deployed") || reason.starts_with("unresolved ") {
        return "a referenced artifact failed".into();
    }
    if let Some(rest) = reason.strip_prefix("unsupported ") {
        // `mediator <x> (why)`, `endpoint <x> (why)`, `property scope X (supported: ...)`.
        let what = rest.split(" (").next().unwrap_or(rest);
        let what = what.split(':').next().unwrap_or(what);
        return what.trim().to_string();
    }
    // Anything else: keep the message, without its quoted values.
    let mut out = String::new();
    let mut quoted = false;
    for c in reason.chars() {
        match c {
            '"' | '\'' => {
                if !quoted {
                    out.push('…');
                }
                quoted = !quoted;
            }
            _ if !quoted => out.push(c),
            _ => {}
        }
    }
    out
}

/// What happened to one measured file.
pub struct Outcome {
    pub root: usize,
    pub members: Vec<usize>,
    pub run: CheckRun,
}

impl Outcome {
    pub fn deployed(&self) -> bool {
        self.run.exit == Some(0) && self.run.rejections.is_empty()
    }

    /// A local entry of the closure has `src="file:..."` naming a file the corpus does not hold
    /// (MI's distribution ships `samples/service-bus/resources/`; MI fails such an entry too,
    /// SYN `SynapseConfigUtils.getObject`). Not a Conflux gap: such closures are not measured.
    pub fn needs_absent_src_file(&self) -> bool {
        self.run.rejections.iter().any(|r| {
            r.reason.starts_with("cannot read: localEntry ") && r.reason.contains(" src \"file:")
        })
    }

    /// The distinct missing features; consequential "a referenced artifact failed" only when it
    /// is the sole reason.
    pub fn blockers(&self) -> BTreeSet<String> {
        let all: BTreeSet<String> = self
            .run
            .rejections
            .iter()
            .map(|r| missing_feature(&r.reason))
            .collect();
        if all.len() > 1 {
            all.into_iter()
                .filter(|f| f != "a referenced artifact failed")
                .collect()
        } else {
            all
        }
    }
}

/// Runs `conflux check` for every `(root, members)` over [`WORKERS`] threads, in root order.
pub fn check_all(measured: &[(usize, Vec<usize>)], files: &[CorpusFile]) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let mut outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let Some((root, members)) = measured.get(n) else {
                            break;
                        };
                        mine.push(Outcome {
                            root: *root,
                            members: members.clone(),
                            run: check(members, files),
                        });
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    outcomes.sort_by_key(|o| o.root);
    outcomes
}

/// Every run finished cleanly and every rejection names a file of its own home.
pub fn assert_well_formed(outcomes: &[Outcome], files: &[CorpusFile]) {
    for outcome in outcomes {
        let label = &files[outcome.root].label;
        assert!(
            matches!(outcome.run.exit, Some(0) | Some(2)),
            "{label}: exit {:?}\n{}",
            outcome.run.exit,
            outcome.run.stderr
        );
        assert!(
            !outcome.run.stderr.contains("panicked"),
            "{label}: {}",
            outcome.run.stderr
        );
        assert_eq!(
            outcome.run.exit == Some(0),
            outcome.run.rejections.is_empty(),
            "{label}: exit code and error lines disagree\n{}",
            outcome.run.stderr
        );
        let home_files: Vec<&str> = outcome
            .members
            .iter()
            .map(|&m| files[m].label.as_str())
            .collect();
        for rejection in &outcome.run.rejections {
            assert!(
                home_files.contains(&rejection.file.as_str()),
                "{label}: rejection not located in a file of its home ({home_files:?}): {rejection:?}"
            );
        }
    }
}

/// Prints the blockers of the files that did not deploy, most frequent first, then every
/// rejection line.
pub fn print_blockers<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>, files: &[CorpusFile]) {
    let failed: Vec<&Outcome> = outcomes.into_iter().filter(|o| !o.deployed()).collect();
    let mut any: BTreeMap<String, usize> = BTreeMap::new();
    let mut sole: BTreeMap<String, usize> = BTreeMap::new();
    for outcome in &failed {
        let blockers = outcome.blockers();
        for b in &blockers {
            *any.entry(b.clone()).or_default() += 1;
        }
        if let [only] = blockers.iter().collect::<Vec<_>>().as_slice() {
            *sole.entry((*only).clone()).or_default() += 1;
        }
    }
    println!(
        "\nblockers (files rejected with it / files it alone blocks; the parser stops at a file's first error):"
    );
    for (feature, n) in sorted_counts(&any) {
        println!(
            "  {n:4} / {:4}  {feature}",
            sole.get(&feature).copied().unwrap_or(0)
        );
    }
    for outcome in &failed {
        for r in &outcome.run.rejections {
            println!(
                "  rejected {}: {} [{}]",
                files[outcome.root].label, r.reason, r.file
            );
        }
    }
}

pub fn sorted_counts(counts: &BTreeMap<String, usize>) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = counts.iter().map(|(k, n)| (k.clone(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Prints the files measured with a dangling reference, the files left out because they reference
/// an artifact beyond the tier (`beyond` says which), and the files left out because a local
/// entry's `src` file is not in the corpus: the part of the report both tiers share.
pub fn print_dangling_and_excluded(
    dangling_note: &str,
    dangling: &[(usize, String)],
    beyond: &str,
    outside: &[(usize, String)],
    absent_src: &[Outcome],
    files: &[CorpusFile],
) {
    println!(
        "  measured, with a dangling reference (no corpus file defines it; {dangling_note}): {}",
        dangling.len()
    );
    for (i, what) in dangling {
        println!("    {}: {what}", files[*i].label);
    }
    println!(
        "  excluded, references a corpus artifact beyond {beyond}: {}",
        outside.len()
    );
    for (i, what) in outside {
        println!("    {}: {what}", files[*i].label);
    }
    println!(
        "  excluded, a local entry's src file is not in the corpus (MI's distribution ships samples/; MI fails such an entry too): {}",
        absent_src.len()
    );
    for o in absent_src {
        println!("    {}", files[o.root].label);
    }
}
