//! Unit tests of the Management API over in-memory requests: auth order, token life, store
//! limits, errors, and the resources' JSON shapes from real parsed artifacts.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use conflux_artifacts::{Artifacts, parse_artifact};
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

fn live(artifacts: Artifacts) -> Arc<ArcSwap<Live>> {
    let (deployment, errors) = compile(&artifacts);
    assert!(errors.is_empty(), "{errors:?}");
    let tls = conflux_transport::tls::client_config(None).expect("tls");
    let sender = EndpointSender::new(
        BackendClient::new(tls, ClientOptions::default()),
        &deployment.endpoints,
        Duration::from_secs(1),
    );
    let proxy_running = ProxySwitches::new(deployment.proxies.iter().map(|_| false));
    let counters = DeploymentCounters::for_deployment(&deployment);
    Arc::new(ArcSwap::from_pointee(Live {
        deployment,
        sender,
        counters,
        artifacts,
        proxy_running,
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
    let facts = ServerFacts {
        hostname: "localhost".into(),
        home: "/h".into(),
        synapse_dir: Path::new("/nonexistent").into(),
        logs_dir: Path::new("/nonexistent/logs").into(),
        http_base: Some("http://localhost:8290".into()),
        https_base: Some("https://localhost:8253".into()),
        ports: json!([]),
    };
    ManagementApi::new(
        config,
        facts,
        Arc::new(ServerStatus::new("9.9.9", 10)),
        live(artifacts()),
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
    let mut headers = HeaderMap::new();
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
        body: body.as_bytes(),
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
