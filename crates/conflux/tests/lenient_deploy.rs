//! What MI deploys, Conflux deploys, through the real binary: proxies and APIs with child
//! elements MI's factories never read (SYN `config/xml/ProxyServiceFactory.java`,
//! `rest/APIFactory.java`, `rest/ResourceFactory.java` look children up by name) deploy, serve,
//! and are named in a warning by `conflux check` and the server log; local entries with
//! `src="file:..."` (SYN `config/xml/EntryFactory.java`, `Entry.URL_SRC`) are read at deploy,
//! relative to the home, and serve their content; a `src` that cannot be read fails the entry,
//! and a throttle whose policy key it was still deploys and faults each message, as in MI.

mod support;

use std::time::Duration;

use support::backend::*;
use support::*;

const CHECK_DEADLINE: Duration = Duration::from_secs(60);

const PROXY_WITH_TYPOS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<proxy xmlns="http://ws.apache.org/ns/synapse" name="P" transports="http https">
    <target>
        <inSequence>
            <payloadFactory media-type="json"><format>{"proxy":"in"}</format></payloadFactory>
            <respond/>
        </inSequence>
        <outSequenc><send/></outSequenc>
        <out><send/></out>
    </target>
</proxy>"#;

fn check(home: &Home) -> (Option<i32>, String, String) {
    let out = check_home(home.path(), CHECK_DEADLINE);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn elements_mi_ignores_deploy_serve_and_are_warned_with_their_position() {
    let home = home_with(&[
        ("proxy-services/P.xml", PROXY_WITH_TYPOS.to_string()),
        (
            "api/A.xml",
            api(
                "A",
                "/a",
                r#"<resource methods="GET" uri-template="/x">
    <respond/>
    <inSequence><payloadFactory media-type="json"><format>{"api":"in"}</format></payloadFactory><respond/></inSequence>
</resource>"#,
            ),
        ),
    ]);
    let (code, stdout, stderr) = check(&home);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    for expected in [
        "warning: element <outSequenc> in <target> ignored: MI reads only inSequence, outSequence, faultSequence and endpoint there at proxy-services/P.xml:8:9",
        "warning: element <out> in <target> ignored: MI reads only inSequence, outSequence, faultSequence and endpoint there at proxy-services/P.xml:9:9",
        "warning: element <respond> in <resource> ignored: MI reads only inSequence, outSequence and faultSequence there at api/A.xml:4:5",
    ] {
        assert!(
            stderr.lines().any(|l| l == expected),
            "{expected}\n{stderr}"
        );
    }
    assert!(!stderr.contains("error:"), "{stderr}");

    let server = start(&home);
    let port = server.port(HTTP);
    let r = get(port, "/a/x");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, r#"{"api":"in"}"#),
        "{}",
        server.output()
    );
    let r = request(
        "POST",
        port,
        "/services/P",
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, r#"{"proxy":"in"}"#),
        "{}",
        server.output()
    );
    let log = server.output_with(&["<outSequenc>"]);
    assert!(
        log.lines().any(|l| l.contains("WARN")
            && l.contains("element <outSequenc> in <target> ignored")
            && l.contains("proxy-services/P.xml:8:9")),
        "{log}"
    );
}

#[test]
fn a_file_src_local_entry_is_read_at_deploy_and_serves_its_content() {
    let home = home_with(&[
        (
            "local-entries/JsonFormat.xml",
            r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="JsonFormat" src="file:samples/formats/reply.json"/>"#.to_string(),
        ),
        (
            "local-entries/XmlFormat.xml",
            r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="XmlFormat" src="file:samples/formats/reply.xml"/>"#.to_string(),
        ),
        (
            "api/F.xml",
            api(
                "F",
                "/f",
                r#"<resource methods="GET" uri-template="/json"><inSequence>
    <payloadFactory media-type="json"><format key="JsonFormat"/><args><arg value="from a file"/></args></payloadFactory>
    <respond/>
</inSequence></resource>
<resource methods="GET" uri-template="/xml"><inSequence>
    <payloadFactory media-type="xml"><format key="XmlFormat"/><args><arg value="from xml"/></args></payloadFactory>
    <respond/>
</inSequence></resource>"#,
            ),
        ),
    ]);
    home.write("samples/formats/reply.json", r#"{"source":"$1"}"#);
    home.write(
        "samples/formats/reply.xml",
        "<?xml version=\"1.0\"?>\n<reply xmlns=\"urn:r\"><source>$1</source></reply>\n",
    );
    let (code, stdout, stderr) = check(&home);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");

    let server = start(&home);
    let port = server.port(HTTP);
    let r = get(port, "/f/json");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, r#"{"source":"from a file"}"#),
        "{}",
        server.output()
    );
    let r = get(port, "/f/xml");
    assert_eq!(r.status, 200, "{}", server.output());
    assert!(
        r.text()
            .contains(r#"<reply xmlns="urn:r"><source>from xml</source></reply>"#),
        "{}",
        r.text()
    );
}

/// MI: an unreadable `src` fails the entry (`SynapseConfigUtils.getObject`: "Error connecting to
/// URL"); a throttle naming it as its policy key deploys and faults each message
/// (`ThrottleMediator`: "Cannot find throttling policy using key"), like the corpus file
/// `throttlePolicyInLocalEntryProxy.xml`. An `https:` src is refused: Conflux does not fetch at
/// deploy.
#[test]
fn an_unreadable_src_fails_the_entry_and_a_throttle_on_it_faults_per_message() {
    let home = home_with(&[
        (
            "local-entries/throttle_policy.xml",
            r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="throttle_policy"
    src="file:samples/service-bus/resources/policy/throttle_policy.xml"/>"#
                .to_string(),
        ),
        (
            "local-entries/Remote.xml",
            r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="Remote" src="https://example.org/t.xslt"/>"#.to_string(),
        ),
        (
            "api/T.xml",
            api(
                "T",
                "/t",
                r#"<resource methods="GET" uri-template="/*"><inSequence>
    <throttle id="A"><policy key="throttle_policy"/><onAccept><respond/></onAccept></throttle>
</inSequence>
<faultSequence>
    <payloadFactory media-type="json"><format>{"fault":"$1"}</format><args><arg expression="get-property('ERROR_MESSAGE')"/></args></payloadFactory>
    <respond/>
</faultSequence></resource>"#,
            ),
        ),
    ]);
    let (code, stdout, stderr) = check(&home);
    assert_ne!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.lines().any(|l| l.starts_with(
            "error: cannot read: localEntry throttle_policy src \"file:samples/service-bus/resources/policy/throttle_policy.xml\" ("
        ) && l.ends_with(" at local-entries/throttle_policy.xml:1:1")),
        "{stderr}"
    );
    assert!(
        stderr.lines().any(|l| l.starts_with(
            "error: unsupported localEntry src \"https://example.org/t.xslt\" (Conflux does not fetch over the network while deploying"
        )),
        "{stderr}"
    );
    assert!(
        stderr.lines().any(|l| l.starts_with(
            "warning: throttle A: policy key throttle_policy is not a deployed local entry"
        ) && l.ends_with("api/T.xml:4:30")),
        "{stderr}"
    );
    assert!(
        !stderr
            .lines()
            .any(|l| l.starts_with("error:") && l.contains("api/T.xml")),
        "the API deploys: {stderr}"
    );

    let server = start(&home);
    let port = server.port(HTTP);
    let r = get(port, "/t/x");
    assert_eq!(
        r.text(),
        r#"{"fault":"Cannot find throttling policy using key : throttle_policy"}"#,
        "{r:?}\n{}",
        server.output()
    );
}
