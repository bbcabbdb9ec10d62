//! What the server knows about itself that the probes and monitoring report: version, start time,
//! readiness and the artifacts that failed to deploy.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

/// Shared, read by every probe request; written by the lifecycle at start-up and on redeploy.
#[derive(Debug)]
pub struct ServerStatus {
    pub version: &'static str,
    pub started_at: SystemTime,
    started: Instant,
    pub port_offset: i32,
    /// Set once every listener is up and the artifacts are deployed.
    ready: AtomicBool,
    /// Artifacts that failed to deploy, as `file: reason`; any of them makes the server not ready.
    faulty: RwLock<Vec<String>>,
}

impl ServerStatus {
    pub fn new(version: &'static str, port_offset: i32) -> Self {
        ServerStatus {
            version,
            started_at: SystemTime::now(),
            started: Instant::now(),
            port_offset,
            ready: AtomicBool::new(false),
            faulty: RwLock::new(Vec::new()),
        }
    }

    pub fn set_started(&self) {
        self.ready.store(true, Ordering::Release);
    }

    pub fn is_started(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn set_faulty_artifacts(&self, faulty: Vec<String>) {
        if let Ok(mut f) = self.faulty.write() {
            *f = faulty;
        }
    }

    pub fn faulty_artifacts(&self) -> Vec<String> {
        self.faulty.read().map(|f| f.clone()).unwrap_or_default()
    }

    pub fn uptime_ms(&self) -> u128 {
        self.started.elapsed().as_millis()
    }

    pub fn started_at_epoch_ms(&self) -> u128 {
        self.started_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    }
}
