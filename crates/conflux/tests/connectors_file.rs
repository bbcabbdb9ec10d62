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

fn files_api() -> String {
    let resources = [
        resource(
            "POST",
            "/write",
            r#"<file.write configKey="Local">
    <filePath>/notes/a.txt</filePath>
    <contentOrExpression>${payload.text}</contentOrExpression>
    <responseVariable>w</responseVariable>
    <overwriteBody>true</overwriteBody>
  </file.write>"#,
        ),
        resource(
            "POST",
            "/append",
            r#"<file.write configKey="Local">
    <filePath>notes/a.txt</filePath>
    <contentOrExpression>${payload.text}</contentOrExpression>
    <writeMode>Append</writeMode>
    <appendNewLine>true</appendNewLine>
    <responseVariable>w</responseVariable>
    <overwriteBody>true</overwriteBody>
  </file.write>"#,
        ),
        resource(
            "POST",
            "/body",
            r#"<file.write configKey="Local">
    <filePath>notes/b.json</filePath>
    <responseVariable>w</responseVariable>
    <overwriteBody>true</overwriteBody>
  </file.write>"#,
        ),
        resource(
            "GET",
            "/read",
            r#"<file.read configKey="Local">
    <path>notes/a.txt</path>
    <contentType>text/plain</contentType>
    <responseVariable>r</responseVariable>
    <overwriteBody>true</overwriteBody>
  </file.read>"#,
        ),
        resource(
            "GET",
            "/meta",
            r#"<file.read configKey="Local">
    <path>notes/b.json</path>
    <responseVariable>r</responseVariable>
  </file.read>
  <payloadFactory media-type="json"><format>{"name":"${vars.r.attributes.FILE_NAME}","size":"${vars.r.attributes.FILE_SIZE}","id":${vars.r.payload.id}}</format></payloadFactory>"#,
        ),
        resource(
            "GET",
            "/list",
            r#"<file.listFiles configKey="Local">
    <directoryPath>notes</directoryPath>
    <matchingPattern>.*\.(txt|json)</matchingPattern>
    <responseVariable>l</responseVariable>
    <overwriteBody>true</overwriteBody>
  </file.listFiles>"#,
        ),
        resource(
            "POST",
            "/move",
            r#"<file.move configKey="Local">
    <sourcePath>notes/a.txt</sourcePath>
    <targetPath>archive/2024</targetPath>
    <createParentDirectories>true</createParentDirectories>
    <responseVariable>m</responseVariable>
    <overwriteBody>true</overwriteBody>
  </file.move>"#,
        ),
        resource(
            "POST",
            "/copy",
            r#"<file.copy configKey="Local">
    <sourcePath>notes/b.json</sourcePath>
    <targetPath>archive/2024</targetPath>
    <responseVariable>c</responseVariable>
    <overwriteBody>true</overwriteBody>
  </file.copy>"#,
        ),
        resource(
            "POST",
            "/rename",
            r#"<file.rename configKey="Local">
    <path>archive/2024/b.json</path>
    <renameTo>b-copy.json</renameTo>
    <responseVariable>n</responseVariable>
    <overwriteBody>true</overwriteBody>
  </file.rename>"#,
        ),
        resource(
            "GET",
            "/exists",
            r#"<file.checkExist configKey="Local">
    <path>archive/2024/a.txt</path>
    <responseVariable>e</responseVariable>
    <overwriteBody>true</overwriteBody>
  </file.checkExist>"#,
        ),
        resource(
            "DELETE",
            "/archive",
            r#"<file.delete configKey="Local">
    <path>archive</path>
    <responseVariable>d</responseVariable>
    <overwriteBody>true</overwriteBody>
  </file.delete>"#,
        ),
        resource(
            "GET",
            "/escape",
            r#"<file.read configKey="Local">
    <path>../outside.txt</path>
    <responseVariable>r</responseVariable>
  </file.read>"#,
        ),
    ];
    api("Files", "/files", &resources.join("\n"))
}

fn post_json(port: u16, path: &str, body: &str) -> HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
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

    let r = post_json(port, "/files/write", r#"{"text":"hello"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), r#"{"success":true,"writtenBytes":5}"#);
    let r = post_json(port, "/files/append", r#"{"text":" world"}"#);
    assert_eq!(r.text(), r#"{"success":true,"writtenBytes":7}"#);
    assert_eq!(
        std::fs::read_to_string(dir.join("notes/a.txt")).unwrap(),
        "hello world\n"
    );
    // No content: the message body is written.
    let r = post_json(port, "/files/body", r#"{"id":42}"#);
    assert_eq!(r.text(), r#"{"success":true,"writtenBytes":9}"#);

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

    let r = get(port, "/files/list");
    assert_eq!(
        r.text(),
        r#"{"success":true,"directory":{"name":"notes","file":["a.txt","b.json"]}}"#
    );

    let r = post_json(port, "/files/move", "{}");
    assert_eq!(r.text(), r#"{"success":true}"#);
    assert!(!dir.join("notes/a.txt").exists());
    let r = get(port, "/files/exists");
    assert_eq!(r.text(), r#"{"success":true,"fileExists":true}"#);
    let r = post_json(port, "/files/copy", "{}");
    assert_eq!(r.text(), r#"{"success":true}"#);
    // Copying again without overwrite: FILE_ALREADY_EXISTS.
    let r = post_json(port, "/files/copy", "{}");
    assert_eq!(r.status, 500);
    assert!(r.text().starts_with("700103|"), "{}", r.text());
    let r = post_json(port, "/files/rename", "{}");
    assert_eq!(r.text(), r#"{"success":true}"#);
    assert!(dir.join("archive/2024/b-copy.json").is_file());

    // archive, archive/2024 and its two files.
    let r = request("DELETE", port, "/files/archive", &[], b"");
    assert_eq!(r.text(), r#"{"success":true,"numOfDeletedFiles":4}"#);
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
