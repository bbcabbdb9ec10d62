//! End-to-end test harness: temporary MI homes, the real `conflux` binary started on a port
//! offset whose whole plan is free, and a minimal HTTP/1.1 client over real sockets. Every child
//! process is killed when its handle drops, so no test leaves a server behind.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a server may take to print "Conflux started" (debug builds on a loaded 2-core CI).
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

pub const BIN: &str = env!("CARGO_BIN_EXE_conflux");

/// Base ports of the default plan (offset 0).
pub const BASES: [u16; 6] = [8280, 8243, 9191, 9154, 9999, 11111];
pub const HTTP: u16 = 8280;
pub const HTTPS: u16 = 8243;
pub const INTERNAL_HTTP: u16 = 9191;
pub const INTERNAL_HTTPS: u16 = 9154;
pub const JMX: u16 = 9999;

/// Where a home's Synapse artifacts live.
pub const SYNAPSE: &str = "repository/deployment/server/synapse-configs/default";

/// A home with a minimal deployment.toml and these artifacts (`("api/X.xml", xml)`, relative to
/// [`SYNAPSE`]).
/// Starts the binary on `home` at a free port offset.
pub fn start(home: &Home) -> Server {
    Server::start(home.path(), free_offset(), &[])
}

/// An `<api>` artifact with these resources (`body`).
pub fn api(name: &str, context: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<api xmlns="http://ws.apache.org/ns/synapse" name="{name}" context="{context}">
{body}
</api>"#
    )
}

/// Runs `conflux check` on `home` (failing the test on a hang, after 60 s) and returns its exit
/// code and what it printed, stdout then stderr.
pub fn check_output(home: &Path) -> (Option<i32>, String) {
    let out = check_home(home, Duration::from_secs(60));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// Runs `conflux check` on `home`, reading its output while it runs (a large corpus writes more
/// than a pipe holds); kills it and fails the test if it takes longer than `deadline` (a hang).
pub fn check_home(home: &Path, deadline: Duration) -> std::process::Output {
    let child = Command::new(BIN)
        .args(["check", "--home", home.to_str().expect("utf-8 path")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn conflux check");
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(deadline) {
        Ok(out) => out.expect("conflux check output"),
        Err(_) => {
            signal(pid, "KILL");
            panic!("conflux check did not finish within {deadline:?}");
        }
    }
}

pub fn home_with(artifacts: &[(&str, String)]) -> Home {
    let home = Home::new("[server]\nhostname = \"localhost\"\n");
    for (path, xml) in artifacts {
        home.write(&format!("{SYNAPSE}/{path}"), xml);
    }
    home
}

/// A temporary MI home with a deployment.toml.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new(deployment_toml: &str) -> Home {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("conf")).unwrap();
        std::fs::write(dir.path().join("conf/deployment.toml"), deployment_toml).unwrap();
        Home { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, relative: &str, text: &str) {
        let p = self.dir.path().join(relative);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// An offset at which every port of the default plan is free now (the conformance runner's
/// search: spread by process id and a counter, so parallel tests do not pick the same one).
pub fn free_offset() -> u32 {
    conflux_conformance::runner::free_offset()
}

/// A running `conflux` process.
pub struct Server {
    pub child: Child,
    pub offset: u32,
    output: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `conflux` with `args` (the home and offset included by the caller) and waits until
    /// it logs that it started. Panics with the output if it exits first.
    pub fn start(home: &Path, offset: u32, extra: &[&str]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.arg("--home")
            .arg(home)
            .arg(format!("-DportOffset={offset}"));
        cmd.args(extra);
        Server::spawn(cmd, offset)
    }

    pub fn spawn(mut cmd: Command, offset: u32) -> Server {
        // Test servers register for the console's fleet view in a directory of their own, not
        // among the user's real instances (a test that wants a fleet sets its own).
        if !cmd.get_envs().any(|(k, _)| k == "XDG_RUNTIME_DIR") {
            let dir = std::env::temp_dir().join("conflux-test-runtime");
            let _ = std::fs::create_dir_all(&dir);
            cmd.env("XDG_RUNTIME_DIR", dir);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn conflux");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()) as Box<dyn Read + Send>,
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = output.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        let mut server = Server {
            child,
            offset,
            output,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if server.output().contains("Conflux started in") {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "conflux exited with {status} before starting:\n{}",
                    server.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "conflux did not start in time:\n{}",
                server.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn port(&self, base: u16) -> u16 {
        (u32::from(base) + self.offset) as u16
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The output once it holds every one of `needles` (log lines are read by a thread, so they
    /// may land just after the answer); the output as it stands after 10 s otherwise.
    pub fn output_with(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.output();
            if needles.iter().all(|n| out.contains(n)) || Instant::now() > deadline {
                return out;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit (killing after a deadline).
    pub fn terminate(&mut self) -> ExitStatus {
        signal(self.pid(), "TERM");
        self.wait(Duration::from_secs(20))
    }

    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader threads drain the pipes.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("conflux did not exit in time:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Runs `conflux` to completion (for `ports`, `check`, failing starts).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("run conflux");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A response as the test client saw it.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), body read to EOF or
/// Content-Length.
pub fn http(method: &str, host: &str, port: u16, path: &str, body: &[u8]) -> HttpResponse {
    let mut stream =
        TcpStream::connect((host, port)).unwrap_or_else(|e| panic!("connect {host}:{port}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

pub fn get(port: u16, path: &str) -> HttpResponse {
    http("GET", "127.0.0.1", port, path, b"")
}

pub fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..line_end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// The home shipped in the repository.
pub fn bundled_home() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../home")
}

pub mod backend;
pub mod capp;
pub mod db;
pub mod fault_proxy;
pub mod load;
