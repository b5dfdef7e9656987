//! The sending half of a session: `have`, `want`, the wanted nodes, `done`.
//!
//! Only what existed when the session started is offered: the `have` is taken
//! once, at the start, and nodes are sent up to it, never beyond. The wanted
//! nodes go in the order this database stored them, which puts every node
//! after its parents and after the previous node of its log.

use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;

use anyhow::{Result, bail};

use crate::store::{Dag, Tips};
use crate::stream::CloseWrite;

/// What the receiving half tells the sending half.
pub enum Event {
    /// Our `want`, worked out from the other side's `have`: send it.
    OurWant(BTreeMap<String, u64>),
    /// The other side's `want`: send what it asks for.
    TheirWant(BTreeMap<String, u64>),
}

/// Sends this side's half of a session and returns how many nodes it sent:
/// `have` (from `have`, flushed at once), then our `want` when the receiving
/// half sends it as an [`Event`], then, once their `want` is known too, every
/// node they want up to our `have` in stored order, then `done`, then closes
/// the output. A closed `events` channel means the session failed elsewhere.
///
/// You'll need: `std::io::BufWriter`, `protocol::write`, `Message::{Have, Want, Node, Done}`,
/// `events.recv()`, [`Dag::range`] per wanted log, `sort` by position, [`Dag::get`],
/// `BufWriter::into_inner`, `CloseWrite::close_write`.
pub fn send<W: CloseWrite>(_dag: &Dag, _have: &Tips, _events: Receiver<Event>, _output: W) -> Result<u64> {
    // `into_inner` returns `Result<W, IntoInnerError<BufWriter<W>>>`, which `?`
    // cannot turn into anyhow (error E0277 about `IntoInnerError`: see hint 3).
    bail!("not implemented yet: send (step 3) — see exercises/09-merkle-dag/README.md")
}
