//! The file connector's local-filesystem operations through the real binary: an API that writes,
//! appends, reads (content and `FILE_*` attributes), lists, checks, moves, copies, renames and
//! deletes files under a `<file.init>` connection's `workingDir` (a temp dir), with MI's exact
//! JSON results (`Utils.generateOperationResult`), the 700102 `FILE:ILLEGAL_PATH` fault for a
//! path outside the working directory, and deploy errors for what Conflux does not run
//! (wso2-extensions/esb-connector-file `operations/*.java`, `utils/Error.java`).

mod support;

use support::backend::request;
use support::*;

fn local_connection(dir: &std::path::Path) -> String {
    format!(
        r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="Local">
  <file.init>
    <connectionType>LOCAL</connectionType>
    <name>Local</name>
    <workingDir>{}</workingDir>
  </file.init>
</localEntry>"#,
        dir.display()
    )
}

/// A resource running `body`, answering `ERROR_CODE|ERROR_MESSAGE` from its fault sequence.
fn resource(method: &str, template: &str, body: &str) -> String {
    format!(
        r#"<resource methods="{method}" uri-template="{template}">
  <inSequence>{body}<respond/></inSequence>
  <faultSequence>
    <payloadFactory media-type="text"><format>$1|$2</format><args>
      <arg evaluator="xml" expression="get-property('ERROR_CODE')"/>
      <arg evaluator="xml" expression="get-property('ERROR_MESSAGE')"/>
    </args></payloadFactory>
    <property name="HTTP_SC" scope="axis2" value="500"/>
    <respond/>
  </faultSequence>
</resource>"#
    )
}

/// `<file.<operation> configKey="Local">` with these parameters, its result in variable `var`.
fn file_op(operation: &str, params: &[(&str, &str)], var: &str) -> String {
    let params: String = params
        .iter()
        .map(|(name, value)| format!("\n    <{name}>{value}</{name}>"))
        .collect();
    format!(
        r#"<file.{operation} configKey="Local">{params}
    <responseVariable>{var}</responseVariable>
  </file.{operation}>"#
    )
}

/// The API: one resource a row, each one operation that answers with its result
/// (`overwriteBody`), but for `/meta` and `/escape`.
fn files_api() -> String {
    const OVERWRITE: (&str, &str) = ("overwriteBody", "true");
    let content = ("contentOrExpression", "${payload.text}");
    // (method, uri-template, operation, parameters)
    let rows = [
        (
            "POST",
            "/write",
            "write",
            vec![("filePath", "/notes/a.txt"), content, OVERWRITE],
        ),
        (
            "POST",
            "/append",
            "write",
            vec![
                ("filePath", "notes/a.txt"),
                content,
                ("writeMode", "Append"),
                ("appendNewLine", "true"),
                OVERWRITE,
            ],
        ),
        (
            "POST",
            "/body",
            "write",
            vec![("filePath", "notes/b.json"), OVERWRITE],
        ),
        (
            "GET",
            "/read",
            "read",
            vec![
                ("path", "notes/a.txt"),
                ("contentType", "text/plain"),
                OVERWRITE,
            ],
        ),
        (
            "GET",
            "/list",
            "listFiles",
            vec![
                ("directoryPath", "notes"),
                ("matchingPattern", r".*\.(txt|json)"),
                OVERWRITE,
            ],
        ),
        (
            "POST",
            "/move",
            "move",
            vec![
                ("sourcePath", "notes/a.txt"),
                ("targetPath", "archive/2024"),
                ("createParentDirectories", "true"),
                OVERWRITE,
            ],
        ),
        (
            "POST",
            "/copy",
            "copy",
            vec![
                ("sourcePath", "notes/b.json"),
                ("targetPath", "archive/2024"),
                OVERWRITE,
            ],
        ),
        (
            "POST",
            "/rename",
            "rename",
            vec![
                ("path", "archive/2024/b.json"),
                ("renameTo", "b-copy.json"),
                OVERWRITE,
            ],
        ),
        (
            "GET",
            "/exists",
            "checkExist",
            vec![("path", "archive/2024/a.txt"), OVERWRITE],
        ),
        (
            "DELETE",
            "/archive",
            "delete",
            vec![("path", "archive"), OVERWRITE],
        ),
    ];
    let mut resources: Vec<String> = rows
        .iter()
        .map(|(method, template, operation, params)| {
            resource(method, template, &file_op(operation, params, "v"))
        })
        .collect();
    resources.push(resource(
        "GET",
        "/meta",
        &format!(
            r#"{}
  <payloadFactory media-type="json"><format>{{"name":"${{vars.r.attributes.FILE_NAME}}","size":"${{vars.r.attributes.FILE_SIZE}}","id":${{vars.r.payload.id}}}}</format></payloadFactory>"#,
            file_op("read", &[("path", "notes/b.json")], "r")
        ),
    ));
    resources.push(resource(
        "GET",
        "/escape",
        &file_op("read", &[("path", "../outside.txt")], "r"),
    ));
    api("Files", "/files", &resources.join("\n"))
}

#[test]
fn an_api_writes_reads_lists_moves_and_deletes_files() {
    let work = tempfile::tempdir().expect("tempdir");
    let outside = work.path().join("outside.txt");
    let dir = work.path().join("wd");
    std::fs::create_dir(&dir).expect("working dir");
    std::fs::write(&outside, "secret").expect("outside file");
    let home = home_with(&[
        ("local-entries/Local.xml", local_connection(&dir)),
        ("api/Files.xml", files_api()),
    ]);
    let server = start(&home);
    let port = server.port(8280);

    let call = |method: &str, path: &str, body: &str| {
        let json = [("Content-Type", "application/json")];
        let headers: &[(&str, &str)] = if body.is_empty() { &[] } else { &json };
        let r = request(
            method,
            port,
            &format!("/files{path}"),
            headers,
            body.as_bytes(),
        );
        (r.status, r.text())
    };
    // (method, path, JSON body, status, answer or the start of the fault's)
    let writes = [
        (
            "POST",
            "/write",
            r#"{"text":"hello"}"#,
            200,
            r#"{"success":true,"writtenBytes":5}"#,
        ),
        (
            "POST",
            "/append",
            r#"{"text":" world"}"#,
            200,
            r#"{"success":true,"writtenBytes":7}"#,
        ),
        // No content: the message body is written.
        (
            "POST",
            "/body",
            r#"{"id":42}"#,
            200,
            r#"{"success":true,"writtenBytes":9}"#,
        ),
    ];
    let moves = [
        (
            "GET",
            "/list",
            "",
            200,
            r#"{"success":true,"directory":{"name":"notes","file":["a.txt","b.json"]}}"#,
        ),
        ("POST", "/move", "{}", 200, r#"{"success":true}"#),
        (
            "GET",
            "/exists",
            "",
            200,
            r#"{"success":true,"fileExists":true}"#,
        ),
        ("POST", "/copy", "{}", 200, r#"{"success":true}"#),
        // Copying again without overwrite: FILE_ALREADY_EXISTS.
        ("POST", "/copy", "{}", 500, "700103|"),
        ("POST", "/rename", "{}", 200, r#"{"success":true}"#),
    ];
    let deletes = [
        // archive, archive/2024 and its two files.
        (
            "DELETE",
            "/archive",
            "",
            200,
            r#"{"success":true,"numOfDeletedFiles":4}"#,
        ),
    ];
    let steps = |table: &[(&str, &str, &str, u16, &str)]| {
        for (method, path, body, status, want) in table {
            let (got_status, text) = call(method, path, body);
            assert_eq!(got_status, *status, "{method} {path}: {text}");
            if *status == 200 {
                assert_eq!(text, *want, "{method} {path}");
            } else {
                assert!(text.starts_with(want), "{method} {path}: {text}");
            }
        }
    };
    steps(&writes);
    assert_eq!(
        std::fs::read_to_string(dir.join("notes/a.txt")).unwrap(),
        "hello world\n"
    );

    let r = get(port, "/files/read");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello world\n");
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{:?}",
        r.headers
    );
    let r = get(port, "/files/meta");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.text()).unwrap(),
        serde_json::json!({"name": "b.json", "size": "9", "id": 42})
    );

    steps(&moves);
    assert!(!dir.join("notes/a.txt").exists());
    assert!(dir.join("archive/2024/b-copy.json").is_file());
    steps(&deletes);
    assert!(!dir.join("archive").exists());

    let r = get(port, "/files/escape");
    assert_eq!(r.status, 500);
    let text = r.text();
    assert!(text.starts_with("700102|file.read (connection Local): ../outside.txt: the path is outside the working directory"), "{text}");
    assert!(!text.contains("secret"), "{text}");
}

#[test]
fn what_the_file_connector_cannot_run_does_not_deploy_and_says_where() {
    let home = home_with(&[
        (
            "local-entries/Ftp.xml",
            r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="Ftp">
  <file.init><connectionType>FTP</connectionType><host>h</host></file.init>
</localEntry>"#
                .to_string(),
        ),
        (
            "api/Zip.xml",
            api(
                "Zip",
                "/zip",
                &resource(
                    "POST",
                    "/",
                    r#"<file.compress configKey="Ftp"><sourceDirectoryPath>a</sourceDirectoryPath></file.compress>"#,
                ),
            ),
        ),
    ]);
    let (code, text) = check_output(home.path());
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.contains("connectionType FTP is not supported: Conflux's file connector works on the local filesystem only (LOCAL)"),
        "{text}"
    );
    assert!(text.contains("local-entries/Ftp.xml"), "{text}");
    assert!(
        text.contains("unsupported file connector operation <file.compress>"),
        "{text}"
    );
    assert!(text.contains("api/Zip.xml:"), "{text}");
}
