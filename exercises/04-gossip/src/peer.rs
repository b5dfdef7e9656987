//! A running peer: it listens for connections, keeps one to every address
//! it was given, and appends what is typed on its stdin.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::TcpListener;

use crate::link::serve;
use crate::node::Node;

/// How long to wait before dialling again, after a failed attempt or a
/// dropped connection.
pub const RETRY: Duration = Duration::from_millis(100);

/// Accepts connections on `listener` and serves each one, forever.
pub async fn listen(node: Arc<Node>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, from)) => {
                let node = node.clone();
                tokio::spawn(async move {
                    eprintln!("accepted a connection from {from}");
                    report(&from.to_string(), serve(node, stream).await);
                });
            }
            Err(error) => {
                // Out of file descriptors, say: wait a little and go on.
                eprintln!("cannot accept a connection: {error}");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

/// Keeps a connection to `address`, forever: dials until it answers, serves
/// the connection until it drops (say how with [`report`]), and dials again
/// after [`RETRY`]. A refused connection is normal, not an error: the other
/// peer is not up yet, or the link is cut.
pub async fn dial(_node: Arc<Node>, address: String) {
    // TODO (step 5)
    //
    // A compile error this step tends to meet: passing `node` to `serve`
    // inside your loop gives "error[E0382]: use of moved value: `node`"
    // (value moved here, in previous iteration of loop). The clinic in the
    // third hint (`hint 3`) has it.
    eprintln!("not implemented yet: dial {address} — see exercises/04-gossip/README.md");
}

/// Says on stderr how a connection ended.
fn report(other: &str, outcome: Result<()>) {
    match outcome {
        Ok(()) => eprintln!("{other} closed the connection"),
        Err(error) => eprintln!("dropped the connection with {other}: {error:#}"),
    }
}

/// Appends each line of `input` (without its `\n`) to our own log, until
/// the end of the input. Lines that arrive together are appended together,
/// with one flush to disk.
pub async fn append_lines(node: &Node, input: impl AsyncRead + Unpin) -> Result<()> {
    let mut input = BufReader::new(input);
    let mut line = Vec::new();
    loop {
        let mut entries = Vec::new();
        let mut ended = false;
        loop {
            line.clear();
            if input
                .read_until(b'\n', &mut line)
                .await
                .context("cannot read stdin")?
                == 0
            {
                ended = true;
                break;
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            match String::from_utf8(text.to_vec()) {
                Ok(entry) => entries.push(entry),
                Err(_) => eprintln!("skipped a line of stdin that is not UTF-8"),
            }
            // Take every whole line that is already here, without waiting.
            if !input.buffer().contains(&b'\n') {
                break;
            }
        }
        if !entries.is_empty() {
            node.append(&entries)?;
        }
        if ended {
            return Ok(());
        }
    }
}

/// Runs a peer: serves `listener`, keeps a connection to each address of
/// `connect`, and appends the lines of `input`. Runs until killed; only a
/// failure to store our own entries stops it.
pub async fn run(
    node: Arc<Node>,
    listener: TcpListener,
    connect: Vec<String>,
    input: impl AsyncRead + Unpin,
) -> Result<()> {
    start(node.clone(), listener, connect);
    append_lines(&node, input).await?;
    // The end of stdin is not the end of the peer: go on serving.
    std::future::pending().await
}

/// Starts serving the network in the background: the listener and one
/// dialler per address.
pub fn start(node: Arc<Node>, listener: TcpListener, connect: Vec<String>) {
    for address in connect {
        tokio::spawn(dial(node.clone(), address));
    }
    tokio::spawn(listen(node, listener));
}
