//! The command lines of the programs and what they do.
//!
//! `sync` and `log` work with any view, and so do the arguments of every
//! program here: exercises 06 and 07 reuse them.

use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use logs::{Log, print_json_lines};
use replicate::read::print_database;

use crate::op::Op;
use crate::store::{Store, View};
use crate::values::{KeyValue, KeyValues, Values};

/// Set KEY to VALUE: append a put operation to this database's own log and
/// apply it to the view.
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

/// Delete KEY: append a del operation to this database's own log and apply
/// it to the view.
#[derive(Parser)]
#[command(name = "del")]
pub struct DelArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The key to delete (put `--` first if it starts with `-`).
    pub key: String,
}

/// Print the value of KEY as {"key":..,"value":..}; exit 1 if it has none.
#[derive(Parser)]
#[command(name = "get")]
pub struct GetArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The key to read (put `--` first if it starts with `-`).
    pub key: String,
}

/// Print every key that has a value, in byte order, one {"key":..,"value":..}
/// per line.
#[derive(Parser)]
#[command(name = "list")]
pub struct ListArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
}

/// Sync the database DB with another one over stdin and stdout, speaking
/// exercise 03's protocol replicate/1, then apply what arrived to the view;
/// diagnostics go to stderr.
#[derive(Parser)]
#[command(name = "sync")]
pub struct SyncArgs {
    /// The database directory (created if it does not exist).
    #[arg(value_name = "DB")]
    pub db: PathBuf,
}

/// Print every operation of every log this database holds, one
/// {"peer":..,"seq":..,"entry":..} per line, ordered by peer id, then by seq.
#[derive(Parser)]
#[command(name = "log")]
pub struct LogArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
}

/// The program `put`.
pub fn put(args: &PutArgs) -> Result<ExitCode> {
    let store = Store::<Values>::open(&args.db)?;
    store.write(&Op::Put {
        key: args.key.clone(),
        value: args.value.clone(),
    })?;
    // The write is durable when we exit 0.
    store.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The program `del`.
pub fn del(args: &DelArgs) -> Result<ExitCode> {
    let store = Store::<Values>::open(&args.db)?;
    store.write(&Op::Del {
        key: args.key.clone(),
    })?;
    store.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The program `get`, for a store whose view `V` holds one value per key.
pub fn get<V: KeyValues>(args: &GetArgs) -> Result<ExitCode> {
    let store = Store::<V>::open(&args.db)?;
    match store.view().value(&args.key)? {
        Some(value) => {
            let key = args.key.clone();
            print_json_lines([KeyValue { key, value }])?;
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(not_found(&args.key)),
    }
}

/// The program `list`, for a store whose view `V` holds one value per key.
pub fn list<V: KeyValues>(args: &ListArgs) -> Result<ExitCode> {
    let store = Store::<V>::open(&args.db)?;
    print_json_lines(store.view().key_values()?)?;
    Ok(ExitCode::SUCCESS)
}

/// The program `sync`, for a store with the view `V`.
pub fn sync<V: View>(args: &SyncArgs) -> Result<ExitCode> {
    let store = Store::<V>::open(&args.db)?;
    let synced = store.sync(io::stdin(), io::stdout())?;
    let session = synced.session;
    eprintln!(
        "sync: sent {} entries, received {} ({} new), applied {}",
        session.sent, session.received, session.stored, synced.applied
    );
    Ok(ExitCode::SUCCESS)
}

/// The program `log`: exercise 03's `read`, since the logs are the same.
pub fn log(args: &LogArgs) -> Result<ExitCode> {
    let log = Log::open(&args.db)?;
    print_database(&log, BufWriter::new(io::stdout().lock()))?;
    Ok(ExitCode::SUCCESS)
}

/// What `get` does for a key that has no value: says so on stderr, and
/// exits 1. A missing key is an answer, not a crash.
pub fn not_found(key: &str) -> ExitCode {
    eprintln!("not found: {key}");
    ExitCode::FAILURE
}

/// The exit code of a program that ended with `outcome`: its own code, or,
/// for an error, 1 after saying why on stderr in one line.
pub fn exit_code(outcome: Result<ExitCode>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
