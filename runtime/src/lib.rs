//! imgflo engine: the FBP graph model, the image component library, codecs and the
//! evaluator. It knows nothing of HTTP, WebSocket or databases: the server and the
//! protocol runtime are built on it (see ARCHITECTURE.md).

pub mod codec;
pub mod color;
pub mod compare;
pub mod describe;
pub mod eval;
pub mod graph;
pub mod info;
pub mod ops;
pub mod pipeline;
pub mod pixels;
pub mod seedrandom;
#[doc(hidden)]
pub mod testing;
pub mod value;
pub mod video;

pub use color::Color;
pub use graph::Graph;
pub use ops::{Operation, Registry};
pub use pixels::Image;
pub use value::{PortSpec, PortType, Value};

#[cfg(test)]
mod mutation_tests;
