//! The sending half of a session: our handshake, then, once the other side's
//! heads are known, every entry it lacks, then `end`, then the output closes.
//!
//! The entries are read from the database lazily and streamed through a
//! buffer: sending a log of a million entries never holds it in memory, and
//! the cost grows with what the other side lacks, not with the size of the
//! logs: each log is one range scan that starts right after the other side's
//! head.

use std::sync::mpsc;

use anyhow::Result;
use logs::Log;

use crate::protocol::Heads;
use crate::stream::CloseWrite;

/// Sends everything this side says in a session, and returns how many
/// entries it sent; `None` if the other side's handshake never came (the
/// receiving half stopped first, and reports why).
///
/// `our_heads` are the heads to announce, and the limit of what is sent:
/// never more than the handshake promised.
pub fn send(
    _log: &Log,
    _our_heads: &Heads,
    _output: impl CloseWrite,
    _their_heads: mpsc::Receiver<Heads>,
) -> Result<Option<u64>> {
    // TODO (step 2), in this order:
    // 1. Wrap `output` in a `std::io::BufWriter` (writing line by line
    //    without a buffer costs a system call per line).
    // 2. Send `Message::Handshake { peer: log.peer(), heads: our_heads }`
    //    with `protocol::write_message`, and FLUSH: the other side sends
    //    nothing before it has our heads.
    // 3. Wait for the other side's heads: `their_heads.recv()`. An `Err`
    //    means the receiving half stopped before the handshake came: return
    //    `Ok(None)`, it reports why.
    // 4. For each `(peer, our_head)` in `our_heads` where `our_head` is above
    //    their head for that peer (0 if they do not list it): walk
    //    `log.entries_after_iter(peer, their_head)?`, stop after `our_head`,
    //    and send each record as `Message::from(record)`. Count them.
    // 5. Send `Message::End { sent }`, take the output back out of the buffer
    //    (`into_inner`, which flushes) and `close_write()` it.
    anyhow::bail!("not implemented yet: send — see exercises/03-replicate/README.md")
}
