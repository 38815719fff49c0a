//! Graphs edited in the runtime are written to the graphs directory as FBP JSON
//! (`environment.type` "imgflo"), a moment after the last edit and atomically, so
//! the HTTP server (which watches that directory) serves them at once.
//!
//! A graph id becomes a file name of `[A-Za-z0-9_-]` only (other characters turn
//! into `_`), which is also a valid graph name in URLs. fbp-spec's throwaway
//! `fixture.*` graphs and empty graphs are never written. A graph loaded from a
//! `.fbp` file is saved as `.json` beside it and the `.fbp` is renamed to
//! `.fbp.orig`, so the directory never holds two versions of one graph.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use imgflo_runtime::graph::json;
use imgflo_runtime::ops::io::write_atomic;

use crate::session::Runtime;

/// How long after an edit the graph is written (edits in between are coalesced).
pub const SAVE_DELAY: Duration = Duration::from_millis(250);

/// The file name (without extension) a graph id is saved under, if it is saved.
pub fn file_stem(id: &str) -> Option<String> {
    if id.starts_with("fixture.") {
        return None;
    }
    let stem: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).take(128).collect();
    Some(stem).filter(|s| s.chars().any(|c| c.is_ascii_alphanumeric()))
}

/// Arranges for the runtime's unsaved graphs to be written soon.
pub fn schedule(rt: &Arc<Runtime>, _id: &str) {
    if rt.options.persist_dir.is_none() {
        rt.lock().unsaved.clear();
        return;
    }
    {
        let mut state = rt.lock();
        if state.saving {
            return;
        }
        state.saving = true;
    }
    let rt = rt.clone();
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(async move {
                tokio::time::sleep(SAVE_DELAY).await;
                let _ = tokio::task::spawn_blocking(move || save_all(&rt)).await;
            });
        }
        Err(_) => save_all(&rt),
    }
}

/// Writes every unsaved graph now.
pub fn save_all(rt: &Runtime) {
    let Some(dir) = rt.options.persist_dir.clone() else { return };
    let pending = {
        let mut state = rt.lock();
        state.saving = false;
        let ids = std::mem::take(&mut state.unsaved);
        ids.into_iter()
            .filter_map(|id| {
                let graph = state.graphs.get(&id)?.graph.clone();
                Some((id.clone(), graph, state.sources.get(&id).cloned()))
            })
            .collect::<Vec<_>>()
    };
    for (id, mut graph, source) in pending {
        let Some(stem) = file_stem(&id) else { continue };
        if graph.nodes.is_empty() {
            continue;
        }
        if graph.runtime_type().is_none() {
            graph.set_runtime_type("imgflo");
        }
        let path = dir.join(format!("{stem}.json"));
        match write_graph(&path, &graph, source.as_deref()) {
            Ok(()) => {
                tracing::info!(graph = %id, path = %path.display(), "graph saved");
                rt.lock().sources.insert(id, path);
            }
            Err(e) => tracing::warn!(graph = %id, path = %path.display(), error = %e, "cannot save the graph"),
        }
    }
}

fn write_graph(path: &Path, graph: &imgflo_runtime::Graph, source: Option<&Path>) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut text = json::to_string_pretty(graph);
    text.push('\n');
    write_atomic(path, text.as_bytes())?;
    if let Some(src) = source.filter(|s| s.extension().is_some_and(|e| e == "fbp")) {
        if src.exists() && src.with_extension("json") == path {
            let mut moved = PathBuf::from(src);
            moved.set_extension("fbp.orig");
            std::fs::rename(src, moved)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_safe_file_names() {
        assert_eq!(file_stem("gradientmap").as_deref(), Some("gradientmap"));
        assert_eq!(file_stem("my-project/main").as_deref(), Some("my-project_main"));
        assert_eq!(file_stem("../../etc/passwd").as_deref(), Some("______etc_passwd"));
        assert_eq!(file_stem("fixture.AbC123"), None);
        assert_eq!(file_stem("../.."), None);
        assert_eq!(file_stem(""), None);
        assert_eq!(file_stem(&"x".repeat(500)).map(|s| s.len()), Some(128));
    }
}
