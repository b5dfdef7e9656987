//! The receiving half of a session: check everything, store nodes only once
//! their parents are stored.
//!
//! - The other side's `have` is compared with ours: a log with two different
//!   nodes under one seq has two writers. Nothing is merged then.
//! - Every node's key is recomputed and its signature checked.
//! - A node whose links (or previous node of its log) are not stored yet
//!   waits in a buffer of at most [`MAX_WAITING`] nodes; whatever still waits
//!   at `done` is reported, not stored.
//! - `done` says how many nodes were sent: the count must match.

use std::io::BufRead;
use std::sync::mpsc::Sender;

use anyhow::{Result, bail};

use crate::send::Event;
use crate::store::{Dag, Tips};

/// The most nodes that may wait for their parents at once.
pub const MAX_WAITING: usize = 1000;

/// What a session received.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Node messages received (the other side's `sent`).
    pub nodes: u64,
    /// How many of them were new and are now stored.
    pub stored: u64,
}

/// Reads the other side's messages until its `done` and the end of the
/// stream, checking each one as the problem text's *Receiving a node* and
/// *Two writers* say, and storing what we lack. `ours` is the `have` we sent.
/// Sends [`Event::OurWant`] when their `have` arrives and [`Event::TheirWant`]
/// when their `want` does. Any error is returned at once, naming the line.
///
/// You'll need: `protocol::{read_line, decode}`, `node::{key_of, canonical_links, is_hex}`,
/// `identity::verify`, [`Dag::contains`], [`Dag::key_at`], [`Dag::insert`],
/// a `HashMap<String, u64>` of the highest seq stored per log, a `Vec` of waiting nodes.
pub fn receive(_dag: &Dag, _input: impl BufRead, _ours: &Tips, _events: Sender<Event>) -> Result<Received> {
    bail!("not implemented yet: receive (step 4) — see exercises/09-merkle-dag/README.md")
}
