//! The records a node prints on stdout, one JSON object per line, as things happen.
//!
//! A record is printed only once what it says is true on disk: `prepared` after the
//! pending write is durable, `committed` after the value is. The verifier reads them to
//! know when to kill a node between the phases, and to catch a node that decides alone.

use std::io::Write;
use std::sync::Mutex;

use serde_json::{Value, json};

/// Where a node's records go (stdout; a buffer in tests).
pub struct Events {
    out: Mutex<Box<dyn Write + Send>>,
}

impl Events {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Events { out: Mutex::new(out) }
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
        if let Ok(mut out) = self.out.lock() {
            // Nothing sensible is left to do when stdout is gone.
            let _ = writeln!(out, "{record}").and_then(|_| out.flush());
        }
    }
}
