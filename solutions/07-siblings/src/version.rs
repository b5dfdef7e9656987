//! The name of a version: `PEER@SEQ`, the position of the write in the logs.
//!
//! Every write is one entry of its writer's log, and no two entries share a
//! peer and a seq, so the position names the write everywhere, without
//! hashing or counting anything.

use std::fmt;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use logs::is_valid_peer_id;
use serde::{Deserialize, Serialize};

/// One version of a key: the write at entry `seq` of `peer`'s log. Written
/// `peer@seq`, such as `5f1c2a9b3d4e6f70@3`. Versions sort by peer id (as
/// bytes), then by seq.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version {
    pub peer: String,
    pub seq: u64,
}

impl Version {
    /// The version written at entry `seq` of `peer`'s log.
    pub fn new(peer: &str, seq: u64) -> Version {
        Version {
            peer: peer.to_string(),
            seq,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.peer, self.seq)
    }
}

impl FromStr for Version {
    type Err = anyhow::Error;

    /// Reads `peer@seq`. The seq follows the last `@`, so a peer id may
    /// contain `@` itself; it must be a valid peer id, and the seq at least 1.
    fn from_str(text: &str) -> Result<Version> {
        let (peer, seq) = text
            .rsplit_once('@')
            .with_context(|| format!("not a version {text:?}: a version is PEER@SEQ"))?;
        if !is_valid_peer_id(peer) {
            bail!("not a version {text:?}: the peer id is empty or contains a NUL");
        }
        let seq: u64 = seq
            .parse()
            .with_context(|| format!("not a version {text:?}: the seq is not a whole number"))?;
        if seq == 0 {
            bail!("not a version {text:?}: seqs start at 1");
        }
        Ok(Version::new(peer, seq))
    }
}

impl TryFrom<String> for Version {
    type Error = anyhow::Error;

    fn try_from(text: String) -> Result<Version> {
        text.parse()
    }
}

impl From<Version> for String {
    fn from(version: Version) -> String {
        version.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_and_write_as_peer_at_seq() {
        let version: Version = "5f1c2a9b3d4e6f70@12".parse().unwrap();
        assert_eq!(version, Version::new("5f1c2a9b3d4e6f70", 12));
        assert_eq!(version.to_string(), "5f1c2a9b3d4e6f70@12");
        assert_eq!("a@b@3".parse::<Version>().unwrap(), Version::new("a@b", 3));
        for bad in ["", "peer", "@3", "peer@", "peer@0", "peer@-1", "peer@x", "a\0b@1"] {
            assert!(bad.parse::<Version>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions_sort_by_peer_then_seq_as_a_number() {
        let mut versions = vec![Version::new("b", 1), Version::new("a", 10), Version::new("a", 9)];
        versions.sort();
        assert_eq!(
            versions,
            [Version::new("a", 9), Version::new("a", 10), Version::new("b", 1)]
        );
    }
}
