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
/// never more than the handshake promised. `their_heads` delivers the other
/// side's heads once its handshake is read; if it never does (the channel
/// closes), this returns `Ok(None)`.
///
/// The contract on the wire: the handshake is flushed at once (the other side
/// sends nothing before it has our heads); of every log, only what comes after
/// the other side's head, oldest first; `end` with the count; then the output
/// is flushed and closed (`CloseWrite::close_write`), so the other side sees
/// the end of the stream. Writes go through one buffer, not a system call per
/// line.
pub fn send(
    _log: &Log,
    _our_heads: &Heads,
    _output: impl CloseWrite,
    _their_heads: mpsc::Receiver<Heads>,
) -> Result<Option<u64>> {
    // TODO (step 2)
    //
    // A compile error this step tends to meet, when you take the output back
    // out of its `BufWriter` with `into_inner()?`: "error[E0277]: `?`
    // couldn't convert the error: `impl CloseWrite: Debug` is not satisfied",
    // and the compiler suggests restricting `impl CloseWrite` with `Debug`.
    // Don't: that widens this signature, and every caller breaks. The clinic
    // in the third hint (`hint 3`) shows the one-call fix.
    anyhow::bail!("not implemented yet: send — see exercises/03-replicate/README.md")
}
