//! Nodes and their keys: content addressing.
//!
//! A node's key is the SHA-256 of an unambiguous encoding of everything the
//! node says: the log that wrote it, its seq in that log, the keys it links to
//! and its value. Each field is framed by its length, and the links are sorted
//! and deduplicated first, so one node has one encoding and two different
//! nodes never share one. The value's exact bytes are hashed, never a JSON
//! rendering of them, which could differ between two programs.
//!
//! The log and the seq are inside the hash on purpose: two logs that write the
//! same value make two nodes, each in its own log, instead of one node that
//! only one of them can claim (which would leave a hole in the other's log).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The version tag, the first field of every encoding.
pub const TAG: &[u8] = b"merkle-dag/1";

/// One node of the DAG, as stored and as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// SHA-256 (64 lowercase hex digits) of the encoding of the fields below.
    pub key: String,
    /// Keys of earlier nodes, sorted, without repeats.
    pub links: Vec<String>,
    pub value: String,
    /// The public key (64 hex digits) of the log that wrote the node.
    pub log: String,
    /// The node's place in its log: 1, 2, 3, …
    pub seq: u64,
    /// The log's ed25519 signature of the key's 32 bytes (128 hex digits).
    pub sig: String,
}

/// What `add`, `get`, `heads` and `list` print: a node without its signature.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    pub key: &'a str,
    pub links: &'a [String],
    pub value: &'a str,
    pub log: &'a str,
    pub seq: u64,
}

impl Node {
    pub fn record(&self) -> Record<'_> {
        Record {
            key: &self.key,
            links: &self.links,
            value: &self.value,
            log: &self.log,
            seq: self.seq,
        }
    }
}

/// Sorts links and removes repeats: the one order a node's links have.
///
/// You'll need: `Vec::sort`, `Vec::dedup`.
pub fn canonical_links(links: Vec<String>) -> Vec<String> {
    // TODO (step 1)
    links
}

/// The bytes that are hashed, exactly as the problem text's section *Keys*
/// lists them: the tag, the log, the seq, the number of links, each link (in
/// canonical order), the value; every text framed by its length as 8 bytes
/// big endian, every number as 8 bytes big endian.
///
/// You'll need: `u64::to_be_bytes`, `str::as_bytes`, `Vec::extend_from_slice`,
/// [`canonical_links`], [`TAG`].
pub fn encoding(_log: &str, _seq: u64, _links: &[String], _value: &str) -> Vec<u8> {
    // TODO (step 1). A small inner `fn field(out: &mut Vec<u8>, bytes: &[u8])`
    // keeps the framing in one place. `links.len()` is a `usize`: write it as
    // `(links.len() as u64).to_be_bytes()`, or the count has 8 bytes on this
    // machine only by luck (error E0308 "expected `u64`, found `usize`": see hint 3).
    Vec::new()
}

/// A node's key: the SHA-256 of its encoding, in lowercase hex. (Written for you.)
pub fn key_of(log: &str, seq: u64, links: &[String], value: &str) -> String {
    hex::encode(Sha256::digest(encoding(log, seq, links, value)))
}

/// Whether `text` is `digits` lowercase hex digits (a key, a log id, a signature).
pub fn is_hex(text: &str, digits: usize) -> bool {
    text.len() == digits
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
