//! The programs' command lines and what they do. `put`, `del`, `sync` and
//! `log` take exercise 05's arguments; `get` and `list` print versions now,
//! and `merge` is new.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use logs::print_json_lines;
use store::Store;
use store::cli::{DelArgs, PutArgs, not_found};

use crate::siblings::Siblings;
use crate::write;

/// Resolve the siblings of KEY: set it to VALUE, replacing every current
/// version of it. Refused (exit 1) unless KEY has at least two.
#[derive(Parser)]
#[command(name = "merge")]
pub struct MergeArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The key to resolve (put `--` first if it starts with `-`).
    pub key: String,
    /// The value that replaces its siblings.
    pub value: String,
}

/// Print every current version of KEY, one
/// {"key":..,"value":..,"peer":..,"seq":..} per line, ordered by peer id, then
/// seq ("value":null is a deletion); exit 1 if KEY was never written.
#[derive(Parser)]
#[command(name = "get")]
pub struct GetArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The key to read (put `--` first if it starts with `-`).
    pub key: String,
}

/// Print every current version of every key that has a value (not only
/// deletions), one {"key":..,"value":..,"peer":..,"seq":..} per line, by key
/// in byte order, then peer id, then seq.
#[derive(Parser)]
#[command(name = "list")]
pub struct ListArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
}

/// The program `put`.
pub fn put(args: &PutArgs) -> Result<ExitCode> {
    let store = Store::<Siblings>::open(&args.db)?;
    write::put(&store, &args.key, &args.value)?;
    // The write is durable when we exit 0.
    store.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The program `del`.
pub fn del(args: &DelArgs) -> Result<ExitCode> {
    let store = Store::<Siblings>::open(&args.db)?;
    write::del(&store, &args.key)?;
    store.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The program `merge`.
pub fn merge(args: &MergeArgs) -> Result<ExitCode> {
    let store = Store::<Siblings>::open(&args.db)?;
    write::merge(&store, &args.key, &args.value)?;
    store.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The program `get`.
pub fn get(args: &GetArgs) -> Result<ExitCode> {
    let store = Store::<Siblings>::open(&args.db)?;
    let versions = store.view().get(&args.key)?;
    if versions.is_empty() {
        return Ok(not_found(&args.key));
    }
    print_json_lines(versions)?;
    Ok(ExitCode::SUCCESS)
}

/// The program `list`.
pub fn list(args: &ListArgs) -> Result<ExitCode> {
    let store = Store::<Siblings>::open(&args.db)?;
    print_json_lines(store.view().list()?)?;
    Ok(ExitCode::SUCCESS)
}
