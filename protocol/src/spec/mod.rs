//! Graph tests in the fbp-spec 0.8 YAML format, run the way the npm `fbp-spec` tool
//! runs them: each suite's fixture graph is built through the FBP protocol, its
//! network started, each case's inputs sent as `runtime:packet`s and the packets on
//! exported outports checked against the expectations.
//!
//! * [`suite`]: loading suites (files or directories, multi-document YAML).
//! * [`expect`]: the operators (`equals`, `above`, `below`, `type`, `haveKeys`,
//!   `includeKeys`, `contains`) with JSONPath `path`s.
//! * [`link`]: the two ways to reach a runtime: in-process (a [`crate::Session`] on
//!   the engine, no sockets) or a WebSocket address.
//! * [`run`]: the runner and its reports (human and TAP).

pub mod expect;
pub mod link;
pub mod run;
pub mod suite;

pub use link::{InProcess, Link, WebSocketLink};
pub use run::{run_suites, Outcome, Report, Style};
pub use suite::{load_path, Suite, SuiteError};
