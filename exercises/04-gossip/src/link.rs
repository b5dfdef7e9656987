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

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use replicate::Heads;
use replicate::protocol::{Message, decode, encode};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter, Lines};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;

use crate::node::Node;

/// Serves one connection until it closes or fails: returns `Ok` when the
/// other side closed it, an error for anything else.
///
/// A skeleton: the tokio plumbing (splitting the stream, buffering, the
/// handshakes, running two loops at once) is written; the two loops, where
/// the idea lives, are yours: [`receive`] and [`send`].
pub async fn serve(node: Arc<Node>, stream: TcpStream) -> Result<()> {
    // Small messages should leave at once, not wait for more to fill a packet.
    stream.set_nodelay(true)?;
    // Two halves that can be used at the same time, by two loops.
    let (input, output) = stream.into_split();
    let mut lines = BufReader::new(input).lines();
    let mut out = BufWriter::new(output);

    // Listen for news before taking our heads, so nothing stored in between
    // goes unnoticed.
    let mut doorbell = node.doorbell();
    let handshake = Message::Handshake {
        peer: node.log().peer().to_string(),
        heads: node.heads(),
    };
    out.write_all(encode(&handshake).as_bytes()).await?;
    out.flush().await?;

    let Some(first) = lines.next_line().await.context("cannot read the handshake")? else {
        bail!("the other side closed the connection before its handshake");
    };
    let their_heads = match decode(&first).context("line 1")? {
        Message::Handshake { heads, .. } => heads,
        other => bail!(
            "line 1: {} before the handshake: the handshake comes first",
            other.described()
        ),
    };
    // What the other side is known to hold, shared by both loops. A
    // `std::sync::Mutex` is right here: lock it, use it, let it go in one
    // statement, never across an `.await`.
    let known = Mutex::new(their_heads);

    // Both loops run at once; the first to finish (an error, or the other
    // side closing) ends the connection, and the other loop is dropped.
    tokio::select! {
        outcome = receive(&node, &known, &mut lines) => outcome,
        outcome = send(&node, &known, &mut out, &mut doorbell) => outcome,
    }
}

/// Receives entries until the other side closes the connection (then `Ok`).
///
/// Each line is one message: an entry goes to [`Node::store`], and from then
/// on the other side is known to hold it (so it is never sent back). A
/// handshake (a second one) or an `end` is an error: a live connection does
/// not end. An error names its line number (the handshake was line 1).
/// `lines.next_line().await?` gives `Ok(None)` at the end of the stream.
async fn receive(
    _node: &Node,
    _known: &Mutex<Heads>,
    _lines: &mut Lines<BufReader<OwnedReadHalf>>,
) -> Result<()> {
    // TODO (step 4)
    bail!("not implemented yet: receiving in serve — see exercises/04-gossip/README.md")
}

/// Sends the other side every entry it lacks, now and whenever the doorbell
/// rings, until the connection fails. Never an entry the other side is known
/// to hold, never a gap; `out` is flushed before waiting for the doorbell.
/// The doorbell carries no entries: after it rings, compare heads again.
async fn send(
    _node: &Node,
    _known: &Mutex<Heads>,
    _out: &mut BufWriter<OwnedWriteHalf>,
    _doorbell: &mut watch::Receiver<u64>,
) -> Result<()> {
    // TODO (step 4)
    //
    // A compile error this step tends to meet: holding a `MutexGuard` (or a
    // sled iterator) across an `.await` makes the connection's future not
    // `Send`, and `tokio::spawn` in `peer.rs` says "error: future cannot be
    // sent between threads safely". The clinic in the third hint (`hint 3`)
    // has it.
    bail!("not implemented yet: sending in serve — see exercises/04-gossip/README.md")
}
