//! Tier-1 deploy share over MI's own test corpus (`../shared/corpus/synapse/`): every file that
//! uses only Tier-1 features (synapse-subset.md §2.1, classified by `synapse_features`) is deployed
//! with the corpus artifacts it references by name into its own temporary home and checked with
//! the real `conflux check`. Prints the share and the blockers grouped by missing feature, and
//! asserts today's share as a floor (the issue's target is 95 %). Skips when the corpus is absent.

mod corpus_support;
mod support;
mod synapse_features;

use std::collections::BTreeMap;

use corpus_support::{
    Closure, CorpusFile, Outcome, Tier, assert_well_formed, check_all, closure, corpus_dir,
    missing_feature, name_index, parse_error_line, print_blockers, print_dangling_and_excluded,
    read_corpus, sorted_counts,
};
use synapse_features::{FileFeatures, NotSynapse, RefKind, classify};

/// The measured share of Tier-1-only files (whose closure is Tier 1) that deploy, as a floor
/// below today's measurement (815/817 = 99.8 %: elements MI ignores deploy with a warning, the
/// two left are `src="https:..."` local entries Conflux refuses on purpose; 22 closures whose
/// local entry's `src` file is not in the corpus are not measured. 838/839 before src entries
/// were read; 503/781 before the runtime executed filter/switch/enrich/makefault/XPath/JSONPath).
/// The issue's target is 95 %.
const MIN_TIER1_SHARE: f64 = 0.99;

/// The Tier-1-only share of the corpus must stay near synapse-subset.md §2.2 (993/1754 = 56.6 %
/// of unique stand-alone files; the corpus holds the 1,518 deployed ones, where stores,
/// processors and tasks, all beyond Tier 1, are absent), i.e. roughly 55-60 %.
const EXPECTED_TIER1_SHARE: std::ops::RangeInclusive<f64> = 0.50..=0.65;

/// Tier 1 of synapse-subset.md §2.1.
const TIER1: Tier = Tier {
    name: "Tier 1",
    outside: FileFeatures::non_tier1,
};

fn is_tier1(file: &CorpusFile) -> bool {
    TIER1.admits(file)
}

#[test]
fn tier1_corpus_files_deploy_with_conflux_check() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let files = read_corpus(&corpus);
    let index = name_index(&files);

    // 1. Classification.
    let classified: Vec<usize> = (0..files.len())
        .filter(|&i| files[i].features.is_ok())
        .collect();
    let tier1: Vec<usize> = classified
        .iter()
        .copied()
        .filter(|&i| is_tier1(&files[i]))
        .collect();
    println!("== Tier-1 classification (synapse-subset.md §2.1) ==");
    println!(
        "{} corpus files, {} not Synapse XML (unparsable or foreign root), {} classified",
        files.len(),
        files.len() - classified.len(),
        classified.len()
    );
    for file in files.iter().filter(|f| f.features.is_err()) {
        println!(
            "  not classified: {} ({:?})",
            file.label,
            file.features.as_ref().err()
        );
    }
    let share_tier1 = tier1.len() as f64 / classified.len() as f64;
    println!(
        "Tier-1-only: {}/{} ({:.1} %); §2.2 reports 56.6 % of unique stand-alone files",
        tier1.len(),
        classified.len(),
        100.0 * share_tier1
    );
    let mut per_folder: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for &i in &classified {
        let folder = files[i].label.split('/').next().unwrap_or("");
        let entry = per_folder.entry(folder).or_default();
        entry.1 += 1;
        if is_tier1(&files[i]) {
            entry.0 += 1;
        }
    }
    for (folder, (t1, all)) in &per_folder {
        println!("  {folder}: {t1}/{all}");
    }
    let mut sole_blockers: BTreeMap<String, usize> = BTreeMap::new();
    for &i in &classified {
        if let Ok(f) = &files[i].features
            && let [only] = f.non_tier1().as_slice()
        {
            *sole_blockers.entry(only.to_string()).or_default() += 1;
        }
    }
    println!(
        "sole blocker beyond Tier 1 (files missing exactly one feature): {}",
        sorted_counts(&sole_blockers)
            .iter()
            .take(12)
            .map(|(f, n)| format!("{f} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        EXPECTED_TIER1_SHARE.contains(&share_tier1),
        "Tier-1-only share {share_tier1:.3} is far from synapse-subset.md §2.2: the classifier drifted"
    );

    // 2. Closures.
    let mut dangling = Vec::new();
    let mut non_tier1_dependency = Vec::new();
    let mut measured: Vec<(usize, Vec<usize>)> = Vec::new();
    for &i in &tier1 {
        match closure(i, &files, &index, TIER1) {
            Closure::Resolved(members) => measured.push((i, members)),
            Closure::Dangling(members, what) => {
                dangling.push((i, what));
                measured.push((i, members));
            }
            Closure::OutsideTier(what) => non_tier1_dependency.push((i, what)),
        }
    }

    // 3. `conflux check` per file.
    let all_outcomes = check_all(&measured, &files);
    assert_well_formed(&all_outcomes, &files);
    let (absent_src, outcomes): (Vec<Outcome>, Vec<Outcome>) = all_outcomes
        .into_iter()
        .partition(Outcome::needs_absent_src_file);

    // 4. Report.
    let deployed = outcomes.iter().filter(|o| o.deployed()).count();
    let share = deployed as f64 / outcomes.len().max(1) as f64;
    println!("\n== conflux check over Tier-1-only files ==");
    println!("Tier-1-only files: {}", tier1.len());
    print_dangling_and_excluded(
        "deployed with a warning, faults per message as in MI",
        &dangling,
        "Tier 1",
        &non_tier1_dependency,
        &absent_src,
        &files,
    );
    println!(
        "measured: {}; deployed: {deployed}; share {:.1} % (target 95 %); {:.1} % of all Tier-1-only files",
        outcomes.len(),
        100.0 * share,
        100.0 * deployed as f64 / tier1.len().max(1) as f64
    );

    print_blockers(&outcomes, &files);

    // Files with elements MI's factories never read (ProxyServiceFactory, APIFactory,
    // ResourceFactory): deployed, as in MI, with a warning naming each element.
    let ignoring: Vec<&str> = outcomes
        .iter()
        .flat_map(|o| o.run.stderr.lines())
        .filter(|l| l.starts_with("warning: element <") && l.contains(" ignored: MI reads only "))
        .collect();
    println!(
        "\ndeployed with elements MI ignores (warned): {}",
        ignoring.len()
    );
    for line in &ignoring {
        println!("  {line}");
    }

    // Which rejections come from the parser (crates/artifacts) rather than the runtime.
    println!("\nparser rejections of Tier-1-only files (conflux_artifacts::parse_artifact):");
    let mut parser_rejections = 0;
    for &i in &tier1 {
        let text = std::fs::read_to_string(&files[i].path).unwrap_or_default();
        if let Err(e) = conflux_artifacts::parse_artifact(&files[i].label, &text) {
            parser_rejections += 1;
            println!("  {e}");
        }
    }
    println!("  {parser_rejections} of {} files", tier1.len());

    assert!(
        share >= MIN_TIER1_SHARE,
        "Tier-1 deploy share fell to {:.1} % (floor {:.1} %)",
        100.0 * share,
        100.0 * MIN_TIER1_SHARE
    );
}

const NS: &str = "xmlns=\"http://ws.apache.org/ns/synapse\"";

fn features(xml: &str) -> FileFeatures {
    classify(xml).unwrap_or_else(|e| panic!("{e:?}: {xml}"))
}

#[test]
fn classifier_finds_nested_mediators_endpoints_and_references() {
    let f = features(&format!(
        r#"<proxy {NS} name="P" transports="https,http">
  <target faultSequence="Err">
    <inSequence>
      <filter source="$ctx:a" regex="x"><then><sequence key="Named"/></then>
        <else><switch source="$trp:b"><case regex="y"><log/></case><default><drop/></default></switch></else></filter>
      <property name="p" value="1" scope="axis2"/>
      <send><endpoint><failover><endpoint key="Ep1"/><endpoint><address uri="jms:/q"/></endpoint></failover></endpoint></send>
    </inSequence>
  </target>
  <publishWSDL key="wsdlEntry"/>
</proxy>"#
    ));
    for expected in [
        "artifact:proxy",
        "transport:https",
        "mediator:filter",
        "mediator:sequence(ref)",
        "mediator:switch",
        "mediator:log",
        "mediator:drop",
        "option:property.scope=axis2",
        "endpoint:failover",
        "endpoint:(ref key)",
        "endpoint:address",
        "transport:jms",
        "option:proxy.publishWSDL",
        "expr:$ctx:",
        "expr:$trp:",
    ] {
        assert!(
            f.features.contains(expected),
            "{expected} missing: {:?}",
            f.features
        );
    }
    assert_eq!(f.non_tier1(), ["endpoint:failover", "transport:jms"]);
    let references: Vec<(RefKind, &str)> =
        f.references.iter().map(|(k, n)| (*k, n.as_str())).collect();
    assert_eq!(
        references,
        [
            (RefKind::Sequence, "Err"),
            (RefKind::Sequence, "Named"),
            (RefKind::Endpoint, "Ep1"),
            (RefKind::LocalEntry, "wsdlEntry"),
        ]
    );
}

#[test]
fn classifier_tier1_boundaries_follow_section_2_1() {
    let tier1 = features(&format!(
        r#"<sequence {NS} name="S" onError="E"><makefault version="soap11"><code value="tns:Receiver" xmlns:tns="http://www.w3.org/2003/05/soap-envelope"/><reason value="r"/></makefault><enrich><source type="inline" key="Entry"/><target type="body"/></enrich><call><endpoint key="{{get-property('ep')}}"/></call></sequence>"#
    ));
    assert!(tier1.is_tier1_only(), "{:?}", tier1.non_tier1());
    assert_eq!(tier1.defines, Some((RefKind::Sequence, "S".to_string())));
    assert_eq!(tier1.references.len(), 2, "dynamic keys are not references");

    for (body, feature) in [
        (r#"<call blocking="true"/>"#, "option:call.blocking"),
        (
            r#"<property name="p" value="v" scope="operation"/>"#,
            "option:property.scope=operation",
        ),
        (r#"<sequence key="gov:/seq.xml"/>"#, "option:registry-key"),
        (
            r#"<log><property name="p" expression="${payload.a}"/></log>"#,
            "expr:${...}",
        ),
        (r#"<call-template target="T"/>"#, "mediator:call-template"),
        (
            r#"<iterate expression="//a"><target><sequence><drop/></sequence></target></iterate>"#,
            "mediator:iterate",
        ),
        (r#"<hello.sayHello/>"#, "mediator:(connector op)"),
    ] {
        let f = features(&format!(r#"<sequence {NS} name="S">{body}</sequence>"#));
        assert_eq!(f.non_tier1(), [feature], "{body}");
    }
    let foreign = classify("<sequence name=\"S\"/>");
    assert!(matches!(foreign, Err(NotSynapse::ForeignRoot(_))));
}

#[test]
fn rejection_messages_group_by_missing_feature() {
    assert_eq!(
        missing_feature(
            "unsupported mediator <makefault> (parsed, but the runtime does not execute it yet: mediation tier 1)"
        ),
        "mediator <makefault>"
    );
    assert_eq!(
        missing_feature(
            "expression \"//m0:getQuote\" is not supported yet (supported so far: $ctx:)"
        ),
        "expression XPath"
    );
    assert_eq!(
        missing_feature("expression \"json-eval($.a)\" is not supported yet"),
        "expression json-eval() (JSONPath)"
    );
    assert_eq!(
        missing_feature(
            "unsupported property scope Operation (supported: default, axis2, transport)"
        ),
        "property scope Operation"
    );
    let parsed = parse_error_line("error: duplicate endpoint 'E' (first defined at endpoints/A.xml:1:1) at endpoints/B.xml:2:1")
        .unwrap();
    assert_eq!(parsed.file, "endpoints/B.xml");
}
