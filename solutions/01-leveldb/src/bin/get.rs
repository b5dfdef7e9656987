//! `get`: print the value stored under a key, or say that there is none.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sol01_leveldb::{KeyValue, Store, print_json_lines};

/// Print the value stored under KEY as {"key":..,"value":..}; exit 1 if there is none.
#[derive(Parser)]
#[command(name = "get")]
struct Args {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    db: PathBuf,
    /// Work in this collection, a key space of its own, instead of the default one.
    #[arg(long, value_name = "NAME")]
    collection: Option<String>,
    /// The key to read.
    key: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let store = Store::open(&args.db, args.collection.as_deref())?;
    match store.get(&args.key)? {
        Some(value) => {
            let key = args.key.clone();
            print_json_lines([KeyValue { key, value }])?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            // A missing key is an answer, not a crash: say so and exit 1.
            eprintln!("not found: {}", args.key);
            Ok(ExitCode::FAILURE)
        }
    }
}
