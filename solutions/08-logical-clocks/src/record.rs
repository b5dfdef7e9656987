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
    pub fn beats(&self, other: &Record, resolver: bool) -> bool {
        if !resolver {
            return self.clock > other.clock;
        }
        (self.clock, self.peer.as_bytes()) > (other.clock, other.peer.as_bytes())
    }

    /// Why this record is not a valid record, if it is not: a peer id of 16
    /// lowercase hex digits, a seq from 1, a clock from 1 to [`MAX_CLOCK`], a
    /// value exactly for a put.
    pub fn problem(&self) -> Option<String> {
        let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if self.peer.len() != 16 || !self.peer.chars().all(hex) {
            return Some(format!(
                "the peer id {:?} is not 16 lowercase hex digits",
                self.peer
            ));
        }
        if self.seq == 0 {
            return Some("seq 0: positions start at 1".into());
        }
        if self.clock == 0 || self.clock > MAX_CLOCK {
            return Some(format!("clock {} is outside 1..={MAX_CLOCK}", self.clock));
        }
        match (self.kind, &self.value) {
            (Kind::Put, None) => Some("a put without a value".into()),
            (Kind::Del, Some(_)) => Some("a del with a value".into()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(peer: &str, clock: u64) -> Record {
        Record {
            peer: peer.repeat(16),
            seq: 1,
            key: "k".into(),
            clock,
            kind: Kind::Put,
            value: Some(peer.into()),
        }
    }

    #[test]
    fn the_higher_clock_wins_whatever_the_peer() {
        assert!(write("a", 2).beats(&write("f", 1), true));
        assert!(!write("f", 1).beats(&write("a", 2), true));
    }

    #[test]
    fn equal_clocks_go_to_the_larger_peer_on_both_sides() {
        assert!(write("f", 1).beats(&write("a", 1), true));
        assert!(!write("a", 1).beats(&write("f", 1), true));
    }

    #[test]
    fn without_a_resolver_equal_clocks_keep_what_is_held() {
        assert!(!write("f", 1).beats(&write("a", 1), false));
        assert!(!write("a", 1).beats(&write("f", 1), false));
    }

    #[test]
    fn refuses_clocks_past_the_maximum() {
        assert!(write("a", MAX_CLOCK).problem().is_none());
        assert!(write("a", MAX_CLOCK + 1).problem().is_some());
        assert!(write("a", 0).problem().is_some());
    }
}
