//! The graph store: the graphs directory, loaded at start and reloaded when files
//! are added, edited or removed (polled), each graph with a content version that
//! goes into cache keys so an edited graph never serves an old result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use imgflo_runtime::graph::file;
use imgflo_runtime::Graph;
use sha2::{Digest, Sha256};

/// One loaded graph.
#[derive(Clone, Debug)]
pub struct StoredGraph {
    pub name: String,
    pub graph: Arc<Graph>,
    /// Hex digest of the file's bytes.
    pub version: String,
    pub path: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

#[derive(Default)]
struct Inner {
    graphs: BTreeMap<String, StoredGraph>,
    stamps: BTreeMap<PathBuf, FileStamp>,
    errors: BTreeMap<String, String>,
}

/// Graphs by name, shared by every request.
#[derive(Clone)]
pub struct GraphStore {
    dir: PathBuf,
    inner: Arc<RwLock<Inner>>,
}

/// Valid graph names: what may appear in a URL and as a file stem.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 128 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl GraphStore {
    /// Loads every graph of `dir` (a missing directory is an empty store).
    pub fn open(dir: &Path) -> GraphStore {
        let store = GraphStore { dir: dir.to_path_buf(), inner: Arc::default() };
        store.reload();
        store
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn get(&self, name: &str) -> Option<StoredGraph> {
        self.inner.read().expect("graph store lock").graphs.get(name).cloned()
    }

    pub fn all(&self) -> Vec<StoredGraph> {
        self.inner.read().expect("graph store lock").graphs.values().cloned().collect()
    }

    /// Files that failed to load, with the reason.
    pub fn errors(&self) -> BTreeMap<String, String> {
        self.inner.read().expect("graph store lock").errors.clone()
    }

    /// Re-reads changed files; returns whether anything changed.
    pub fn reload(&self) -> bool {
        let files = file::list_dir(&self.dir).unwrap_or_default();
        let mut stamps = BTreeMap::new();
        for (_, path) in &files {
            if let Ok(meta) = std::fs::metadata(path) {
                stamps.insert(path.clone(), FileStamp { modified: meta.modified().ok(), len: meta.len() });
            }
        }
        if self.inner.read().expect("graph store lock").stamps == stamps && !stamps.is_empty() {
            return false;
        }
        let mut graphs = BTreeMap::new();
        let mut errors = BTreeMap::new();
        for (name, path) in files {
            if !valid_name(&name) {
                continue;
            }
            let loaded = std::fs::read(&path).map_err(|e| e.to_string()).and_then(|bytes| {
                let text = String::from_utf8(bytes.clone()).map_err(|e| e.to_string())?;
                let graph = file::parse(&path, &text).map_err(|e| e.to_string())?;
                Ok((graph, hex::encode(&Sha256::digest(&bytes)[..16])))
            });
            match loaded {
                Ok((graph, version)) => {
                    graphs.insert(name.clone(), StoredGraph { name, graph: Arc::new(graph), version, path });
                }
                Err(e) => {
                    tracing::warn!(graph = %name, error = %e, "graph not loaded");
                    errors.insert(name, e);
                }
            }
        }
        let mut inner = self.inner.write().expect("graph store lock");
        let changed = inner.stamps != stamps;
        *inner = Inner { graphs, stamps, errors };
        changed
    }

    /// Polls the directory for changes until the returned task is aborted.
    pub fn watch(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let s = store.clone();
                if let Ok(true) = tokio::task::spawn_blocking(move || s.reload()).await {
                    tracing::info!(dir = %store.dir.display(), "graphs reloaded");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_reloads_and_versions() {
        let dir = std::env::temp_dir().join(format!("imgflo-graphs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.fbp"), "INPORT=n.INPUT:INPUT\nOUTPORT=n.OUTPUT:OUTPUT\nn(gegl/nop)\n").unwrap();
        std::fs::write(dir.join("bad.json"), "{").unwrap();
        std::fs::write(dir.join("../x.fbp"), "n(gegl/nop)").ok();
        let store = GraphStore::open(&dir);
        let a = store.get("a").unwrap();
        assert!(store.errors().contains_key("bad"));
        // Edit: a new version.
        std::fs::write(dir.join("a.fbp"), "INPORT=n.INPUT:INPUT\nOUTPORT=n.OUTPUT:OUTPUT\nn(gegl/nop)\n# v2\n")
            .unwrap();
        assert!(store.reload());
        assert_ne!(store.get("a").unwrap().version, a.version);
        std::fs::remove_file(dir.join("a.fbp")).unwrap();
        store.reload();
        assert!(store.get("a").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names() {
        assert!(valid_name("gradientmap"));
        assert!(valid_name("my-graph_2"));
        assert!(!valid_name(""));
        assert!(!valid_name("../etc"));
        assert!(!valid_name("a.b"));
    }
}
