//! `range`: print the records whose keys fall between two bounds, in key order.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ex01_leveldb::{Bounds, Store, print_json_lines};

/// Print every record whose key is within the bounds, one JSON object per line,
/// in byte order of the keys.
#[derive(Parser)]
#[command(name = "range")]
struct Args {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    db: PathBuf,
    /// Work in this collection, a key space of its own, instead of the default one.
    #[arg(long, value_name = "NAME")]
    collection: Option<String>,
    /// Only keys strictly greater than K.
    #[arg(long, value_name = "K", conflicts_with = "gte")]
    gt: Option<String>,
    /// Only keys greater than or equal to K.
    #[arg(long, value_name = "K")]
    gte: Option<String>,
    /// Only keys strictly less than K.
    #[arg(long, value_name = "K", conflicts_with = "lte")]
    lt: Option<String>,
    /// Only keys less than or equal to K.
    #[arg(long, value_name = "K")]
    lte: Option<String>,
    /// Largest key first.
    #[arg(long)]
    reverse: bool,
    /// Print at most N records (counted from the first one printed).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let store = Store::open(&args.db, args.collection.as_deref())?;
    let bounds = Bounds {
        gt: args.gt,
        gte: args.gte,
        lt: args.lt,
        lte: args.lte,
        reverse: args.reverse,
        limit: args.limit,
    };
    print_json_lines(store.range(&bounds)?)
}
