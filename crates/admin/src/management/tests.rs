//! Unit tests of the Management API over in-memory requests: auth order, token life, store
//! limits, errors, and the resources' JSON shapes from real parsed artifacts.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use conflux_artifacts::{
    Application, ApplicationArtifact, Applications, Artifacts, parse_artifact,
};
use conflux_config::settings::ApiUser;
use conflux_mediation::runtime::compile::compile;
use conflux_mediation::runtime::deployment::DeploymentCounters;
use conflux_transport::client::{BackendClient, ClientOptions};
use conflux_transport::passthrough::{EndpointSender, ProxySwitches};

use super::*;

const NS: &str = "http://ws.apache.org/ns/synapse";
const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn artifacts() -> Artifacts {
    let mut artifacts = Artifacts::default();
    for (label, xml) in [
        (
            "api/A.xml",
            format!(
                r#"<api xmlns="{NS}" name="OrdersApi" context="/orders" statistics="enable"><resource methods="GET" uri-template="/{{id}}"><inSequence><respond/></inSequence></resource></api>"#
            ),
        ),
        (
            "endpoints/E.xml",
            format!(
                r#"<endpoint xmlns="{NS}" name="Ep"><http uri-template="http://127.0.0.1:9/x" method="post"/></endpoint>"#
            ),
        ),
        (
            "proxy-services/P.xml",
            format!(
                r#"<proxy xmlns="{NS}" name="P" transports="https" startOnLoad="false"><target><inSequence><respond/></inSequence></target></proxy>"#
            ),
        ),
        (
            "local-entries/L.xml",
            format!(r#"<localEntry xmlns="{NS}" key="L"><conf><a>1</a></conf></localEntry>"#),
        ),
    ] {
        artifacts
            .insert(parse_artifact(label, &xml).expect("artifact"))
            .expect("insert");
    }
    artifacts
}

/// A live snapshot of `artifacts` compiled, with every proxy service running or stopped.
pub(crate) fn live_with(
    artifacts: Artifacts,
    applications: Applications,
    proxies_running: bool,
) -> Arc<ArcSwap<Live>> {
    let (deployment, errors) = compile(&artifacts);
    assert!(errors.is_empty(), "{errors:?}");
    let tls = conflux_transport::tls::client_config(None).expect("tls");
    let sender = EndpointSender::new(
        BackendClient::new(tls, ClientOptions::default()),
        &deployment.endpoints,
        Duration::from_secs(1),
    );
    let proxy_running = ProxySwitches::new(deployment.proxies.iter().map(|_| proxies_running));
    let counters = DeploymentCounters::for_deployment(&deployment);
    Arc::new(ArcSwap::from_pointee(Live {
        deployment,
        sender,
        counters,
        artifacts,
        proxy_running,
        applications,
    }))
}

fn config() -> ManagementApiConfig {
    ManagementApiConfig {
        users: vec![
            ApiUser {
                name: "admin".into(),
                password: "pw".into(),
                is_admin: true,
            },
            ApiUser {
                name: "view".into(),
                password: "v".into(),
                is_admin: false,
            },
        ],
        default_users: false,
        ..ManagementApiConfig::default()
    }
}

fn api_with(config: ManagementApiConfig) -> ManagementApi {
    api_in(
        config,
        Path::new("/nonexistent/carbonapps"),
        Applications::default(),
    )
}

fn api_in(
    config: ManagementApiConfig,
    carbonapps_dir: &Path,
    applications: Applications,
) -> ManagementApi {
    let facts = ServerFacts {
        hostname: "localhost".into(),
        home: "/h".into(),
        synapse_dir: Path::new("/nonexistent").into(),
        carbonapps_dir: carbonapps_dir.into(),
        logs_dir: Path::new("/nonexistent/logs").into(),
        http_base: Some("http://localhost:8290".into()),
        https_base: Some("https://localhost:8253".into()),
        ports: json!([]),
    };
    ManagementApi::new(
        config,
        facts,
        Arc::new(ServerStatus::new("9.9.9", 10)),
        live_with(artifacts(), applications, false),
        None,
    )
    .expect("api")
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
    raw: Bytes,
}

fn call(
    api: &ManagementApi,
    method: Method,
    path: &str,
    auth: Option<String>,
    body: &str,
) -> Answer {
    call_with(api, method, path, auth, &[], body.as_bytes())
}

fn call_with(
    api: &ManagementApi,
    method: Method,
    path: &str,
    auth: Option<String>,
    extra_headers: &[(header::HeaderName, &str)],
    body: &[u8],
) -> Answer {
    let mut headers = HeaderMap::new();
    for (name, value) in extra_headers {
        headers.insert(name.clone(), HeaderValue::from_str(value).unwrap());
    }
    if let Some(a) = auth {
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&a).unwrap());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let r = runtime.block_on(api.handle(ManagementRequest {
        method: &method,
        path_and_query: path,
        headers: &headers,
        body,
        client: CLIENT,
    }));
    let raw = r.body().clone();
    Answer {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        raw,
    }
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

fn login(api: &ManagementApi, user: &str, password: &str) -> String {
    let a = call(
        api,
        Method::GET,
        "/management/login",
        Some(basic(user, password)),
        "",
    );
    assert_eq!(a.status, 200);
    format!("Bearer {}", a.body["AccessToken"].as_str().unwrap())
}

#[test]
fn login_gives_a_token_that_logout_revokes() {
    let api = api_with(config());
    let bad = call(
        &api,
        Method::GET,
        "/management/login",
        Some(basic("admin", "x")),
        "",
    );
    assert_eq!(bad.status, 401);
    assert!(bad.raw.is_empty());
    assert!(bad.headers.contains_key(header::WWW_AUTHENTICATE));
    let token = login(&api, "admin", "pw");
    assert_eq!(
        call(
            &api,
            Method::GET,
            "/management/apis",
            Some(token.clone()),
            ""
        )
        .status,
        200
    );
    assert_eq!(
        call(
            &api,
            Method::GET,
            "/management/logout",
            Some(token.clone()),
            ""
        )
        .status,
        200
    );
    assert_eq!(
        call(&api, Method::GET, "/management/apis", Some(token), "").status,
        401
    );
}

#[test]
fn malformed_credentials_are_401() {
    let api = api_with(config());
    for auth in [
        None,
        Some("Basic".to_string()),
        Some("Basic !!!".to_string()),
        Some(format!("Basic {}", STANDARD.encode("no-colon"))),
        Some(format!("basic {}", STANDARD.encode("admin:pw"))),
    ] {
        assert_eq!(
            call(&api, Method::GET, "/management/login", auth.clone(), "").status,
            401,
            "{auth:?}"
        );
    }
    assert_eq!(
        call(
            &api,
            Method::GET,
            "/management/apis",
            Some("Bearer a.b.c".into()),
            ""
        )
        .status,
        401
    );
}

#[test]
fn zero_expiry_tokens_are_refused_at_once() {
    let api = api_with(ManagementApiConfig {
        token_expiry: Duration::ZERO,
        ..config()
    });
    let token = login(&api, "admin", "pw");
    assert_eq!(
        call(&api, Method::GET, "/management/apis", Some(token), "").status,
        401
    );
}

// MI JWTTokenSecurityHandler: "Max concurrent access limit exceeded" when full without eviction.
#[test]
fn full_store_without_eviction_refuses_login_with_mi_error() {
    let api = api_with(ManagementApiConfig {
        token_store_max_size: 1,
        remove_oldest_token_on_overflow: false,
        ..config()
    });
    login(&api, "admin", "pw");
    let a = call(
        &api,
        Method::GET,
        "/management/login",
        Some(basic("admin", "pw")),
        "",
    );
    assert_eq!(a.status, 500);
    assert_eq!(a.body["Error"], "Max concurrent access limit exceeded");
}

#[test]
fn root_needs_no_auth_but_root_slash_does() {
    let api = api_with(config());
    let a = call(&api, Method::GET, "/management", None, "");
    assert_eq!(a.status, 200);
    assert_eq!(a.body["WSO2 Micro Integrator"], "9.9.9");
    assert_eq!(
        call(&api, Method::GET, "/management/", None, "").status,
        401
    );
}

#[test]
fn resources_have_mi_shapes() {
    let api = api_with(config());
    let token = Some(login(&api, "view", "v"));
    let apis = call(&api, Method::GET, "/management/apis", token.clone(), "").body;
    assert_eq!(apis["count"], 1);
    assert_eq!(apis["list"][0]["url"], "http://localhost:8290/orders");
    assert_eq!(
        apis["list"][0]["urlList"][1],
        "https://localhost:8253/orders"
    );
    let detail = call(
        &api,
        Method::GET,
        "/management/apis?apiName=OrdersApi",
        token.clone(),
        "",
    )
    .body;
    assert_eq!(detail["stats"], "enabled");
    assert_eq!(detail["version"], "N/A");
    assert_eq!(detail["port"], -1);
    assert!(detail.get("host").is_none());

    let ep = call(
        &api,
        Method::GET,
        "/management/endpoints?endpointName=Ep",
        token.clone(),
        "",
    )
    .body;
    assert_eq!(ep["type"], "HTTP Endpoint");
    assert_eq!(ep["method"], "post");
    assert_eq!(ep["uriTemplate"], "http://127.0.0.1:9/x");
    assert_eq!(ep["advanced"]["timeoutState"]["reties"], 0);

    let proxy = call(
        &api,
        Method::GET,
        "/management/proxy-services?proxyServiceName=P",
        token.clone(),
        "",
    )
    .body;
    assert_eq!(proxy["isRunning"], false);
    assert_eq!(proxy["eprs"], json!(["https://localhost:8253/services/P"]));

    let entry = call(
        &api,
        Method::GET,
        "/management/local-entries?name=L",
        token.clone(),
        "",
    )
    .body;
    assert_eq!(entry["type"], "Inline XML");
    assert!(entry["value"].as_str().unwrap().contains("<a>1</a>"));

    // No log-level handle: /logging is not served.
    assert_eq!(
        call(&api, Method::GET, "/management/logging", token.clone(), "").status,
        404
    );
    // Users and roles need an admin; admins get MI's file-store answer.
    assert_eq!(
        call(&api, Method::GET, "/management/users", token, "").status,
        403
    );
    let admin = Some(login(&api, "admin", "pw"));
    let users = call(&api, Method::GET, "/management/users", admin, "");
    assert_eq!(users.status, 403);
    assert!(
        users.body["Error"]
            .as_str()
            .unwrap()
            .contains("file-based user store")
    );
}

#[test]
fn write_errors_use_mi_keys_and_statuses() {
    let api = api_with(config());
    let token = Some(login(&api, "admin", "pw"));
    let post = |body: &str| {
        call(
            &api,
            Method::POST,
            "/management/endpoints",
            token.clone(),
            body,
        )
    };
    assert_eq!(post("").body["Error"], "JSON payload is missing");
    assert_eq!(post("{").body["Error"], "Error when parsing JSON payload");
    let a = post(r#"{"name":"Nope","status":"active"}"#);
    assert_eq!(
        (a.status, a.body["Error"].as_str()),
        (404, Some("Endpoint does not exist"))
    );
    let a = post(r#"{"name":"Ep","status":"sleepy"}"#);
    assert_eq!(a.status, 400);
    let a = post(r#"{"name":"Ep","status":"inactive"}"#);
    assert_eq!(a.body, json!({"Message": "Ep is switched Off"}));
    let list = call(
        &api,
        Method::GET,
        "/management/endpoints",
        token.clone(),
        "",
    )
    .body;
    assert_eq!(list["list"][0]["isActive"], false);
}

#[test]
fn query_values_are_form_decoded() {
    let q = Query::parse("a=x%20y+z&b=%zz&c&d=%E2%82%AC&e=%");
    assert_eq!(q.get("a"), Some("x y z"));
    assert_eq!(q.get("b"), Some("%zz"));
    assert_eq!(q.get("c"), Some(""));
    assert_eq!(q.get("d"), Some("€"));
    assert_eq!(q.get("e"), Some("%"));
    assert_eq!(q.get("f"), None);
}

#[test]
fn stats_and_tracing_read_the_root_and_first_child() {
    assert_eq!(stats_and_tracing(None), ("disabled", "disabled"));
    assert_eq!(
        stats_and_tracing(Some(
            r#"<endpoint name="e"><address uri="x" statistics="enable" trace="enable"/></endpoint>"#
        )),
        ("enabled", "enabled")
    );
    assert_eq!(
        stats_and_tracing(Some("<not xml")),
        ("disabled", "disabled")
    );
}

// ---- /applications (MI CarbonAppResource; facts: Utils.createCAppJSONList) ----

fn capp(name: &str, version: Option<&str>, artifacts: &[(&str, &str)]) -> Application {
    Application {
        name: name.into(),
        version: version.map(str::to_string),
        file_name: format!("{name}_{}.car", version.unwrap_or("x")),
        artifacts: artifacts
            .iter()
            .map(|(n, k)| ApplicationArtifact {
                name: (*n).into(),
                kind: (*k).into(),
            })
            .collect(),
        error: None,
    }
}

fn applications() -> Applications {
    Applications {
        active: vec![
            capp(
                "HelloCompositeExporter",
                Some("1.0.0"),
                &[
                    ("HelloApi", "synapse/api"),
                    ("schema_json", "registry/resource"),
                ],
            ),
            capp("NoVersion", None, &[("Mediator", "lib/synapse/mediator")]),
        ],
        faulty: vec![Application {
            error: Some("Bad.car!/Bad_1.0.0/Bad-1.0.0.xml:3:7: unknown mediator <nope>".into()),
            ..capp("FaultyCApp", Some("2.0.0"), &[("Bad", "synapse/sequence")])
        }],
    }
}

/// An API over a temporary `carbonapps/` with the apps above, and an admin's and a viewer's token.
struct CAppFixture {
    api: ManagementApi,
    dir: tempfile::TempDir,
    admin: Option<String>,
    viewer: Option<String>,
    redeploys: Arc<std::sync::atomic::AtomicUsize>,
}

impl CAppFixture {
    fn new(max_capp_bytes: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let redeploys = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = redeploys.clone();
        let api = api_in(config(), &dir.path().join("carbonapps"), applications())
            .with_redeploy(Arc::new(move || {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }))
            .with_max_capp_bytes(max_capp_bytes);
        let admin = Some(login(&api, "admin", "pw"));
        let viewer = Some(login(&api, "view", "v"));
        CAppFixture {
            api,
            dir,
            admin,
            viewer,
            redeploys,
        }
    }

    fn carbonapps(&self) -> std::path::PathBuf {
        self.dir.path().join("carbonapps")
    }

    fn redeploys(&self) -> usize {
        self.redeploys.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn upload(&self, auth: &Option<String>, content_type: &str, body: &[u8]) -> Answer {
        call_with(
            &self.api,
            Method::POST,
            "/management/applications",
            auth.clone(),
            &[(header::CONTENT_TYPE, content_type)],
            body,
        )
    }

    fn delete(&self, auth: &Option<String>, name: &str) -> Answer {
        call(
            &self.api,
            Method::DELETE,
            &format!("/management/applications/{name}"),
            auth.clone(),
            "",
        )
    }
}

const BOUNDARY: &str = "XyZ-boundary";

fn form_data() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// A multipart/form-data body with these `(filename, bytes)` parts (`None`: a plain field).
fn multipart(parts: &[(Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, (file_name, bytes)) in parts.iter().enumerate() {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match file_name {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"file{i}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"field{i}\"\r\n"),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

#[test]
fn capp_upload_limit_is_64_mib() {
    assert_eq!(MAX_CAPP_UPLOAD_BYTES, 64 * 1024 * 1024);
    let api = api_with(config());
    assert_eq!(api.max_capp_bytes, MAX_CAPP_UPLOAD_BYTES);
}

#[test]
fn applications_list_has_mi_shape_with_faulty_reasons() {
    let f = CAppFixture::new(1024);
    let a = call(
        &f.api,
        Method::GET,
        "/management/applications",
        f.viewer.clone(),
        "",
    );
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body,
        json!({
            "totalCount": 3,
            "activeCount": 2,
            "activeList": [
                {"name": "HelloCompositeExporter", "version": "1.0.0", "artifacts": [
                    {"name": "HelloApi", "type": "api"},
                    {"name": "schema_json", "type": "resource"},
                ]},
                {"name": "NoVersion", "artifacts": [{"name": "Mediator", "type": "synapse"}]},
            ],
            "faultyCount": 1,
            "faultyList": [
                {"name": "FaultyCApp", "version": "2.0.0",
                 "artifacts": [{"name": "Bad", "type": "sequence"}],
                 "error": "Bad.car!/Bad_1.0.0/Bad-1.0.0.xml:3:7: unknown mediator <nope>"},
            ],
        })
    );
    // No applications at all: MI's empty shape.
    let empty_api = api_with(config());
    let token = Some(login(&empty_api, "view", "v"));
    let a = call(
        &empty_api,
        Method::GET,
        "/management/applications",
        token,
        "",
    );
    assert_eq!(
        a.body,
        json!({"totalCount": 0, "activeCount": 0, "activeList": [], "faultyCount": 0, "faultyList": []})
    );
}

// MI CarbonAppResourceTestCase: `?searchKey=FaultyCApp` -> totalCount 1.
#[test]
fn applications_search_key_filters_both_lists_ignoring_case() {
    let f = CAppFixture::new(1024);
    let search = |key: &str| {
        call(
            &f.api,
            Method::GET,
            &format!("/management/applications?searchKey={key}"),
            f.viewer.clone(),
            "",
        )
        .body
    };
    let a = search("FaultyCApp");
    assert_eq!(
        (a["totalCount"].clone(), a["activeCount"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(a["faultyList"][0]["name"], "FaultyCApp");
    let a = search("o");
    assert_eq!(
        (a["activeCount"].clone(), a["faultyCount"].clone()),
        (json!(2), json!(0))
    );
    let a = search("HELLO");
    assert_eq!(a["totalCount"], 1);
    assert_eq!(a["activeList"][0]["name"], "HelloCompositeExporter");
    assert_eq!(search("nothing")["totalCount"], 0);
}

#[test]
fn application_detail_is_the_active_app_or_404_without_body() {
    let f = CAppFixture::new(1024);
    let get = |name: &str| {
        call(
            &f.api,
            Method::GET,
            &format!("/management/applications?carbonAppName={name}"),
            f.viewer.clone(),
            "",
        )
    };
    let a = get("HelloCompositeExporter");
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body,
        json!({"name": "HelloCompositeExporter", "version": "1.0.0", "artifacts": [
            {"name": "HelloApi", "type": "api"},
            {"name": "schema_json", "type": "resource"},
        ]})
    );
    // Faulty applications and unknown names: MI looks in the active list only.
    for name in ["FaultyCApp", "Nope", "hellocompositeexporter"] {
        let a = get(name);
        assert_eq!(a.status, 404, "{name}");
        assert!(a.raw.is_empty(), "{name}");
    }
}

// MI populateFileContent: `Accept: application/octet-stream` returns carbonapps/<N>, else 500.
#[test]
fn application_download_returns_the_file_bytes() {
    let f = CAppFixture::new(16);
    std::fs::create_dir_all(f.carbonapps()).unwrap();
    std::fs::write(
        f.carbonapps().join("Hello_1.0.0.car"),
        b"PK\x03\x04zip bytes",
    )
    .unwrap();
    std::fs::write(f.carbonapps().join("Big.car"), [7u8; 17]).unwrap();
    std::fs::write(f.carbonapps().join("Limit.car"), [7u8; 16]).unwrap();
    let download = |name: &str| {
        call_with(
            &f.api,
            Method::GET,
            &format!("/management/applications?carbonAppName={name}"),
            f.viewer.clone(),
            &[(header::ACCEPT, "application/octet-stream")],
            b"",
        )
    };
    let a = download("Hello_1.0.0.car");
    assert_eq!(a.status, 200);
    assert_eq!(&a.raw[..], b"PK\x03\x04zip bytes");
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(download("Limit.car").raw.len(), 16);
    for name in ["Missing.car", "Big.car"] {
        let a = download(name);
        assert_eq!((a.status, a.raw.is_empty()), (500, true), "{name}");
    }
    for name in ["..%2Fsecret.car", "a%2Fb.car", "..", "a%5Cb.car"] {
        assert_eq!(download(name).status, 400, "{name}");
    }
}

#[test]
fn application_upload_writes_the_file_and_redeploys() {
    let f = CAppFixture::new(1024);
    let a = f.upload(
        &f.admin,
        &form_data(),
        &multipart(&[(Some("Hello_1.0.0.car"), b"car bytes\r\n--not-a-boundary")]),
    );
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(
        a.body,
        json!({"Message": "Successfully added Carbon Application Hello_1.0.0.car"})
    );
    assert_eq!(
        std::fs::read(f.carbonapps().join("Hello_1.0.0.car")).unwrap(),
        b"car bytes\r\n--not-a-boundary"
    );
    assert_eq!(f.redeploys(), 1);
    // The temporary file was renamed away; nothing else is in carbonapps/.
    let names: Vec<_> = std::fs::read_dir(f.carbonapps())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["Hello_1.0.0.car"]);
    // A second upload of the same name replaces the file (MI overwrites).
    let a = f.upload(
        &f.admin,
        &form_data(),
        &multipart(&[(Some("Hello_1.0.0.car"), b"v2")]),
    );
    assert_eq!(a.status, 200);
    assert_eq!(
        std::fs::read(f.carbonapps().join("Hello_1.0.0.car")).unwrap(),
        b"v2"
    );
    assert_eq!(f.redeploys(), 2);
}

// MI handlePost's 400 messages, verbatim (trailing spaces included).
#[test]
fn application_upload_refusals_use_mi_messages() {
    let f = CAppFixture::new(1024);
    let prefix = "Error when deploying the Carbon Application. ";
    let cases: Vec<(String, Vec<u8>, String)> = vec![
        (
            "application/json".into(),
            b"{}".to_vec(),
            format!("{prefix}Supports only for the Content-Type : multipart/form-data"),
        ),
        (
            form_data(),
            multipart(&[]),
            format!("{prefix}No file exist to be uploaded. "),
        ),
        (
            form_data(),
            multipart(&[(Some("A.car"), b"a"), (Some("B.car"), b"b")]),
            format!("{prefix}Uploading Multiple files in one request is not supported. "),
        ),
        (
            form_data(),
            multipart(&[(Some("A.zip"), b"a")]),
            format!("{prefix}Only files with the extension .car is supported. "),
        ),
        (
            form_data(),
            multipart(&[(None, b"a")]),
            format!("{prefix}Only files with the extension .car is supported. "),
        ),
    ];
    for (content_type, body, message) in cases {
        let a = f.upload(&f.admin, &content_type, &body);
        assert_eq!(
            (a.status, a.body["Error"].as_str()),
            (400, Some(message.as_str())),
            "{message}"
        );
    }
    // Conflux's own refusals: names that leave carbonapps/, and bodies that are not multipart.
    for name in ["../up.car", "a/b.car", "a\\b.car", ".hidden.car"] {
        let a = f.upload(&f.admin, &form_data(), &multipart(&[(Some(name), b"x")]));
        assert_eq!(a.status, 400, "{name}");
        assert!(
            a.body["Error"].as_str().unwrap().starts_with(prefix),
            "{name}"
        );
    }
    let a = f.upload(
        &f.admin,
        "multipart/form-data",
        &multipart(&[(Some("A.car"), b"a")]),
    );
    assert_eq!(a.status, 400);
    let a = f.upload(&f.admin, &form_data(), b"--XyZ-boundary\r\nno end");
    assert_eq!(a.status, 400);
    assert!(
        !f.carbonapps().exists() || std::fs::read_dir(f.carbonapps()).unwrap().next().is_none()
    );
    assert_eq!(f.redeploys(), 0);
}

#[test]
fn application_upload_over_the_limit_is_413() {
    let f = CAppFixture::new(16);
    let a = f.upload(
        &f.admin,
        &form_data(),
        &multipart(&[(Some("Big.car"), &[1u8; 17])]),
    );
    assert_eq!(a.status, 413);
    assert!(a.body["Error"].as_str().unwrap().contains("16 bytes"));
    assert!(!f.carbonapps().join("Big.car").exists());
    let a = f.upload(
        &f.admin,
        &form_data(),
        &multipart(&[(Some("Big.car"), &[1u8; 16])]),
    );
    assert_eq!(a.status, 200);
    // A body larger than the file limit plus the multipart framing is refused unread.
    let huge = vec![b'x'; 16 + MAX_MULTIPART_OVERHEAD_BYTES + 1];
    let a = f.upload(&f.admin, &form_data(), &huge);
    assert_eq!(a.status, 413);
    assert!(a.body.get("Error").is_some());
}

#[test]
fn application_writes_need_an_admin() {
    let f = CAppFixture::new(1024);
    std::fs::create_dir_all(f.carbonapps()).unwrap();
    std::fs::write(f.carbonapps().join("Keep_1.0.0.car"), b"x").unwrap();
    let a = f.upload(
        &f.viewer,
        &form_data(),
        &multipart(&[(Some("A.car"), b"a")]),
    );
    assert_eq!((a.status, a.raw.is_empty()), (403, true));
    let a = f.delete(&f.viewer, "Keep_1.0.0");
    assert_eq!((a.status, a.raw.is_empty()), (403, true));
    assert!(f.carbonapps().join("Keep_1.0.0.car").exists());
    assert!(!f.carbonapps().join("A.car").exists());
    assert_eq!(f.redeploys(), 0);
    // Without a token, 401 as everywhere.
    assert_eq!(f.delete(&None, "Keep_1.0.0").status, 401);
}

// MI AuditLogTestCase: DELETE applications/esb-artifacts-car_1.0.0 -> 200.
#[test]
fn application_delete_removes_the_file_and_redeploys() {
    let f = CAppFixture::new(1024);
    std::fs::create_dir_all(f.carbonapps()).unwrap();
    std::fs::write(f.carbonapps().join("esb-artifacts-car_1.0.0.car"), b"x").unwrap();
    let a = f.delete(&f.admin, "esb-artifacts-car_1.0.0");
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body,
        json!({"Message": "Successfully removed Carbon Application named esb-artifacts-car_1.0.0"})
    );
    assert!(!f.carbonapps().join("esb-artifacts-car_1.0.0.car").exists());
    assert_eq!(f.redeploys(), 1);

    let a = f.delete(&f.admin, "esb-artifacts-car_1.0.0");
    assert_eq!(a.status, 404);
    assert_eq!(
        a.body,
        json!({"Error": "Cannot remove the Carbon Application.esb-artifacts-car_1.0.0 does not exist"})
    );
    // A directory named like a CApp is not one.
    std::fs::create_dir(f.carbonapps().join("Dir.car")).unwrap();
    assert_eq!(f.delete(&f.admin, "Dir").status, 404);
    assert_eq!(f.redeploys(), 1);
}

#[test]
fn application_delete_refuses_names_outside_carbonapps() {
    let f = CAppFixture::new(1024);
    std::fs::create_dir_all(f.carbonapps()).unwrap();
    std::fs::write(f.dir.path().join("outside.car"), b"x").unwrap();
    for name in ["..%2Foutside", "a%2Fb", "a/b", "..", "a%5Cb", "%00x"] {
        let a = f.delete(&f.admin, name);
        assert_eq!(a.status, 400, "{name}");
        assert!(
            a.body["Error"]
                .as_str()
                .unwrap()
                .starts_with("Cannot remove the Carbon Application."),
            "{name}"
        );
    }
    assert!(f.dir.path().join("outside.car").exists());
    let a = call(
        &f.api,
        Method::DELETE,
        "/management/applications",
        f.admin.clone(),
        "",
    );
    assert_eq!(
        (a.status, a.body["Error"].as_str()),
        (
            400,
            Some(
                "Cannot remove the Carbon Application. Missing required name parameter in the path"
            )
        )
    );
    assert_eq!(f.redeploys(), 0);
}

// The listeners spawn the handler on a multi-thread runtime: uploads must not make it `!Send`.
#[test]
fn handling_a_request_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let api = api_with(config());
    let headers = HeaderMap::new();
    let handling = api.handle(ManagementRequest {
        method: &Method::POST,
        path_and_query: "/management/applications",
        headers: &headers,
        body: b"",
        client: CLIENT,
    });
    assert_send(&handling);
}
