//! A real RabbitMQ broker for tests (feature `test-support`), so that `cargo test` needs nothing
//! started beforehand: when the Debian package `rabbitmq-server` is installed, a test starts a
//! private broker in a fresh directory under the system temp dir, with its own node name, data
//! directory, free AMQP port, Erlang distribution port and `epmd` port (so it shares nothing with
//! a system broker or another test), user `guest`/`guest` on loopback. Starting one costs a few
//! seconds. Without the package [`RabbitMqServer::start`] returns a [`Skip`] that says what to
//! install.
//!
//! A test may [`stop`](RabbitMqServer::stop) the broker (its durable queues and persistent
//! messages stay on disk) and [`restart`](RabbitMqServer::restart) it on the same ports.
//! Dropping it stops the broker and its `epmd` and removes the directory; a small `sh` watchdog
//! does the same if the test process dies first. Every process is stopped by its PID (the
//! broker's from its pid file; `epmd` through its own port with `epmd -kill`). The process
//! handling is the one the database test servers use (`conflux_dataservices::db::testing::process`).

use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use conflux_dataservices::db::testing::Skip;
use conflux_dataservices::db::testing::process::{
    self, Watchdog, free_port, in_path, open_log, private_dir, wait_ready,
};

/// How long a broker may take to accept AMQP connections after it is started.
pub const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a stopping broker may take to exit before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The Debian package's server script (it runs the broker as the calling user).
const SERVER_SCRIPT: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";
/// What the broker logs once it accepts connections.
const STARTED: &str = "Server startup complete";

/// A private broker.
pub struct RabbitMqServer {
    dir: PathBuf,
    node: String,
    amqp_port: u16,
    dist_port: u16,
    epmd_port: u16,
    server: Option<Child>,
    watchdog: Option<Watchdog>,
}

impl RabbitMqServer {
    /// Starts a broker and waits until it accepts connections.
    pub fn start() -> Result<RabbitMqServer, Skip> {
        if !Path::new(SERVER_SCRIPT).is_file() || in_path("epmd").is_none() {
            return Err(Skip(
                "rabbitmq-server not found: install the Debian package `rabbitmq-server`".into(),
            ));
        }
        let dir = private_dir("rabbitmq")?;
        std::fs::write(dir.join("enabled_plugins"), "[].\n")
            .map_err(|e| Skip::failed("writing enabled_plugins", e))?;
        // The directory's name ends in this process's id and a sequence number: unique, as a
        // node name must be.
        let unique = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("conflux-rabbitmq-"))
            .unwrap_or_default()
            .replace('-', "x");
        let mut server = RabbitMqServer {
            node: format!("conflux{unique}@localhost"),
            dir,
            amqp_port: free_port()?,
            dist_port: free_port()?,
            epmd_port: free_port()?,
            server: None,
            watchdog: None,
        };
        server.watch()?;
        server.spawn()?;
        Ok(server)
    }

    /// The AMQP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.amqp_port
    }

    /// `amqp://guest:guest@127.0.0.1:<port>/%2f`, for a test's own client.
    pub fn uri(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.amqp_port)
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("rabbitmq.pid")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// The last `bytes` of the broker's log (every start appends to it), for a failing test's
    /// message: the directory, and the log with it, is removed when the broker is dropped.
    pub fn log_tail(&self, bytes: usize) -> String {
        let log = std::fs::read(self.log_file()).unwrap_or_default();
        let tail = &log[log.len().saturating_sub(bytes)..];
        String::from_utf8_lossy(tail).into_owned()
    }

    fn spawn(&mut self) -> Result<(), Skip> {
        let (log, log2, log_from) = open_log(&self.log_file())?;
        let _ = std::fs::remove_file(self.pid_file());
        let d = |name: &str| self.dir.join(name);
        let child = Command::new(SERVER_SCRIPT)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
            .env("HOME", &self.dir)
            .env("LANG", "C.UTF-8")
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.amqp_port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", d("mnesia"))
            .env("RABBITMQ_LOG_BASE", d("log"))
            .env("RABBITMQ_LOGS", "-")
            .env("RABBITMQ_CONFIG_FILE", d("rabbitmq"))
            .env("RABBITMQ_ADVANCED_CONFIG_FILE", d("advanced.config"))
            .env("RABBITMQ_CONF_ENV_FILE", d("rabbitmq-env.conf"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d("enabled_plugins"))
            .env("RABBITMQ_PID_FILE", self.pid_file())
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| Skip(format!("starting rabbitmq-server failed: {e}")))?;
        self.server = Some(child);
        self.wait_ready(log_from)
    }

    /// Waits until the broker has logged [`STARTED`] since `log_from` and accepts connections.
    fn wait_ready(&mut self, log_from: u64) -> Result<(), Skip> {
        let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.amqp_port);
        let log = self.log_file();
        let mut server = self.server.take();
        let ready = wait_ready("rabbitmq-server", &mut server, START_TIMEOUT, &log, || {
            let started = std::fs::read(&log)
                .ok()
                .and_then(|log| log.get(log_from as usize..).map(<[u8]>::to_vec))
                .is_some_and(|tail| String::from_utf8_lossy(&tail).contains(STARTED));
            started && TcpStream::connect_timeout(&addr.into(), Duration::from_millis(200)).is_ok()
        });
        self.server = server;
        if ready.is_err() {
            // Late rather than exited: stop it.
            self.stop();
        }
        ready
    }

    /// The broker's own PID (the Erlang VM), from its pid file.
    fn broker_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.pid_file())
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Stops the broker (a clean shutdown: durable queues and persistent messages stay on
    /// disk) and waits for it to exit. [`restart`](RabbitMqServer::restart) brings it back.
    pub fn stop(&mut self) {
        self.signal("-TERM");
    }

    /// Kills the broker with SIGKILL (what a crash does) and waits for it to exit.
    pub fn kill(&mut self) {
        self.signal("-KILL");
    }

    fn signal(&mut self, signal: &str) {
        let Some(child) = self.server.take() else {
            return;
        };
        let target = self.broker_pid().unwrap_or(child.id());
        let deadline = Instant::now() + STOP_TIMEOUT;
        process::stop(child, target, signal, STOP_TIMEOUT);
        // The script can exit before the VM it started is gone; wait for the VM too.
        while Instant::now() < deadline && Path::new(&format!("/proc/{target}")).exists() {
            if std::fs::read_to_string(format!("/proc/{target}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the stopped broker again on the same ports and data directory.
    pub fn restart(&mut self) -> Result<(), Skip> {
        self.stop();
        self.spawn()
    }

    /// A watchdog that stops the broker and its epmd and removes the directory once this
    /// process is gone.
    fn watch(&mut self) -> Result<(), Skip> {
        let cleanup = format!(
            "pid=$(head -n 1 '{pidfile}' 2>/dev/null); \
             [ -n \"$pid\" ] && kill -TERM \"$pid\" 2>/dev/null; \
             n=0; while [ -n \"$pid\" ] && kill -0 \"$pid\" 2>/dev/null && [ $n -lt 150 ]; do sleep 0.2; n=$((n+1)); done; \
             [ -n \"$pid\" ] && kill -KILL \"$pid\" 2>/dev/null; \
             epmd -port {epmd} -kill >/dev/null 2>&1; \
             rm -rf '{dir}'",
            pidfile = self.pid_file().display(),
            epmd = self.epmd_port,
            dir = self.dir.display(),
        );
        self.watchdog = Some(Watchdog::start(&cleanup)?);
        Ok(())
    }
}

impl Drop for RabbitMqServer {
    fn drop(&mut self) {
        self.stop();
        // The private epmd the broker started on its own port.
        let _ = Command::new("epmd")
            .args(["-port", &self.epmd_port.to_string(), "-kill"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        self.watchdog = None;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
