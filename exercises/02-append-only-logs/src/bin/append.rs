//! `append`: add entries to the end of this database's own log.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ex02_append_only_logs::{Log, print_json_lines};

/// Append each ENTRY, in order, to this database's own log and print the
/// records stored, one JSON object per line.
#[derive(Parser)]
#[command(name = "append")]
struct Args {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    db: PathBuf,
    /// The entries to append (at least one; put `--` first if one starts with `-`).
    #[arg(value_name = "ENTRY", required = true)]
    entries: Vec<String>,
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
