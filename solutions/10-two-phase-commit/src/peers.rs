//! One connection to each peer, kept open: dialled at start, dialled again ~100 ms
//! after it drops, for as long as the node runs.
//!
//! A node sends its requests on the connections it dialled and reads the answers from
//! them; answers name their transaction, so a request waits for the answer of its own
//! kind and txid, and many transactions share one connection. When a connection drops,
//! every request waiting on it fails at once: nobody waits for an answer that cannot
//! come. The number of live connections decides `ready` and `notready`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use crate::events::Events;
use crate::protocol::{MAX_LINE, Message};

/// How long to wait before dialling a peer again.
const REDIAL: Duration = Duration::from_millis(100);

/// Answers wait under (kind of answer, txid).
type Waiting = HashMap<(&'static str, String), oneshot::Sender<Message>>;

/// One peer, as given by `--peer HOST:PORT`.
pub struct Peer {
    pub address: String,
    sender: Mutex<Option<mpsc::UnboundedSender<String>>>,
    waiting: Mutex<Waiting>,
}

/// All peers of a node, and how many are connected.
pub struct Peers {
    pub list: Vec<Arc<Peer>>,
    connected: AtomicUsize,
    min_consensus: usize,
    events: Arc<Events>,
}

impl Peers {
    /// Starts dialling every peer; prints `ready` at once if `min_consensus` is 0.
    pub fn start(addresses: &[String], min_consensus: usize, events: Arc<Events>) -> Arc<Peers> {
        let peers = Arc::new(Peers {
            list: addresses
                .iter()
                .map(|address| {
                    Arc::new(Peer {
                        address: address.clone(),
                        sender: Mutex::new(None),
                        waiting: Mutex::default(),
                    })
                })
                .collect(),
            connected: AtomicUsize::new(0),
            min_consensus,
            events,
        });
        if min_consensus == 0 {
            peers.events.ready();
        }
        for peer in &peers.list {
            tokio::spawn(keep_connected(peers.clone(), peer.clone()));
        }
        peers
    }

    /// How many peers are connected right now.
    pub fn connected(&self) -> usize {
        self.connected.load(Ordering::SeqCst)
    }

    pub fn min_consensus(&self) -> usize {
        self.min_consensus
    }

    fn count(&self, change: isize) {
        let before = self.connected.load(Ordering::SeqCst);
        let after = before.saturating_add_signed(change);
        self.connected.store(after, Ordering::SeqCst);
        let min = self.min_consensus;
        if before < min && after >= min {
            self.events.ready();
        } else if before >= min && after < min {
            self.events.not_ready();
        }
    }
}

impl Peer {
    /// Sends a request and waits for its answer (of kind `answer`, same txid) for at
    /// most `timeout`. `None`: not connected, the connection dropped, or no answer.
    pub async fn request(
        &self,
        request: &Message,
        answer: &'static str,
        txid: &str,
        timeout: Duration,
    ) -> Option<Message> {
        let (tx, rx) = oneshot::channel();
        {
            let sender = self.sender.lock().ok()?;
            let sender = sender.as_ref()?;
            self.waiting.lock().ok()?.insert((answer, txid.to_string()), tx);
            sender.send(request.line()).ok()?;
        }
        let reply = tokio::time::timeout(timeout, rx).await.ok().and_then(Result::ok);
        if reply.is_none()
            && let Ok(mut waiting) = self.waiting.lock()
        {
            waiting.remove(&(answer, txid.to_string()));
        }
        reply
    }

    /// Hands an answer to the request waiting for it.
    fn answered(&self, message: Message) {
        let key = match &message {
            Message::Vote { txid, .. } => ("vote", txid.clone()),
            Message::Ack { txid } => ("ack", txid.clone()),
            Message::Outcome { txid, .. } => ("outcome", txid.clone()),
            _ => return,
        };
        let waiter = self.waiting.lock().ok().and_then(|mut w| w.remove(&key));
        if let Some(waiter) = waiter {
            let _ = waiter.send(message);
        }
    }

    fn drop_connection(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            *sender = None;
        }
        // Dropping the waiters wakes every request with "no answer".
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.clear();
        }
    }
}

/// Dials a peer, serves the connection until it drops, and dials again, forever.
async fn keep_connected(peers: Arc<Peers>, peer: Arc<Peer>) {
    loop {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(&peer.address)).await
        {
            let _ = stream.set_nodelay(true);
            let (reader, mut writer) = stream.into_split();
            let (sender, mut outgoing) = mpsc::unbounded_channel::<String>();
            if let Ok(mut slot) = peer.sender.lock() {
                *slot = Some(sender);
            }
            peers.events.connect(&peer.address);
            peers.count(1);
            let writing = tokio::spawn(async move {
                // Everything queued goes out in one write: one syscall for many messages.
                let mut batch = String::new();
                while let Some(line) = outgoing.recv().await {
                    batch.push_str(&line);
                    while let Ok(more) = outgoing.try_recv() {
                        batch.push_str(&more);
                    }
                    if writer.write_all(batch.as_bytes()).await.is_err() {
                        break;
                    }
                    batch.clear();
                }
            });
            read_answers(&peer, reader).await;
            writing.abort();
            peer.drop_connection();
            peers.events.disconnect(&peer.address);
            peers.count(-1);
        }
        tokio::time::sleep(REDIAL).await;
    }
}

/// Reads answers until the connection ends or the peer sends something wrong.
async fn read_answers(peer: &Peer, reader: tokio::net::tcp::OwnedReadHalf) {
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut limited = (&mut reader).take(MAX_LINE as u64 + 1);
        match limited.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) if line.len() > MAX_LINE => return,
            Ok(_) => {}
        }
        match Message::parse(&line) {
            Ok(message) => peer.answered(message),
            Err(_) => return, // A peer that speaks garbage is hung up on.
        }
    }
}
