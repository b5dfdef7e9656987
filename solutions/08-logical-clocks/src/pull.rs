//! `pull`: one short-lived connection to a peer's `serve`, asking for what it
//! stored after the last position seen of it, applying what arrives.
//!
//! Records are applied in batches, each batch and the new position seen in one
//! transaction: whatever way the stream ends (a cut, a killed server, a line of
//! garbage), what arrived whole before it stays applied, and the next pull
//! asks for what comes after it.

use std::io::{BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;

use crate::record::Record;
use crate::store::Store;
use crate::wire::{Message, receive, send};

/// How many records are applied in one transaction.
const BATCH: usize = 1000;

/// How long the server may stay silent before the pull gives up.
const SILENCE: Duration = Duration::from_secs(3);

/// What a pull learnt, printed as its record:
/// `{"from":…,"received":…,"applied":…,"seen":…}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Learnt {
    /// The server's peer id ("" if it never said hello).
    pub from: String,
    /// Records received whole and valid.
    pub received: u64,
    /// Of those, how many won their key and were stored.
    pub applied: u64,
    /// The last position of the server's log seen now.
    pub seen: u64,
}

/// Pulls from `address` into `store`. Returns what was learnt, and the error
/// that ended the pull early, if one did (what came before it is applied).
pub fn pull(store: &Store, address: &str, resolver: bool) -> (Learnt, Option<anyhow::Error>) {
    let mut learnt = Learnt::default();
    let error = exchange(store, address, resolver, &mut learnt).err();
    (learnt, error)
}

fn exchange(store: &Store, address: &str, resolver: bool, learnt: &mut Learnt) -> Result<()> {
    let target = address
        .to_socket_addrs()
        .with_context(|| format!("{address:?} is not HOST:PORT"))?
        .next()
        .ok_or_else(|| anyhow!("{address} names no address"))?;
    let stream = TcpStream::connect_timeout(&target, SILENCE)
        .with_context(|| format!("cannot connect to {address}"))?;
    stream.set_read_timeout(Some(SILENCE))?;
    let mut input = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    let from = match receive(&mut input)? {
        Some(Message::Hello { peer }) => peer,
        Some(other) => bail!("the server did not say hello first: {other:?}"),
        None => bail!("the server closed the connection without a word"),
    };
    learnt.from.clone_from(&from);
    let after = store.seen(&from)?;
    learnt.seen = after;
    send(&mut out, &Message::Pull { after })?;
    out.flush()?;
    let mut batch: Vec<Record> = Vec::new();
    let ending = loop {
        let message = match receive(&mut input) {
            Ok(Some(message)) => message,
            Ok(None) => break Err(anyhow!("the server closed the connection before `end`")),
            Err(error) => break Err(error),
        };
        match message {
            Message::Record { record } => {
                if let Some(problem) = record.problem() {
                    break Err(anyhow!("refused a record: {problem}"));
                }
                let previous = batch.last().map_or(learnt.seen, |r| r.seq);
                if record.seq <= previous {
                    break Err(anyhow!(
                        "record at position {} after position {previous}: positions must grow",
                        record.seq
                    ));
                }
                batch.push(record);
                learnt.received += 1;
                if batch.len() >= BATCH {
                    apply(store, &from, &mut batch, resolver, learnt)?;
                }
            }
            Message::End { last } => break Ok(last),
            Message::Error { message } => break Err(anyhow!("the server refused: {message}")),
            other => break Err(anyhow!("unexpected message {other:?}")),
        }
    };
    // What arrived whole is applied, whatever ended the stream.
    apply(store, &from, &mut batch, resolver, learnt)?;
    let last = ending?;
    if learnt.received > 0 && last < learnt.seen {
        bail!(
            "`end` says the last position is {last}, but position {} was sent",
            learnt.seen
        );
    }
    if last < after {
        // The server forgot positions it gave before (restored from a backup):
        // it will give them again, to new records. Seen moves back, or those
        // records would never be asked for.
        eprintln!(
            "pull: {from}'s log ends at position {last}, below the {after} seen of it before: \
             it was restored from an older copy; asking after {last} from now on"
        );
        store.forget_after(&from, last)?;
    } else {
        store.saw(&from, last)?;
    }
    learnt.seen = last;
    Ok(())
}

fn apply(
    store: &Store,
    from: &str,
    batch: &mut Vec<Record>,
    resolver: bool,
    learnt: &mut Learnt,
) -> Result<()> {
    learnt.applied += store.apply(from, batch, resolver)?;
    if let Some(last) = batch.last() {
        learnt.seen = last.seq;
    }
    batch.clear();
    Ok(())
}
