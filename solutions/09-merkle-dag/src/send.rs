//! The sending half of a session: `have`, `want`, the wanted nodes, `done`.
//!
//! Only what existed when the session started is offered: the `have` is taken
//! once, at the start, and nodes are sent up to it, never beyond (nodes
//! received meanwhile are the other side's anyway). The wanted nodes go in the
//! order this database stored them, which puts every node after its parents
//! and after the previous node of its log: the receiver can store each one as
//! it arrives.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::sync::mpsc::Receiver;

use anyhow::{Result, anyhow};

use crate::protocol::{Message, write};
use crate::store::{Dag, Tips};
use crate::stream::CloseWrite;

/// What the receiving half tells the sending half.
pub enum Event {
    /// Our `want`, worked out from the other side's `have`: send it.
    OurWant(BTreeMap<String, u64>),
    /// The other side's `want`: send what it asks for.
    TheirWant(BTreeMap<String, u64>),
}

/// Runs the sending half; returns how many nodes it sent.
pub fn send<W: CloseWrite>(dag: &Dag, have: &Tips, events: Receiver<Event>, output: W) -> Result<u64> {
    let mut out = BufWriter::new(output);
    write(&mut out, &Message::Have { logs: have.clone() })?;
    out.flush()?;
    let gone = || anyhow!("the session ended before both wants were known");
    let mut ours = None;
    let mut theirs = None;
    while ours.is_none() || theirs.is_none() {
        match events.recv().map_err(|_| gone())? {
            Event::OurWant(want) => {
                write(&mut out, &Message::Want { logs: want.clone() })?;
                out.flush()?;
                ours = Some(want);
            }
            Event::TheirWant(want) => theirs = Some(want),
        }
    }
    let theirs = theirs.ok_or_else(gone)?;
    let mut wanted = Vec::new();
    for (log, after) in &theirs {
        if let Some(tip) = have.get(log) {
            wanted.extend(dag.range(log, *after, tip.seq)?);
        }
    }
    wanted.sort();
    let mut sent = 0;
    for (_, key) in wanted {
        let node = dag.get(&key)?.ok_or_else(|| anyhow!("node {key} vanished"))?;
        write(&mut out, &Message::Node(node))?;
        sent += 1;
    }
    write(&mut out, &Message::Done { sent })?;
    let mut output = out.into_inner().map_err(|e| e.into_error())?;
    output.close_write()?;
    Ok(sent)
}
