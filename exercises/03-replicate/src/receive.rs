//! The receiving half of a session: read the other side's messages in order,
//! check each one, and store the entries we lack.
//!
//! Storing is what costs time, so keep it to one sled write per new entry:
//! check each entry against heads kept in memory (ours, from our handshake,
//! raised as entries are stored) instead of asking the database for the head
//! of a log every time.
//!
//! Whatever happens, even an error half-way, the entries stored so far stay,
//! and are flushed to disk before this half returns.

use std::io::Read;

use anyhow::Result;
use logs::{Log, Record};

use crate::protocol::Heads;

/// What the receiving half got from the other side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Entry messages received (the other side's `sent`).
    pub entries: u64,
    /// How many of them were new to us and are now stored.
    pub stored: u64,
}

/// Reads the other side's messages from `input` up to the end of the stream
/// and stores the entries we lack. `our_heads` are the heads we sent in our
/// handshake; `on_handshake` gets the other side's heads as soon as its
/// handshake arrives (the sending half is waiting for them).
pub fn receive(
    _log: &Log,
    _our_heads: Heads,
    _input: impl Read + Send + 'static,
    _on_handshake: impl FnOnce(Heads) + Send + 'static,
) -> Result<Received> {
    // TODO (step 4): read `input` line by line (a `std::io::BufReader` and
    // `read_until(b'\n', ..)`; 0 bytes read is the end of the stream), count
    // the lines, and decode each with `protocol::decode`. Keep track of where
    // you are: before the handshake, after it, after end.
    // - The first message must be a handshake: pass its heads to
    //   `on_handshake`. Anything else first, or a second handshake, is an
    //   error.
    // - An entry: count it, and ask `check_entry` about it, with your heads
    //   (a map you keep, starting from `our_heads`). `New`: store it with
    //   `log.store(&record)?` and `raise` your head of its log. `Duplicate`:
    //   nothing to do.
    // - end: `sent` must equal the entries you counted. After end, only the
    //   end of the stream may come.
    // - The end of the stream before end is an error.
    // Every error names its line: `.with_context(|| format!("line {n}"))`.
    // Whatever happens, `log.flush()` before returning.
    anyhow::bail!("not implemented yet: receive — see exercises/03-replicate/README.md")
}

/// What to do with an entry that came from another database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// The next entry of its log: store it.
    New,
    /// We hold it already, with the same text: ignore it.
    Duplicate,
}

/// Decides what to do with `record`, an entry from another database, given
/// `heads`, the heads of what we hold. Refuses an entry that would leave a
/// gap, one that differs from the entry we hold under its seq, and one of
/// our own log beyond our head (nobody else writes our log).
pub fn check_entry(_log: &Log, _heads: &Heads, _record: &Record) -> Result<Incoming> {
    // TODO (step 3): compare the record's seq with `head`, your head of its
    // log (`heads.get(&record.peer)`, 0 if absent):
    // - at or below `head`: a duplicate. Fine (`Duplicate`) if
    //   `log.entry(&record.peer, record.seq)?` holds the same text; an error
    //   if not ("conflicting entry: … two databases with the same peer id?").
    // - of your own log (`log.peer()`) and above `head`: an error, nobody
    //   else can have written it.
    // - beyond `head + 1`: an error, a gap.
    // - exactly `head + 1`: `New`.
    anyhow::bail!("not implemented yet: check_entry — see exercises/03-replicate/README.md")
}

/// Raises the head of `peer` in `heads` to `seq`, if that is higher.
pub fn raise(heads: &mut Heads, peer: &str, seq: u64) {
    match heads.get_mut(peer) {
        Some(head) => *head = (*head).max(seq),
        None => {
            heads.insert(peer.to_string(), seq);
        }
    }
}
