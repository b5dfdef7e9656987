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
///
/// The contract: exactly one handshake, first; then entries, each judged by
/// [`check_entry`] against heads kept in memory (starting from `our_heads`);
/// then `end`, whose count must equal the entries received; then the end of
/// the stream. Anything else — an unreadable line, a second handshake, the
/// stream ending before `end`, a line after it — is an error that names its
/// line number. Entries stored before an error stay, and are flushed on every
/// way out, error or not. Lines are read as bytes up to `\n` (a line need not
/// be valid UTF-8 to be refused properly).
pub fn receive(
    _log: &Log,
    _our_heads: Heads,
    _input: impl Read + Send + 'static,
    _on_handshake: impl FnOnce(Heads) + Send + 'static,
) -> Result<Received> {
    // TODO (step 4)
    //
    // A compile error this step tends to meet: calling `on_handshake(heads)`
    // inside your read loop gives "error[E0382]: use of moved value:
    // `on_handshake`" (value moved here, in previous iteration of loop). An
    // `FnOnce` can be called once, and the compiler cannot know your loop
    // calls it once. The clinic in the third hint (`hint 3`) shows the idiom.
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
///
/// A log absent from `heads` has head 0. Each error says what is wrong in
/// words a person can act on (a conflicting duplicate most likely means two
/// databases share a peer id).
pub fn check_entry(_log: &Log, _heads: &Heads, _record: &Record) -> Result<Incoming> {
    // TODO (step 3)
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
