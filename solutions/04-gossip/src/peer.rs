//! A running peer: it listens for connections, keeps one to every address
//! it was given, and appends what is typed on its stdin.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::{TcpListener, TcpStream};

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
/// the connection until it drops, and dials again.
pub async fn dial(node: Arc<Node>, address: String) {
    loop {
        // A refused connection is normal (the other peer is not up yet, or
        // the link is cut): just try again soon.
        if let Ok(stream) = TcpStream::connect(&address).await {
            eprintln!("connected to {address}");
            report(&address, serve(node.clone(), stream).await);
        }
        tokio::time::sleep(RETRY).await;
    }
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

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::Instant;

    use logs::{Log, Record};
    use replicate::protocol::{Message, decode, encode};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    use super::*;

    /// Starts a peer on a free port; returns its directory (keep it alive),
    /// its node and its address.
    async fn peer(connect: Vec<String>) -> (tempfile::TempDir, Arc<Node>, String) {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path()).unwrap();
        let node = Arc::new(Node::new(log, Box::new(io::sink())).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        start(node.clone(), listener, connect);
        (dir, node, address)
    }

    fn everything(node: &Node) -> Vec<Record> {
        let log = node.log();
        let mut all = Vec::new();
        for peer in log.heads().unwrap().keys() {
            all.extend(log.entries_after(peer, 0).unwrap());
        }
        all
    }

    /// Waits until every node holds `count` entries, or fails after a while.
    async fn converge(nodes: &[&Node], count: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while nodes.iter().any(|node| everything(node).len() != count) {
            assert!(Instant::now() < deadline, "the peers did not converge");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn three_peers_in_a_line_converge() {
        let (_one_dir, one, one_address) = peer(vec![]).await;
        let (_two_dir, two, two_address) = peer(vec![one_address]).await;
        let (_three_dir, three, _) = peer(vec![two_address]).await;

        one.append(&["from one".to_string()]).unwrap();
        three
            .append(&["from three".to_string(), "again".to_string()])
            .unwrap();
        converge(&[&one, &two, &three], 3).await;
        assert_eq!(everything(&one), everything(&three));

        // Live: what is written later flows along the line too.
        two.append(&["from the middle".to_string()]).unwrap();
        one.append(&["one more".to_string()]).unwrap();
        converge(&[&one, &two, &three], 5).await;
        assert_eq!(everything(&one), everything(&two));
        assert_eq!(everything(&one), everything(&three));
    }

    #[tokio::test]
    async fn entries_never_go_back_and_bad_messages_drop_only_their_connection() {
        let (_dir, node, address) = peer(vec![]).await;
        let carol = "ca201000000000000";

        let stream = TcpStream::connect(&address).await.unwrap();
        let (input, mut output) = stream.into_split();
        let mut lines = BufReader::new(input).lines();
        let handshake = Message::Handshake {
            peer: carol.to_string(),
            heads: [(carol.to_string(), 1)].into(),
        };
        let entry = Message::Entry {
            peer: carol.to_string(),
            seq: 1,
            entry: "from carol".to_string(),
        };
        output.write_all(encode(&handshake).as_bytes()).await.unwrap();
        output.write_all(encode(&entry).as_bytes()).await.unwrap();
        converge(&[&node], 1).await;

        // The peer's own news comes through; carol's entry does not come back.
        let ours = node.append(&["mine".to_string()]).unwrap().remove(0);
        let first = decode(&lines.next_line().await.unwrap().unwrap()).unwrap();
        assert!(matches!(first, Message::Handshake { .. }));
        let second = decode(&lines.next_line().await.unwrap().unwrap()).unwrap();
        assert_eq!(second, Message::from(ours));

        // Garbage: the peer drops this connection, and keeps its log.
        output.write_all(b"this is not json\n").await.unwrap();
        assert_eq!(lines.next_line().await.ok().flatten(), None);
        assert_eq!(everything(&node).len(), 2);

        // It still serves others.
        let (_other_dir, other, _) = peer(vec![address]).await;
        converge(&[&node, &other], 2).await;
    }
}
