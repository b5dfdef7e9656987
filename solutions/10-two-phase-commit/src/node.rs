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
use std::time::Duration;

use anyhow::Result;
use tokio::task::JoinSet;

use crate::events::Events;
use crate::peers::{Peer, Peers};
use crate::protocol::{Message, Op, Outcome, Vote};
use crate::store::{Pending, Store};

/// How long a coordinator waits for a vote.
const VOTE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a participant waits for the decision before it says it is blocked.
const BLOCKED_AFTER: Duration = Duration::from_millis(1000);
/// How often a decision is resent, and a blocked participant asks again.
const RETRY: Duration = Duration::from_millis(200);

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

    // --- The coordinator -------------------------------------------------------

    /// Runs one write as its coordinator and says how it ended.
    async fn write(self: &Arc<Self>, op: Op) -> Message {
        let (connected, needed) = (self.peers.connected(), self.peers.min_consensus());
        if connected < needed {
            return Message::Refused {
                reason: format!("only {connected} peers reachable, --min-consensus is {needed}"),
            };
        }
        let txid = self.store.next_txid();
        if let Err(reason) = self.prepare_here(&txid, &op, true).await {
            return Message::Aborted { txid, reason };
        }
        let (commit, reason) = self.collect_votes(&txid, &op).await;
        let outcome = if commit { Outcome::Commit } else { Outcome::Abort };
        // The decision is on disk before anyone hears it: after a crash the
        // coordinator says the same thing again.
        if let Err(e) = self.store.decide(&txid, outcome).await {
            return undecided(txid, outcome, &e);
        }
        if !commit {
            tokio::spawn(self.clone().announce(txid.clone(), outcome));
            let _ = self.end(&txid, outcome).await;
            return Message::Aborted { txid, reason };
        }
        // Phase 2, here and on every peer at once; the client hears "committed" only
        // once every node has applied the write.
        let (here, ()) = tokio::join!(
            self.end(&txid, outcome),
            self.clone().announce(txid.clone(), outcome)
        );
        match here {
            Ok(()) => Message::Committed { txid },
            // Committed (the decision is on disk and announced) but not applied here:
            // the client must not hear "aborted"; an error leaves the outcome unknown.
            Err(e) => Message::Error {
                reason: format!("{txid} is committed but not yet applied on this node: {e:#}"),
            },
        }
    }

    /// Phase 1 on every peer at once: `(true, _)` if all voted yes, else the reason.
    async fn collect_votes(&self, txid: &str, op: &Op) -> (bool, String) {
        let request = Message::Prepare {
            txid: txid.to_string(),
            op: op.clone(),
        };
        let mut votes = JoinSet::new();
        for peer in &self.peers.list {
            let (peer, request, txid) = (peer.clone(), request.clone(), txid.to_string());
            votes.spawn(async move {
                let answer = peer.request(&request, "vote", &txid, VOTE_TIMEOUT).await;
                (peer.address.clone(), answer)
            });
        }
        let mut reasons = Vec::new();
        while let Some(Ok((address, answer))) = votes.join_next().await {
            match answer {
                Some(Message::Vote { vote: Vote::Yes, .. }) => {}
                Some(Message::Vote { reason, .. }) => reasons.push(format!(
                    "{address} voted no: {}",
                    reason.unwrap_or_else(|| "no reason given".into())
                )),
                _ => reasons.push(format!("{address} did not vote")),
            }
        }
        (reasons.is_empty(), reasons.join("; "))
    }

    /// Phase 2: tells every peer the decision until each has acknowledged it.
    async fn announce(self: Arc<Self>, txid: String, outcome: Outcome) {
        let request = match outcome {
            Outcome::Commit => Message::Commit { txid: txid.clone() },
            _ => Message::Abort { txid: txid.clone() },
        };
        let mut acks = JoinSet::new();
        for peer in &self.peers.list {
            acks.spawn(resend_until_acked(peer.clone(), request.clone(), txid.clone()));
        }
        while acks.join_next().await.is_some() {}
        let _ = self.store.announced(&txid);
    }

    // --- The participant -------------------------------------------------------

    /// Phase 1 as a participant: a yes vote is a durable promise.
    async fn prepare(self: &Arc<Self>, txid: String, op: Op) -> Result<Message> {
        if self.store.decided(&txid)? {
            // A late prepare of a transaction already decided: never lock for it.
            return Ok(no(txid, "this transaction is already decided".into()));
        }
        if let Err(reason) = self.prepare_here(&txid, &op, false).await {
            return Ok(no(txid, reason));
        }
        tokio::spawn(self.clone().wait_for_decision(txid.clone(), op.key().to_string()));
        Ok(Message::Vote {
            txid,
            vote: Vote::Yes,
            reason: None,
        })
    }

    /// Locks the key and records the write durably; `Err` says why it cannot.
    async fn prepare_here(&self, txid: &str, op: &Op, coordinator: bool) -> Result<(), String> {
        let key = op.key().to_string();
        let first = {
            let mut locks = self
                .locks
                .lock()
                .map_err(|_| "the lock table is poisoned".to_string())?;
            match locks.get(&key) {
                Some(holder) if holder == txid => None, // A repeated prepare.
                Some(holder) => return Err(format!("key {key:?} is locked by transaction {holder}")),
                None => {
                    locks.insert(key.clone(), txid.to_string());
                    Some(())
                }
            }
        };
        if first.is_none() {
            return self.prepared_before(txid).await;
        }
        let pending = Pending {
            op: op.clone(),
            coordinator,
        };
        match self.store.prepare(txid, &pending).await {
            Ok(()) => {
                self.events.transaction("prepared", txid, &key);
                Ok(())
            }
            Err(e) => {
                self.unlock(&key, txid);
                Err(format!("cannot record the prepared write: {e:#}"))
            }
        }
    }

    /// A repeated prepare of a transaction that holds its key: yes only once the first
    /// prepare's record is durable. A question to the writer is answered after every
    /// change queued before it is flushed, so once it returns the first record is on
    /// disk — if it was written at all (a failed first prepare is not pending).
    async fn prepared_before(&self, txid: &str) -> Result<(), String> {
        let unreadable = |e: anyhow::Error| format!("cannot read the prepared write: {e:#}");
        if self.store.decision(txid).await.map_err(unreadable)? != Outcome::Unknown {
            return Err(format!("{txid} is already decided"));
        }
        match self.store.is_pending(txid).map_err(unreadable)? {
            true => Ok(()),
            false => Err(format!("the first prepare of {txid} was not recorded")),
        }
    }

    /// A participant that voted yes: if no decision comes, say so and ask around.
    async fn wait_for_decision(self: Arc<Self>, txid: String, key: String) {
        tokio::time::sleep(BLOCKED_AFTER).await;
        if !self.holds(&key, &txid) {
            return;
        }
        self.events.transaction("blocked", &txid, &key);
        loop {
            for peer in &self.peers.list {
                let question = Message::Status { txid: txid.clone() };
                if let Some(Message::Outcome { outcome, .. }) =
                    peer.request(&question, "outcome", &txid, RETRY).await
                    && outcome != Outcome::Unknown
                {
                    let _ = self.end(&txid, outcome).await;
                }
            }
            if !self.holds(&key, &txid) {
                return;
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    // --- Both ------------------------------------------------------------------

    /// Applies a decision to a pending write (once; again is a no-op), durably,
    /// then prints it and frees the key.
    async fn end(&self, txid: &str, outcome: Outcome) -> Result<()> {
        if let Some(op) = self.store.finish(txid, outcome).await? {
            let event = match outcome {
                Outcome::Commit => "committed",
                _ => "aborted",
            };
            self.events.transaction(event, txid, op.key());
            self.unlock(op.key(), txid);
        }
        Ok(())
    }

    /// After a restart: lock what is pending, finish what this node decides.
    fn recover(self: &Arc<Self>) -> Result<()> {
        let announcing = self.store.to_announce()?;
        for (txid, pending) in self.store.all_pending()? {
            let key = pending.op.key().to_string();
            if let Ok(mut locks) = self.locks.lock() {
                locks.insert(key.clone(), txid.clone());
            }
            let node = self.clone();
            if pending.coordinator {
                tokio::spawn(node.finish_own(txid));
            } else {
                tokio::spawn(node.wait_for_decision(txid, key));
            }
        }
        for (txid, outcome) in announcing {
            tokio::spawn(self.clone().announce(txid, outcome));
        }
        Ok(())
    }

    /// After a restart, one of this node's own pending writes: its decision on disk,
    /// or abort when there is none (nobody was told "commit", since that would be on
    /// disk). A decision that cannot be *read* is not "no decision": it may be a commit
    /// some peer has applied, so the write stays pending and locked, and it asks again.
    async fn finish_own(self: Arc<Self>, txid: String) {
        let outcome = loop {
            match self.store.decision(&txid).await {
                Ok(Outcome::Commit) => break Outcome::Commit,
                Ok(_) => break Outcome::Abort,
                Err(e) => {
                    eprintln!("cannot read the decision of {txid}, asking the disk again: {e:#}");
                    tokio::time::sleep(RETRY).await;
                }
            }
        };
        if self.store.decide(&txid, outcome).await.is_ok() && self.end(&txid, outcome).await.is_ok() {
            self.announce(txid, outcome).await;
        }
    }

    fn holds(&self, key: &str, txid: &str) -> bool {
        self.locks
            .lock()
            .map(|locks| locks.get(key).is_some_and(|holder| holder == txid))
            .unwrap_or(false)
    }

    fn unlock(&self, key: &str, txid: &str) {
        if let Ok(mut locks) = self.locks.lock()
            && locks.get(key).is_some_and(|holder| holder == txid)
        {
            locks.remove(key);
        }
    }
}

/// Sends a decision to one peer until it acknowledges.
async fn resend_until_acked(peer: Arc<Peer>, request: Message, txid: String) {
    loop {
        if let Some(Message::Ack { .. }) = peer.request(&request, "ack", &txid, RETRY * 5).await {
            return;
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// The answer when a decision could not be made durable. An abort is safe to report
/// (nobody was told otherwise, and after a restart the coordinator aborts it again); a
/// commit is not: the write may be on disk all the same, and peers may hear it after a
/// restart. Its outcome is unknown, and the client must say so (exit 3), not "aborted".
fn undecided(txid: String, outcome: Outcome, error: &anyhow::Error) -> Message {
    match outcome {
        Outcome::Commit => Message::Error {
            reason: format!(
                "{txid}: the commit decision may not be on disk ({error:#}): its outcome is unknown"
            ),
        },
        _ => Message::Aborted {
            txid,
            reason: format!("cannot record the decision: {error:#}"),
        },
    }
}

fn no(txid: String, reason: String) -> Message {
    Message::Vote {
        txid,
        vote: Vote::No,
        reason: Some(reason),
    }
}

/// The `type` of a message, for error messages.
fn kind(message: &Message) -> String {
    serde_json::to_value(message)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_decision_that_cannot_be_recorded_is_unknown_not_aborted() {
        let error = anyhow::anyhow!("the disk is full");
        let commit = undecided("t-1-1".into(), Outcome::Commit, &error);
        assert!(
            matches!(commit, Message::Error { .. }),
            "a commit that may be on disk is not an abort: {commit:?}"
        );
        let abort = undecided("t-1-2".into(), Outcome::Abort, &error);
        assert!(matches!(abort, Message::Aborted { .. }), "{abort:?}");
    }

    #[tokio::test]
    async fn a_repeated_prepare_votes_yes_only_with_the_first_on_disk() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path(), true)?;
        let events = Arc::new(Events::new(Box::new(std::io::sink())));
        let peers = Peers::start(&[], 0, events.clone());
        let node = Node::start(store.clone(), peers, events)?;
        let op = Op::Put {
            key: "k".into(),
            value: "v".into(),
        };
        let prepare = || Message::Prepare {
            txid: "other-1-1".into(),
            op: op.clone(),
        };
        let (first, again) = tokio::join!(node.handle(prepare()), node.handle(prepare()));
        for vote in [&first, &again] {
            if let Message::Vote { vote: Vote::Yes, .. } = vote {
                assert!(store.is_pending("other-1-1")?, "a yes with no record: {vote:?}");
            }
        }
        assert!(
            matches!(first, Message::Vote { vote: Vote::Yes, .. }),
            "the first prepare is recorded: {first:?}"
        );
        node.handle(Message::Commit {
            txid: "other-1-1".into(),
        })
        .await;
        let late = node.handle(prepare()).await;
        assert!(
            matches!(late, Message::Vote { vote: Vote::No, .. }),
            "a prepare after the decision: {late:?}"
        );
        Ok(())
    }
}
