//! The programs' command lines and what they do. `get`, `list`, `sync` and
//! `log` take exercise 05's arguments; `put` and `del` say more in their help,
//! about the clock.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use store::Store;

use crate::clock::Clock;
use crate::op::Op;
use crate::winners::Winners;

/// The help on the clock, after the help of `put` and `del`.
const CLOCK_HELP: &str = "The write is stamped with the clock: milliseconds since the Unix epoch, plus \
the whole number of milliseconds in the environment variable REPLICATE_CLOCK_OFFSET_MS, if it is set \
(e.g. 60000 makes this clock run a minute ahead).";

/// Set KEY to VALUE: append a put operation, stamped with the clock, to this
/// database's own log and apply it to the view.
#[derive(Parser)]
#[command(name = "put", after_help = CLOCK_HELP)]
pub struct PutArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The key to write (put `--` first if it starts with `-`).
    pub key: String,
    /// The value to store under it.
    pub value: String,
}

/// Delete KEY: append a del operation, stamped with the clock, to this
/// database's own log and apply it to the view.
#[derive(Parser)]
#[command(name = "del", after_help = CLOCK_HELP)]
pub struct DelArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The key to delete (put `--` first if it starts with `-`).
    pub key: String,
}

/// The clock from the environment; if `REPLICATE_CLOCK_OFFSET_MS` is not a
/// whole number, a usage error of the program `A`: clap prints it and exits
/// with code 2, before anything is opened.
fn clock_or_exit<A: CommandFactory>() -> Clock {
    Clock::from_env().unwrap_or_else(|reason| A::command().error(ErrorKind::InvalidValue, reason).exit())
}

/// The program `put`.
pub fn put(args: &PutArgs) -> Result<ExitCode> {
    let clock = clock_or_exit::<PutArgs>();
    let store = Store::<Winners>::open(&args.db)?;
    store.write(&Op::Put {
        key: args.key.clone(),
        value: args.value.clone(),
        ts: clock.now()?,
    })?;
    // The write is durable when we exit 0.
    store.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The program `del`.
pub fn del(args: &DelArgs) -> Result<ExitCode> {
    let clock = clock_or_exit::<DelArgs>();
    let store = Store::<Winners>::open(&args.db)?;
    store.write(&Op::Del {
        key: args.key.clone(),
        ts: clock.now()?,
    })?;
    store.flush()?;
    Ok(ExitCode::SUCCESS)
}
