//! The receiving half of a session: check everything, store nodes only once
//! their parents are stored.
//!
//! - The other side's `have` is compared with ours: a log with two different
//!   nodes under one seq has two writers (a copied database directory, or an
//!   author that signed two nodes for one seq). Nothing is merged then.
//! - Every node's key is recomputed and its signature checked; a node that
//!   fails either is refused, never stored.
//! - A node names the key of the previous node of its log. When it is next in
//!   its log, that key must be the one stored here: otherwise the two sides
//!   hold two forks of one log (which their `have`s may not show, if both
//!   forks end in an identical node).
//! - A node whose links (or previous node of its log) are not stored yet
//!   waits in a buffer of at most [`MAX_WAITING`] nodes. A correct sender
//!   sends parents first, so the buffer only fills with a strange or hostile
//!   one; whatever still waits at `done` is reported, not stored.
//! - `done` says how many nodes were sent: the count must match.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::sync::mpsc::Sender;

use anyhow::{Context, Result, bail};

use crate::identity;
use crate::node::{Node, canonical_links, is_hex, key_of};
use crate::protocol::{Message, decode, read_line};
use crate::send::Event;
use crate::store::{Dag, Tips};

/// The most nodes that may wait for their parents at once.
pub const MAX_WAITING: usize = 1000;

/// What a session received.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub nodes: u64,
    pub stored: u64,
}

struct Receiver<'a> {
    dag: &'a Dag,
    own: String,
    /// The highest seq held of each log, raised as nodes are stored.
    seqs: HashMap<String, u64>,
    waiting: Vec<Node>,
    received: Received,
}

/// Reads the other side's messages until its `done` and the end of the stream.
pub fn receive(dag: &Dag, mut input: impl BufRead, ours: &Tips, events: Sender<Event>) -> Result<Received> {
    let mut receiver = Receiver {
        dag,
        own: dag.log_id(),
        seqs: ours.iter().map(|(log, tip)| (log.clone(), tip.seq)).collect(),
        waiting: Vec::new(),
        received: Received::default(),
    };
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut stage = 0;
    loop {
        if read_line(&mut input, &mut line)?.is_none() {
            bail!(
                "the other side closed the stream before saying done: {} nodes received, {} stored and kept",
                receiver.received.nodes,
                receiver.received.stored
            );
        }
        number += 1;
        let at = || format!("line {number}");
        let message = decode(&line).with_context(at)?;
        match (stage, message) {
            (0, Message::Have { logs }) => {
                let want = receiver.compare(ours, &logs).with_context(at)?;
                // The sender is gone only if it failed: its error is the one to report.
                let _ = events.send(Event::OurWant(want));
                stage = 1;
            }
            (1, Message::Want { logs }) => {
                let _ = events.send(Event::TheirWant(logs));
                stage = 2;
            }
            (2, Message::Node(node)) => receiver.node(node).with_context(at)?,
            (2, Message::Done { sent }) => {
                receiver.done(sent).with_context(at)?;
                break;
            }
            (_, message) => bail!("line {number}: {} out of order", kind(&message)),
        }
    }
    if read_line(&mut input, &mut line)?.is_some() {
        bail!("line {}: a message after done", number + 1);
    }
    Ok(receiver.received)
}

fn kind(message: &Message) -> &'static str {
    match message {
        Message::Have { .. } => "have",
        Message::Want { .. } => "want",
        Message::Node(_) => "node",
        Message::Done { .. } => "done",
    }
}

fn two_writers(log: &str, seq: u64, here: &str, there: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "two writers with one log id: log {log} has two different nodes #{seq}, {here} here and {there} there. \
         Was a database directory copied and then written to in both places? Refusing to merge them: nothing was stored"
    )
}

impl Receiver<'_> {
    /// Checks the other side's `have` against ours; returns our `want`.
    fn compare(&self, ours: &Tips, theirs: &Tips) -> Result<BTreeMap<String, u64>> {
        let mut want = BTreeMap::new();
        for (log, tip) in theirs {
            if !is_hex(log, 64) || !is_hex(&tip.key, 64) || tip.seq == 0 {
                bail!(
                    "have: {log:?} #{} {:?} is not a log id, a seq from 1 and a key",
                    tip.seq,
                    tip.key
                );
            }
            let mine = ours.get(log).map_or(0, |t| t.seq);
            if tip.seq <= mine {
                let here = self.dag.key_at(log, tip.seq)?.unwrap_or_default();
                if here != tip.key {
                    return Err(two_writers(log, tip.seq, &here, &tip.key));
                }
            } else if *log == self.own {
                bail!(
                    "two writers with one log id: the other side holds node #{} of this database's own log {log}, \
                     which only goes up to #{mine} here. Was a database directory copied? Refusing to merge",
                    tip.seq
                );
            } else {
                want.insert(log.clone(), mine);
            }
        }
        Ok(want)
    }

    fn node(&mut self, node: Node) -> Result<()> {
        self.received.nodes += 1;
        let node = self.checked(node)?;
        if self.dag.contains(&node.key)? {
            return Ok(());
        }
        if let Some(here) = self.dag.key_at(&node.log, node.seq)? {
            return Err(two_writers(&node.log, node.seq, &here, &node.key));
        }
        if node.log == self.own {
            bail!(
                "node {}: a node of this database's own log that it never wrote: two writers with one log id",
                node.key
            );
        }
        if self.ready(&node)? {
            self.store(&node)?;
            self.store_waiting()
        } else if self.waiting.len() >= MAX_WAITING {
            bail!("more than {MAX_WAITING} nodes wait for their parents: refusing to buffer more")
        } else {
            self.waiting.push(node);
            Ok(())
        }
    }

    /// The node, if its fields are well formed, its key is the hash of its
    /// content, and its log signed it.
    fn checked(&self, mut node: Node) -> Result<Node> {
        if !is_hex(&node.key, 64) || !is_hex(&node.log, 64) || !is_hex(&node.sig, 128) || node.seq == 0 {
            bail!(
                "node {:?}: a key, log id or signature that is not lowercase hex of the right length, or seq 0",
                node.key
            );
        }
        if let Some(bad) = node.links.iter().find(|l| !is_hex(l, 64)) {
            bail!("node {}: the link {bad:?} is not a key", node.key);
        }
        match &node.previous {
            None if node.seq == 1 => {}
            Some(previous) if node.seq > 1 && is_hex(previous, 64) => {}
            _ => bail!(
                "node {}: seq {} with the previous key {:?}: node #1 has none (null), every later node the key of the one before",
                node.key,
                node.seq,
                node.previous
            ),
        }
        node.links = canonical_links(node.links);
        let key = key_of(
            &node.log,
            node.seq,
            node.previous.as_deref(),
            &node.links,
            &node.value,
        );
        if key != node.key {
            bail!(
                "node {}: its key is not the hash of its content (that is {key}): a node changed on the way, or a wrong key",
                node.key
            );
        }
        identity::verify(&node.log, &node.key, &node.sig)?;
        Ok(node)
    }

    /// Whether every node `node` depends on is stored. A node that is next in
    /// its log but names another previous node than the one stored here is a
    /// fork of that log: an error, never a wait.
    fn ready(&self, node: &Node) -> Result<bool> {
        let held = self.seqs.get(&node.log).copied().unwrap_or(0);
        if node.seq != held + 1 {
            return Ok(false);
        }
        if held > 0 {
            let here = self.dag.key_at(&node.log, held)?.unwrap_or_default();
            if node.previous.as_deref() != Some(here.as_str()) {
                let there = node.previous.as_deref().unwrap_or_default();
                return Err(two_writers(&node.log, held, &here, there));
            }
        }
        for link in &node.links {
            if !self.dag.contains(link)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn store(&mut self, node: &Node) -> Result<()> {
        if let Some(here) = self.dag.key_at(&node.log, node.seq)? {
            return Err(two_writers(&node.log, node.seq, &here, &node.key));
        }
        self.dag.insert(node)?;
        self.seqs.insert(node.log.clone(), node.seq);
        self.received.stored += 1;
        Ok(())
    }

    /// Stores every waiting node whose parents have now arrived, until none is left
    /// that can be stored.
    fn store_waiting(&mut self) -> Result<()> {
        loop {
            let mut ready = None;
            for (index, node) in self.waiting.iter().enumerate() {
                if self.dag.contains(&node.key)? || self.ready(node)? {
                    ready = Some(index);
                    break;
                }
            }
            let Some(index) = ready else { return Ok(()) };
            let node = self.waiting.swap_remove(index);
            if !self.dag.contains(&node.key)? {
                self.store(&node)?;
            }
        }
    }

    fn done(&mut self, sent: u64) -> Result<()> {
        if sent != self.received.nodes {
            bail!(
                "done says {sent} nodes were sent, but {} arrived",
                self.received.nodes
            );
        }
        if let Some(first) = self.waiting.first() {
            bail!(
                "{} node(s) never got their parents, so they were not stored (the first: {} of log {} #{})",
                self.waiting.len(),
                first.key,
                first.log,
                first.seq
            );
        }
        Ok(())
    }
}
