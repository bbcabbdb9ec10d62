//! The hot-deployment watcher: file-system notifications (inotify on Linux, through `notify`) on
//! every source folder, debounced so that a burst of writes (an editor's save, a CAR being
//! copied) becomes one redeploy. MI polls its folders every 15 s (`DeploymentUpdateInterval`);
//! Conflux reacts to the change itself and never polls in a loop.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

/// How long the watcher waits for a burst of changes to end before it redeploys.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(300);

/// Watches the sources until dropped.
pub struct Watcher {
    debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    /// The paths asked for.
    paths: Vec<PathBuf>,
    /// What is watched now, and how.
    watched: Vec<(PathBuf, RecursiveMode)>,
}

impl Watcher {
    /// Watches, recursively, the asked-for folders that have appeared since (they were watched
    /// through a parent until now). Call after each notification.
    pub fn refresh(&mut self) -> Result<(), WatchError> {
        let paths = self.paths.clone();
        for path in &paths {
            self.add(path)?;
        }
        Ok(())
    }

    fn add(&mut self, path: &Path) -> Result<(), WatchError> {
        let (target, mode) = match existing_ancestor(path) {
            Some(p) if p == path => (p, RecursiveMode::Recursive),
            Some(p) => (p, RecursiveMode::NonRecursive),
            None => return Ok(()),
        };
        if self
            .watched
            .iter()
            .any(|(w, m)| *w == target && (*m == mode || *m == RecursiveMode::Recursive))
        {
            return Ok(());
        }
        self.debouncer
            .watch(&target, mode)
            .map_err(|e| WatchError {
                path: target.display().to_string(),
                reason: e.to_string(),
            })?;
        self.watched.push((target, mode));
        Ok(())
    }
}

/// The watcher could not start (the server keeps serving; hot deployment is off).
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path} for hot deployment: {reason}")]
pub struct WatchError {
    pub path: String,
    pub reason: String,
}

/// Calls `on_change` (on the watcher's thread) with the changed paths after every burst of
/// changes under `paths`. A path that does not exist yet is watched through its nearest existing
/// parent, so creating it is seen too.
pub fn watch(
    paths: &[PathBuf],
    debounce: Duration,
    on_change: impl Fn(Vec<PathBuf>) + Send + 'static,
) -> Result<Watcher, WatchError> {
    let debouncer = new_debouncer(debounce, None, move |result: DebounceEventResult| {
        let Ok(events) = result else {
            return;
        };
        let mut changed: Vec<PathBuf> = events
            .into_iter()
            .filter(|e| !matches!(e.event.kind, EventKind::Access(_)))
            .flat_map(|e| e.event.paths)
            .filter(|p| !is_scratch_file(p))
            .collect();
        changed.sort();
        changed.dedup();
        if !changed.is_empty() {
            on_change(changed);
        }
    })
    .map_err(|e| WatchError {
        path: String::new(),
        reason: e.to_string(),
    })?;
    let mut watcher = Watcher {
        debouncer,
        paths: paths.to_vec(),
        watched: Vec::new(),
    };
    watcher.refresh()?;
    Ok(watcher)
}

/// The path itself when it exists, else its nearest existing parent.
fn existing_ancestor(path: &Path) -> Option<PathBuf> {
    path.ancestors().find(|p| p.exists()).map(Path::to_path_buf)
}

/// Files that are not artifacts in the making: editors' swap and backup files, and the
/// Management API's upload in progress (renamed into place when complete).
fn is_scratch_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with('~')
        || name.ends_with(".uploading")
        || name.starts_with(".#")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_burst_of_writes_is_one_notification_and_scratch_files_are_not_seen() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("api");
        std::fs::create_dir(&dir).unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = watch(
            std::slice::from_ref(&dir),
            Duration::from_millis(100),
            move |paths| {
                let _ = tx.send(paths);
            },
        )
        .unwrap();
        std::fs::write(dir.join(".Foo.xml.swp"), "x").unwrap();
        for i in 0..5 {
            std::fs::write(dir.join("Foo.xml"), format!("<api{i}/>")).unwrap();
        }
        let paths = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(paths.iter().all(|p| p.ends_with("Foo.xml")), "{paths:?}");
    }

    #[test]
    fn a_folder_created_later_is_seen_through_its_parent() {
        let tmp = tempfile::tempdir().unwrap();
        let carbonapps = tmp.path().join("carbonapps");
        let (tx, rx) = mpsc::channel();
        let mut w = watch(
            std::slice::from_ref(&carbonapps),
            Duration::from_millis(100),
            move |paths| {
                let _ = tx.send(paths);
            },
        )
        .unwrap();
        std::fs::create_dir(&carbonapps).unwrap();
        let paths = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(paths.contains(&carbonapps), "{paths:?}");
        // Once refreshed, files inside the new folder are seen too.
        w.refresh().unwrap();
        std::fs::write(carbonapps.join("A.car"), "x").unwrap();
        let paths = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(paths.contains(&carbonapps.join("A.car")), "{paths:?}");
    }
}
