//! The sending half of a session: our handshake, then, once the other side's
//! heads are known, every entry it lacks, then `end`, then the output closes.
//!
//! The entries are read from the database lazily and streamed through a
//! buffer: sending a log of a million entries never holds it in memory, and
//! the cost grows with what the other side lacks, not with the size of the
//! logs: each log is one range scan that starts right after the other side's
//! head.

use std::io::{BufWriter, Write};
use std::sync::mpsc;

use anyhow::{Context, Result};
use logs::Log;

use crate::protocol::{Heads, Message, write_message};
use crate::stream::CloseWrite;

/// Sends everything this side says in a session, and returns how many
/// entries it sent; `None` if the other side's handshake never came (the
/// receiving half stopped first, and reports why).
///
/// `our_heads` are the heads to announce, and the limit of what is sent:
/// never more than the handshake promised.
pub fn send(
    log: &Log,
    our_heads: &Heads,
    output: impl CloseWrite,
    their_heads: mpsc::Receiver<Heads>,
) -> Result<Option<u64>> {
    let mut out = BufWriter::with_capacity(64 * 1024, output);
    let handshake = Message::Handshake {
        peer: log.peer().to_string(),
        heads: our_heads.clone(),
    };
    write_message(&mut out, &handshake).context("cannot send the handshake")?;
    // Flush at once: the other side waits for our heads before it sends
    // anything, and they must not sit in our buffer meanwhile.
    out.flush().context("cannot send the handshake")?;

    let Ok(their_heads) = their_heads.recv() else {
        return Ok(None);
    };
    let mut sent = 0;
    for (peer, &our_head) in our_heads {
        let their_head = their_heads.get(peer).copied().unwrap_or(0);
        if our_head <= their_head {
            continue; // They hold all we have of this log, or more.
        }
        for record in log.entries_after_iter(peer, their_head)? {
            let record = record?;
            if record.seq > our_head {
                break;
            }
            write_message(&mut out, &Message::from(record)).context("cannot send an entry")?;
            sent += 1;
        }
    }
    write_message(&mut out, &Message::End { sent }).context("cannot send end")?;
    let mut output = out
        .into_inner()
        .map_err(|error| error.into_error())
        .context("cannot send end")?;
    output.close_write().context("cannot close the stream")?;
    Ok(Some(sent))
}
