//! Reading graphs from files: `.json` (FBP JSON) or `.fbp` (the text DSL).

use std::path::{Path, PathBuf};

use super::Graph;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Json { path: PathBuf, source: super::json::JsonGraphError },
    #[error("{path}: {source}")]
    Fbp { path: PathBuf, source: super::fbp::FbpError },
    #[error("{0}: not a graph file (expected .json or .fbp)")]
    Extension(PathBuf),
}

/// Whether a path names a graph file we read.
pub fn is_graph_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("json" | "fbp"))
}

/// Parses graph text of the kind the extension names.
pub fn parse(path: &Path, text: &str) -> Result<Graph, LoadError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => {
            super::json::from_str(text).map_err(|source| LoadError::Json { path: path.to_path_buf(), source })
        }
        Some("fbp") => super::fbp::parse(text).map_err(|source| LoadError::Fbp { path: path.to_path_buf(), source }),
        _ => Err(LoadError::Extension(path.to_path_buf())),
    }
}

/// Reads and parses a graph file.
pub fn load(path: &Path) -> Result<Graph, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
    parse(path, &text)
}

/// The graph files of a directory, sorted by name. A name present as both `.json`
/// and `.fbp` resolves to the `.json`.
pub fn list_dir(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut found: std::collections::BTreeMap<String, PathBuf> = Default::default();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_file() || !is_graph_file(&path) {
            continue;
        }
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else { continue };
        let prefer = path.extension().is_some_and(|e| e == "json");
        if prefer || !found.contains_key(stem) {
            found.insert(stem.to_string(), path);
        }
    }
    Ok(found.into_iter().collect())
}
