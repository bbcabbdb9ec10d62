//! The console's JSON resources under `/console/api/`: `ports`, `summary`, `traffic`, `logs`
//! (administrators only) and `fleet`. Each needs the Management API's Bearer token (401 without);
//! `summary` also answers the read-only fleet token of this host's other instances
//! (`X-Conflux-Fleet-Token`, see [`super::fleet`]). Errors are `{"Error": "..."}` as in the
//! Management API.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use serde_json::{Value, json};

use super::{Console, ConsoleRequest, PortState, error, json_response, logs};
use crate::management::auth::Principal;

/// The header a peer instance on this host presents its fleet token in.
pub const FLEET_TOKEN_HEADER: &str = "x-conflux-fleet-token";

pub(super) async fn handle(
    console: &Console,
    req: &ConsoleRequest<'_>,
    resource: &str,
    query: &str,
) -> Response<Bytes> {
    if req.method != Method::GET && req.method != Method::HEAD {
        let mut r = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "console resources answer GET only",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let resource = resource.trim_end_matches('/');
    if resource == "summary" && fleet_token_matches(console, req) {
        return json_response(StatusCode::OK, &summary(console));
    }
    let Some(principal) = console.management.principal(req.headers) else {
        let mut r = error(
            StatusCode::UNAUTHORIZED,
            "log in first: GET /management/login with Basic credentials, then send Authorization: Bearer <AccessToken>",
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"WSO2 EI\""),
        );
        return r;
    };
    match resource {
        "ports" => json_response(StatusCode::OK, &ports(console)),
        "summary" => json_response(StatusCode::OK, &summary(console)),
        "traffic" => match number_param(query, "since") {
            Ok(since) => json_response(StatusCode::OK, &console.traffic.to_json(since)),
            Err(r) => r,
        },
        "logs" => log_tail(console, &principal, query),
        "fleet" => fleet(console, req).await,
        _ => error(StatusCode::NOT_FOUND, "no such console resource"),
    }
}

fn fleet_token_matches(console: &Console, req: &ConsoleRequest<'_>) -> bool {
    let Some(fleet) = &console.fleet else {
        return false;
    };
    req.headers
        .get(FLEET_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|token| fleet.token_matches(token))
}

/// `?name=<unsigned integer>`; absent is `None`, anything else 400.
// The error is the answer itself, returned at once by every caller.
#[allow(clippy::result_large_err)]
fn number_param(query: &str, name: &str) -> Result<Option<u64>, Response<Bytes>> {
    let Some(value) = query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
    else {
        return Ok(None);
    };
    value.parse::<u64>().map(Some).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            &format!("{name} must be a whole number (found {value:?})"),
        )
    })
}

/// `{"offset", "ports": [{"name", "key", "port", "protocol", "bind", "state", "holder"}]}`.
fn ports(console: &Console) -> Value {
    let view = (console.ports)();
    let rows: Vec<Value> = view
        .ports
        .iter()
        .map(|p| {
            let holder = match p.state {
                PortState::Listening => Some("this instance".to_string()),
                _ => console
                    .holder_probe
                    .as_ref()
                    .and_then(|probe| probe(p.port)),
            };
            json!({
                "name": p.name,
                "key": p.key,
                "port": p.port,
                "protocol": p.protocol,
                "bind": p.bind,
                "state": p.state.name(),
                "holder": holder,
                "config_key": p.config_key,
            })
        })
        .collect();
    json!({"offset": view.offset, "ports": rows})
}

/// This instance at a glance: what `/console/api/summary` answers, and this instance's entry in
/// the fleet.
pub(super) fn summary(console: &Console) -> Value {
    let management = &console.management;
    let facts = management.facts();
    let status = management.status();
    let live = management.live();
    let faulty = status.faulty_artifacts();
    let health = if !status.is_started() {
        "starting"
    } else if faulty.is_empty() {
        "ready"
    } else {
        "faulty"
    };
    let failed: Vec<Value> = faulty
        .iter()
        .map(|f| {
            let (file, error) = split_failure(f);
            json!({"file": file, "error": error})
        })
        .collect();
    let (requests, errors) = console
        .observed
        .as_ref()
        .map(|o| {
            o.services().iter().fold((0u64, 0u64), |(r, e), s| {
                (r.saturating_add(s.requests), e.saturating_add(s.errors))
            })
        })
        .unwrap_or((0, 0));
    let d = &live.deployment;
    let a = &live.artifacts;
    json!({
        "name": facts.hostname,
        "version": status.version,
        "offset": status.port_offset,
        "home": facts.home.display().to_string(),
        "pid": std::process::id(),
        "started_ms": status.started_at_epoch_ms() as u64,
        "uptime_secs": (status.uptime_ms() / 1000) as u64,
        "health": health,
        "artifacts": {
            "apis": d.apis.len(),
            "proxy_services": d.proxies.len(),
            "endpoints": d.named_endpoints.len(),
            "sequences": d.sequences.len(),
            "templates": a.templates.len(),
            "local_entries": a.local_entries.len(),
            "capps": live.applications.active.len(),
            "faulty_capps": live.applications.faulty.len(),
            "data_services": d.attached.data_services.len(),
            "tasks": a.tasks.len(),
            "message_stores": a.message_stores.len(),
            "message_processors": a.message_processors.len(),
            "inbound_endpoints": a.inbound_endpoints.len(),
        },
        "failed": failed,
        "errors_total": errors,
        "requests_total": requests,
    })
}

/// A deployment failure split into its location and the rest: artifact errors end in
/// `at file:line:col` (possibly followed by `; the previous version ... keeps serving`), other
/// failures start with `file: `; a failure naming no file keeps its whole text.
fn split_failure(text: &str) -> (Option<&str>, String) {
    let looks_like_span = |s: &str| {
        s.rsplit(':')
            .next()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            && s.contains(':')
    };
    for (at, _) in text.rmatch_indices(" at ") {
        let rest = &text[at + 4..];
        let end = rest.find([' ', ';', ',']).unwrap_or(rest.len());
        let span = &rest[..end];
        if looks_like_span(span) {
            return (Some(span), format!("{}{}", &text[..at], &rest[end..]));
        }
    }
    match text.split_once(": ") {
        Some((file, reason)) if !file.is_empty() && !file.contains(char::is_whitespace) => {
            (Some(file), reason.to_string())
        }
        _ => (None, text.to_string()),
    }
}

fn log_tail(console: &Console, principal: &Principal, query: &str) -> Response<Bytes> {
    if !principal.is_admin {
        return error(
            StatusCode::FORBIDDEN,
            "the log tail is for administrators only",
        );
    }
    let after = match number_param(query, "after") {
        Ok(after) => after,
        Err(r) => return r,
    };
    let path = console.management.facts().logs_dir.join(logs::LOG_FILE);
    match logs::tail(&path, after) {
        Ok(t) => json_response(
            StatusCode::OK,
            &json!({"offset": t.offset, "lines": t.lines, "truncated": t.truncated}),
        ),
        Err(e) => {
            tracing::warn!(target: "conflux::console", "{e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
        }
    }
}

async fn fleet(console: &Console, req: &ConsoleRequest<'_>) -> Response<Bytes> {
    let own = summary(console);
    let instances = match &console.fleet {
        Some(fleet) => {
            let bearer = req
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            fleet.instances(own, bearer).await
        }
        None => vec![json!({
            "self": true,
            "url": Value::Null,
            "source": "self",
            "reachable": true,
            "error": Value::Null,
            "summary": own,
        })],
    };
    json_response(StatusCode::OK, &json!({ "instances": instances }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_split_into_file_and_error() {
        let split = |t: &str| {
            let (file, error) = split_failure(t);
            (file.map(str::to_string), error)
        };
        assert_eq!(
            split("unknown element <x> in <inSequence>: expected a mediator at api/Bad.xml:2:39"),
            (
                Some("api/Bad.xml:2:39".into()),
                "unknown element <x> in <inSequence>: expected a mediator".into()
            )
        );
        assert_eq!(
            split("duplicate api 'A' (first defined at api/A.xml:1:1) at api/B.xml:1:1; the previous version of api:A keeps serving"),
            (
                Some("api/B.xml:1:1".into()),
                "duplicate api 'A' (first defined at api/A.xml:1:1); the previous version of api:A keeps serving".into()
            )
        );
        assert_eq!(
            split("api/Bad.xml:3:5: unknown mediator <x>"),
            (
                Some("api/Bad.xml:3:5".into()),
                "unknown mediator <x>".into()
            )
        );
        assert_eq!(
            split("cannot read dir: denied"),
            (None, "cannot read dir: denied".into())
        );
        assert_eq!(split("look at this"), (None, "look at this".into()));
    }

    #[test]
    fn number_params_are_whole_numbers() {
        assert_eq!(number_param("", "since").unwrap(), None);
        assert_eq!(number_param("a=1&since=42", "since").unwrap(), Some(42));
        let bad = number_param("since=-1", "since").unwrap_err();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        assert!(number_param("since", "since").is_err());
    }
}
