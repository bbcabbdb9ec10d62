//! The process handling every private test server shares (feature `test-support`): the
//! PostgreSQL and MariaDB servers of [`super`] and the RabbitMQ broker of
//! `conflux_messaging::testing` each start one with these. A fresh directory under the system temp
//! dir, a free loopback port, a log file the server writes to, waiting until the server is ready
//! (or has exited, or is late), stopping it by its PID, and a small `sh` watchdog in its own
//! process group that cleans up once the test process is gone. [`Skip`] is why a test cannot run
//! here.

use std::fmt;
use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How often a starting or stopping server is looked at.
const POLL: Duration = Duration::from_millis(50);

/// Why a test needing a server cannot run here (printed as the test's skip message).
#[derive(Debug, Clone)]
pub struct Skip(pub String);

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Skip {
    /// `what` failed with `error`.
    pub fn failed(what: &str, error: impl fmt::Display) -> Skip {
        Skip(format!("{what}: {error}"))
    }
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// Creates `<temp dir>/conflux-<name>-<pid>-<n>`, a directory no other server of any test
/// process uses.
pub fn private_dir(name: &str) -> Result<PathBuf, Skip> {
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("conflux-{name}-{}-{seq}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Skip::failed("creating the server directory", e))?;
    Ok(dir)
}

/// A loopback port free at the time of asking.
pub fn free_port() -> Result<u16, Skip> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Skip::failed("finding a free port", e))
}

/// `name` in `PATH` or in the usual binary folders (the server binaries live in `sbin`).
pub fn in_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(
            [
                "/usr/bin",
                "/usr/sbin",
                "/usr/local/bin",
                "/usr/local/sbin",
                "/sbin",
            ]
            .map(PathBuf::from),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `path` opened for appending, twice (the server's stdout and stderr), with its length before
/// this start (where this start's lines begin).
pub fn open_log(path: &Path) -> Result<(File, File, u64), Skip> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Skip::failed("server log", e))?;
    let from = log.metadata().map(|m| m.len()).unwrap_or(0);
    let log2 = log.try_clone().map_err(|e| Skip::failed("server log", e))?;
    Ok((log, log2, from))
}

/// Waits until `ready` holds. When the server (`child`) exits first, `child` is emptied and the
/// skip says so; when `timeout` passes first, the skip says that. Both name `log`.
pub fn wait_ready(
    what: &str,
    child: &mut Option<Child>,
    timeout: Duration,
    log: &Path,
    mut ready: impl FnMut() -> bool,
) -> Result<(), Skip> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return Ok(());
        }
        if let Some(c) = child.as_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            *child = None;
            return Err(Skip(format!(
                "{what} exited ({status}); see {}",
                log.display()
            )));
        }
        if Instant::now() > deadline {
            return Err(Skip(format!(
                "{what} did not start within {timeout:?}; see {}",
                log.display()
            )));
        }
        std::thread::sleep(POLL);
    }
}

/// Sends `signal` (`-TERM`, `-INT`, ...) to `pid` (the server, which may be a process `child`
/// started) and waits for `child` to exit; after `timeout` both are killed.
pub fn stop(mut child: Child, pid: u32, signal: &str, timeout: Duration) {
    let _ = Command::new("kill")
        .arg(signal)
        .arg(pid.to_string())
        .status();
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) if Instant::now() > deadline => {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(pid.to_string())
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
            Ok(None) => std::thread::sleep(POLL),
        }
    }
}

/// A `sh` loop that runs `cleanup` (shell commands) once this process is gone, so that a server
/// a test never dropped (a shared one, or one of a test that crashed) does not outlive it.
/// Dropping the watchdog ends it without running `cleanup`.
pub struct Watchdog(Child);

impl Watchdog {
    pub fn start(cleanup: &str) -> Result<Watchdog, Skip> {
        let script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 1; done; {cleanup}",
            me = std::process::id(),
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            // Its own process group: a signal to the test's group (`timeout`, Ctrl-C) must not
            // take the watchdog down with the test.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(Watchdog)
            .map_err(|e| Skip::failed("starting the server watchdog failed", e))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_ready_reports_a_server_that_exits_and_one_that_is_late() {
        let log = Path::new("/nonexistent/server.log");
        let mut child = Some(Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap());
        let err = wait_ready(
            "the server",
            &mut child,
            Duration::from_secs(60),
            log,
            || false,
        )
        .unwrap_err();
        assert!(err.0.starts_with("the server exited ("), "{err}");
        assert!(child.is_none());
        let err = wait_ready("the server", &mut None, Duration::ZERO, log, || false).unwrap_err();
        assert!(err.0.contains("did not start within 0ns"), "{err}");
        assert!(wait_ready("the server", &mut None, Duration::ZERO, log, || true).is_ok());
    }

    #[test]
    fn stop_kills_a_process_that_ignores_the_signal() {
        let child = Command::new("sh")
            .args(["-c", "trap '' TERM; while :; do sleep 1; done"])
            .spawn()
            .unwrap();
        let pid = child.id();
        stop(child, pid, "-TERM", Duration::ZERO);
        assert!(
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_err(),
            "process {pid} is still there"
        );
    }

    #[test]
    fn private_dirs_are_distinct() {
        let a = private_dir("unit").unwrap();
        let b = private_dir("unit").unwrap();
        assert_ne!(a, b);
        assert!(a.is_dir() && b.is_dir());
        std::fs::remove_dir(a).unwrap();
        std::fs::remove_dir(b).unwrap();
    }
}
