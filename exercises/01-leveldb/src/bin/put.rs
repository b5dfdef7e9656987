//! `put`: store a value under a key, replacing whatever the key held before.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ex01_leveldb::Store;

/// Store VALUE under KEY (an existing value is replaced).
#[derive(Parser)]
#[command(name = "put")]
struct Args {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    db: PathBuf,
    /// Work in this collection, a key space of its own, instead of the default one.
    #[arg(long, value_name = "NAME")]
    collection: Option<String>,
    /// The key to write.
    key: String,
    /// The value to store under it.
    value: String,
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
    store.put(&args.key, &args.value)?;
    // The write is durable when we exit 0.
    store.flush()
}
