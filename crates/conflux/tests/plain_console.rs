//! Console log lines are plain text when stdout is not a terminal (containers, systemd, pipes):
//! the real binary runs with stdout piped, logs events that carry structured fields (which
//! tracing's formatter styles with ANSI italics on a terminal), and not one ESC byte may appear.
//! The terminal and `NO_COLOR` rules themselves are unit tests in `src/logging.rs`.

mod support;

use support::backend::raw_exchange;
use support::capp::start_with_env;
use support::*;

#[test]
fn piped_console_output_has_no_ansi_escapes() {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    home.write(
        &format!("{SYNAPSE}/api/Echo.xml"),
        &api(
            "Echo",
            "/echo",
            r#"<resource methods="GET"><inSequence><log level="full"/><respond/></inSequence></resource>"#,
        ),
    );
    // Debug level everywhere, so that events with fields (`rejection=..`, `remote=..`) are logged.
    let server = start_with_env(home.path(), &[], &[("CONFLUX_LOG", "debug")]);
    let port = server.port(HTTP);
    let ok = raw_exchange(
        port,
        b"GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(ok.status, 200);
    // Two Host headers: refused with 400 and logged at debug with the `rejection` field.
    let refused = raw_exchange(
        port,
        b"GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(refused.status, 400);
    let output = server.output_with(&["request refused", "rejection"]);
    assert!(
        output.contains("rejection"),
        "the refusal is logged with its fields:\n{output}"
    );
    assert!(
        output.contains("Conflux started in"),
        "console lines are in the output:\n{output}"
    );
    if let Some(line) = output.lines().find(|line| line.contains('\u{1b}')) {
        panic!("a console line carries an ANSI escape: {line:?}");
    }
}
