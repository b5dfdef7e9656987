//! The receiving half of a session: read the other side's messages in order,
//! check each one, and store the entries we lack.
//!
//! Two threads share the work, so that both cores are busy: one reads and
//! decodes lines, and checks that the messages come in the right order; the
//! other, the caller's, checks each entry against our heads and stores the
//! new ones. Entries cross from one thread to the other in batches: handing
//! them over one by one would wake the storing thread a hundred thousand
//! times in a large sync, and those wake-ups cost more than the decoding.
//! Storing costs one sled write per new entry and nothing more: the heads
//! are kept in memory (from our handshake, raised as entries are stored)
//! instead of asking the database for the head of a log every time.
//!
//! Whatever happens, even an error half-way, the entries stored so far stay,
//! and are flushed to disk before this half returns.

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc;
use std::thread;

use anyhow::{Context, Result, anyhow, bail};
use logs::{Log, Record};

use crate::protocol::{Heads, Message, decode};

/// How many batches of decoded entries may wait for the storing thread.
const QUEUE: usize = 16;

/// The most entries in one batch. A batch is also handed over as soon as the
/// reader has nothing left in its buffer, so that nothing waits in a half-full
/// batch while the reader waits for the other side. (A line cut in two by the
/// sender's buffer is completed by its very next write.)
const BATCH: usize = 512;

/// What the receiving half got from the other side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Entry messages received (the other side's `sent`).
    pub entries: u64,
    /// How many of them were new to us and are now stored.
    pub stored: u64,
}

/// Reads the other side's messages from `input` up to the end of the stream
/// and stores the entries we lack. `our_heads` are the heads we sent in our
/// handshake; `on_handshake` gets the other side's heads as soon as its
/// handshake arrives (the sending half is waiting for them).
pub fn receive(
    log: &Log,
    our_heads: Heads,
    input: impl Read + Send + 'static,
    on_handshake: impl FnOnce(Heads) + Send + 'static,
) -> Result<Received> {
    let (to_store, incoming) = mpsc::sync_channel(QUEUE);
    // Not joined: if an entry is refused we return at once, without waiting
    // for the reading thread to finish a read that may never end.
    thread::spawn(move || {
        let mut handover = Handover {
            to_store,
            batch: Vec::with_capacity(BATCH),
        };
        let outcome = read_messages(input, on_handshake, &mut handover);
        // The entries decoded before the end, or before an error, are stored too.
        handover.finish(outcome);
    });
    let mut store = Store {
        log,
        heads: our_heads,
        stored: 0,
    };
    let outcome = store_entries(&mut store, incoming);
    // Whatever happened, the entries stored so far are kept, on disk.
    let kept = log.flush();
    let entries = outcome?;
    kept?;
    Ok(Received {
        entries,
        stored: store.stored,
    })
}

/// What the reading thread passes to the storing one.
enum Item {
    /// Entries to store, in order, each with the number of the line it came on.
    Entries(Vec<(u64, Record)>),
    /// The reading is over: the number of entry messages received, or why
    /// it stopped. Always the last item.
    Finished(Result<u64>),
}

/// The reading thread's end of the channel: collects decoded entries into
/// batches and hands them to the storing thread.
struct Handover {
    to_store: mpsc::SyncSender<Item>,
    batch: Vec<(u64, Record)>,
}

impl Handover {
    /// Adds the entry that came on line `number` to the current batch.
    fn push(&mut self, number: u64, record: Record) {
        self.batch.push((number, record));
    }

    /// Hands the batch over if it is full, or if `idle` (nothing is left in
    /// the reader's buffer: the next read waits for the other side).
    /// Fails only if the storing thread stopped, and then it says why.
    fn hand_over(&mut self, idle: bool) -> Result<()> {
        let worth_sending = self.batch.len() == BATCH || (idle && !self.batch.is_empty());
        if !worth_sending {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.to_store
            .send(Item::Entries(full))
            .map_err(|_| anyhow!("storing stopped"))
    }

    /// Hands over what is left, then how the reading ended.
    fn finish(mut self, outcome: Result<u64>) {
        if !self.batch.is_empty() {
            let _ = self.to_store.send(Item::Entries(std::mem::take(&mut self.batch)));
        }
        let _ = self.to_store.send(Item::Finished(outcome));
    }
}

/// Stores the entries the reading thread passes on, in order, until it is
/// finished; returns the number of entry messages received. Stops at the
/// first entry it cannot accept.
fn store_entries(store: &mut Store, incoming: mpsc::Receiver<Item>) -> Result<u64> {
    for item in incoming {
        match item {
            Item::Entries(batch) => {
                for (number, record) in batch {
                    store.entry(record).with_context(|| format!("line {number}"))?;
                }
            }
            Item::Finished(outcome) => return outcome,
        }
    }
    bail!("the thread reading the other side stopped without a word")
}

/// Where we are in the other side's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Nothing received yet: the handshake must come first.
    Handshake,
    /// After the handshake: entries, then `end`.
    Entries,
    /// After `end`: only the end of the stream may follow.
    Ended,
}

/// Reads and decodes every line up to the end of the stream, checks that the
/// messages come in order, and passes the entries on to be stored. Returns
/// the number of entry messages received.
fn read_messages(input: impl Read, on_handshake: impl FnOnce(Heads), handover: &mut Handover) -> Result<u64> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let mut on_handshake = Some(on_handshake);
    let mut stage = Stage::Handshake;
    let mut received = 0u64;
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        handover.hand_over(input.buffer().is_empty())?;
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .context("cannot read from the other side")?;
        if read == 0 {
            break; // The end of the stream.
        }
        number += 1;
        let message = std::str::from_utf8(&line)
            .map_err(|_| anyhow!("not UTF-8"))
            .and_then(|text| decode(text.strip_suffix('\n').unwrap_or(text)));
        let handled = message.and_then(|message| match (stage, message) {
            (Stage::Ended, message) => {
                bail!("{} after end: nothing may follow end", message.described())
            }
            (Stage::Handshake, Message::Handshake { heads, .. }) => {
                if let Some(on_handshake) = on_handshake.take() {
                    on_handshake(heads);
                }
                stage = Stage::Entries;
                Ok(())
            }
            (Stage::Handshake, message) => {
                bail!(
                    "{} before the handshake: the handshake comes first",
                    message.described()
                )
            }
            (Stage::Entries, Message::Handshake { .. }) => {
                bail!("a second handshake: each side sends one, first")
            }
            (Stage::Entries, Message::Entry { peer, seq, entry }) => {
                received += 1;
                handover.push(number, Record { peer, seq, entry });
                Ok(())
            }
            (Stage::Entries, Message::End { sent }) => {
                if sent != received {
                    bail!("the other side says it sent {sent} entries, but {received} arrived");
                }
                stage = Stage::Ended;
                Ok(())
            }
        });
        handled.with_context(|| format!("line {number}"))?;
    }
    if stage != Stage::Ended {
        bail!("the other side closed the stream before saying end: {received} entries received, kept");
    }
    Ok(received)
}

/// Checks incoming entries one by one and stores the new ones.
struct Store<'a> {
    log: &'a Log,
    /// Our head of every log, raised as each entry is stored: the next entry
    /// is checked against it.
    heads: Heads,
    /// Entries stored so far.
    stored: u64,
}

impl Store<'_> {
    /// Stores `record` if it is the next entry of its log, ignores it if we
    /// already hold it, and refuses anything else.
    fn entry(&mut self, record: Record) -> Result<()> {
        if check_entry(self.log, &self.heads, &record)? == Incoming::Duplicate {
            return Ok(());
        }
        self.log.store(&record)?;
        self.stored += 1;
        raise(&mut self.heads, &record.peer, record.seq);
        Ok(())
    }
}

/// What to do with an entry that came from another database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// The next entry of its log: store it.
    New,
    /// We hold it already, with the same text: ignore it.
    Duplicate,
}

/// Decides what to do with `record`, an entry from another database, given
/// `heads`, the heads of what we hold. Refuses an entry that would leave a
/// gap, one that differs from the entry we hold under its seq, and one of
/// our own log beyond our head (nobody else writes our log).
pub fn check_entry(log: &Log, heads: &Heads, record: &Record) -> Result<Incoming> {
    let head = heads.get(&record.peer).copied().unwrap_or(0);
    if record.seq <= head {
        let held = log.entry(&record.peer, record.seq)?;
        if held.as_deref() != Some(record.entry.as_str()) {
            bail!(
                "conflicting entry: we hold a different entry #{} of {}: two databases with the same peer id?",
                record.seq,
                record.peer
            );
        }
        return Ok(Incoming::Duplicate);
    }
    if record.peer == log.peer() {
        bail!(
            "entry #{} of our own log, which ends at #{head}: only we write our own log, \
             so nobody else can have it",
            record.seq
        );
    }
    if record.seq > head + 1 {
        bail!(
            "a gap in the log of {}: we hold it up to #{head}, so the next entry is #{}, not #{}",
            record.peer,
            head + 1,
            record.seq
        );
    }
    Ok(Incoming::New)
}

/// Raises the head of `peer` in `heads` to `seq`, if that is higher.
pub fn raise(heads: &mut Heads, peer: &str, seq: u64) {
    match heads.get_mut(peer) {
        Some(head) => *head = (*head).max(seq),
        None => {
            heads.insert(peer.to_string(), seq);
        }
    }
}
