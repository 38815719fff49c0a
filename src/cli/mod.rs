//! Command-line interface.

mod app;
mod check;
mod compare;
mod process;
mod runtime;
mod server;
mod spec;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "imgflo", version, about = "Image processing with flow-based-programming graphs")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a graph on an image file.
    Process(process::Args),
    /// Work with graph files.
    Graphs {
        #[command(subcommand)]
        command: GraphsCommand,
    },
    /// Compare two images by colour distance (CIE76 ΔE); fails over the tolerance.
    Compare(compare::Args),
    /// Run the HTTP URL API.
    Server(server::Args),
    /// Run the service: the HTTP URL API and, beside it, the live FBP runtime.
    Serve(server::ServeArgs),
    /// Run the live FBP runtime (fbp-protocol over WebSocket) for Flowhub.
    Runtime(runtime::Args),
    /// Run graph tests (fbp-spec YAML suites) in-process or against a runtime.
    Spec(spec::Args),
    /// Manage applications (API keys and secrets) in the server's database.
    App(app::Args),
}

#[derive(Subcommand, Debug)]
enum GraphsCommand {
    /// Load and validate every graph in a directory.
    Check {
        /// Directory of .json / .fbp graphs.
        dir: PathBuf,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Process(args) => process::run(args),
        Command::Graphs { command: GraphsCommand::Check { dir } } => check::run(&dir),
        Command::Compare(args) => compare::run(args),
        Command::App(args) => app::run(args),
        Command::Runtime(args) => runtime::run(args),
        Command::Spec(args) => spec::run(args),
        Command::Server(args) => server::run(args),
        Command::Serve(args) => server::serve(args),
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called
/// (not when first polled), so call it before announcing that the service is up:
/// a signal that arrives right after the announcement then shuts down cleanly.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (term, int) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()));
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
