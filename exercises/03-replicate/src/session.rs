//! A whole session: two databases, one duplex stream, both halves at once.
//!
//! Each side must read and write at the same time. Suppose both sides first
//! sent their whole diff and only then read: with large diffs, both outputs
//! fill up (a pipe holds some 64 KiB), both sides block in a write, and
//! neither ever reads again. So one thread sends and another receives, and
//! the calling thread waits for both and reports the first failure at once.

use std::io::Read;

use anyhow::Result;
use logs::Log;

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

/// Replicates `log` with the database at the other end of a duplex stream:
/// we read its messages from `input` and write ours to `output`.
///
/// Returns once we have sent our `end` and closed `output`, and have read the
/// other side's `end` and then the end of the stream. On an error, returns
/// at once, without waiting for the other side; the entries received and
/// checked before the error are stored.
pub fn replicate<R, W>(_log: &Log, _input: R, _output: W) -> Result<Summary>
where
    R: Read + Send + 'static,
    W: CloseWrite + Send + 'static,
{
    // TODO (step 5): `our_heads = log.heads()?`. Make a channel for the
    // other side's heads (`std::sync::mpsc::sync_channel(1)`): the receiving
    // half sends them from its `on_handshake`, the sending half waits for
    // them. Run `send::send` on one thread and `receive::receive` on another
    // (`std::thread::spawn`; give each its own `log.clone()`). Have both
    // threads report their outcome over a second channel, and wait here for
    // both: return the first error at once (do not wait for the other half),
    // or the `Summary` once both are done.
    anyhow::bail!("not implemented yet: replicate — see exercises/03-replicate/README.md")
}
