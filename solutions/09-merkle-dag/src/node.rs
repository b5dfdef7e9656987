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
const TAG: &[u8] = b"merkle-dag/1";

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
pub fn canonical_links(mut links: Vec<String>) -> Vec<String> {
    links.sort();
    links.dedup();
    links
}

/// The bytes that are hashed: every field framed by its length (8 bytes, big
/// endian), numbers as 8 bytes big endian, the links in canonical order.
pub fn encoding(log: &str, seq: u64, links: &[String], value: &str) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    let links = canonical_links(links.to_vec());
    let mut out = Vec::new();
    field(&mut out, TAG);
    field(&mut out, log.as_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&(links.len() as u64).to_be_bytes());
    for link in &links {
        field(&mut out, link.as_bytes());
    }
    field(&mut out, value.as_bytes());
    out
}

/// A node's key: the SHA-256 of its encoding, in lowercase hex.
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

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "0000000000000000000000000000000000000000000000000000000000000001";

    #[test]
    fn the_encoding_frames_every_field() {
        let bytes = encoding(LOG, 2, &[], "hi");
        let mut expected = Vec::new();
        expected.extend_from_slice(&12u64.to_be_bytes());
        expected.extend_from_slice(b"merkle-dag/1");
        expected.extend_from_slice(&64u64.to_be_bytes());
        expected.extend_from_slice(LOG.as_bytes());
        expected.extend_from_slice(&2u64.to_be_bytes());
        expected.extend_from_slice(&0u64.to_be_bytes());
        expected.extend_from_slice(&2u64.to_be_bytes());
        expected.extend_from_slice(b"hi");
        assert_eq!(bytes, expected);
    }

    #[test]
    fn links_count_in_one_order_only() {
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        assert_eq!(
            key_of(LOG, 1, &[b.clone(), a.clone(), b.clone()], "x"),
            key_of(LOG, 1, &[a, b], "x")
        );
    }

    #[test]
    fn the_log_and_the_seq_are_part_of_the_key() {
        let other = LOG.replace('1', "2");
        assert_ne!(key_of(LOG, 1, &[], "x"), key_of(&other, 1, &[], "x"));
        assert_ne!(key_of(LOG, 1, &[], "x"), key_of(LOG, 2, &[], "x"));
    }

    #[test]
    fn a_known_key() {
        // The example of the problem text: anyone can recompute it.
        assert_eq!(
            key_of(LOG, 1, &[], "hello"),
            "1d0ba056058f0f77ffbd122ca9e1efbde7a5ed20a57782acf138bc2ade24a4cd"
        );
    }
}
