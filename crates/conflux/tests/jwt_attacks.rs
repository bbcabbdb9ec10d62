//! The Management API's bearer tokens against the classic JWT attacks (issue 20, RFC 8725 §2),
//! through the real binary over HTTPS: `alg=none` (with and without a signature part), algorithm
//! swaps that keep the signature, key confusion (HS256 signed with the server's public
//! certificate, which an attacker can read from the TLS handshake), a stripped signature, and
//! `exp`, `sub`, `scope` and `jti` rewritten with the original signature. Every one is answered
//! 401, like no token at all; a genuine token keeps working throughout, and tokens expire and do
//! not survive a restart (a new key per process, as MI's `JWTTokenGenerator`).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use support::backend::https_request_with;
use support::*;

const USERS: &str = "[[internal_apis.users]]\nuser.name = \"ops\"\nuser.password = \"ops-pass\"\nuser.is_admin = true\n\n[[internal_apis.users]]\nuser.name = \"viewer\"\nuser.password = \"viewer-pass\"\n";

/// A resource every user may read, and one only administrators may (MI `AuthorizationHandler`).
const READ: &str = "/management/apis";
const ADMIN_ONLY: &str = "/management/configs?configName=correlation";

fn server(extra_toml: &str) -> (Home, Server) {
    let home = Home::new(&format!(
        "[server]\nhostname = \"localhost\"\n{extra_toml}\n{USERS}"
    ));
    let server = start(&home);
    (home, server)
}

fn get(server: &Server, path: &str, authorization: Option<String>) -> u16 {
    let headers: Vec<(&str, String)> = authorization
        .map(|value| vec![("Authorization", value)])
        .unwrap_or_default();
    https_request_with("GET", server.port(INTERNAL_HTTPS), path, &headers, b"").status
}

fn bearer(server: &Server, path: &str, token: &str) -> u16 {
    get(server, path, Some(format!("Bearer {token}")))
}

fn login(server: &Server, user: &str, password: &str) -> String {
    let basic = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
    let response = https_request_with(
        "GET",
        server.port(INTERNAL_HTTPS),
        "/management/login",
        &[("Authorization", basic)],
        b"",
    );
    assert_eq!(response.status, 200, "{}", response.text());
    let body: Value = serde_json::from_slice(&response.body).expect("login JSON");
    body["AccessToken"]
        .as_str()
        .expect("AccessToken")
        .to_owned()
}

/// The three parts of a compact JWS, header and claims decoded.
struct Parts {
    header: Value,
    claims: Value,
    signature: String,
}

fn split(token: &str) -> Parts {
    let mut parts = token.split('.');
    let mut decode = || -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(parts.next().expect("part"))
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON part")
    };
    let header = decode();
    let claims = decode();
    let signature = parts.next().expect("signature").to_owned();
    Parts {
        header,
        claims,
        signature,
    }
}

fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// `header.claims.signature` with `signature` as given (the attacker's choice).
fn assemble(header: &Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", encode(header), encode(claims))
}

/// HS256 over `header.claims` with `key`.
fn hs256(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = format!("{}.{}", encode(header), encode(claims));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// The certificate the management listener presents, as any client sees it.
fn server_certificate(port: u16) -> Vec<u8> {
    let config = conflux_conformance::client::accept_any_certificate();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut connection = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
    let mut socket = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut tls = rustls::Stream::new(&mut connection, &mut socket);
    tls.write_all(b"GET /management HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut ignored = Vec::new();
    let _ = tls.read_to_end(&mut ignored);
    connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .expect("a certificate")
        .as_ref()
        .to_vec()
}

fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[test]
fn forged_and_tampered_tokens_are_refused_with_401() {
    let (_home, server) = server("");
    let admin = login(&server, "ops", "ops-pass");
    let viewer = login(&server, "viewer", "viewer-pass");
    // Sanity: the genuine tokens work, and the viewer's scope keeps it out of admin resources.
    assert_eq!(bearer(&server, READ, &admin), 200);
    assert_eq!(bearer(&server, ADMIN_ONLY, &admin), 200);
    assert_eq!(bearer(&server, READ, &viewer), 200);
    assert_eq!(bearer(&server, ADMIN_ONLY, &viewer), 403);
    assert_eq!(get(&server, READ, None), 401);

    let genuine = split(&admin);
    assert_eq!(genuine.header["alg"], "HS256");
    let mut attacks: Vec<(&str, String)> = Vec::new();

    // alg=none, with an empty signature, without the third part, and with the old signature.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        attacks.push((
            "alg=none, empty signature",
            assemble(&header, &genuine.claims, ""),
        ));
        attacks.push((
            "alg=none, no signature part",
            format!("{}.{}", encode(&header), encode(&genuine.claims)),
        ));
        attacks.push((
            "alg=none, original signature",
            assemble(&header, &genuine.claims, &genuine.signature),
        ));
    }
    // Algorithm swaps that keep the signature (RS/HS mismatch).
    for alg in ["RS256", "HS384", "HS512", "ES256", "PS256"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        attacks.push((
            "algorithm swapped",
            assemble(&header, &genuine.claims, &genuine.signature),
        ));
    }
    // Key confusion: HS256 keyed with what an attacker can read, the server's own certificate
    // (DER and PEM), and with empty or guessable secrets.
    let certificate = server_certificate(server.port(INTERNAL_HTTPS));
    let forged_claims = {
        let mut claims = genuine.claims.clone();
        claims["exp"] = json!(4_102_444_800u64); // 2100-01-01
        claims
    };
    let hs256_header = json!({"alg": "HS256", "typ": "JWT"});
    for key in [
        certificate.clone(),
        pem(&certificate).into_bytes(),
        Vec::new(),
        b"admin".to_vec(),
        b"wso2carbon".to_vec(),
        b"secret".to_vec(),
    ] {
        attacks.push((
            "HS256 keyed with public or guessable material",
            hs256(&hs256_header, &forged_claims, &key),
        ));
    }
    attacks.push((
        "RS256 header, HS256 keyed with the certificate",
        hs256(
            &json!({"alg": "RS256", "typ": "JWT"}),
            &genuine.claims,
            &certificate,
        ),
    ));
    // A stripped or truncated signature.
    attacks.push((
        "stripped signature",
        assemble(&genuine.header, &genuine.claims, ""),
    ));
    attacks.push((
        "signature part missing",
        format!("{}.{}", encode(&genuine.header), encode(&genuine.claims)),
    ));
    attacks.push((
        "truncated signature",
        assemble(
            &genuine.header,
            &genuine.claims,
            &genuine.signature[..genuine.signature.len() - 4],
        ),
    ));
    // Claims rewritten, original signature kept.
    let viewer_parts = split(&viewer);
    for (what, base, field, value) in [
        ("exp extended", &genuine, "exp", json!(4_102_444_800u64)),
        ("exp as a string", &genuine, "exp", json!("4102444800")),
        ("sub changed", &viewer_parts, "sub", json!("ops")),
        ("scope raised", &viewer_parts, "scope", json!("admin")),
        (
            "jti swapped",
            &viewer_parts,
            "jti",
            genuine.claims["jti"].clone(),
        ),
    ] {
        let mut claims = base.claims.clone();
        claims[field] = value;
        attacks.push((what, assemble(&base.header, &claims, &base.signature)));
    }
    // The viewer's claims under the administrator's signature.
    attacks.push((
        "claims of one token, signature of another",
        assemble(
            &viewer_parts.header,
            &viewer_parts.claims,
            &genuine.signature,
        ),
    ));
    // Extra parts, padding and whitespace games around a genuine token.
    attacks.push(("a fourth part", format!("{admin}.x")));
    attacks.push(("base64 padding added", format!("{admin}=")));
    attacks.push(("JWE-shaped", format!("{admin}.a.b")));

    for (what, token) in &attacks {
        for path in [READ, ADMIN_ONLY] {
            assert_eq!(
                bearer(&server, path, token),
                401,
                "{what} was not refused on {path}: {token}"
            );
        }
    }
    // The genuine tokens are unaffected by the attempts.
    assert_eq!(bearer(&server, ADMIN_ONLY, &admin), 200);
    assert_eq!(bearer(&server, ADMIN_ONLY, &viewer), 403);
}

#[test]
fn expired_tokens_and_tokens_of_an_earlier_run_are_refused() {
    let expiry = "[management_api.jwt_token_security_handler]\ntoken_config.expiry = 5\n";
    let (_home, first) = server(expiry);
    let token = login(&first, "ops", "ops-pass");
    assert_eq!(bearer(&first, READ, &token), 200);
    // `exp` is in whole seconds: six seconds after login it has passed whatever the rounding (five
    // seconds leave the first use above room on a loaded machine).
    std::thread::sleep(Duration::from_millis(6_100));
    assert_eq!(bearer(&first, READ, &token), 401, "an expired token");

    let (_home, second) = server("");
    let fresh = login(&first, "ops", "ops-pass");
    assert_eq!(bearer(&first, READ, &fresh), 200);
    assert_eq!(
        bearer(&second, READ, &fresh),
        401,
        "a token signed by another process"
    );
}
