//! The web console (`/console/`, issue 18) in a real headless Chromium driven over WebDriver
//! (chromedriver + fantoccini), against the real binary on a copy of the bundled default home:
//! logging in and out, the default home's APIs with search and detail, deactivating an endpoint and
//! seeing real traffic through an API that calls it fail until it is activated again, changing a
//! log level (checked again through `/management/logging`) and the live tail, the request chart
//! moving after requests, stopping and starting a proxy service, the carbon applications (a
//! deployed and a faulty one), and two instances in the fleet view. Every page is also captured at
//! 1280x800; with `CONFLUX_CONSOLE_SCREENSHOTS=1` the captures are written to
//! `docs/console-<view>.png` (the README's pictures).
//!
//! Needs `chromium` and `chromium-driver` (Debian). Without chromedriver the tests are skipped
//! with a message, unless `CI` is set: then they fail. One browser runs at a time (a lock), each
//! test with its own chromedriver, Chromium profile, homes and servers, all stopped by PID when the
//! test ends.

mod support;

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use support::backend::{copy_dir, https_request_with};
use support::capp::{CAppBuilder, carbonapps};
use support::*;

const CHROMEDRIVER: &str = "chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a page may take to show what a step waits for (a debug build on a loaded 2-core CI).
const PAGE_DEADLINE: Duration = Duration::from_secs(40);
/// How long chromedriver may take to accept connections.
const DRIVER_START: Duration = Duration::from_secs(20);
/// The screenshots' size (the README's pictures).
const SCREEN: (u32, u32) = (1280, 800);
/// The default home's Management API user (its default password; the server warns about it).
const ADMIN: (&str, &str) = ("admin", "admin");
/// The port the bundled home's artifacts call themselves on (HTTP 8280 at the default offset 10).
const HOME_SELF_PORT: &str = "localhost:8290";

/// One Chromium at a time: the tests share a 2-core machine with the servers they drive.
static ONE_BROWSER: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------------------------
// Environment: chromedriver, Chromium, the console being served.
// ---------------------------------------------------------------------------------------------

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// chromedriver's path; None (skip) when it or Chromium is missing, except on CI: then the test
/// fails.
fn tools_present() -> Option<PathBuf> {
    let driver = find_in_path(CHROMEDRIVER);
    let chromium = Path::new(CHROMIUM).is_file() || find_in_path("chromium").is_some();
    match driver {
        Some(driver) if chromium => Some(driver),
        _ => {
            let why = "the console browser tests need chromium and chromedriver \
                       (apt-get install -y chromium chromium-driver)";
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// A chromedriver process on a free port, stopped (with the Chromium it started) on drop.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    fn start(binary: &Path) -> ChromeDriver {
        let mut last = String::new();
        // A port found free can be taken before chromedriver binds it: try again on a clash.
        for _ in 0..5 {
            let port = TcpListener::bind(("127.0.0.1", 0))
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free port");
            let mut child = Command::new(binary)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn chromedriver");
            let deadline = Instant::now() + DRIVER_START;
            loop {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return ChromeDriver { child, port };
                }
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("chromedriver on port {port} exited with {status}");
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last = format!("chromedriver did not listen on port {port} in time");
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("cannot start chromedriver: {last}");
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Chromium profile directory of one test; on drop, every process whose command line names
/// it (the browser and its helpers, if the session was not closed) is killed by PID.
struct Profile {
    dir: tempfile::TempDir,
}

impl Drop for Profile {
    fn drop(&mut self) {
        let needle = self.dir.path().to_string_lossy().into_owned();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&needle) {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(pid.to_string())
                    .status();
            }
        }
    }
}

/// A WebDriver session in headless Chromium at 1280x800.
async fn browser(driver: &ChromeDriver, profile: &Profile) -> Client {
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--ignore-certificate-errors".into(),
        "--hide-scrollbars".into(),
        "--force-device-scale-factor=1".into(),
        "--no-first-run".into(),
        format!("--window-size={},{}", SCREEN.0, SCREEN.1),
        format!("--user-data-dir={}", profile.dir.path().display()),
    ];
    args.push("--lang=en-US".into());
    let mut options = json!({ "args": args });
    if Path::new(CHROMIUM).is_file() {
        options["binary"] = json!(CHROMIUM);
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert("acceptInsecureCerts".into(), json!(true));
    caps.insert("goog:chromeOptions".into(), options);
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session in headless Chromium");
    // --window-size counts the window's frame: grow the window so the page itself is 1280x800.
    let frame = client
        .execute(
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]",
            vec![],
        )
        .await
        .expect("window frame");
    let extra = |i: usize| u32::try_from(frame[i].as_u64().unwrap_or(0)).unwrap_or(0);
    client
        .set_window_size(SCREEN.0 + extra(0), SCREEN.1 + extra(1))
        .await
        .expect("window size");
    client
}

// ---------------------------------------------------------------------------------------------
// Servers on copies of the default home.
// ---------------------------------------------------------------------------------------------

/// A copy of the bundled home whose artifacts call this instance (they name localhost:8290, the
/// HTTP port at the default offset 10) on the HTTP port of `offset`.
fn default_home(offset: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&bundled_home(), dir.path());
    let own = format!("localhost:{}", u32::from(HTTP) + offset);
    rewrite(&dir.path().join(SYNAPSE), HOME_SELF_PORT, &own);
    // A local run's database and log must not leak into the copy.
    for sub in ["repository/database", "repository/logs"] {
        for entry in std::fs::read_dir(dir.path().join(sub))
            .expect("home dir")
            .flatten()
        {
            if entry.file_name() != ".gitkeep" {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    dir
}

fn rewrite(dir: &Path, from: &str, to: &str) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rewrite(&path, from, to);
        } else if let Ok(text) = std::fs::read_to_string(&path)
            && text.contains(from)
        {
            std::fs::write(&path, text.replace(from, to)).expect("rewrite artifact");
        }
    }
}

/// A server on `home` at `offset` whose instance file goes to `runtime` (so the fleet holds only
/// this test's instances).
fn start_server(home: &Path, offset: u32, runtime: &Path) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.arg("--home")
        .arg(home)
        .arg(format!("-DportOffset={offset}"))
        .env("XDG_RUNTIME_DIR", runtime);
    Server::spawn(cmd, offset)
}

/// The console's base URL on `server` (the Management API's internal HTTPS port).
fn console_base(server: &Server) -> String {
    format!("https://localhost:{}", server.port(INTERNAL_HTTPS))
}

/// Whether `/console/` serves the page; false (skip) while the back end is missing, except on CI.
fn console_served(server: &Server) -> bool {
    let page = https_request_with("GET", server.port(INTERNAL_HTTPS), "/console/", &[], b"");
    if page.status == 200 && page.text().contains("Conflux console") {
        return true;
    }
    let why = format!(
        "/console/ answered {} (the console's server side is not in this build)",
        page.status
    );
    assert!(std::env::var_os("CI").is_none(), "{why}");
    eprintln!("skipped: {why}");
    false
}

/// A Management API token for the test's own checks.
fn token(server: &Server) -> String {
    let basic = format!(
        "Basic {}",
        base64_encode(format!("{}:{}", ADMIN.0, ADMIN.1).as_bytes())
    );
    let r = https_request_with(
        "GET",
        server.port(INTERNAL_HTTPS),
        "/management/login",
        &[("Authorization", basic)],
        b"",
    );
    assert_eq!(r.status, 200, "login: {}", r.text());
    let v: Value = serde_json::from_slice(&r.body).expect("login JSON");
    v["AccessToken"].as_str().expect("AccessToken").to_string()
}

fn management(server: &Server, token: &str, path: &str) -> (u16, Value) {
    let r = https_request_with(
        "GET",
        server.port(INTERNAL_HTTPS),
        path,
        &[("Authorization", format!("Bearer {token}"))],
        b"",
    );
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The `name` of every `<api>` in the bundled home.
fn bundled_api_names() -> BTreeSet<String> {
    let dir = bundled_home().join(SYNAPSE).join("api");
    std::fs::read_dir(&dir)
        .expect("the bundled home's api/")
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|xml| {
            let doc = roxmltree::Document::parse(&xml).ok()?;
            doc.root_element().attribute("name").map(str::to_string)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Page helpers.
// ---------------------------------------------------------------------------------------------

/// Runs one async browser test on its own runtime, one browser at a time.
fn run<F: std::future::Future<Output = ()>>(test: F) {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(test);
}

/// Waits until `script` (a function body) returns a truthy value, and returns it. Fails the test
/// with `what` and the page's text after [`PAGE_DEADLINE`].
async fn until(c: &Client, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + PAGE_DEADLINE;
    loop {
        let value = c.execute(script, vec![]).await.unwrap_or(Value::Null);
        let truthy = match &value {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(_) => true,
        };
        if truthy {
            return value;
        }
        if Instant::now() > deadline {
            let text = c
                .execute("return document.body.innerText", vec![])
                .await
                .unwrap_or(Value::Null);
            panic!(
                "timed out waiting for {what}; the page shows:\n{}",
                text.as_str().unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn find(c: &Client, css: &str) -> Element {
    c.wait()
        .at_most(PAGE_DEADLINE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
}

/// `[data-test="name"]`.
fn t(name: &str) -> String {
    format!("[data-test=\"{name}\"]")
}

async fn text_of(c: &Client, css: &str) -> String {
    find(c, css).await.text().await.expect("element text")
}

/// Opens the console and signs in through the login form.
async fn sign_in(c: &Client, base: &str) {
    c.goto(&format!("{base}/console/"))
        .await
        .expect("open the console");
    let user = find(c, "#login-user").await;
    until(
        c,
        "the login form",
        "return !document.getElementById('login').hidden",
    )
    .await;
    user.send_keys(ADMIN.0).await.expect("type the user");
    find(c, "#login-password")
        .await
        .send_keys(ADMIN.1)
        .await
        .expect("type the password");
    find(c, &t("login-submit"))
        .await
        .click()
        .await
        .expect("sign in");
    until(
        c,
        "the console shell after login",
        "return !document.getElementById('shell').hidden",
    )
    .await;
}

/// Shows view `hash` (`#/name`) and waits for its main element.
async fn open(c: &Client, hash: &str, ready_css: &str) {
    c.execute("location.hash = arguments[0]", vec![json!(hash)])
        .await
        .expect("navigate");
    find(c, ready_css).await;
}

/// No Content-Security-Policy violation happened on the page (the console has nothing inline).
async fn assert_no_csp_violation(c: &Client) {
    let v = c
        .execute(
            "const d = document.documentElement.dataset; return [d.cspViolations, d.cspLast || ''];",
            vec![],
        )
        .await
        .expect("read the CSP counter");
    assert_eq!(v[0], json!("0"), "CSP violations: {v}");
}

/// Every visible form control has an accessible name (a `<label for>` or `aria-label`), and every
/// button a text.
async fn assert_controls_labelled(c: &Client, view: &str) {
    let unlabelled = c
        .execute(
            "return [...document.querySelectorAll('input, select, textarea, button')]
               .filter(e => e.offsetParent !== null)
               .filter(e => e.tagName === 'BUTTON'
                 ? !(e.textContent.trim() || e.getAttribute('aria-label'))
                 : !(e.labels.length || e.getAttribute('aria-label')))
               .map(e => e.outerHTML)",
            vec![],
        )
        .await
        .expect("read the form controls");
    assert_eq!(unlabelled, json!([]), "{view}: controls without a name");
}

/// Whether this run writes the README's screenshots (`CONFLUX_CONSOLE_SCREENSHOTS`).
fn screenshots_wanted() -> bool {
    std::env::var_os("CONFLUX_CONSOLE_SCREENSHOTS").is_some()
}

/// Captures the page: a 1280x800 PNG, written to docs/console-<view>.png when
/// `CONFLUX_CONSOLE_SCREENSHOTS` is set.
async fn screenshot(c: &Client, view: &str) {
    // Let the last render settle: wait for two animation frames.
    let _ = c
        .execute_async(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .await;
    let png = c.screenshot().await.expect("screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().expect("IHDR width"));
    let height = u32::from_be_bytes(png[20..24].try_into().expect("IHDR height"));
    assert_eq!((width, height), SCREEN, "{view} screenshot size");
    if screenshots_wanted() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        std::fs::create_dir_all(&docs).expect("docs/");
        std::fs::write(docs.join(format!("console-{view}.png")), &png).expect("write screenshot");
    }
}

/// Everything one test needs: a server on a default-home copy, chromedriver and a browser.
struct Session {
    client: Client,
    server: Server,
    _home: tempfile::TempDir,
    runtime: tempfile::TempDir,
    // Dropped in this order after the fields above: the browser processes, then chromedriver.
    _profile: Profile,
    _driver: ChromeDriver,
}

impl Session {
    /// None when the test is skipped (tools or the console missing, outside CI).
    async fn start() -> Option<Session> {
        Session::start_with(|_| {}).await
    }

    /// [`Session::start`] with `prepare` run on the home before the server starts.
    async fn start_with(prepare: impl FnOnce(&Path)) -> Option<Session> {
        let driver_bin = tools_present()?;
        let runtime = tempfile::tempdir().expect("runtime dir");
        let offset = free_offset();
        let home = default_home(offset);
        prepare(home.path());
        let server = start_server(home.path(), offset, runtime.path());
        if !console_served(&server) {
            return None;
        }
        let driver = ChromeDriver::start(&driver_bin);
        let profile = Profile {
            dir: tempfile::tempdir().expect("profile dir"),
        };
        let client = browser(&driver, &profile).await;
        Some(Session {
            client,
            server,
            _home: home,
            runtime,
            _profile: profile,
            _driver: driver,
        })
    }

    fn base(&self) -> String {
        console_base(&self.server)
    }

    async fn close(self) {
        assert_no_csp_violation(&self.client).await;
        let _ = self.client.clone().close().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------------

#[test]
fn login_shows_the_default_home_apis_with_search_and_detail() {
    run(async {
        let Some(s) = Session::start().await else {
            return;
        };
        // The page runs under the strict policy: nothing inline is allowed.
        let page = https_request_with("GET", s.server.port(INTERNAL_HTTPS), "/console/", &[], b"");
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'")
                && csp.contains("style-src 'self'")
                && !csp.contains("unsafe"),
            "{csp}"
        );
        let c = &s.client;
        c.goto(&format!("{}/console/", s.base()))
            .await
            .expect("open");
        find(c, "#login-user").await;
        until(
            c,
            "the login form",
            "return !document.getElementById('login').hidden",
        )
        .await;
        screenshot(c, "login").await;

        // A wrong password is refused on the page, and nothing is stored.
        find(c, "#login-user")
            .await
            .send_keys(ADMIN.0)
            .await
            .unwrap();
        // Keyboard: Enter in the password field submits the form.
        find(c, "#login-password")
            .await
            .send_keys("wrong\u{E007}")
            .await
            .unwrap();
        let error = until(
            c,
            "the login error",
            "return document.getElementById('login-error').textContent",
        )
        .await;
        assert_eq!(error, json!("Wrong user name or password."));
        let stored = c
            .execute("return sessionStorage.length", vec![])
            .await
            .unwrap();
        assert_eq!(stored, json!(0));
        find(c, "#login-user").await.clear().await.unwrap();
        find(c, "#login-password").await.clear().await.unwrap();

        sign_in(c, &s.base()).await;
        // The token lives in sessionStorage, never in a cookie (CSRF-safe).
        let token = c
            .execute(
                "return sessionStorage.getItem('conflux.console.token')",
                vec![],
            )
            .await
            .unwrap();
        let token = token
            .as_str()
            .expect("a token in sessionStorage")
            .to_string();
        assert!(token.split('.').count() == 3, "a JWT: {token}");
        let cookies = c.execute("return document.cookie", vec![]).await.unwrap();
        assert_eq!(cookies, json!(""));

        // Overview: server facts and the port plan at this offset.
        let offset = s.server.offset;
        until(
            c,
            "the server's offset on the overview",
            &format!(
                "const e = document.querySelector('[data-test=\"server-offset\"]'); return e && e.textContent === '{offset}';"
            ),
        )
        .await;
        let http_row = text_of(
            c,
            "[data-test=\"port-row\"][data-key=\"http\"] [data-test=\"port-number\"]",
        )
        .await;
        assert_eq!(http_row, (u32::from(HTTP) + offset).to_string());
        until(
            c,
            "every port row",
            "return document.querySelectorAll('[data-test=\"port-row\"]').length >= 4",
        )
        .await;
        screenshot(c, "overview").await;

        // Artifacts: the default home's APIs, by name.
        open(c, "#/artifacts/apis", &t("artifact-table")).await;
        let expected = bundled_api_names();
        assert!(expected.contains("HelloApi"), "{expected:?}");
        let names = until(
            c,
            "the API list",
            &format!(
                "const n = [...document.querySelectorAll('[data-test=\"artifact-row\"]')].map(r => r.dataset.name); return n.length === {} ? n : null;",
                expected.len()
            ),
        )
        .await;
        let shown: BTreeSet<String> = names
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(shown, expected);

        // Search narrows the list (MI's searchKey rule: part of the name, any case).
        find(c, &t("artifact-search"))
            .await
            .send_keys("GREET")
            .await
            .unwrap();
        let narrowed = until(
            c,
            "the search result",
            "const n = [...document.querySelectorAll('[data-test=\"artifact-row\"]')].map(r => r.dataset.name); return n.length === 1 ? n : null;",
        )
        .await;
        assert_eq!(narrowed, json!(["GreetingApi"]));
        find(c, &t("artifact-search")).await.clear().await.unwrap();
        c.execute(
            "document.querySelector('[data-test=\"artifact-search\"]').dispatchEvent(new Event('input'))",
            vec![],
        )
        .await
        .unwrap();

        // Detail: the configuration XML of HelloApi.
        find(c, &t("artifact-HelloApi"))
            .await
            .click()
            .await
            .unwrap();
        let xml = until(
            c,
            "HelloApi's configuration",
            "const e = document.querySelector('[data-test=\"detail-configuration\"]'); return e && e.textContent;",
        )
        .await;
        let xml = xml.as_str().unwrap();
        assert!(
            xml.contains(r#"name="HelloApi""#) && xml.contains(r#"context="/hello""#),
            "{xml}"
        );
        assert_eq!(
            c.current_url().await.unwrap().fragment(),
            Some("/artifacts/apis/HelloApi"),
            "a deep link to the detail"
        );
        assert_controls_labelled(c, "artifacts").await;
        screenshot(c, "artifacts").await;

        // Keyboard: the arrow keys move between the kind tabs (WAI-ARIA tabs pattern).
        c.execute("document.getElementById('tab-apis').focus()", vec![])
            .await
            .unwrap();
        c.active_element()
            .await
            .unwrap()
            .send_keys("\u{E014}")
            .await
            .unwrap();
        let proxies = until(
            c,
            "the proxy services tab, selected and focused",
            "const tab = document.getElementById('tab-proxy-services');
             if (tab.getAttribute('aria-selected') !== 'true' || document.activeElement !== tab) return null;
             const n = [...document.querySelectorAll('[data-test=\"artifact-row\"]')].map(r => r.dataset.name);
             return n.length ? n : null;",
        )
        .await;
        assert_eq!(proxies, json!(["EchoProxy"]));

        // Sign out: the form is back, the token is gone from the page and refused by the server.
        find(c, &t("logout")).await.click().await.unwrap();
        until(
            c,
            "the login form after sign-out",
            "return !document.getElementById('login').hidden",
        )
        .await;
        let left = c
            .execute(
                "return sessionStorage.getItem('conflux.console.token')",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(left, Value::Null);
        let (status, _) = management(&s.server, &token, "/management/apis");
        assert_eq!(status, 401, "the signed-out token is revoked");
        s.close().await;
    });
}

#[test]
fn deactivating_an_endpoint_fails_traffic_until_it_is_activated_again() {
    run(async {
        let Some(s) = Session::start().await else {
            return;
        };
        let c = &s.client;
        let http = s.server.port(HTTP);
        // TransformApi calls the HelloBackend endpoint (this home's HelloApi) and reshapes its answer.
        let ok = get(http, "/transform/world");
        assert_eq!(ok.status, 200, "{}", ok.text());
        assert!(ok.text().contains("hello world"), "{}", ok.text());

        sign_in(c, &s.base()).await;
        open(c, "#/endpoints", &t("endpoints-table")).await;
        let state = text_of(c, &t("endpoint-state-HelloBackend")).await;
        assert_eq!(state, "active");
        find(c, &t("endpoint-toggle-HelloBackend"))
            .await
            .click()
            .await
            .unwrap();
        until(
            c,
            "HelloBackend shown inactive",
            "const e = document.querySelector('[data-test=\"endpoint-state-HelloBackend\"]'); return e && e.textContent === 'inactive';",
        )
        .await;
        let said = text_of(c, &t("endpoints-status")).await;
        assert_eq!(said, "HelloBackend is switched Off");
        let api_token = token(&s.server);
        let (_, detail) = management(
            &s.server,
            &api_token,
            "/management/endpoints?endpointName=HelloBackend",
        );
        assert_eq!(detail["isActive"], json!(false));

        // Real traffic now fails: TransformApi's fault sequence answers 502.
        let failed = get(http, "/transform/world");
        assert_eq!(failed.status, 502, "{}", failed.text());
        assert!(
            failed.text().contains("backend unavailable"),
            "{}",
            failed.text()
        );
        assert_controls_labelled(c, "endpoints").await;
        screenshot(c, "endpoints").await;

        // Keyboard: the button is focused after the redraw; Enter activates it again.
        let focused = c
            .execute(
                "return document.activeElement && document.activeElement.dataset.test",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(focused, json!("endpoint-toggle-HelloBackend"));
        c.active_element()
            .await
            .unwrap()
            .send_keys("\u{E007}")
            .await
            .unwrap();
        until(
            c,
            "HelloBackend shown active again",
            "const e = document.querySelector('[data-test=\"endpoint-state-HelloBackend\"]'); return e && e.textContent === 'active';",
        )
        .await;
        let back = get(http, "/transform/world");
        assert_eq!(back.status, 200, "{}", back.text());
        assert!(back.text().contains("hello world"), "{}", back.text());
        s.close().await;
    });
}

#[test]
fn proxy_services_stop_and_start_and_carbon_apps_are_listed() {
    run(async {
        let Some(s) = Session::start_with(|home| {
            let api = api(
                "CarApi",
                "/car",
                r#"<resource methods="GET"><inSequence><respond/></inSequence></resource>"#,
            );
            CAppBuilder::new("ConsoleDemo")
                .api("CarApi", &api)
                .write_into(&carbonapps(home));
            CAppBuilder::new("BrokenDemo")
                .missing_dependency("Gone")
                .write_into(&carbonapps(home));
            // An artifact that fails to deploy: its file and line show on the artifacts view.
            std::fs::write(
                home.join(SYNAPSE).join("api/BrokenApi.xml"),
                "<api xmlns=\"http://ws.apache.org/ns/synapse\" name=\"BrokenApi\" context=\"/broken\">\n  <resource methods=\"GET\"><inSequence>\n    <frobnicate/>\n  </inSequence></resource>\n</api>\n",
            )
            .expect("write a broken API");
        })
        .await
        else {
            return;
        };
        let c = &s.client;
        sign_in(c, &s.base()).await;

        // The failed artifact: named with file:line on the artifacts view, health says faulty.
        open(c, "#/artifacts/apis", &t("failures")).await;
        let failures = text_of(c, &t("failures")).await;
        assert!(failures.contains("api/BrokenApi.xml:3"), "{failures}");
        open(c, "#/overview", &t("health")).await;
        assert_eq!(text_of(c, &t("health")).await, "faulty");

        // Carbon apps: the deployed one with its artifact, the faulty one with its reason.
        open(c, "#/capps", &t("capps-table")).await;
        let row = text_of(c, "[data-test=\"capp-row\"][data-name=\"ConsoleDemo\"]").await;
        assert!(row.contains("1.0.0") && row.contains("CarApi"), "{row}");
        let faulty = text_of(
            c,
            "[data-test=\"capp-faulty-row\"][data-name=\"BrokenDemo\"]",
        )
        .await;
        assert!(
            faulty.contains("Gone"),
            "the reason names the missing artifact: {faulty}"
        );
        screenshot(c, "capps").await;

        // Proxy services: stop EchoProxy and its traffic is refused; start it and it flows again.
        let http = s.server.port(HTTP);
        let path = "/services/EchoProxy/world";
        assert_eq!(get(http, path).status, 200);
        open(c, "#/proxies", &t("proxies-table")).await;
        assert_eq!(text_of(c, &t("proxy-state-EchoProxy")).await, "running");
        find(c, &t("proxy-toggle-EchoProxy"))
            .await
            .click()
            .await
            .unwrap();
        until(
            c,
            "EchoProxy shown stopped",
            "const e = document.querySelector('[data-test=\"proxy-state-EchoProxy\"]'); return e && e.textContent === 'stopped';",
        )
        .await;
        assert_eq!(
            text_of(c, &t("proxies-status")).await,
            "Proxy service EchoProxy stopped successfully"
        );
        // Axis2's inactive-service fault, as management_api.rs checks through the API.
        assert_eq!(get(http, path).status, 500);
        screenshot(c, "proxies").await;
        find(c, &t("proxy-toggle-EchoProxy"))
            .await
            .click()
            .await
            .unwrap();
        until(
            c,
            "EchoProxy shown running again",
            "const e = document.querySelector('[data-test=\"proxy-state-EchoProxy\"]'); return e && e.textContent === 'running';",
        )
        .await;
        assert_eq!(get(http, path).status, 200);
        s.close().await;
    });
}

#[test]
fn changing_a_log_level_applies_at_once_and_the_tail_follows() {
    run(async {
        let Some(s) = Session::start().await else {
            return;
        };
        let c = &s.client;
        sign_in(c, &s.base()).await;
        open(c, "#/logs", &t("logging-table")).await;
        let api_token = token(&s.server);
        let logger = "rootLogger";
        let (_, before) = management(
            &s.server,
            &api_token,
            &format!("/management/logging?loggerName={logger}"),
        );
        assert_eq!(before["level"], json!("INFO"));

        // INFO -> WARN through the select and its Apply button.
        find(c, &t(&format!("level-{logger}")))
            .await
            .select_by_value("WARN")
            .await
            .unwrap();
        find(c, &t(&format!("level-apply-{logger}")))
            .await
            .click()
            .await
            .unwrap();
        until(
            c,
            "the new level in the table",
            &format!("const e = document.querySelector('[data-test=\"level-current-{logger}\"]'); return e && e.textContent === 'WARN';"),
        )
        .await;
        let (_, after) = management(
            &s.server,
            &api_token,
            &format!("/management/logging?loggerName={logger}"),
        );
        assert_eq!(
            after["level"],
            json!("WARN"),
            "the Management API sees the change"
        );

        // And back to INFO: the audit line of that change reaches the live tail.
        find(c, &t(&format!("level-{logger}")))
            .await
            .select_by_value("INFO")
            .await
            .unwrap();
        find(c, &t(&format!("level-apply-{logger}")))
            .await
            .click()
            .await
            .unwrap();
        until(
            c,
            "the change back to INFO",
            &format!("const e = document.querySelector('[data-test=\"level-current-{logger}\"]'); return e && e.textContent === 'INFO';"),
        )
        .await;
        let (_, restored) = management(
            &s.server,
            &api_token,
            &format!("/management/logging?loggerName={logger}"),
        );
        assert_eq!(restored["level"], json!("INFO"));
        until(
            c,
            "the audit line in the live tail",
            &format!("const e = document.querySelector('[data-test=\"log-tail\"]'); return e && e.textContent.includes('logger {logger} set to INFO');"),
        )
        .await;
        // A line logged by traffic shows up without reloading (HelloApi logs the name).
        let marker = "tail-marker-7f3a";
        assert_eq!(
            get(s.server.port(HTTP), &format!("/hello/{marker}")).status,
            200
        );
        until(
            c,
            "the traffic's log line in the tail",
            &format!("const e = document.querySelector('[data-test=\"log-tail\"]'); return e && e.textContent.includes('{marker}');"),
        )
        .await;
        assert_controls_labelled(c, "logs").await;
        screenshot(c, "logs").await;
        s.close().await;
    });
}

#[test]
fn the_request_chart_moves_after_requests() {
    run(async {
        let Some(s) = Session::start().await else {
            return;
        };
        let c = &s.client;
        sign_in(c, &s.base()).await;
        open(c, "#/traffic", &t("chart-requests")).await;
        let before = text_attr(c, "chart-requests", "data-total").await;
        assert_eq!(before, 0.0, "no traffic yet on a fresh server");

        let http = s.server.port(HTTP);
        const REQUESTS: usize = 12;
        for i in 0..REQUESTS {
            assert_eq!(get(http, &format!("/hello/chart{i}")).status, 200);
        }
        for i in 0..3 {
            assert_eq!(get(http, &format!("/greeting/n{i}")).status, 200);
        }
        // The page polls; the chart and the table follow without a reload.
        until(
            c,
            "HelloApi's requests in the table",
            &format!("const e = document.querySelector('[data-test=\"traffic-requests-HelloApi\"]'); return e && Number(e.textContent.replace(/,/g, '')) >= {REQUESTS};"),
        )
        .await;
        until(
            c,
            "the request chart to move",
            "const e = document.querySelector('[data-test=\"chart-requests\"]'); return e && Number(e.dataset.total) > 0;",
        )
        .await;
        let plotted = c
            .execute(
                "return [...document.querySelectorAll('[data-test=\"chart-requests\"] g[data-series]')].map(g => g.dataset.series)",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            plotted.as_array().unwrap().iter().any(|n| n == "HelloApi"),
            "HelloApi has a line: {plotted}"
        );
        if screenshots_wanted() {
            // For the README's picture: a minute of uneven traffic, with HelloBackend switched off
            // for a while, so the lines have a shape and the error chart an error spike.
            let api_token = token(&s.server);
            let mut seed = 0x2545_f491_u32;
            let mut next = |n: u32| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (seed >> 16) % n
            };
            for i in 0..30u32 {
                if i == 12 || i == 18 {
                    let status = if i == 12 { "inactive" } else { "active" };
                    let r = https_request_with(
                        "POST",
                        s.server.port(INTERNAL_HTTPS),
                        "/management/endpoints",
                        &[
                            ("Authorization", format!("Bearer {api_token}")),
                            ("Content-Type", "application/json".into()),
                        ],
                        json!({"name": "HelloBackend", "status": status})
                            .to_string()
                            .as_bytes(),
                    );
                    assert_eq!(r.status, 200, "{}", r.text());
                }
                for _ in 0..(2 + next(6)) {
                    get(http, "/hello/docs");
                }
                for _ in 0..(1 + next(3)) {
                    get(http, "/greeting/docs");
                }
                for _ in 0..next(3) {
                    get(http, "/transform/docs");
                }
                get(http, "/services/EchoProxy/docs");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
        screenshot(c, "traffic").await;
        s.close().await;
    });
}

/// A numeric attribute of `[data-test=name]` (0 when absent).
async fn text_attr(c: &Client, name: &str, attr: &str) -> f64 {
    find(c, &t(name))
        .await
        .attr(attr)
        .await
        .unwrap()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn the_fleet_view_shows_two_instances() {
    run(async {
        let Some(s) = Session::start().await else {
            return;
        };
        // A second instance at another offset, discovered through the same runtime directory.
        let other_offset = free_offset();
        let other_home = default_home(other_offset);
        let mut other = start_server(other_home.path(), other_offset, s.runtime.path());
        let c = &s.client;
        sign_in(c, &s.base()).await;
        open(c, "#/fleet", &t("fleet-cards")).await;
        let cards = until(
            c,
            "two instances in the fleet, both healthy",
            "const cards = [...document.querySelectorAll('[data-test=\"fleet-instance\"]')];
             if (cards.length !== 2) return null;
             if (!cards.every(k => { const b = k.querySelector('[data-test=\"health\"]'); return b && b.textContent === 'ready'; })) return null;
             return cards.map(k => [k.dataset.offset, k.dataset.self]);",
        )
        .await;
        let mut seen: Vec<(String, String)> = cards
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_string(),
                    p[1].as_str().unwrap().to_string(),
                )
            })
            .collect();
        seen.sort();
        let mut expected = vec![
            (s.server.offset.to_string(), "true".to_string()),
            (other_offset.to_string(), "false".to_string()),
        ];
        expected.sort();
        assert_eq!(seen, expected);
        let versions = c
            .execute(
                "return [...document.querySelectorAll('[data-test=\"fleet-version\"]')].map(e => e.textContent)",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(versions.as_array().unwrap().len(), 2, "{versions}");
        screenshot(c, "fleet").await;

        // The other instance stops: its card goes (its instance file is removed at shutdown).
        assert!(other.terminate().success(), "{}", other.output());
        until(
            c,
            "one instance after the other stopped",
            "return document.querySelectorAll('[data-test=\"fleet-instance\"]').length === 1",
        )
        .await;
        s.close().await;
    });
}
