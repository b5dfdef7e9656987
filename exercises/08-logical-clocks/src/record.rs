//! A write, as a log holds it and as it travels, and the order that decides
//! which of two writes of a key wins.
//!
//! A write is identified by its key, its clock and its writer: a writer never
//! stamps one key twice with the same clock, because each of its writes of a key
//! is stamped above every write of that key it holds, its own included.

use serde::{Deserialize, Serialize};

/// The largest clock: 2^53 - 1, the largest whole number every JSON library
/// reads exactly. A write that would need a larger stamp is refused, and a
/// record carrying one is not a record.
pub const MAX_CLOCK: u64 = (1 << 53) - 1;

/// What a write does to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Put,
    Del,
}

/// One write: `{"peer":…,"seq":…,"key":…,"clock":…,"type":"put","value":…}`,
/// with `"value":null` for a del.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Who wrote it: the writer's peer id.
    pub peer: String,
    /// Where the database that holds it stored it (its own position, not the
    /// writer's: a record gets a new position in every log that stores it).
    pub seq: u64,
    pub key: String,
    /// The key's logical clock when it was written.
    pub clock: u64,
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The value of a put; `None` (null) for a del.
    pub value: Option<String>,
}

impl Record {
    /// Whether this write wins over `other`, a write of the same key: the greater
    /// `(clock, peer)`. With `resolver` false, as the original did, only a
    /// strictly greater clock wins, and equal clocks keep what is held.
    /// (The text's section *Which write wins* is the whole contract.)
    pub fn beats(&self, _other: &Record, _resolver: bool) -> bool {
        // TODO (step 1). (Until then nothing beats anything: the first write
        // of a key stays.)
        false
    }

    /// Why this record is not a valid record, if it is not: a peer id of 16
    /// lowercase hex digits, a seq from 1, a clock from 1 to [`MAX_CLOCK`], a
    /// value exactly for a put.
    pub fn problem(&self) -> Option<String> {
        // TODO (step 6). (Until then every record passes.)
        None
    }
}
