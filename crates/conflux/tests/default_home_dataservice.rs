//! The example data service of the bundled default home (`home/repository/deployment/server/
//! dataservices/EmployeeService.dbs`, SQLite): a copy of the home started on a free port offset
//! with nothing installed, and the README's curl commands for it run as they are written (through
//! `sh` and the real `curl`, only the port changed) with their answers checked. The SQLite file is
//! created when the data source first connects, and its table by the data source's `initSQL`
//! (`CREATE TABLE IF NOT EXISTS`, run by every new connection), so the test also restarts the
//! server on the same copy (the rows stay). A last check keeps the README's commands and the
//! tested ones the same.

mod support;

use std::path::Path;
use std::process::Command;

use support::backend::copy_dir;
use support::*;

/// Where the example's SQLite database lives in the home (its JDBC URL is relative to the home,
/// as MI resolves it from the directory it runs in).
const DATABASE_DIR: &str = "repository/database";
const DATABASE_FILE: &str = "repository/database/employees.db";

/// The README's port: HTTP 8280 at the default offset 10.
const README_PORT: &str = "localhost:8290";

/// What a command must print.
enum Expect {
    Exactly(&'static str),
    Contains(&'static [&'static str]),
}

/// The README "Data services" commands, in order, with what each prints on a fresh home.
const README_CURLS: &[(&str, Expect)] = &[
    (
        r#"curl -d '{"_postemployees": {"name": "Ann", "department": "Sales", "salary": 1500}}' -H 'Content-Type: application/json' http://localhost:8290/services/EmployeeService/employees"#,
        Expect::Exactly(
            r#"<GeneratedKeys xmlns="http://ws.wso2.org/dataservice"><Entry><id>1</id></Entry></GeneratedKeys>"#,
        ),
    ),
    (
        r#"curl -d '{"_postemployees": {"name": "Bob", "department": "IT", "salary": 2000.5}}' -H 'Content-Type: application/json' http://localhost:8290/services/EmployeeService/employees"#,
        Expect::Exactly(
            r#"<GeneratedKeys xmlns="http://ws.wso2.org/dataservice"><Entry><id>2</id></Entry></GeneratedKeys>"#,
        ),
    ),
    (
        "curl http://localhost:8290/services/EmployeeService/employees/1",
        Expect::Exactly(
            r#"<Employees xmlns="http://ws.wso2.org/dataservice"><Employee><id>1</id><name>Ann</name><department>Sales</department><salary>1500.0</salary></Employee></Employees>"#,
        ),
    ),
    (
        "curl http://localhost:8290/services/EmployeeService/employees",
        Expect::Exactly(
            r#"<Employees xmlns="http://ws.wso2.org/dataservice"><Employee><id>1</id><name>Ann</name><department>Sales</department><salary>1500.0</salary></Employee><Employee><id>2</id><name>Bob</name><department>IT</department><salary>2000.5</salary></Employee></Employees>"#,
        ),
    ),
    (
        "curl -H 'Accept: application/json' http://localhost:8290/services/EmployeeService/employees",
        Expect::Exactly(
            r#"{"Employees":{"Employee":[{"id":1,"name":"Ann","department":"Sales","salary":1500.0},{"id":2,"name":"Bob","department":"IT","salary":2000.5}]}}"#,
        ),
    ),
    (
        r#"curl -d '{"_postemployees": {"name": "", "department": "IT", "salary": 1}}' -H 'Content-Type: application/json' http://localhost:8290/services/EmployeeService/employees"#,
        Expect::Contains(&[
            r#"{"Fault":{"faultcode":"axis2ns1:VALIDATION_ERROR""#,
            "The value length must be between 1 and 100",
            "Field Name: name",
        ]),
    ),
];

/// Runs `command` through `sh` with the README's port replaced by `port`; returns stdout.
fn run_curl(command: &str, port: u16) -> String {
    let command = command.replace(README_PORT, &format!("localhost:{port}"));
    let out = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{command}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 answer")
}

fn curl_missing() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .map_or(true, |o| !o.status.success())
}

/// A copy of the bundled home without a database left by an earlier local run.
fn fresh_home_copy() -> tempfile::TempDir {
    let bundled = bundled_home();
    assert!(
        bundled.join(DATABASE_DIR).is_dir(),
        "the bundled home must ship {DATABASE_DIR}/: SQLite creates the file, not its directory"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&bundled, dir.path());
    let database = dir.path().join(DATABASE_DIR);
    for entry in std::fs::read_dir(&database).expect("database dir") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n != ".gitkeep") {
            std::fs::remove_file(&path).expect("remove a local run's database");
        }
    }
    dir
}

#[test]
fn readme_curls_run_on_the_default_home() {
    if curl_missing() {
        eprintln!("skipped: the README's commands need curl (apt-get install curl)");
        return;
    }
    let home = fresh_home_copy();
    let mut server = Server::start(home.path(), free_offset(), &[]);
    let port = server.port(HTTP);
    let deployed = "data service EmployeeService deployed from dataservices/EmployeeService.dbs";
    let log = server.output_with(&[deployed]);
    assert!(log.contains(deployed), "{log}");

    for (command, expect) in README_CURLS {
        let body = run_curl(command, port);
        match expect {
            Expect::Exactly(want) => assert_eq!(&body, want, "{command}"),
            Expect::Contains(parts) => {
                for part in *parts {
                    assert!(body.contains(part), "{command}: {body}");
                }
            }
        }
    }
    assert!(home.path().join(DATABASE_FILE).is_file());

    // A restart on the same home: the rows stay, and the table's initSQL (run again by every new
    // connection) leaves them alone.
    assert!(server.terminate().success(), "{}", server.output());
    drop(server);
    let server = Server::start(home.path(), free_offset(), &[]);
    let (list, Expect::Exactly(listed)) = &README_CURLS[3] else {
        unreachable!("the fourth command lists the employees")
    };
    assert_eq!(run_curl(list, server.port(HTTP)), *listed);
    let body = run_curl(README_CURLS[0].0, server.port(HTTP));
    assert_eq!(
        body,
        r#"<GeneratedKeys xmlns="http://ws.wso2.org/dataservice"><Entry><id>3</id></Entry></GeneratedKeys>"#
    );
}

/// The part of a README line before a shell comment (`#` after whitespace, outside quotes).
fn without_comment(line: &str) -> &str {
    let (mut single, mut double, mut prev_space) = (false, false, false);
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev_space => return line[..i].trim_end(),
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    line.trim_end()
}

/// The curl commands of `readme` that call the example data service and that this test does not
/// run (comments cut).
fn untested_commands(readme: &str) -> Vec<&str> {
    readme
        .lines()
        .map(|l| without_comment(l.trim_start()))
        .filter(|l| l.starts_with("curl ") && l.contains("/services/EmployeeService/"))
        .filter(|l| !README_CURLS.iter().any(|(tested, _)| tested == l))
        .collect()
}

/// Every curl command of the README that calls the example data service is one this test runs,
/// so the README cannot drift from what is checked.
#[test]
fn readme_lists_the_tested_commands() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README.md");
    if !readme.contains("/services/EmployeeService/") {
        eprintln!(
            "skipped: README.md has no curl command for EmployeeService yet (its Data services section)"
        );
        return;
    }
    let untested = untested_commands(&readme);
    assert!(
        untested.is_empty(),
        "README.md runs commands this test does not check; add them to README_CURLS:\n{}",
        untested.join("\n")
    );
}

#[test]
fn a_readme_command_that_is_not_tested_is_found() {
    let readme = format!(
        "```sh\n{}   # <GeneratedKeys ...>\ncurl http://localhost:8290/services/EmployeeService/employees/7   # one row\ncurl http://localhost:8290/hello/world\n```\n",
        README_CURLS[0].0
    );
    assert_eq!(
        untested_commands(&readme),
        ["curl http://localhost:8290/services/EmployeeService/employees/7"]
    );
}

#[test]
fn comments_are_cut_outside_quotes_only() {
    assert_eq!(
        without_comment("curl http://x/a   # note"),
        "curl http://x/a"
    );
    assert_eq!(
        without_comment(r##"curl -d '{"a": " #1"}' http://x  # c"##),
        r##"curl -d '{"a": " #1"}' http://x"##
    );
    assert_eq!(
        without_comment("curl http://x/a#frag"),
        "curl http://x/a#frag"
    );
}
