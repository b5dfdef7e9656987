//! `del`: remove a key and its value. A key that is already gone is fine.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ex01_leveldb::Store;

/// Remove KEY and its value (removing a missing key is not an error).
#[derive(Parser)]
#[command(name = "del")]
struct Args {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    db: PathBuf,
    /// Work in this collection, a key space of its own, instead of the default one.
    #[arg(long, value_name = "NAME")]
    collection: Option<String>,
    /// The key to remove.
    key: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let store = Store::open(&args.db, args.collection.as_deref())?;
    store.del(&args.key)?;
    // The removal is durable when we exit 0.
    store.flush()
}
