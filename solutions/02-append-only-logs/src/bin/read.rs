//! `read`: print this database's own log, oldest entry first.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sol02_append_only_logs::{Log, print_json_lines};

/// Print the entries of this database's own log with a seq greater than SEQ,
/// in ascending seq order, one JSON object per line.
#[derive(Parser)]
#[command(name = "read")]
struct Args {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    db: PathBuf,
    /// Only entries after this seq (0, the default, prints the whole log).
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    after: u64,
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
    print_json_lines(log.read_after(args.after)?)
}
