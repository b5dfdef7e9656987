//! A whole session: two databases, one duplex stream, both halves at once.
//!
//! Each side must read and write at the same time. Suppose both sides first
//! sent their whole diff and only then read: with large diffs, both outputs
//! fill up (a pipe holds some 64 KiB), both sides block in a write, and
//! neither ever reads again. So one thread sends and another receives, and
//! the calling thread waits for both and reports the first failure at once.

use std::io::Read;
use std::sync::mpsc;
use std::thread;

use anyhow::Result;
use logs::Log;

use crate::receive::{Received, receive};
use crate::send::send;
use crate::stream::CloseWrite;

/// What a finished session did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Entries we sent.
    pub sent: u64,
    /// Entries the other side sent us.
    pub received: u64,
    /// How many of those were new to us and are now stored.
    pub stored: u64,
}

/// What one half reports when it is done.
#[allow(dead_code)] // Until step 5 reads the outcomes.
enum Half {
    Sent(Result<Option<u64>>),
    Received(Result<Received>),
}

/// Replicates `log` with the database at the other end of a duplex stream:
/// we read its messages from `input` and write ours to `output`.
///
/// Returns once we have sent our `end` and closed `output`, and have read the
/// other side's `end` and then the end of the stream. On an error, returns
/// at once, without waiting for the other side; the entries received and
/// checked before the error are stored.
pub fn replicate<R, W>(log: &Log, input: R, output: W) -> Result<Summary>
where
    R: Read + Send + 'static,
    W: CloseWrite + Send + 'static,
{
    // A skeleton: the difficulty here is Rust (threads, channels, moves), not
    // the idea. Read it, then write the part marked TODO.
    let our_heads = log.heads()?;
    // The receiving half hands the other side's heads to the sending half.
    let (their_heads_tx, their_heads_rx) = mpsc::sync_channel::<crate::protocol::Heads>(1);
    // Each half reports its outcome here when it is done.
    let (done_tx, done) = mpsc::channel::<Half>();

    // A thread owns what it uses (`move`): give each its own clones.
    let (sender_log, sender_heads, sender_done) = (log.clone(), our_heads.clone(), done_tx.clone());
    thread::spawn(move || {
        let outcome = send(&sender_log, &sender_heads, output, their_heads_rx);
        let _ = sender_done.send(Half::Sent(outcome));
    });
    let receiver_log = log.clone();
    thread::spawn(move || {
        let outcome = receive(&receiver_log, our_heads, input, move |heads| {
            let _ = their_heads_tx.send(heads);
        });
        let _ = done_tx.send(Half::Received(outcome));
    });

    // TODO (step 5): wait for both halves with `done.recv()`, and return the
    // first error as soon as it comes (without waiting for the other half),
    // or the `Summary` once both are done. `Half::Sent(Ok(None))` means the
    // receiving half stopped before the handshake: it reports why. `recv()`
    // fails only when every sender is gone: a half that panicked.
    let _ = done.recv();
    anyhow::bail!("not implemented yet: replicate — see exercises/03-replicate/README.md")
}
