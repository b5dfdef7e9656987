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
use replicate::receive::Incoming;
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
    /// Records are printed under the lock, so they never interleave with
    /// records stored meanwhile.
    pub fn print_database(&self) -> Result<()> {
        // TODO (step 1)
        anyhow::bail!("not implemented yet: Node::print_database — see exercises/04-gossip/README.md")
    }

    /// Appends `entries` to our own log, in order. They are flushed to disk
    /// before they are printed or sent anywhere: an entry others have seen
    /// must survive a crash, or after a restart we would write a different
    /// entry under the same seq.
    ///
    /// The order that keeps that promise: durable first; then, under the
    /// lock, the heads in memory raised and the records printed; then the
    /// doorbell rung (after the lock is released), so every connection sends
    /// the news.
    pub fn append(&self, _entries: &[String]) -> Result<Vec<Record>> {
        // TODO (step 2)
        anyhow::bail!("not implemented yet: Node::append — see exercises/04-gossip/README.md")
    }

    /// Stores `record`, an entry from another peer, if it is new; says
    /// whether it was. Refuses a gap or a conflicting duplicate (exercise
    /// 03's rule). Deciding, storing and printing happen under one lock, so
    /// two connections that bring the same entry cannot both store it; a
    /// new entry is durable before it is printed, and printed exactly once.
    pub fn store(&self, _record: Record) -> Result<Incoming> {
        // TODO (step 3)
        //
        // A compile error this step tends to meet: `let state = self.lock();`
        // and then `raise(&mut state.heads, ..)` or `state.print(..)` gives
        // "error[E0596]: cannot borrow `state` as mutable". The clinic in the
        // third hint (`hint 3`) has it.
        anyhow::bail!("not implemented yet: Node::store — see exercises/04-gossip/README.md")
    }

    #[allow(dead_code)] // Until steps 2 and 3 use it.
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
    #[allow(dead_code)] // Until steps 2 and 3 use it.
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
