//! The rules of two-phase commit, for the two roles every node plays.
//!
//! As **coordinator** (a client sent it a write): refuse at once if fewer than
//! `--min-consensus` peers are connected; prepare locally (lock the key, record the
//! write as pending, durably); ask every peer to prepare; decide commit only if every
//! peer voted yes; record the decision durably *before* telling anyone; then apply it
//! and tell every peer, at once, until each acknowledges; answer the client only then.
//!
//! Every store call returns once its change is durable, and many transactions share a
//! flush ([`crate::store`]): so each rule reads "record, then speak" and stays fast.
//!
//! As **participant** (a peer sent `prepare`): vote no if the key is locked by another
//! transaction (no waiting, so no deadlock); else lock it, record the write durably,
//! and only then vote yes. From then on it never decides alone: if no decision comes,
//! it prints `blocked`, keeps the key locked and asks every peer (`status`) until one
//! knows — the coordinator, or a participant that already heard.
//!
//! After a restart a node locks again every key it has pending; its own transactions
//! with no decision on disk are aborted (it never told anyone "commit", since that
//! decision would be on disk), and decisions not yet acknowledged are announced again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Result;

use crate::events::Events;
use crate::peers::Peers;
use crate::protocol::{Message, Op, Outcome};
use crate::store::Store;

// You'll need (timings of the text): a vote timeout of ~1 s, `blocked` after ~1 s
// without a decision, resends and `status` questions every ~200 ms.

/// A node: its database, its peers, and the keys its pending writes lock.
pub struct Node {
    store: Store,
    peers: Arc<Peers>,
    events: Arc<Events>,
    /// key → the transaction holding it.
    locks: Mutex<HashMap<String, String>>,
}

impl Node {
    /// Opens the node on its store, locks what is pending and finishes what it can.
    pub fn start(store: Store, peers: Arc<Peers>, events: Arc<Events>) -> Result<Arc<Node>> {
        let node = Arc::new(Node {
            store,
            peers,
            events,
            locks: Mutex::default(),
        });
        node.recover()?;
        Ok(node)
    }

    /// The committed value of a key: pending writes are never read.
    pub fn get(&self, key: &str) -> Result<Option<String>> {
        self.store.get(key)
    }

    /// Answers one request from a peer or a client.
    pub async fn handle(self: &Arc<Self>, message: Message) -> Message {
        let answer = match message {
            Message::Put { key, value } => Ok(self.write(Op::Put { key, value }).await),
            Message::Del { key } => Ok(self.write(Op::Del { key }).await),
            Message::Get { key } => self.get(&key).map(|value| Message::Value { key, value }),
            Message::Prepare { txid, op } => self.prepare(txid, op).await,
            Message::Commit { txid } => self
                .end(&txid, Outcome::Commit)
                .await
                .map(|_| Message::Ack { txid }),
            Message::Abort { txid } => self
                .end(&txid, Outcome::Abort)
                .await
                .map(|_| Message::Ack { txid }),
            Message::Status { txid } => self
                .store
                .decision(&txid)
                .await
                .map(|outcome| Message::Outcome { txid, outcome }),
            other => Ok(Message::Error {
                reason: format!("a node does not take `{}` as a request", kind(&other)),
            }),
        };
        answer.unwrap_or_else(|e| Message::Error {
            reason: format!("{e:#}"),
        })
    }

    /// Runs one write as its coordinator and says how it ended: `Refused` at once when
    /// fewer than `--min-consensus` peers are connected; else prepare locally (lock,
    /// pending record, durable, `prepared`), `prepare` on every peer, commit only if
    /// every one voted yes, record the decision durably ([`Store::decide`] returns once
    /// it is), then apply it here ([`Node::end`]) and send it to every peer until
    /// acknowledged — both at once — and only then `Committed` (an abort is answered
    /// at once, its announcement goes on in the background).
    ///
    /// You'll need: `self.peers.connected()`, `self.peers.min_consensus()`,
    /// `self.store.next_txid()`, `Peer::request(&msg, "vote", &txid, timeout)`,
    /// `tokio::task::JoinSet`, `Store::decide`, `tokio::join!`, `tokio::spawn`.
    // Compile error here? `cannot move out of *self` on a method taking `self: Arc<Self>`:
    // see hint 3.
    async fn write(self: &Arc<Self>, op: Op) -> Message {
        let _ = (&self.peers, &self.events, op);
        Message::Aborted {
            txid: String::new(),
            reason: "not implemented yet: Node::write — see exercises/10-two-phase-commit/README.md".into(),
        }
    }

    /// Phase 1 as a participant. Votes no if the txid is already decided here or the
    /// key is locked by another transaction (say why); else locks the key, records the
    /// write durably, prints `prepared`, and only then votes yes. After a yes it must
    /// never decide alone: start waiting for the decision (`blocked` after ~1 s, then
    /// ask every peer with `status` until one knows).
    async fn prepare(self: &Arc<Self>, txid: String, op: Op) -> Result<Message> {
        let _ = (txid, op);
        anyhow::bail!("not implemented yet: Node::prepare — see exercises/10-two-phase-commit/README.md")
    }

    /// Applies a decision to a pending write, durably ([`Store::finish`] returns once it
    /// is); if this call ended it, prints `committed` or `aborted` and frees the key.
    /// Deciding again is a no-op that still succeeds.
    async fn end(&self, txid: &str, outcome: Outcome) -> Result<()> {
        let _ = (txid, outcome, &self.locks);
        anyhow::bail!("not implemented yet: Node::end — see exercises/10-two-phase-commit/README.md")
    }

    /// After a restart: lock the key of every pending write again; finish the ones
    /// this node coordinates (its decision on disk, or abort if there is none: it never
    /// told anyone "commit") and announce them; wait for the others' decisions as a
    /// participant; announce again every decision not yet acknowledged.
    ///
    /// You'll need: `Store::all_pending`, `Store::to_announce`, `Store::decision`.
    fn recover(self: &Arc<Self>) -> Result<()> {
        // Not implemented yet: a restarted node forgets its pending writes.
        Ok(())
    }
}

/// The `type` of a message, for error messages.
fn kind(message: &Message) -> String {
    serde_json::to_value(message)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_default()
}
