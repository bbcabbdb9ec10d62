//! MI's secure vault through the binary: `[secrets]` of deployment.toml decrypted at start with the
//! home's keystore, read by `${wso2-vault('alias')}`, by `wso2:vault-lookup('alias')` and by
//! `$secret{alias}` in deployment.toml; a secret that cannot be decrypted stops the start; and
//! `conflux cipher-tool` writes what the server then reads (docs-mi "Encrypting Secrets using
//! WSO2 Secure Vault"). The keystore and the Java-made ciphertext are the config crate's fixtures
//! (crates/config/tests/fixtures/vault/README.md).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use support::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../config/tests/fixtures/vault")
        .join(name)
}

/// Ciphertext made by Java's `RSA/ECB/OAEPwithSHA1andMGF1Padding` (line 0 "admin", line 1
/// "pässwörd €").
fn java_ciphertext(line: usize) -> String {
    std::fs::read_to_string(fixture("java-ciphertext.txt"))
        .unwrap()
        .lines()
        .nth(line)
        .unwrap()
        .to_string()
}

const KEYSTORE: &str = "[keystore.primary]\nfile_name = \"repository/resources/security/wso2carbon.jks\"\n\
                        password = \"wso2carbon\"\nalias = \"wso2carbon\"\nkey_password = \"wso2carbon\"\n";

/// A home with the fixture keystore, `secrets_toml` appended to deployment.toml, and an API whose
/// `/vault/expr` and `/vault/xpath` answer what the vault gives for `db` and `nope`.
fn vault_home(secrets_toml: &str) -> Home {
    let home = Home::new(&format!(
        "[server]\nhostname = \"localhost\"\n{KEYSTORE}\n[monitoring.jolokia]\nusername = \"ops\"\npassword = \"$secret{{jolokia}}\"\n\n{secrets_toml}"
    ));
    let keystore = home
        .path()
        .join("repository/resources/security/wso2carbon.jks");
    std::fs::create_dir_all(keystore.parent().unwrap()).unwrap();
    std::fs::copy(fixture("wso2carbon.jks"), &keystore).unwrap();
    home.write(
        &format!("{SYNAPSE}/api/Vault.xml"),
        &api(
            "Vault",
            "/vault",
            r#"<resource methods="GET" uri-template="/expr">
        <inSequence>
            <payloadFactory media-type="json" template-type="default"><format>{"db": "${wso2-vault('db')}", "nope": "${wso2-vault('nope')}"}</format></payloadFactory>
            <respond/>
        </inSequence>
    </resource>
    <resource methods="GET" uri-template="/xpath">
        <inSequence>
            <payloadFactory media-type="json">
                <format>{"db": "$1", "nope": "$2"}</format>
                <args><arg expression="wso2:vault-lookup('db')"/><arg expression="wso2:vault-lookup('nope')"/></args>
            </payloadFactory>
            <respond/>
        </inSequence>
    </resource>"#,
        ),
    );
    home
}

/// GET on the monitoring (Jolokia) port, with Basic credentials when given.
fn jolokia(port: u16, credentials: Option<&str>) -> HttpResponse {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect monitoring port");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let auth = credentials
        .map(|c| {
            format!(
                "Authorization: Basic {}\r\n",
                base64::engine::general_purpose::STANDARD.encode(c)
            )
        })
        .unwrap_or_default();
    write!(
        stream,
        "GET /jolokia/version HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

fn json(r: &HttpResponse) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {r:?}"))
}

#[test]
fn java_cipher_tool_secrets_reach_expressions_xpath_and_deployment_toml() {
    let home = vault_home(&format!(
        "[secrets]\ndb = \"{}\"\njolokia = \"{}\"\n",
        java_ciphertext(1),
        java_ciphertext(0)
    ));
    let server = Server::start(home.path(), free_offset(), &[]);
    let want = serde_json::json!({"db": "pässwörd €", "nope": "nope"});
    let r = get(server.port(HTTP), "/vault/expr");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(json(&r), want);
    let r = get(server.port(HTTP), "/vault/xpath");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(json(&r), want);
    // `[monitoring.jolokia] password = "$secret{jolokia}"` is the decrypted "admin".
    assert_eq!(jolokia(server.port(JMX), Some("ops:admin")).status, 200);
    assert_eq!(
        jolokia(server.port(JMX), Some("ops:$secret{jolokia}")).status,
        401
    );
    assert_eq!(jolokia(server.port(JMX), None).status, 401);
    // No plain text in the server's own output.
    assert!(!server.output().contains("pässwörd"), "{}", server.output());
}

#[test]
fn conflux_cipher_tool_configure_encrypts_what_the_server_then_reads() {
    let home = vault_home("[secrets]\ndb = \"[from the tool]\"\njolokia = \"[t0p]\"\n");
    let home_arg = home.path().to_str().unwrap();
    // Before the tool runs, the bracketed values stop the start.
    let (code, _, stderr) = run(&["check", "--home", home_arg]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("[secrets] db"), "{stderr}");
    assert!(!stderr.contains("from the tool"), "{stderr}");
    let (code, stdout, stderr) = run(&["cipher-tool", "--home", home_arg, "-Dconfigure"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("encrypted 2 [secrets] value(s)"),
        "{stdout}"
    );
    let toml = std::fs::read_to_string(home.path().join("conf/deployment.toml")).unwrap();
    assert!(
        !toml.contains("from the tool") && !toml.contains("t0p"),
        "{toml}"
    );
    // A second run finds nothing left to encrypt.
    let (code, stdout, _) = run(&["cipher-tool", "--home", home_arg, "-Dconfigure"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("nothing changed"), "{stdout}");

    let server = Server::start(home.path(), free_offset(), &[]);
    let r = get(server.port(HTTP), "/vault/expr");
    assert_eq!(
        json(&r),
        serde_json::json!({"db": "from the tool", "nope": "nope"})
    );
    assert_eq!(jolokia(server.port(JMX), Some("ops:t0p")).status, 200);
}

#[test]
fn a_value_from_cipher_tool_text_decrypts_in_deployment_toml() {
    let home = vault_home("");
    let home_arg = home.path().to_str().unwrap();
    let (code, cipher, stderr) = run(&["cipher-tool", "--home", home_arg, "admin"]);
    assert_eq!(code, 0, "{stderr}");
    let cipher = cipher.trim();
    assert_eq!(cipher.len(), 344, "{cipher}");
    let toml = std::fs::read_to_string(home.path().join("conf/deployment.toml")).unwrap();
    std::fs::write(
        home.path().join("conf/deployment.toml"),
        format!("{toml}[secrets]\ndb = \"{cipher}\"\njolokia = \"{cipher}\"\n"),
    )
    .unwrap();
    let (code, stdout, stderr) = run(&["check", "--home", home_arg]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn an_undecryptable_secret_stops_the_start_naming_alias_line_and_keystore() {
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(java_ciphertext(0))
        .unwrap();
    bytes[0] ^= 0x40;
    let tampered = base64::engine::general_purpose::STANDARD.encode(bytes);
    let home = vault_home(&format!(
        "[secrets]\njolokia = \"{}\"\ndb = \"{tampered}\"\n",
        java_ciphertext(0)
    ));
    let line = std::fs::read_to_string(home.path().join("conf/deployment.toml"))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("db = "))
        .unwrap()
        + 1;
    let offset = free_offset().to_string();
    let (code, stdout, stderr) = run(&[
        "--home",
        home.path().to_str().unwrap(),
        &format!("-DportOffset={offset}"),
    ]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("[secrets] db"), "{stderr}");
    assert!(
        stderr.contains(&format!("deployment.toml:{line}:6")),
        "{stderr}"
    );
    assert!(stderr.contains("wso2carbon.jks"), "{stderr}");
    assert!(stderr.contains("nothing was started"), "{stderr}");
}

#[test]
fn an_unknown_secret_placeholder_stops_the_start() {
    let home = vault_home("");
    let (code, _, stderr) = run(&["check", "--home", home.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("$secret{jolokia}"), "{stderr}");
    assert!(
        stderr.contains("no [secrets] entry named jolokia"),
        "{stderr}"
    );
}
