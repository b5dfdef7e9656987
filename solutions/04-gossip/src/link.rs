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
use logs::Record;
use replicate::Heads;
use replicate::protocol::{Message, decode, encode};
use replicate::receive::raise;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter, Lines};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;

use crate::node::Node;

/// How many entries are read from the database at a time when sending.
const CHUNK: usize = 256;

/// Serves one connection until it closes or fails: returns `Ok` when the
/// other side closed it, an error for anything else.
pub async fn serve(node: Arc<Node>, stream: TcpStream) -> Result<()> {
    // Small messages should leave at once, not wait for more to fill a packet.
    stream.set_nodelay(true)?;
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
    // What the other side is known to hold, shared by both directions.
    let known = Mutex::new(their_heads);

    tokio::select! {
        outcome = receive(&node, &known, &mut lines) => outcome,
        outcome = send(&node, &known, &mut out, &mut doorbell) => outcome,
    }
}

/// Receives entries until the other side closes the connection.
async fn receive(
    node: &Node,
    known: &Mutex<Heads>,
    lines: &mut Lines<BufReader<OwnedReadHalf>>,
) -> Result<()> {
    let mut number = 1;
    while let Some(line) = lines.next_line().await.context("cannot read")? {
        number += 1;
        let handled = decode(&line).and_then(|message| match message {
            Message::Entry { peer, seq, entry } => {
                // The other side holds it: never send it back.
                raise(&mut known.lock().unwrap(), &peer, seq);
                node.store(Record { peer, seq, entry }).map(drop)
            }
            Message::Handshake { .. } => bail!("a second handshake: each side sends one, first"),
            Message::End { .. } => bail!("an end: a live connection does not end"),
        });
        handled.with_context(|| format!("line {number}"))?;
    }
    Ok(())
}

/// Sends the other side every entry it lacks, now and whenever the doorbell
/// rings, until the connection fails.
async fn send(
    node: &Node,
    known: &Mutex<Heads>,
    out: &mut BufWriter<OwnedWriteHalf>,
    doorbell: &mut watch::Receiver<u64>,
) -> Result<()> {
    loop {
        // Mark the news as seen before looking, so that anything stored from
        // now on rings again.
        doorbell.borrow_and_update();
        for (peer, head) in node.heads() {
            loop {
                let from = known.lock().unwrap().get(&peer).copied().unwrap_or(0);
                if from >= head {
                    break;
                }
                // Read a chunk, then send it: the database is not held
                // open across the network writes. Never past `head`: what
                // lies beyond it may not be durable yet (an append of ours
                // between its write and its flush), and an entry sent must
                // survive a crash.
                let chunk: Vec<Record> = node
                    .log()
                    .entries_after_iter(&peer, from)?
                    .take(CHUNK.min(usize::try_from(head - from).unwrap_or(CHUNK)))
                    .collect::<Result<_>>()?;
                if chunk.is_empty() {
                    bail!("the heads say we hold {peer} up to #{head}, but the log ends at #{from}");
                }
                for record in chunk {
                    let seq = record.seq;
                    out.write_all(encode(&Message::from(record)).as_bytes()).await?;
                    raise(&mut known.lock().unwrap(), &peer, seq);
                }
            }
        }
        out.flush().await.context("cannot send")?;
        doorbell.changed().await?;
    }
}
