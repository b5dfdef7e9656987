//! One live connection to another peer: the messages of exercise 03, in
//! live mode.
//!
//! Both sides send a handshake with all their heads, then the entries the
//! other lacks, exactly as in exercise 03. Then, instead of `end`, the
//! connection stays open and each side goes on sending every entry it
//! stores: its own, and those it learns from its other connections.
//!
//! Per connection we remember, for every log, the highest seq the other side
//! is known to hold: from its handshake, from every entry it sends us, and
//! from every entry we send it. We only ever send the entries after that
//! seq, in order. So nothing goes back where it came from, and the other
//! side never sees a gap.

use std::sync::Arc;

use anyhow::Result;
use tokio::net::TcpStream;

use crate::node::Node;

/// Serves one connection until it closes or fails: returns `Ok` when the
/// other side closed it, an error for anything else.
pub async fn serve(_node: Arc<Node>, _stream: TcpStream) -> Result<()> {
    // TODO (step 4):
    // 1. `stream.set_nodelay(true)?`, then `stream.into_split()`: wrap the
    //    reading half in a `tokio::io::BufReader` (`.lines()` gives a line
    //    at a time) and the writing half in a `tokio::io::BufWriter`.
    // 2. Take `node.doorbell()` first, then send our handshake with
    //    `node.heads()` (`protocol::encode`), and flush.
    // 3. Read the first line: it must be the other side's handshake. Its
    //    heads start the map of what the other side is known to hold (keep
    //    it in a `std::sync::Mutex`: both directions below use it).
    // 4. Run two loops at once with `tokio::select!`; when either ends, the
    //    connection is over:
    //    - receiving: for each line, `decode` it; an entry first raises the
    //      known head of its log (`raise`), then goes to `node.store(..)`.
    //      A handshake or an end is an error. Name the line in errors.
    //    - sending: `doorbell.borrow_and_update()`; then for each
    //      `(peer, head)` of `node.heads()`, while the known head of `peer`
    //      is below `head`, read a chunk of
    //      `node.log().entries_after_iter(peer, known)?` (collect a few
    //      hundred into a Vec: do not hold the iterator across an `.await`),
    //      send each entry and raise the known head. Flush, then
    //      `doorbell.changed().await?` and start over.
    anyhow::bail!("not implemented yet: serve — see exercises/04-gossip/README.md")
}
