//! The records a node prints on stdout, one JSON object per line, as things happen.
//!
//! A record is printed only once what it says is true on disk: `prepared` after the
//! pending write is durable, `committed` after the value is. The verifier reads them to
//! know when to kill a node between the phases, and to catch a node that decides alone.
//!
//! Records are queued and a task prints them: every record queued by the time it runs
//! goes out in one write and one flush, so a node committing thousands of writes a
//! second does not make a system call per record.

use std::io::Write;

use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Where a node's records go (stdout; a buffer in tests).
pub struct Events {
    queue: mpsc::UnboundedSender<String>,
}

impl Events {
    /// Starts the task that prints to `out`: call within a tokio runtime.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        let (queue, records) = mpsc::unbounded_channel();
        tokio::spawn(print_in_batches(out, records));
        Events { queue }
    }

    /// `{"event":"ready"}`: enough peers are connected to take writes.
    pub fn ready(&self) {
        self.print(json!({"event": "ready"}));
    }

    /// `{"event":"notready"}`: too few peers are connected; writes are refused.
    pub fn not_ready(&self) {
        self.print(json!({"event": "notready"}));
    }

    /// `{"event":"connect","peer":"HOST:PORT"}`, the peer as given by `--peer`.
    pub fn connect(&self, peer: &str) {
        self.print(json!({"event": "connect", "peer": peer}));
    }

    pub fn disconnect(&self, peer: &str) {
        self.print(json!({"event": "disconnect", "peer": peer}));
    }

    /// A transaction's step on this node: `prepared`, `committed`, `aborted`, `blocked`.
    pub fn transaction(&self, event: &str, txid: &str, key: &str) {
        self.print(json!({"event": event, "txid": txid, "key": key}));
    }

    fn print(&self, record: Value) {
        let _ = self.queue.send(format!("{record}\n"));
    }
}

/// Prints every record queued, one write and one flush per batch.
async fn print_in_batches(mut out: Box<dyn Write + Send>, mut records: mpsc::UnboundedReceiver<String>) {
    let mut batch = String::new();
    while let Some(record) = records.recv().await {
        batch.push_str(&record);
        while let Ok(more) = records.try_recv() {
            batch.push_str(&more);
        }
        // Nothing sensible is left to do when stdout is gone.
        let _ = out.write_all(batch.as_bytes()).and_then(|_| out.flush());
        batch.clear();
    }
}
