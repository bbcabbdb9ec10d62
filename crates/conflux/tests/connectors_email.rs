//! The email connector's `<email.send>` through the real binary against a real SMTP server: a
//! local sink run with Python's aiosmtpd (Debian `python3-aiosmtpd`; skipped with a message where
//! it is missing) that writes each mail it accepts as JSON. MI's connector 2.x result
//! (`responseVariable`, `overwriteBody`), the 1.x body result, inline `${...}` in subject and
//! content, `EMAIL-HEADER:` properties, and the 700203 fault when the server cannot be reached
//! (wso2-extensions/esb-connector-email `EmailSend`, `MessageBuilder`, `Error`).

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::backend::request;
use support::*;

/// Debian's interpreter: `python3` on the PATH may be another one without the Debian modules.
const PYTHON: &str = "/usr/bin/python3";

const SINK: &str = r#"
import json, os, sys, time, email
from email import policy
from aiosmtpd.controller import Controller

out, port = sys.argv[1], int(sys.argv[2])
count = 0

class Sink:
    async def handle_DATA(self, server, session, envelope):
        global count
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        part = msg.get_body(preferencelist=('html', 'plain')) if msg.is_multipart() else msg
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "content_type": part.get_content_type(),
            "transfer_encoding": str(part["Content-Transfer-Encoding"]),
            "body": part.get_content(),
            "x_trace": str(msg["X-Trace"]),
            "attachments": [a.get_filename() for a in msg.iter_attachments()] if msg.is_multipart() else [],
        }
        count += 1
        tmp = os.path.join(out, "%d.tmp" % count)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(out, "%d.json" % count))
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print("READY", flush=True)
while True:
    time.sleep(3600)
"#;

/// A running SMTP sink, killed by PID when dropped.
struct SmtpSink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    fn start() -> Option<SmtpSink> {
        let ok = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!(
                "skipping: {PYTHON} with aiosmtpd is not installed (Debian: apt-get install python3-aiosmtpd)"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("sink.py");
        std::fs::write(&script, SINK).expect("script");
        let mails = dir.path().join("mails");
        std::fs::create_dir(&mails).expect("mails dir");
        let port = free_port();
        let mut child = Command::new(PYTHON)
            .arg(&script)
            .arg(&mails)
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("sink output");
        assert_eq!(line.trim(), "READY", "the SMTP sink did not start");
        Some(SmtpSink { child, port, dir })
    }

    fn mails_dir(&self) -> PathBuf {
        self.dir.path().join("mails")
    }

    /// The `n`th mail (1-based), waiting for it to arrive.
    fn mail(&self, n: usize) -> serde_json::Value {
        let path = self.mails_dir().join(format!("{n}.json"));
        let deadline = Instant::now() + Duration::from_secs(15);
        while !path.exists() {
            assert!(Instant::now() < deadline, "mail {n} never arrived");
            std::thread::sleep(Duration::from_millis(20));
        }
        serde_json::from_str(&std::fs::read_to_string(path).expect("mail")).expect("json")
    }

    fn count(&self) -> usize {
        std::fs::read_dir(self.mails_dir())
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
                })
                .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn smtp_connection(key: &str, port: u16) -> String {
    format!(
        r#"<localEntry xmlns="http://ws.apache.org/ns/synapse" key="{key}">
  <email.init>
    <connectionType>SMTP</connectionType>
    <name>{key}</name>
    <host>127.0.0.1</host>
    <port>{port}</port>
    <requireTLS>false</requireTLS>
    <connectionTimeout>5000</connectionTimeout>
  </email.init>
</localEntry>"#
    )
}

/// An API whose POST resource runs `body`, with a fault sequence answering
/// `ERROR_CODE|ERROR_MESSAGE` as text.
fn mail_api(body: &str) -> String {
    api(
        "Mail",
        "/mail",
        &format!(
            r#"<resource methods="POST" uri-template="/">
  <inSequence>{body}</inSequence>
  <faultSequence>
    <payloadFactory media-type="text"><format>$1|$2</format><args>
      <arg evaluator="xml" expression="get-property('ERROR_CODE')"/>
      <arg evaluator="xml" expression="get-property('ERROR_MESSAGE')"/>
    </args></payloadFactory>
    <property name="HTTP_SC" scope="axis2" value="500"/>
    <respond/>
  </faultSequence>
</resource>"#
        ),
    )
}

fn post_json(port: u16, path: &str, body: &str) -> support::HttpResponse {
    request(
        "POST",
        port,
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

fn start_with(sink_port: u16, send: &str) -> (Home, Server) {
    let home = home_with(&[
        ("local-entries/Smtp.xml", smtp_connection("Smtp", sink_port)),
        ("api/Mail.xml", mail_api(send)),
    ]);
    let server = start(&home);
    (home, server)
}

#[test]
fn send_delivers_the_mail_and_stores_the_2x_result() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let (_home, server) = start_with(
        sink.port,
        r#"<property name="EMAIL-HEADER:X-Trace" value="t-1"/>
  <email.send configKey="Smtp">
    <from>noreply@example.com</from>
    <personalName>Conflux</personalName>
    <to>{${payload.to}}</to>
    <cc>carol@example.com</cc>
    <subject>Hello ${payload.name}</subject>
    <content>&lt;b&gt;Hi ${payload.name}&lt;/b&gt;</content>
    <responseVariable>mail</responseVariable>
    <overwriteBody>true</overwriteBody>
  </email.send>
  <respond/>"#,
    );
    let port = server.port(8280);
    let r = post_json(port, "/mail", r#"{"to":"bob@example.com","name":"Bob"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), r#"{"success":true}"#);
    let mail = sink.mail(1);
    assert_eq!(mail["mail_from"], "noreply@example.com");
    assert_eq!(
        mail["rcpt_tos"],
        serde_json::json!(["bob@example.com", "carol@example.com"])
    );
    assert_eq!(mail["from"], "Conflux <noreply@example.com>");
    assert_eq!(mail["to"], "bob@example.com");
    assert_eq!(mail["subject"], "Hello Bob");
    // MessageBuilder's defaults: text/html, UTF-8, Base64.
    assert_eq!(mail["content_type"], "text/html");
    assert_eq!(mail["transfer_encoding"], "base64");
    assert_eq!(mail["body"].as_str().map(str::trim), Some("<b>Hi Bob</b>"));
    assert_eq!(mail["x_trace"], "t-1");
}

#[test]
fn a_1x_send_puts_its_result_in_the_body_and_attachments_go_along() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let (_home, server) = start_with(
        sink.port,
        r#"<email.send configKey="Smtp">
    <from>a@example.com</from>
    <to>b@example.com, c@example.com</to>
    <subject>Report</subject>
    <content>plain words</content>
    <contentType>text/plain</contentType>
    <attachments>[{"name":"r.csv","content":"eCx5"}]</attachments>
  </email.send>
  <respond/>"#,
    );
    let r = post_json(server.port(8280), "/mail", "{}");
    assert_eq!(r.status, 200, "{}", r.text());
    // 1.x sets `<result><success>true</success></result>` as the body; the request was JSON, so
    // the message goes out as JSON, as MI's JSON formatter writes that element.
    assert_eq!(r.text(), r#"{"result":{"success":true}}"#);
    let mail = sink.mail(1);
    assert_eq!(
        mail["rcpt_tos"],
        serde_json::json!(["b@example.com", "c@example.com"])
    );
    assert_eq!(mail["content_type"], "text/plain");
    assert_eq!(mail["body"].as_str().map(str::trim), Some("plain words"));
    assert_eq!(mail["attachments"], serde_json::json!(["r.csv"]));
}

#[test]
fn a_server_that_cannot_be_reached_faults_with_the_connectors_code_and_sends_nothing() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    // Nothing listens on the connection's port; the sink sees nothing either.
    let (_home, server) = start_with(
        free_port(),
        r#"<email.send configKey="Smtp">
    <from>a@example.com</from>
    <to>b@example.com</to>
    <subject>x</subject>
  </email.send>
  <respond/>"#,
    );
    let r = post_json(server.port(8280), "/mail", "{}");
    assert_eq!(r.status, 500, "{}", r.text());
    let text = r.text();
    assert!(text.starts_with("700203|"), "{text}");
    assert!(
        text.contains("email.send (connection Smtp): Error occurred while sending the email"),
        "{text}"
    );
    // No recipients: the connector's InvalidConfigurationException, 700204.
    drop(server);
    let (_home, server) = start_with(
        sink.port,
        r#"<email.send configKey="Smtp"><from>a@example.com</from></email.send><respond/>"#,
    );
    let r = post_json(server.port(8280), "/mail", "{}");
    assert_eq!(r.status, 500);
    assert!(
        r.text()
            .starts_with("700204|email.send (connection Smtp): Error occurred while sending the email. Recipients are not provided."),
        "{}",
        r.text()
    );
    assert_eq!(sink.count(), 0);
}

#[test]
fn an_operation_without_its_connection_does_not_deploy_and_says_where() {
    let home = home_with(&[(
        "api/Mail.xml",
        mail_api(r#"<email.send configKey="Nope"><to>b@example.com</to></email.send>"#),
    )]);
    let (code, text) = check_output(home.path());
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.contains("email.send configKey Nope: no email connection of that key is deployed"),
        "{text}"
    );
    assert!(text.contains("api/Mail.xml:"), "{text}");
}
