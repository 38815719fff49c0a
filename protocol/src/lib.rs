//! imgflo's live FBP runtime: the fbp-protocol (runtime, graph, component and
//! network sub-protocols) over WebSocket, as Flowhub, `fbp-test` and `fbp-spec`
//! speak it.
//!
//! * [`messages`]: the envelope, parsed with clear errors.
//! * [`session`]: shared state and the per-connection state machine (no sockets).
//! * [`runtime`], [`graph`], [`component`], [`network`]: one module per sub-protocol.
//! * [`render`]: the live image network (previews, image packets); [`load`] reads
//!   the images packets name.
//! * [`persist`]: edited graphs written back to the graphs directory.
//! * [`spec`]: graph tests in the fbp-spec format, in-process or over WebSocket.
//! * [`server`], [`http`]: WebSocket and HTTP (`GET /process` previews) on one port.

pub mod component;
pub mod graph;
pub mod http;
pub mod load;
pub mod messages;
pub mod network;
pub mod persist;
pub mod render;
pub mod runtime;
pub mod server;
pub mod session;
pub mod spec;

pub use messages::{Message, Request};
pub use server::{serve, ServerConfig};
pub use session::{Runtime, RuntimeInfo, RuntimeOptions, Session};

use std::path::Path;

/// The runtime's UUID, kept in `<data_dir>/runtime-id` (created on first use).
pub fn runtime_id(data_dir: &Path) -> std::io::Result<String> {
    let path = data_dir.join("runtime-id");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(id) = uuid::Uuid::parse_str(text.trim()) {
            return Ok(id.to_string());
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let id = uuid::Uuid::new_v4().to_string();
    std::fs::write(&path, format!("{id}\n"))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn runtime_id_is_kept() {
        let dir = std::env::temp_dir().join(format!("imgflo-protocol-id-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = super::runtime_id(&dir.join("var")).unwrap();
        assert_eq!(super::runtime_id(&dir.join("var")).unwrap(), first);
        assert!(uuid::Uuid::parse_str(&first).is_ok());
        std::fs::write(dir.join("var/runtime-id"), "garbage").unwrap();
        assert_ne!(super::runtime_id(&dir.join("var")).unwrap(), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
