//! The verifier's own model of a merkle DAG node: the key function, the
//! signatures, and nodes it makes itself to play a peer.
//!
//! This is the one implementation of the hash in the verifier, written from
//! the problem text: every key a program prints or sends is recomputed here.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One node as it crosses the wire (a `node` message without its `type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub key: String,
    pub links: Vec<String>,
    pub value: String,
    pub log: String,
    pub seq: u64,
    /// The key of node seq − 1 of the same log; `null` for seq 1, never missing.
    #[serde(deserialize_with = "Option::deserialize")]
    pub previous: Option<String>,
    pub sig: String,
}

/// The key of a node: SHA-256 over the framed encoding of the problem text
/// (`previous` is an empty field for seq 1).
pub fn key_of(log: &str, seq: u64, previous: Option<&str>, links: &[String], value: &str) -> String {
    fn field(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    let mut links = links.to_vec();
    links.sort();
    links.dedup();
    let mut out = Vec::new();
    field(&mut out, b"merkle-dag/1");
    field(&mut out, log.as_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    field(&mut out, previous.unwrap_or_default().as_bytes());
    out.extend_from_slice(&(links.len() as u64).to_be_bytes());
    for link in &links {
        field(&mut out, link.as_bytes());
    }
    field(&mut out, value.as_bytes());
    hex::encode(Sha256::digest(out))
}

/// Whether `sig` is `log`'s signature of the 32 bytes of `key`.
pub fn signed_by(log: &str, key: &str, sig: &str) -> bool {
    let bytes = |text: &str| hex::decode(text).ok();
    let (Some(public), Some(key), Some(sig)) = (bytes(log), bytes(key), bytes(sig)) else {
        return false;
    };
    let (Ok(public), Ok(sig)) = (<[u8; 32]>::try_from(public), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    let Ok(public) = VerifyingKey::from_bytes(&public) else {
        return false;
    };
    public.verify(&key, &Signature::from_bytes(&sig)).is_ok()
}

/// A log the verifier writes itself, from a fixed seed (so its ids are the
/// same in every run).
pub struct Author {
    secret: SigningKey,
}

impl Author {
    pub fn new(seed: u8) -> Author {
        Author {
            secret: SigningKey::from_bytes(&[seed; 32]),
        }
    }

    pub fn log(&self) -> String {
        hex::encode(self.secret.verifying_key().as_bytes())
    }

    /// Signs a node key (hex); an unparsable key gets a signature of nothing.
    pub fn sign(&self, key: &str) -> String {
        let bytes = hex::decode(key).unwrap_or_default();
        hex::encode(self.secret.sign(&bytes).to_bytes())
    }

    /// A correctly keyed and signed node of this log, #`seq` after the node
    /// whose key is `previous` (None for seq 1).
    pub fn node(&self, seq: u64, previous: Option<&str>, links: &[&str], value: &str) -> Node {
        let mut links: Vec<String> = links.iter().map(|l| l.to_string()).collect();
        links.sort();
        links.dedup();
        let log = self.log();
        let key = key_of(&log, seq, previous, &links, value);
        Node {
            sig: self.sign(&key),
            key,
            links,
            value: value.to_string(),
            log,
            seq,
            previous: previous.map(str::to_string),
        }
    }

    /// A chain of `count` nodes, each linking the one before: `v1`, `v2`, …
    pub fn chain(&self, count: u64, prefix: &str) -> Vec<Node> {
        let mut nodes: Vec<Node> = Vec::new();
        for seq in 1..=count {
            let previous = nodes.last().map(|n| n.key.clone());
            let links: Vec<&str> = previous.as_deref().into_iter().collect();
            nodes.push(self.node(seq, previous.as_deref(), &links, &format!("{prefix}{seq}")));
        }
        nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_of_the_problem_texts_example() {
        let log = format!("{}1", "0".repeat(63));
        let hello = key_of(&log, 1, None, &[], "hello");
        assert_eq!(
            hello,
            "c26030b24b518b94875751de5b173a0733edba4bfe3832fa8da6ba517bbd7f32"
        );
        assert_eq!(
            key_of(&log, 2, Some(&hello), &[], "world"),
            "81312054f7ecf3da4c1aaeea47e2f76e8721992dc292d80f1fe566b8b64eb4e9"
        );
    }

    #[test]
    fn nodes_are_signed_by_their_author_only() {
        let (v, w) = (Author::new(1), Author::new(2));
        let node = v.node(1, None, &[], "x");
        assert!(signed_by(&v.log(), &node.key, &node.sig));
        assert!(!signed_by(&w.log(), &node.key, &node.sig));
        assert!(!signed_by(&v.log(), &node.key, &w.sign(&node.key)));
        assert!(!signed_by("zz", &node.key, &node.sig));
    }
}
