//! Runs case files against the real binary. Compatible classes share one home and one server (a
//! *group*: no two artifacts of the same kind and name from different files, no API context twice,
//! the same global `main`/`fault` sequences, no backend address declared two ways, no own
//! deployment.toml, CApps, process environment or home files). Per group: backends on
//! `127.0.0.1:0`, a temporary home whose artifacts are read from the corpus with the addresses MI's
//! tests use rewritten to the real ones (corpus CApps are copied unchanged into `carbonapps/`),
//! `conflux` on a free port offset, then every case's exchanges in order, each checked against what
//! the Java test asserts.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regex::Regex;

use crate::backends::{Backend, Recorded};
use crate::case::{BackendKind, BackendSpec, Case, CaseFile, Exchange, Expect};
use crate::client::{self, Response};

/// Case files that may share one server, at most.
pub const MAX_GROUP_FILES: usize = 12;
/// How long the server may take to log that it started (a debug build on a loaded 2-core CI).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a log line or a backend request may take to show up after the answer.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(3);
/// Base ports of the default plan (offset 0): every one must be free at the chosen offset.
const PLAN_BASES: [u32; 6] = [8280, 8243, 9191, 9154, 9999, 11111];
/// The Axis2 sample servers MI's tests start, by port.
const SAMPLE_SERVER_PORTS: [u16; 4] = [9000, 9001, 9002, 9003];
/// MI's internal HTTP API (probes) at offset 0.
const INTERNAL_HTTP_BASE: u32 = 9191;
/// The ports MI's test server listens on (offset 200), which artifacts use to call it back.
const MI_HTTP_PORTS: [u16; 2] = [8480, 8280];
const MI_HTTPS_PORTS: [u16; 2] = [8443, 8243];

/// What the runner needs to know.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `conflux` binary.
    pub bin: PathBuf,
    /// `shared/corpus/synapse`.
    pub corpus: PathBuf,
    /// Groups run at the same time.
    pub parallel: usize,
}

impl Options {
    /// `shared/corpus/car`, the corpus CApps, beside the Synapse artifacts.
    pub fn car_dir(&self) -> PathBuf {
        self.corpus
            .parent()
            .map_or_else(|| PathBuf::from("car"), |corpus| corpus.join("car"))
    }
}

/// How one case ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    Fail(Vec<String>),
    Skipped(String),
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub file: PathBuf,
    pub module: String,
    pub class: String,
    pub method: String,
    pub known_divergence: Option<String>,
    pub outcome: Outcome,
}

/// Runs every case of `files`; the results come back in file order.
pub fn run(files: &[CaseFile], options: &Options) -> Vec<CaseResult> {
    let groups = group(files, &options.corpus);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let runtime = Arc::new(runtime);
    let results = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let groups = Arc::new(groups);
    let workers: Vec<_> = (0..options.parallel.max(1))
        .map(|_| {
            let (groups, next, results, runtime) = (
                groups.clone(),
                next.clone(),
                results.clone(),
                runtime.clone(),
            );
            let options = options.clone();
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(group) = groups.get(i) else { break };
                    let out = run_group(group, &options, &runtime);
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend(out);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    let mut results = std::mem::take(&mut *results.lock().unwrap_or_else(|e| e.into_inner()));
    let order: BTreeMap<&Path, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.as_path(), i))
        .collect();
    results.sort_by_key(|r| order.get(r.file.as_path()).copied().unwrap_or(usize::MAX));
    results
}

/// The facts about one class that decide which classes it can share a server with.
#[derive(Default)]
struct Footprint {
    /// (kind folder, artifact name) -> corpus file.
    names: BTreeMap<(String, String), String>,
    /// API context -> corpus file.
    contexts: BTreeMap<String, String>,
    /// The global sequences (`main`, `fault`) it deploys, by corpus file.
    globals: BTreeSet<String>,
    backends: BTreeMap<String, BackendSpec>,
    solo: bool,
}

fn footprint(file: &CaseFile, corpus: &Path) -> Footprint {
    let mut print = Footprint {
        solo: file.needs_own_server(),
        ..Footprint::default()
    };
    for artifact in &file.artifacts {
        let kind = artifact.split('/').next().unwrap_or_default().to_string();
        let text = std::fs::read_to_string(corpus.join(artifact)).unwrap_or_default();
        let (name, context) = root_name_and_context(&text);
        let name = name.unwrap_or_else(|| artifact.clone());
        if kind == "sequences" && (name == "main" || name == "fault") {
            print.globals.insert(artifact.clone());
        }
        print.names.insert((kind, name), artifact.clone());
        if let Some(context) = context {
            print.contexts.insert(context, artifact.clone());
        }
    }
    for backend in &file.backends {
        // A class that replaces one of the default sample servers changes it for every class of
        // its group: it gets a server of its own.
        let port = backend
            .address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok());
        if port.is_some_and(|p| SAMPLE_SERVER_PORTS.contains(&p)) {
            print.solo = true;
        }
        print
            .backends
            .insert(backend.address.clone(), backend.clone());
    }
    print
}

fn root_name_and_context(xml: &str) -> (Option<String>, Option<String>) {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return (None, None);
    };
    let root = doc.root_element();
    let context = root
        .attribute("context")
        .map(|c| format!("{c}|{}", root.attribute("version").unwrap_or("")));
    let name = root.attribute("name").or_else(|| root.attribute("key"));
    (name.map(str::to_string), context)
}

fn compatible(a: &Footprint, b: &Footprint) -> bool {
    if a.solo || b.solo || a.globals != b.globals {
        return false;
    }
    !clash(&a.names, &b.names)
        && !clash(&a.contexts, &b.contexts)
        && !clash(&a.backends, &b.backends)
}

/// Whether a key of `x` maps to something else in `y`.
fn clash<K: Ord, V: PartialEq>(x: &BTreeMap<K, V>, y: &BTreeMap<K, V>) -> bool {
    x.iter().any(|(k, v)| y.get(k).is_some_and(|w| w != v))
}

fn merge(into: &mut Footprint, from: Footprint) {
    into.names.extend(from.names);
    into.contexts.extend(from.contexts);
    into.backends.extend(from.backends);
}

/// Greedy grouping in file order.
fn group(files: &[CaseFile], corpus: &Path) -> Vec<Vec<CaseFile>> {
    let mut groups: Vec<(Footprint, Vec<CaseFile>)> = Vec::new();
    for file in files {
        let print = footprint(file, corpus);
        match groups
            .iter_mut()
            .find(|(g, members)| members.len() < MAX_GROUP_FILES && compatible(g, &print))
        {
            Some((g, members)) => {
                merge(g, print);
                members.push(file.clone());
            }
            None => groups.push((print, vec![file.clone()])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// A running group: backends by the address artifacts name, the server and its output.
struct Stage {
    backends: BTreeMap<String, Backend>,
    server: Server,
    /// Port in MI's tests -> real port, for addresses in requests and expectations.
    ports: BTreeMap<u16, u16>,
}

fn run_group(
    files: &[CaseFile],
    options: &Options,
    runtime: &tokio::runtime::Runtime,
) -> Vec<CaseResult> {
    let all_skipped = files
        .iter()
        .all(|f| f.cases.iter().all(|c| c.skip.is_some()));
    let stage = if all_skipped {
        Err("all skipped".to_string())
    } else {
        runtime.block_on(start_stage(files, options))
    };
    let mut results = Vec::new();
    for file in files {
        for case in &file.cases {
            let outcome = match (&case.skip, &stage) {
                (Some(reason), _) => Outcome::Skipped(reason.clone()),
                (None, Err(e)) => Outcome::Fail(vec![format!("the group did not start: {e}")]),
                (None, Ok(stage)) => {
                    let problems = runtime.block_on(run_case(case, stage));
                    if problems.is_empty() {
                        Outcome::Pass
                    } else {
                        Outcome::Fail(with_deploy_errors(problems, file, stage))
                    }
                }
            };
            results.push(CaseResult {
                file: file.path.clone(),
                module: file.source.module.clone(),
                class: file.source.class.clone(),
                method: case.method.clone(),
                known_divergence: case.known_divergence.clone(),
                outcome,
            });
        }
    }
    results
}

/// Adds the start-up log lines that name one of the class's artifacts or CApps (a deploy error
/// explains most failures at once).
fn with_deploy_errors(mut problems: Vec<String>, file: &CaseFile, stage: &Stage) -> Vec<String> {
    let startup = stage.server.startup_output();
    for line in startup.lines() {
        let lower = line.to_ascii_lowercase();
        if !(lower.contains("error") || lower.contains("warn")) {
            continue;
        }
        if file
            .artifacts
            .iter()
            .chain(&file.capps)
            .any(|a| line.contains(a.rsplit('/').next().unwrap_or(a)))
        {
            problems.push(format!("start-up: {}", line.trim()));
        }
    }
    problems
}

async fn start_stage(files: &[CaseFile], options: &Options) -> Result<Stage, String> {
    let mut backends = BTreeMap::new();
    for port in SAMPLE_SERVER_PORTS {
        let spec = BackendSpec {
            address: format!("localhost:{port}"),
            kind: BackendKind::Stockquote,
            status: 200,
            headers: BTreeMap::new(),
            body: String::new(),
            delay_ms: 0,
        };
        let backend = Backend::start(spec).await.map_err(|e| e.to_string())?;
        backends.insert(format!("localhost:{port}"), backend);
    }
    for file in files {
        for spec in &file.backends {
            let backend = Backend::start(spec.clone())
                .await
                .map_err(|e| e.to_string())?;
            backends.insert(normal_address(&spec.address), backend);
        }
    }
    let mut last_error = String::new();
    // A port found free can be taken before the server binds it: try a few offsets.
    for _ in 0..3 {
        let offset = free_offset();
        let ports = port_map(&backends, offset);
        let home = build_home(files, options, &ports)?;
        let process = ServerProcess::of(files, &ports);
        match Server::start(&options.bin, home, offset, &process).await {
            Ok(server) => {
                return Ok(Stage {
                    backends,
                    server,
                    ports,
                });
            }
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

/// `localhost:N` for `127.0.0.1:N` too, so both spellings find the same backend.
fn normal_address(address: &str) -> String {
    address.replace("127.0.0.1:", "localhost:")
}

/// Where each port MI's tests name really is: the backends, and Conflux at `offset`.
fn port_map(backends: &BTreeMap<String, Backend>, offset: u32) -> BTreeMap<u16, u16> {
    let mut ports = BTreeMap::new();
    for (address, backend) in backends {
        if let Some(port) = address.rsplit(':').next().and_then(|p| p.parse().ok()) {
            ports.insert(port, backend.addr.port());
        }
    }
    let shifted = |base: u32| (base + offset) as u16;
    for port in MI_HTTP_PORTS {
        ports.insert(port, shifted(8280));
    }
    for port in MI_HTTPS_PORTS {
        ports.insert(port, shifted(8243));
    }
    ports
}

/// What the server process gets beyond the home: environment variables and `-D` properties of
/// the group's classes, with MI's test addresses rewritten to the real ones.
#[derive(Debug, Default, PartialEq)]
struct ServerProcess {
    env: BTreeMap<String, String>,
    system_properties: BTreeMap<String, String>,
}

impl ServerProcess {
    fn of(files: &[CaseFile], ports: &BTreeMap<u16, u16>) -> ServerProcess {
        let mut process = ServerProcess::default();
        for file in files {
            for (name, value) in &file.env {
                process
                    .env
                    .insert(name.clone(), rewrite_addresses(value, ports));
            }
            for (name, value) in &file.system_properties {
                process
                    .system_properties
                    .insert(name.clone(), rewrite_addresses(value, ports));
            }
        }
        process
    }

    /// `-Dname=value` for each system property, as MI's launcher takes them.
    fn args(&self) -> Vec<String> {
        self.system_properties
            .iter()
            .map(|(name, value)| format!("-D{name}={value}"))
            .collect()
    }
}

/// The home's `deployment.toml`: `[server] hostname = "localhost"` (MI's test servers) and the
/// classes' extra text. A class that brings its own `[server]` table gets the hostname inside it
/// (unless it sets one), since TOML allows a table only once.
fn deployment_toml(extras: &[String]) -> String {
    const HOSTNAME: &str = "hostname = \"localhost\"\n";
    let is_server_header = |line: &str| line.trim() == "[server]";
    let mut toml = String::new();
    if !extras
        .iter()
        .any(|extra| extra.lines().any(is_server_header))
    {
        toml.push_str("[server]\n");
        toml.push_str(HOSTNAME);
    }
    for extra in extras {
        toml.push('\n');
        let lines: Vec<&str> = extra.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            toml.push_str(line);
            toml.push('\n');
            if is_server_header(line) {
                let sets_hostname = lines[i + 1..]
                    .iter()
                    .take_while(|l| !l.trim_start().starts_with('['))
                    .any(|l| l.trim_start().starts_with("hostname"));
                if !sets_hostname {
                    toml.push_str(HOSTNAME);
                }
            }
        }
    }
    toml
}

fn build_home(
    files: &[CaseFile],
    options: &Options,
    ports: &BTreeMap<u16, u16>,
) -> Result<tempfile::TempDir, String> {
    let home = tempfile::tempdir().map_err(|e| e.to_string())?;
    let rewrite = |text: &str| rewrite_addresses(text, ports);
    let extras: Vec<String> = files
        .iter()
        .filter_map(|f| f.deployment_toml.as_deref().map(rewrite))
        .collect();
    let toml = deployment_toml(&extras);
    let mut written = BTreeSet::new();
    let carbonapps = home.path().join("repository/deployment/server/carbonapps");
    for file in files {
        for capp in &file.capps {
            std::fs::create_dir_all(&carbonapps).map_err(|e| e.to_string())?;
            // Byte for byte: a CApp is a zip, and MI's tests deploy the very file.
            std::fs::copy(options.car_dir().join(capp), carbonapps.join(capp))
                .map_err(|e| format!("{}: corpus CApp {capp}: {e}", file.path.display()))?;
        }
        for (path, text) in &file.home_files {
            let target = home.path().join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::write(&target, rewrite(text))
                .map_err(|e| format!("{}: home file {path}: {e}", file.path.display()))?;
        }
        for artifact in &file.artifacts {
            if !written.insert(artifact.clone()) {
                continue;
            }
            let text = std::fs::read_to_string(options.corpus.join(artifact))
                .map_err(|e| format!("{}: corpus artifact {artifact}: {e}", file.path.display()))?;
            let target = home
                .path()
                .join("repository/deployment/server/synapse-configs/default")
                .join(artifact);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::write(&target, rewrite(&text)).map_err(|e| e.to_string())?;
        }
    }
    let conf = home.path().join("conf");
    std::fs::create_dir_all(&conf).map_err(|e| e.to_string())?;
    std::fs::write(conf.join("deployment.toml"), toml).map_err(|e| e.to_string())?;
    Ok(home)
}

/// Replaces `localhost:N` / `127.0.0.1:N` by `localhost:M` wherever `ports` maps N to M.
fn rewrite_addresses(text: &str, ports: &BTreeMap<u16, u16>) -> String {
    static ADDRESS: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let address =
        ADDRESS.get_or_init(|| Regex::new(r"\b(localhost|127\.0\.0\.1):(\d{2,5})\b").unwrap());
    address
        .replace_all(text, |c: &regex::Captures<'_>| {
            match c[2].parse::<u16>().ok().and_then(|p| ports.get(&p)) {
                Some(real) => format!("{}:{real}", &c[1]),
                None => c[0].to_string(),
            }
        })
        .into_owned()
}

async fn run_case(case: &Case, stage: &Stage) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, exchange) in case.exchanges().iter().enumerate() {
        let label = if case.exchanges().len() > 1 {
            format!("exchange {}: ", i + 1)
        } else {
            String::new()
        };
        for problem in run_exchange(exchange, stage).await {
            problems.push(format!("{label}{problem}"));
        }
    }
    problems
}

/// The exchange with the addresses of MI's tests (backends, the server itself) rewritten to the
/// real ones, in what is sent and in what is expected.
fn localised(exchange: &Exchange, ports: &BTreeMap<u16, u16>) -> Exchange {
    let rewrite = |text: &String| rewrite_addresses(text, ports);
    let mut e = exchange.clone();
    let r = &mut e.request;
    r.path = rewrite(&r.path);
    r.body = r.body.as_ref().map(rewrite);
    r.payload = r.payload.as_ref().map(rewrite);
    r.addressing_to = r.addressing_to.as_ref().map(rewrite);
    r.headers.values_mut().for_each(|v| *v = rewrite(v));
    let x = &mut e.expect;
    for list in [
        &mut x.body_contains,
        &mut x.body_not_contains,
        &mut x.log_contains,
        &mut x.log_not_contains,
    ] {
        list.iter_mut().for_each(|v| *v = rewrite(v));
    }
    // A header naming the server itself (a rewritten Location) carries its real port.
    x.headers.values_mut().for_each(|v| *v = rewrite(v));
    for backend in &mut x.backend {
        backend.path = backend.path.as_ref().map(rewrite);
        backend
            .body_contains
            .iter_mut()
            .for_each(|v| *v = rewrite(v));
    }
    e
}

async fn run_exchange(exchange: &Exchange, stage: &Stage) -> Vec<String> {
    let exchange = &localised(exchange, &stage.ports);
    if exchange.request.wait_ms > 0 {
        tokio::time::sleep(Duration::from_millis(exchange.request.wait_ms)).await;
    }
    let log_start = stage.server.output_len();
    let seen: BTreeMap<String, usize> = stage
        .backends
        .iter()
        .map(|(a, b)| (a.clone(), b.recorded().len()))
        .collect();
    let wire = client::wire_request(&exchange.request, &message_id());
    let port = if exchange.request.https {
        stage.server.port(8243)
    } else if exchange.request.internal_http {
        stage.server.port(INTERNAL_HTTP_BASE)
    } else {
        stage.server.port(8280)
    };
    let response = match client::send(port, exchange.request.https, &wire).await {
        Ok(r) => r,
        Err(e) => return vec![format!("{} {}: {e}", wire.method, wire.path)],
    };
    let mut problems = check_response(&exchange.expect, &response);
    problems.extend(check_log(&exchange.expect, stage, log_start).await);
    problems.extend(check_backends(&exchange.expect, stage, &seen).await);
    problems
}

/// The response-side assertions.
pub fn check_response(expect: &Expect, response: &Response) -> Vec<String> {
    let mut problems = Vec::new();
    let shown = || abbreviate(&response.body);
    if let Some(status) = expect.status
        && response.status != status
    {
        problems.push(format!(
            "status {} (expected {status}); body: {}",
            response.status,
            shown()
        ));
    }
    for fragment in &expect.body_contains {
        if !response.body.contains(fragment.as_str()) {
            problems.push(format!("body lacks {fragment:?}; body: {}", shown()));
        }
    }
    for fragment in &expect.body_not_contains {
        if response.body.contains(fragment.as_str()) {
            problems.push(format!("body contains {fragment:?}; body: {}", shown()));
        }
    }
    if let Some(body) = &expect.body
        && response.body.trim() != body.trim()
    {
        problems.push(format!("body {} (expected {body:?})", shown()));
    }
    if expect.body_not_empty && response.body.is_empty() {
        problems.push("the body is empty (expected a body)".to_string());
    }
    if let Some(json) = &expect.json {
        match (
            serde_json::from_str::<serde_json::Value>(json),
            serde_json::from_str::<serde_json::Value>(&response.body),
        ) {
            (Ok(want), Ok(got)) if want == got => {}
            (Err(e), _) => problems.push(format!("the case's json does not parse: {e}")),
            _ => problems.push(format!("json body {} (expected {json})", shown())),
        }
    }
    for (name, value) in &expect.headers {
        match response.header(name) {
            Some(v) if v.contains(value.as_str()) => {}
            Some(v) => problems.push(format!("header {name}: {v:?} (expected {value:?})")),
            None => problems.push(format!("header {name} missing (expected {value:?})")),
        }
    }
    for name in &expect.headers_absent {
        if let Some(v) = response.header(name) {
            problems.push(format!("header {name}: {v:?} present (expected absent)"));
        }
    }
    problems
}

async fn check_log(expect: &Expect, stage: &Stage, start: usize) -> Vec<String> {
    let mut problems = Vec::new();
    if expect.log_contains.is_empty() && expect.log_not_contains.is_empty() {
        return problems;
    }
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        let log = stage.server.output_since(start);
        let missing: Vec<&String> = expect
            .log_contains
            .iter()
            .filter(|f| !log.contains(f.as_str()))
            .collect();
        if missing.is_empty() || Instant::now() > deadline {
            for fragment in missing {
                problems.push(format!(
                    "log lacks {fragment:?}; logged: {}",
                    abbreviate(&log)
                ));
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !expect.log_not_contains.is_empty() {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let log = stage.server.output_since(start);
        for fragment in &expect.log_not_contains {
            if log.contains(fragment.as_str()) {
                problems.push(format!("log contains {fragment:?}"));
            }
        }
    }
    problems
}

async fn check_backends(
    expect: &Expect,
    stage: &Stage,
    seen: &BTreeMap<String, usize>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for want in &expect.backend {
        let address = normal_address(&want.address);
        let Some(backend) = stage.backends.get(&address) else {
            problems.push(format!("no backend at {} in this case file", want.address));
            continue;
        };
        let before = seen.get(&address).copied().unwrap_or(0);
        let matches = |r: &Recorded| backend_mismatch(want, r).is_none();
        let deadline = Instant::now()
            + if want.none {
                Duration::from_millis(300)
            } else {
                SETTLE_TIMEOUT
            };
        loop {
            let received: Vec<Recorded> = backend.recorded().into_iter().skip(before).collect();
            if want.none {
                if Instant::now() > deadline {
                    if let Some(r) = received.first() {
                        problems.push(format!(
                            "backend {} received {} {} (expected nothing)",
                            want.address, r.method, r.path
                        ));
                    }
                    break;
                }
            } else if received.iter().any(matches) {
                break;
            } else if Instant::now() > deadline {
                problems.push(match received.last() {
                    Some(r) => format!(
                        "backend {}: {}",
                        want.address,
                        backend_mismatch(want, r).unwrap_or_default()
                    ),
                    None => format!("backend {} received nothing", want.address),
                });
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    problems
}

fn backend_mismatch(want: &crate::case::BackendExpect, got: &Recorded) -> Option<String> {
    let mut problems = Vec::new();
    if let Some(method) = &want.method
        && !got.method.eq_ignore_ascii_case(method)
    {
        problems.push(format!("method {} (expected {method})", got.method));
    }
    if let Some(path) = &want.path
        && &got.path != path
    {
        problems.push(format!("path {} (expected {path})", got.path));
    }
    for (name, value) in &want.headers {
        match got.header(name) {
            Some(v) if v.contains(value.as_str()) => {}
            other => problems.push(format!("header {name}: {other:?} (expected {value:?})")),
        }
    }
    for name in &want.headers_absent {
        if let Some(v) = got.header(name) {
            problems.push(format!("header {name}: {v:?} present (expected absent)"));
        }
    }
    for fragment in &want.body_contains {
        if !got.body.contains(fragment.as_str()) {
            problems.push(format!(
                "body lacks {fragment:?}; body: {}",
                abbreviate(&got.body)
            ));
        }
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

fn abbreviate(text: &str) -> String {
    const MAX: usize = 600;
    let text = text.trim();
    if text.len() <= MAX {
        return format!("{text:?}");
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}... ({} bytes)", &text[..end], text.len())
}

fn message_id() -> String {
    static N: AtomicU32 = AtomicU32::new(1);
    format!(
        "urn:uuid:7c2a0000-0000-4000-8000-{:012x}",
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn port_free(port: u32) -> bool {
    port <= 65_535
        && TcpListener::bind(("0.0.0.0", port as u16)).is_ok()
        && TcpListener::bind(("127.0.0.1", port as u16)).is_ok()
}

/// An offset at which every port of the plan is free now, spread by process id and a counter so
/// that parallel groups and test binaries pick different ones.
pub fn free_offset() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::process::id().wrapping_mul(7919);
    for _ in 0..500 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // 1000..21000 keeps every port of the plan (bases 8243..=11111) under 32768, below
        // Linux's ephemeral range (`ip_local_port_range`, 32768-60999 by default): a port found
        // free there can be taken by any outgoing connection before the server binds it (a
        // clean-clone run failed that way: internal_https at 55610).
        let offset = 1_000 + seed.wrapping_add(n.wrapping_mul(97)) % 20_000;
        if PLAN_BASES.iter().all(|b| port_free(b + offset)) {
            return offset;
        }
    }
    1_000
}

/// The `conflux` process of a group; killed when dropped.
struct Server {
    child: Child,
    offset: u32,
    output: Arc<Mutex<String>>,
    startup_len: usize,
    _home: tempfile::TempDir,
}

impl Server {
    async fn start(
        bin: &Path,
        home: tempfile::TempDir,
        offset: u32,
        process: &ServerProcess,
    ) -> Result<Server, String> {
        let mut child = Command::new(bin)
            .arg("--home")
            .arg(home.path())
            .arg(format!("-DportOffset={offset}"))
            .args(process.args())
            .envs(&process.env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
        let output = Arc::new(Mutex::new(String::new()));
        let streams: [Option<Box<dyn Read + Send>>; 2] = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        for stream in streams.into_iter().flatten() {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = output.lock().unwrap_or_else(|e| e.into_inner());
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        let mut server = Server {
            child,
            offset,
            output,
            startup_len: 0,
            _home: home,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if server.output_since(0).contains("Conflux started in") {
                server.startup_len = server.output_len();
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Err(format!(
                    "conflux exited with {status}: {}",
                    abbreviate(&server.output_since(0))
                ));
            }
            if Instant::now() > deadline {
                return Err("conflux did not start in time".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn port(&self, base: u32) -> u16 {
        (base + self.offset) as u16
    }

    fn output_len(&self) -> usize {
        self.output.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn output_since(&self, start: usize) -> String {
        let output = self.output.lock().unwrap_or_else(|e| e.into_inner());
        output.get(start..).unwrap_or_default().to_string()
    }

    fn startup_output(&self) -> String {
        let output = self.output.lock().unwrap_or_else(|e| e.into_inner());
        output
            .get(..self.startup_len)
            .unwrap_or_default()
            .to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_rewritten_by_port_in_both_spellings_and_others_are_kept() {
        let ports = BTreeMap::from([(9000, 41000), (8480, 9290)]);
        let text = r#"<address uri="http://localhost:9000/services/S"/><address uri="http://127.0.0.1:9000/x"/>
<address uri="http://localhost:8480/api"/><address uri="http://localhost:7777/y"/><a>localhost:90001</a>"#;
        let out = rewrite_addresses(text, &ports);
        assert!(out.contains("http://localhost:41000/services/S"));
        assert!(out.contains("http://127.0.0.1:41000/x"));
        assert!(out.contains("http://localhost:9290/api"));
        assert!(out.contains("http://localhost:7777/y"));
        assert!(out.contains("localhost:90001"));
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=UTF-8".into(),
            )],
            body: body.into(),
        }
    }

    #[test]
    fn response_checks_report_each_difference() {
        let expect = Expect {
            status: Some(200),
            body_contains: vec!["a".into()],
            json: Some(r#"{"x": 1, "y": [true]}"#.into()),
            headers: BTreeMap::from([("content-type".into(), "application/json".into())]),
            headers_absent: vec!["X-Nope".into()],
            ..Expect::default()
        };
        assert!(
            check_response(&expect, &response(200, r#"{"y":[true],"x":1,"a":null}"#)).len() == 1
        );
        assert!(check_response(&expect, &response(200, r#"{"y":[true],"x":1}"#)).len() == 1);
        let wrong = check_response(&expect, &response(500, "zzz"));
        assert_eq!(wrong.len(), 3, "{wrong:?}");
    }

    #[test]
    fn an_empty_body_fails_body_not_empty() {
        let expect = Expect {
            body_not_empty: true,
            ..Expect::default()
        };
        assert_eq!(check_response(&expect, &response(500, "")).len(), 1);
        assert!(check_response(&expect, &response(500, "{}")).is_empty());
    }

    #[test]
    fn deployment_toml_puts_the_hostname_into_the_one_server_table() {
        let plain = deployment_toml(&[]);
        assert_eq!(plain, "[server]\nhostname = \"localhost\"\n");
        let own = deployment_toml(&["[server]\nhot_deployment = \"false\"\n\n[x]\ny = 1".into()]);
        let table: toml::Table = toml::from_str(&own).unwrap();
        assert_eq!(table["server"]["hostname"].as_str(), Some("localhost"));
        assert_eq!(table["server"]["hot_deployment"].as_str(), Some("false"));
        assert_eq!(table["x"]["y"].as_integer(), Some(1));
        let named = deployment_toml(&["[server]\nhostname = \"mi.local\"\n".into()]);
        let table: toml::Table = toml::from_str(&named).unwrap();
        assert_eq!(table["server"]["hostname"].as_str(), Some("mi.local"));
        let other = deployment_toml(&["[transport.http]\nlistener.enable = true\n".into()]);
        let table: toml::Table = toml::from_str(&other).unwrap();
        assert_eq!(table["server"]["hostname"].as_str(), Some("localhost"));
    }

    #[test]
    fn the_server_process_gets_env_and_system_properties_with_addresses_rewritten() {
        let mut file: CaseFile = toml::from_str(
            "[source]\nmodule = \"m\"\nclass = \"C\"\ncommit = \"c\"\n\
             [[case]]\nmethod = \"t\"\nskip = \"x\"\n",
        )
        .unwrap();
        file.env
            .insert("url".into(), "http://localhost:8480/endpoint/env".into());
        file.system_properties
            .insert("endpoint_url".into(), "http://localhost:8480/sys".into());
        let ports = BTreeMap::from([(8480, 9290)]);
        let process = ServerProcess::of(&[file], &ports);
        assert_eq!(process.env["url"], "http://localhost:9290/endpoint/env");
        assert_eq!(process.args(), ["-Dendpoint_url=http://localhost:9290/sys"]);
    }

    #[test]
    fn corpus_capps_are_read_beside_the_synapse_artifacts() {
        let options = Options {
            bin: PathBuf::from("conflux"),
            corpus: PathBuf::from("/w/shared/corpus/synapse"),
            parallel: 1,
        };
        assert_eq!(options.car_dir(), PathBuf::from("/w/shared/corpus/car"));
    }

    #[test]
    fn classes_with_clashing_names_or_global_sequences_do_not_share_a_server() {
        let a = Footprint {
            names: BTreeMap::from([(("proxy-services".into(), "P".into()), "p/1.xml".into())]),
            ..Footprint::default()
        };
        let b = Footprint {
            names: BTreeMap::from([(("proxy-services".into(), "P".into()), "p/2.xml".into())]),
            ..Footprint::default()
        };
        let same = Footprint {
            names: a.names.clone(),
            ..Footprint::default()
        };
        assert!(!compatible(&a, &b));
        assert!(compatible(&a, &same));
        let with_fault = Footprint {
            globals: BTreeSet::from(["sequences/fault.xml".to_string()]),
            ..Footprint::default()
        };
        assert!(!compatible(&a, &with_fault));
    }
}
