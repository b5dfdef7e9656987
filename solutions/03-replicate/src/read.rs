//! Reading a whole database: every log it holds, its own and other peers'.

use std::io::Write;

use anyhow::{Context, Result};
use logs::Log;

/// Writes every entry of every log in the database to `out`, one JSON object
/// per line (`{"peer":…,"seq":…,"entry":…}`), in storage order: by peer id,
/// then by seq.
///
/// Memory stays small however big the logs are: the heads say which logs
/// there are, and each log is read lazily, one entry at a time.
pub fn print_database(log: &Log, mut out: impl Write) -> Result<()> {
    for peer in log.heads()?.keys() {
        for record in log.entries_after_iter(peer, 0)? {
            serde_json::to_writer(&mut out, &record?)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush().context("cannot write to stdout")?;
    Ok(())
}
