//! `imgflo app`: manage the applications (API keys) in the server's database.
//!
//! Output is JSON on stdout; errors go to stderr with exit status 2 (via `main`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use imgflo_server::apps::{database_path, AppStore};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Data directory; the database is `<data-dir>/imgflo.db` unless DATABASE_URL names a SQLite file.
    #[arg(long, env = "IMGFLO_DATA_DIR", default_value = "./var", global = true)]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Add an application; prints it, key and secret included.
    Add {
        /// Contact address of the owner.
        owner_email: String,
        /// What the application is for.
        label: String,
        /// Processing quota: 0 allows only cached results.
        #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
        quota: i64,
        /// Allow `_nocache=true` requests with this key.
        #[arg(long)]
        admin: bool,
    },
    /// Print every application as a JSON array.
    List,
    /// Enable/disable an application or change its quota; prints the updated record.
    Set {
        key: String,
        #[arg(long, action = clap::ArgAction::Set)]
        enabled: Option<bool>,
        #[arg(long, allow_negative_numbers = true)]
        quota: Option<i64>,
    },
    /// Delete an application (exit status 1 if there was none).
    Remove { key: String },
}

fn open(data_dir: &Path) -> anyhow::Result<AppStore> {
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) => Some(url),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("DATABASE_URL is not valid UTF-8"),
    };
    let path = database_path(data_dir, url.as_deref())?;
    AppStore::open(&path).with_context(|| format!("cannot open the application database {}", path.display()))
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = open(&args.data_dir)?;
    match args.command {
        Command::Add { owner_email, label, quota, admin } => {
            print_json(&store.add(&owner_email, &label, quota, admin)?)?;
        }
        Command::List => print_json(&store.list()?)?,
        Command::Set { key, enabled, quota } => print_json(&store.set(&key, enabled, quota)?)?,
        Command::Remove { key } => {
            let removed = store.remove(&key)?;
            print_json(&serde_json::json!({ "removed": removed }))?;
            if !removed {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
