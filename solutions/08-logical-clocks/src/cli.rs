//! The programs' command lines and what they do.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use serde_json::json;

use crate::pull::pull as pull_from;
use crate::record::Kind;
use crate::serve::serve as serve_on;
use crate::store::Store;

/// Set KEY to VALUE, stamped one above the key's largest clock held here.
#[derive(Parser)]
#[command(name = "put")]
pub struct PutArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The key to write (put `--` first if it starts with `-`).
    pub key: String,
    /// The value to store under it.
    pub value: String,
}

/// Delete KEY, stamped one above the key's largest clock held here.
#[derive(Parser)]
#[command(name = "del")]
pub struct DelArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The key to delete (put `--` first if it starts with `-`).
    pub key: String,
}

/// One database, no other argument (`get` adds a key).
#[derive(Parser)]
pub struct DbArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
}

/// Print the value of KEY, or say "not found" and exit 1.
#[derive(Parser)]
#[command(name = "get")]
pub struct GetArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The key to read.
    pub key: String,
}

/// Answer pulls on 127.0.0.1:PORT until killed.
#[derive(Parser)]
#[command(name = "serve")]
pub struct ServeArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The TCP port to listen on.
    #[arg(long)]
    pub port: u16,
}

/// Pull what a peer stored since the last pull from it, apply it, and print
/// what was learnt.
#[derive(Parser)]
#[command(name = "pull")]
pub struct PullArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The peer's `serve`, as HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub from: String,
    /// Behave like the original: on equal clocks, keep the write held here.
    #[arg(long)]
    pub no_resolver: bool,
}

/// The program `put`.
pub fn put(args: &PutArgs) -> Result<ExitCode> {
    Store::open(&args.db)?.write(&args.key, Some(&args.value))?;
    Ok(ExitCode::SUCCESS)
}

/// The program `del`.
pub fn del(args: &DelArgs) -> Result<ExitCode> {
    Store::open(&args.db)?.write(&args.key, None)?;
    Ok(ExitCode::SUCCESS)
}

/// The program `get`.
pub fn get(args: &GetArgs) -> Result<ExitCode> {
    match Store::open(&args.db)?.get(&args.key)? {
        Some(record) if record.kind == Kind::Put => {
            println!("{}", json!({"key": record.key, "value": record.value}));
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!("not found: {}", args.key);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The program `list`.
pub fn list(args: &DbArgs) -> Result<ExitCode> {
    let store = Store::open(&args.db)?;
    for record in store.view() {
        let record = record?;
        if let Some(value) = record.value {
            println!("{}", json!({"key": record.key, "value": value}));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The program `log`.
pub fn log(args: &DbArgs) -> Result<ExitCode> {
    let store = Store::open(&args.db)?;
    for record in store.log_after(0) {
        println!("{}", serde_json::to_string(&record?)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// The program `compact`.
pub fn compact(args: &DbArgs) -> Result<ExitCode> {
    let removed = Store::open(&args.db)?.compact()?;
    eprintln!("compact: removed {removed} records");
    Ok(ExitCode::SUCCESS)
}

/// The program `serve`.
pub fn serve(args: &ServeArgs) -> Result<ExitCode> {
    serve_on(&args.db, args.port)?;
    Ok(ExitCode::SUCCESS)
}

/// The program `pull`: prints what it learnt, even when the pull ended early
/// (then it also says why on stderr, and exits 1).
pub fn pull(args: &PullArgs) -> Result<ExitCode> {
    let store = Store::open(&args.db)?;
    let (learnt, error) = pull_from(&store, &args.from, !args.no_resolver);
    println!("{}", serde_json::to_string(&learnt)?);
    match error {
        None => Ok(ExitCode::SUCCESS),
        Some(error) => {
            eprintln!("error: the pull from {} ended early: {error:#}", args.from);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The exit code of a program: its own, or 1 after printing the error.
pub fn exit_code(outcome: Result<ExitCode>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
