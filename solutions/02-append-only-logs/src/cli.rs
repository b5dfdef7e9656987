//! The command lines of `append` and `read`: their arguments and what they do.
//!
//! They live in the library rather than in `src/bin/` so that the next
//! exercises can reuse them: exercise 03's `append` is this very program.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use crate::{Log, print_json_lines};

/// Append each ENTRY, in order, to this database's own log and print the
/// records stored, one JSON object per line.
#[derive(Parser)]
#[command(name = "append")]
pub struct AppendArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The entries to append (at least one; put `--` first if one starts with `-`).
    #[arg(value_name = "ENTRY", required = true)]
    pub entries: Vec<String>,
}

/// Print the entries of this database's own log with a seq greater than SEQ,
/// in ascending seq order, one JSON object per line.
#[derive(Parser)]
#[command(name = "read")]
pub struct ReadArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// Only entries after this seq (0, the default, prints the whole log).
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub after: u64,
}

/// The program `append`.
pub fn append(args: &AppendArgs) -> Result<()> {
    let log = Log::open(&args.db)?;
    let mut appended = Vec::with_capacity(args.entries.len());
    for entry in &args.entries {
        appended.push(log.append(entry)?);
    }
    // The entries are durable when we exit 0; flush before printing, so that
    // nothing is announced that could still be lost.
    log.flush()?;
    print_json_lines(&appended)
}

/// The program `read`.
pub fn read(args: &ReadArgs) -> Result<()> {
    let log = Log::open(&args.db)?;
    print_json_lines(log.read_after(args.after)?)
}

/// The exit code of a program that ended with `outcome`: 0 for success; for an
/// error, 1, after saying why on stderr in one line.
pub fn exit_code(outcome: Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
