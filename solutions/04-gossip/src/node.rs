//! The state a running peer shares between all its connections: the
//! database, the heads of what it holds, and a doorbell that rings whenever
//! something new is stored.
//!
//! Every entry is stored here, whether it was typed on stdin or arrived on a
//! connection, and printed here, exactly once: only when it is new. Storing
//! and printing happen under one lock, so two connections that receive the
//! same entry at the same moment cannot both store it, and records never
//! interleave on stdout.
//!
//! The doorbell carries no entries, only the news that there are some: each
//! connection then reads what its other side lacks from the database, which
//! stays the single source of truth. A connection that is slow to wake loses
//! nothing; it just finds more to send.

use std::io::Write;
use std::sync::{Mutex, MutexGuard};

use anyhow::{Context, Result};
use logs::{Log, Record};
use replicate::Heads;
use replicate::read::print_database;
use replicate::receive::{Incoming, check_entry, raise};
use tokio::sync::watch;

/// A running peer's shared state.
pub struct Node {
    log: Log,
    state: Mutex<State>,
    /// Rung (its number goes up) after every store.
    doorbell: watch::Sender<u64>,
}

/// What is changed under the lock.
struct State {
    /// The head of every log held: what the database holds, kept in memory.
    heads: Heads,
    /// Where records are printed: stdout, in the program.
    out: Box<dyn Write + Send>,
}

impl Node {
    /// A node over `log` that prints the records it stores to `out`.
    pub fn new(log: Log, out: Box<dyn Write + Send>) -> Result<Node> {
        let heads = log.heads()?;
        let (doorbell, _) = watch::channel(0);
        Ok(Node {
            log,
            state: Mutex::new(State { heads, out }),
            doorbell,
        })
    }

    /// The database.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The heads of every log held, right now.
    pub fn heads(&self) -> Heads {
        self.lock().heads.clone()
    }

    /// A receiver that wakes up whenever something new is stored.
    pub fn doorbell(&self) -> watch::Receiver<u64> {
        self.doorbell.subscribe()
    }

    /// Prints every entry the database holds, as on start.
    pub fn print_database(&self) -> Result<()> {
        let mut state = self.lock();
        print_database(&self.log, &mut state.out)
    }

    /// Appends `entries` to our own log, in order. They are flushed to disk
    /// before they are printed or sent anywhere: an entry others have seen
    /// must survive a crash, or after a restart we would write a different
    /// entry under the same seq.
    pub fn append(&self, entries: &[String]) -> Result<Vec<Record>> {
        let mut appended = Vec::with_capacity(entries.len());
        for entry in entries {
            appended.push(self.log.append(entry)?);
        }
        self.log.flush()?;
        let mut state = self.lock();
        for record in &appended {
            raise(&mut state.heads, &record.peer, record.seq);
            state.print(record);
        }
        drop(state);
        self.ring();
        Ok(appended)
    }

    /// Stores `record`, an entry from another peer, if it is new; says
    /// whether it was. Refuses a gap or a conflicting duplicate.
    pub fn store(&self, record: Record) -> Result<Incoming> {
        let mut state = self.lock();
        let incoming = check_entry(&self.log, &state.heads, &record)?;
        if incoming == Incoming::New {
            self.log.store(&record)?;
            // Printed means durable: a peer killed right after printing an
            // entry must still hold it when it starts again.
            self.log.flush()?;
            raise(&mut state.heads, &record.peer, record.seq);
            state.print(&record);
            drop(state);
            self.ring();
        }
        Ok(incoming)
    }

    fn ring(&self) {
        self.doorbell.send_modify(|rings| *rings += 1);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves nothing half-done that
        // matters (the database is the truth), so carry on.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// Prints one record and flushes it: whoever reads our stdout through a
    /// pipe sees it now, not when some buffer fills.
    fn print(&mut self, record: &Record) {
        let printed = serde_json::to_writer(&mut self.out, record)
            .map_err(anyhow::Error::from)
            .and_then(|()| self.out.write_all(b"\n").context("cannot write"))
            .and_then(|()| self.out.flush().context("cannot flush"));
        if let Err(error) = printed {
            // Replication goes on without an audience.
            eprintln!("cannot print a record on stdout: {error:#}");
        }
    }
}
