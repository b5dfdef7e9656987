//! `pull`: one short-lived connection to a peer's `serve`, asking for what it
//! stored after the last position seen of it, applying what arrives.
//!
//! Records are applied in batches, each batch and the new position seen in one
//! transaction: whatever way the stream ends (a cut, a killed server, a line of
//! garbage), what arrived whole before it stays applied, and the next pull
//! asks for what comes after it.

#[allow(unused_imports)] // Step 5 uses them.
use std::io::{BufReader, Write};
#[allow(unused_imports)]
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

#[allow(unused_imports)]
use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;

#[allow(unused_imports)]
use crate::record::Record;
use crate::store::Store;
#[allow(unused_imports)]
use crate::wire::{Message, receive, send};

/// How many records are applied in one transaction.
#[allow(dead_code)] // Step 5 uses it.
const BATCH: usize = 1000;

/// How long the server may stay silent before the pull gives up.
#[allow(dead_code)] // Step 5 uses it.
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

/// The pull itself, `pull`'s side of the text's *Pulling* (steps 2 to 5 there,
/// and what ends a pull early), filling `learnt` as it goes. Connect and read
/// with a limit of `SILENCE`. Records are applied with [`apply`], at most
/// `BATCH` at a time; however the stream ends, what arrived whole is applied.
fn exchange(_store: &Store, _address: &str, _resolver: bool, _learnt: &mut Learnt) -> Result<()> {
    // TODO (step 5)
    bail!("not implemented yet: pull — see exercises/08-logical-clocks/README.md")
}
#[allow(dead_code)] // Step 5 uses it.
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
