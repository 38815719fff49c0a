//! Command-line interface.

mod check;
mod compare;
mod process;

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
    }
}
