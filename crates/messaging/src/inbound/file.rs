//! The file poller of a `file` inbound endpoint (MI `FilePollingConsumer`, `FileInjectHandler`)
//! and of a proxy service with the `vfs` transport (MI's VFS transport listener, same parameters,
//! the file injected into the proxy):
//! every `interval` ms it lists the local folder of `transport.vfs.FileURI`, takes the regular
//! files whose whole name matches `transport.vfs.FileNamePattern` in name order, and injects each
//! into the endpoint's sequence, with the content type of `transport.vfs.ContentType` (else by
//! extension: `.txt` text/plain, anything else text/xml as MI's SOAP-builder fallback) and MI's
//! transport headers `FILE_NAME`, `FILE_PATH`, `FILE_URI`, `FILE_LENGTH`, `LAST_MODIFIED`.
//!
//! After a file is processed it is deleted or moved (`transport.vfs.ActionAfterProcess`). A file
//! whose mediation fails (the sequence cannot run, or the flow answers a 5xx status: a fault) is
//! moved to `transport.vfs.MoveAfterFailure`; it is never deleted: with MI's default
//! `ActionAfterFailure=DELETE` Conflux leaves it in place, logs it and skips it until it changes.
//! With `transport.vfs.Locking` enabled (the default) a `NAME.lock` file beside it marks a file
//! being processed (MI `VFSUtils.acquireLock`), so two pollers never take the same file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use conflux_artifacts::inbound_endpoint::{
    AfterAction, InboundEndpoint, VfsSettings, compile_whole_match,
};
use conflux_artifacts::proxy::ProxyService;
use conflux_mediation::runtime::inject::{InjectTarget, InjectedMessage};
use conflux_transport::body::ProxyBody;
use conflux_transport::passthrough::Live;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use http_body_util::BodyExt as _;
use tokio_util::sync::CancellationToken;

use super::LOG;
use crate::LiveSwap;

/// Largest file the poller reads into a message (MI has `transport.vfs.FileSizeLimit`, default
/// unlimited); a larger file is a failure, moved to the failure folder or left in place.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Most files one poll takes; the rest wait for the next poll.
pub const MAX_FILES_PER_POLL: usize = 10_000;

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    Failed(String),
}

/// Size and modification time: a failed file left in place is taken again once it changes.
type Stamp = (u64, Option<SystemTime>);

/// Where a poller's files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollTarget {
    /// A `file` inbound endpoint: its sequence, with `onError`.
    Inbound {
        name: String,
        sequence: Option<String>,
        on_error: Option<String>,
    },
    /// A proxy service with the `vfs` transport (MI's VFS transport listener).
    Proxy(String),
}

impl PollTarget {
    pub fn inbound(endpoint: &InboundEndpoint) -> PollTarget {
        PollTarget::Inbound {
            name: endpoint.name.clone(),
            sequence: endpoint.sequence.clone(),
            on_error: endpoint.on_error.clone(),
        }
    }

    pub fn proxy(proxy: &ProxyService) -> PollTarget {
        PollTarget::Proxy(proxy.name.clone())
    }

    /// `inbound endpoint X` / `VFS proxy service X`, for logs.
    pub fn label(&self) -> String {
        match self {
            PollTarget::Inbound { name, .. } => format!("inbound endpoint {name}"),
            PollTarget::Proxy(name) => format!("VFS proxy service {name}"),
        }
    }
}

/// Polls until `stop`.
pub async fn poll(
    endpoint: Arc<PollTarget>,
    settings: VfsSettings,
    live: LiveSwap,
    stop: CancellationToken,
) {
    let pattern = match settings
        .file_name_pattern
        .as_deref()
        .map(compile_whole_match)
        .transpose()
    {
        Ok(p) => p,
        Err(why) => {
            tracing::error!(target: LOG, "{}: transport.vfs.FileNamePattern: {why}; not started", endpoint.label());
            return;
        }
    };
    let mut failed: HashMap<PathBuf, Stamp> = HashMap::new();
    let interval = Duration::from_millis(settings.interval_ms);
    loop {
        let files = match list(&settings.folder, pattern.as_ref()).await {
            Ok(files) => files,
            Err(e) => {
                tracing::warn!(target: LOG, "{}: cannot list {}: {e}", endpoint.label(), settings.folder.display());
                Vec::new()
            }
        };
        for (path, stamp) in files {
            if stop.is_cancelled() {
                return;
            }
            if failed.get(&path) == Some(&stamp) {
                continue;
            }
            failed.remove(&path);
            let live = live.load_full();
            match take(&endpoint, &settings, &path, &live).await {
                Some(Outcome::Failed(_)) if settings.after_failure.is_none() => {
                    failed.insert(path, stamp);
                }
                _ => {}
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// The files of `folder` to process, in name order, with their stamps.
async fn list(
    folder: &Path,
    pattern: Option<&regex::Regex>,
) -> std::io::Result<Vec<(PathBuf, Stamp)>> {
    let mut out = Vec::new();
    let mut entries = tokio::fs::read_dir(folder).await?;
    while let Some(entry) = entries.next_entry().await? {
        let Ok(meta) = entry.metadata().await else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        // MI skips its own lock and fail marker files.
        if name.ends_with(".lock") || name.ends_with(".fail") {
            continue;
        }
        if pattern.is_some_and(|p| !p.is_match(&name)) {
            continue;
        }
        out.push((entry.path(), (meta.len(), meta.modified().ok())));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.truncate(MAX_FILES_PER_POLL);
    Ok(out)
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// Locks, processes, moves or deletes one file. `None`: another poller holds it, or it is gone.
pub async fn take(
    endpoint: &PollTarget,
    settings: &VfsSettings,
    path: &Path,
    live: &Live,
) -> Option<Outcome> {
    let lock = lock_path(path);
    if settings.locking {
        match tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
            .await
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return None,
            Err(e) => {
                tracing::warn!(target: LOG, "{}: cannot lock {}: {e}", endpoint.label(), path.display());
                return None;
            }
        }
    }
    let outcome = process(endpoint, settings, path, live).await;
    let outcome = match outcome {
        None => None,
        Some(Outcome::Processed) => Some(match &settings.after_process {
            AfterAction::Delete => match tokio::fs::remove_file(path).await {
                Ok(()) => Outcome::Processed,
                Err(e) => Outcome::Failed(format!("cannot delete it after processing: {e}")),
            },
            AfterAction::Move(folder) => match move_into(path, folder).await {
                Ok(to) => {
                    tracing::debug!(target: LOG, "{}: moved {} to {}", endpoint.label(), path.display(), to.display());
                    Outcome::Processed
                }
                Err(e) => Outcome::Failed(format!(
                    "cannot move it to {} after processing: {e}",
                    folder.display()
                )),
            },
        }),
        Some(Outcome::Failed(why)) => {
            match &settings.after_failure {
                Some(folder) => match move_into(path, folder).await {
                    Ok(to) => {
                        tracing::error!(target: LOG, "{}: processing {} failed ({why}); moved to {}", endpoint.label(), path.display(), to.display())
                    }
                    Err(e) => {
                        tracing::error!(target: LOG, "{}: processing {} failed ({why}), and it cannot be moved to {}: {e}; it stays in place", endpoint.label(), path.display(), folder.display())
                    }
                },
                None => {
                    tracing::error!(target: LOG, "{}: processing {} failed ({why}); it stays in place and is skipped until it changes (set transport.vfs.ActionAfterFailure=MOVE and transport.vfs.MoveAfterFailure to move failed files)", endpoint.label(), path.display())
                }
            }
            Some(Outcome::Failed(why))
        }
    };
    if settings.locking {
        let _ = tokio::fs::remove_file(&lock).await;
    }
    outcome
}

/// Moves `path` into `folder` (created when missing), replacing a file of the same name there.
async fn move_into(path: &Path, folder: &Path) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(folder).await?;
    let to = folder.join(path.file_name().unwrap_or_default());
    match tokio::fs::rename(path, &to).await {
        Ok(()) => Ok(to),
        // Another file system: copy, then remove.
        Err(e) if e.raw_os_error() == Some(18) => {
            tokio::fs::copy(path, &to).await?;
            tokio::fs::remove_file(path).await?;
            Ok(to)
        }
        Err(e) => Err(e),
    }
}

/// Reads and injects one file. `None`: it disappeared before it could be read.
async fn process(
    endpoint: &PollTarget,
    settings: &VfsSettings,
    path: &Path,
    live: &Live,
) -> Option<Outcome> {
    let meta = match tokio::fs::metadata(path).await {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Outcome::Failed(format!("cannot read it: {e}"))),
    };
    if meta.len() > MAX_FILE_BYTES {
        return Some(Outcome::Failed(format!(
            "{} bytes is larger than the {MAX_FILE_BYTES} bytes a file may have",
            meta.len()
        )));
    }
    let payload = match tokio::fs::read(path).await {
        Ok(bytes) => Bytes::from(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Outcome::Failed(format!("cannot read it: {e}"))),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let content_type = settings.content_type.clone().unwrap_or_else(|| {
        if name.to_ascii_lowercase().ends_with("txt") {
            "text/plain".into()
        } else {
            "text/xml".into()
        }
    });
    let mut headers = HeaderMap::new();
    let modified_ms = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_millis().to_string())
        .unwrap_or_default();
    let file_path = path.to_string_lossy().into_owned();
    for (header, value) in [
        ("FILE_NAME", name.clone()),
        ("FILE_PATH", file_path.clone()),
        ("FILE_URI", format!("file://{file_path}")),
        ("FILE_LENGTH", meta.len().to_string()),
        ("LAST_MODIFIED", modified_ms),
    ] {
        if let (Ok(h), Ok(v)) = (
            HeaderName::from_bytes(header.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(h, v);
        }
    }
    let (target, properties, uri) = match endpoint {
        PollTarget::Inbound {
            name,
            sequence,
            on_error,
        } => {
            let Some(sequence) = sequence.as_deref() else {
                return Some(Outcome::Failed("the endpoint has no sequence".into()));
            };
            (
                InjectTarget::SequenceOnError {
                    sequence,
                    on_error: on_error.as_deref(),
                },
                vec![("inbound.endpoint.name".to_string(), name.clone())],
                Uri::from_static("/"),
            )
        }
        PollTarget::Proxy(name) => (
            InjectTarget::Proxy(name),
            Vec::new(),
            format!("/services/{name}")
                .parse()
                .unwrap_or_else(|_| Uri::from_static("/services")),
        ),
    };
    let message = InjectedMessage {
        payload,
        content_type: Some(content_type),
        headers,
        properties,
    };
    let (request, properties) = message.into_request::<ProxyBody>(uri);
    match live
        .deployment
        .inject(&live.sender, target, request, properties, "vfs")
        .await
    {
        Ok(response) => {
            let status = response.status();
            // Drain what the flow answered (a `<respond>` of the sequence goes nowhere).
            let _ = response.into_body().collect().await;
            if status.is_server_error() {
                Some(Outcome::Failed(format!(
                    "the flow faulted (status {status})"
                )))
            } else {
                Some(Outcome::Processed)
            }
        }
        Err(e) => Some(Outcome::Failed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listing_takes_matching_files_in_name_order_and_skips_lock_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.xml", "a.xml", "c.txt", "a.xml.lock", "x.fail"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.xml")).unwrap();
        let pattern = compile_whole_match(".*\\.xml").unwrap();
        let names: Vec<String> = list(dir.path(), Some(&pattern))
            .await
            .unwrap()
            .into_iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.xml", "b.xml"]);
        let all = list(dir.path(), None).await.unwrap();
        assert_eq!(all.len(), 3, "{all:?}");
    }

    #[tokio::test]
    async fn moving_creates_the_folder_and_replaces_a_file_of_the_same_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.xml");
        std::fs::write(&file, "new").unwrap();
        let to = dir.path().join("out/deeper");
        std::fs::create_dir_all(&to).unwrap();
        std::fs::write(to.join("m.xml"), "old").unwrap();
        let moved = move_into(&file, &to).await.unwrap();
        assert_eq!(moved, to.join("m.xml"));
        assert_eq!(std::fs::read_to_string(&moved).unwrap(), "new");
        assert!(!file.exists());
        let fresh = dir.path().join("n.xml");
        std::fs::write(&fresh, "n").unwrap();
        move_into(&fresh, &dir.path().join("created"))
            .await
            .unwrap();
        assert!(dir.path().join("created/n.xml").exists());
    }

    #[test]
    fn the_lock_file_sits_beside_the_file() {
        assert_eq!(
            lock_path(Path::new("/in/a.xml")),
            PathBuf::from("/in/a.xml.lock")
        );
    }
}
