//! The command lines of `read` and `replicate`: their arguments and what they
//! do. (`append` is exercise 02's, from `logs::cli`.)

use std::io::{self, BufWriter};
use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use logs::Log;

use crate::read::print_database;
use crate::session::replicate;

/// Print every entry of every log this database holds, its own and other
/// peers', one JSON object per line, ordered by peer id, then by seq.
#[derive(Parser)]
#[command(name = "read")]
pub struct ReadArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
}

/// Replicate the database DB with another one over stdin and stdout, speaking
/// the protocol replicate/1; diagnostics go to stderr.
#[derive(Parser)]
#[command(name = "replicate")]
pub struct ReplicateArgs {
    /// The database directory (created if it does not exist).
    #[arg(value_name = "DB")]
    pub db: PathBuf,
}

/// The program `read`.
pub fn read(args: &ReadArgs) -> Result<()> {
    let log = Log::open(&args.db)?;
    print_database(&log, BufWriter::new(io::stdout().lock()))
}

/// The program `replicate`.
pub fn replicate_stdio(args: &ReplicateArgs) -> Result<()> {
    let log = Log::open(&args.db)?;
    let summary = replicate(&log, io::stdin(), io::stdout())?;
    eprintln!(
        "replicate: sent {} entries, received {} ({} new)",
        summary.sent, summary.received, summary.stored
    );
    Ok(())
}
