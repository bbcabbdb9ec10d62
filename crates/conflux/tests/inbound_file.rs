//! File inbound endpoints end to end through the real binary: a file dropped into the watched
//! folder reaches a backend through the endpoint's sequence (with its content type and MI's
//! `FILE_NAME` transport header) and is moved to `MoveAfterProcess`; a file whose mediation
//! faults is moved to `MoveAfterFailure`, never deleted; a file not matching
//! `FileNamePattern` stays untouched.
//!
//! MI sources: micro-integrator `inbound/endpoint/protocol/file/FilePollingConsumer.java`
//! (pattern, ActionAfterProcess/ActionAfterFailure, MoveAfter*), `FileInjectHandler.java`
//! (content type, sequence, onError); docs-mi "File Inbound Endpoint".

mod support;

use std::path::Path;
use std::time::Duration;

use support::backend::*;
use support::capp::wait_for;
use support::*;

const NS: &str = "http://ws.apache.org/ns/synapse";
const TIMEOUT: Duration = Duration::from_secs(30);

fn file_inbound(name: &str, root: &Path, sequence: &str) -> String {
    let d = root.display();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<inboundEndpoint xmlns="{NS}" name="{name}" protocol="file" sequence="{sequence}" onError="fault" suspend="false">
    <parameters>
        <parameter name="interval">100</parameter>
        <parameter name="sequential">true</parameter>
        <parameter name="coordination">true</parameter>
        <parameter name="transport.vfs.FileURI">file://{d}/in</parameter>
        <parameter name="transport.vfs.ContentType">application/xml</parameter>
        <parameter name="transport.vfs.FileNamePattern">.*\.xml</parameter>
        <parameter name="transport.vfs.ActionAfterProcess">MOVE</parameter>
        <parameter name="transport.vfs.MoveAfterProcess">file://{d}/done</parameter>
        <parameter name="transport.vfs.ActionAfterFailure">MOVE</parameter>
        <parameter name="transport.vfs.MoveAfterFailure">file://{d}/failed</parameter>
        <parameter name="transport.vfs.Locking">enable</parameter>
    </parameters>
</inboundEndpoint>"#
    )
}

/// Sends `<good>` messages to the backend and `<bad>` ones to a closed port (a fault).
fn routing_sequence(name: &str, good: &str, bad: &str) -> String {
    format!(
        r#"<sequence xmlns="{NS}" name="{name}">
    <header name="X-File" scope="transport" expression="get-property('transport', 'FILE_NAME')"/>
    <filter xpath="boolean($body/good)">
        <then><call><endpoint><http method="post" uri-template="{good}"/></endpoint></call></then>
        <else><call><endpoint><http method="post" uri-template="{bad}"/></endpoint></call></else>
    </filter>
    <respond/>
</sequence>"#
    )
}

#[test]
fn a_dropped_file_reaches_the_backend_and_is_moved_and_a_failing_one_goes_to_the_failure_folder() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "application/xml".into())],
        body: "<ok/>".into(),
    });
    let folders = tempfile::tempdir().unwrap();
    let root = folders.path();
    for d in ["in", "done", "failed"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let bad_url = format!("http://127.0.0.1:{}/nowhere", closed_port());
    let home = home_with(&[
        (
            "sequences/FileSeq.xml",
            routing_sequence("FileSeq", &format!("{}/files", backend.url()), &bad_url),
        ),
        (
            "inbound-endpoints/Files.xml",
            file_inbound("Files", root, "FileSeq"),
        ),
    ]);
    let server = start(&home);

    // Not matching the pattern: left alone.
    std::fs::write(root.join("in/notes.txt"), "ignore me").unwrap();
    let good = "<good><n>1</n></good>";
    std::fs::write(root.join("in/order.xml"), good).unwrap();
    wait_for("order.xml to be moved to done/", TIMEOUT, || {
        if root.join("done/order.xml").exists() {
            Ok(())
        } else {
            Err(server.output())
        }
    });
    assert!(!root.join("in/order.xml").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("done/order.xml")).unwrap(),
        good
    );
    let seen = backend.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].path_and_query, "/files");
    assert_eq!(seen[0].header("X-File"), Some("order.xml"));
    assert!(
        seen[0]
            .header("Content-Type")
            .is_some_and(|c| c.starts_with("application/xml")),
        "{seen:?}"
    );
    assert_eq!(seen[0].body_sha256, sha256_hex(good.as_bytes()));

    // A file whose mediation faults (the backend is down) is moved to failed/, never deleted.
    let bad = "<bad/>";
    std::fs::write(root.join("in/broken.xml"), bad).unwrap();
    wait_for("broken.xml to be moved to failed/", TIMEOUT, || {
        if root.join("failed/broken.xml").exists() {
            Ok(())
        } else {
            Err(server.output())
        }
    });
    assert_eq!(
        std::fs::read_to_string(root.join("failed/broken.xml")).unwrap(),
        bad
    );
    assert!(!root.join("done/broken.xml").exists());
    assert!(root.join("in/notes.txt").exists());
    assert!(!root.join("in/order.xml.lock").exists());
    assert_eq!(backend.requests().len(), 1);
}

#[test]
fn an_sftp_file_uri_is_refused_at_deploy_naming_the_file_and_line() {
    let home = home_with(&[(
        "inbound-endpoints/Remote.xml",
        format!(
            r#"<inboundEndpoint xmlns="{NS}" name="Remote" protocol="file" sequence="S">
    <parameters>
        <parameter name="transport.vfs.FileURI">sftp://user@host/in</parameter>
    </parameters>
</inboundEndpoint>"#
        ),
    )]);
    let out = check_home(home.path(), TIMEOUT);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("sftp scheme"), "{text}");
    assert!(text.contains("inbound-endpoints/Remote.xml:3:"), "{text}");
}

#[test]
fn a_vfs_proxy_service_polls_its_folder_and_deletes_what_it_processed() {
    let backend = Backend::start(Behaviour::Fixed {
        status: 200,
        headers: vec![("Content-Type".into(), "application/xml".into())],
        body: "<ok/>".into(),
    });
    let folders = tempfile::tempdir().unwrap();
    let inbox = folders.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let url = format!("{}/vfs-proxy", backend.url());
    let proxy = format!(
        r#"<proxy xmlns="{NS}" name="FileProxy" transports="vfs" startOnLoad="true">
    <target><inSequence>
        <header name="X-File" scope="transport" expression="get-property('transport', 'FILE_NAME')"/>
        <call><endpoint><http method="post" uri-template="{url}"/></endpoint></call>
        <drop/>
    </inSequence></target>
    <parameter name="transport.PollInterval">100ms</parameter>
    <parameter name="transport.vfs.FileURI">file://{}</parameter>
    <parameter name="transport.vfs.ContentType">text/plain</parameter>
    <parameter name="transport.vfs.FileNamePattern">.*\.txt</parameter>
    <parameter name="transport.vfs.ActionAfterProcess">DELETE</parameter>
</proxy>"#,
        inbox.display()
    );
    let home = home_with(&[("proxy-services/FileProxy.xml", proxy)]);
    let server = start(&home);
    std::fs::write(inbox.join("note.txt"), "hello file").unwrap();
    wait_for("note.txt to be processed and deleted", TIMEOUT, || {
        if !inbox.join("note.txt").exists() {
            Ok(())
        } else {
            Err(server.output())
        }
    });
    let seen = backend.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].path_and_query, "/vfs-proxy");
    assert_eq!(seen[0].header("X-File"), Some("note.txt"));
    assert_eq!(seen[0].body_sha256, sha256_hex(b"hello file"));
}
