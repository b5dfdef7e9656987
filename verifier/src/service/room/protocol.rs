//! The room protocol: JSON, one object per line, every line at most [`MAX_LINE`] bytes.
//!
//! A connection opens with one [`Hello`]. `join` is the only one that carries the join
//! code; every later message is [`Signed`]: the learner's number, a fresh nonce and a
//! MAC keyed by the learner's token, so the token itself crosses the wire once, and a
//! message seen before is refused as a replay. The room answers with one [`Reply`]; a
//! `peer` connection then stays open for the room's instructions ([`ToAgent`]) and the
//! agent's log heads ([`FromAgent`]); a `relay` connection then carries the exercise's
//! own protocol lines, which the room checks with the exercise's decoder.

use super::secrets;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest line the room reads, of either protocol (a longer one is refused).
pub const MAX_LINE: usize = 4096;
/// The longest learner name.
pub const MAX_NAME: usize = 40;

/// The first line of every connection to the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Hello {
    /// "Let me in": the join code, a name, and the token of an earlier join if any.
    Join {
        code: String,
        name: String,
        #[serde(default)]
        token: Option<String>,
    },
    /// Anything else, from a learner who has joined.
    Signed(Signed),
}

/// A message from a learner who has joined, with proof that it is theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    pub learner: u32,
    pub nonce: u64,
    pub mac: String,
    pub act: Act,
}

/// What a joined learner asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Act {
    /// The result of one `verify`.
    Report(Report),
    /// "My peer for this exercise is running: give me neighbours" (stays open).
    Peer { exercise: u32 },
    /// One end of a link between two peers (then the exercise's lines flow).
    Relay { link: u32, side: Side },
}

/// The end of a link a relay connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// From the peer that dials.
    Dial,
    /// To the peer that listens.
    Listen,
}

/// What a `verify` found: never code, only the numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub exercise: u32,
    pub verdict: Verdict,
    pub passed: u32,
    pub total: u32,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    Error,
}

/// Why the room says no, in words for whoever asked: a learner (sent back as
/// [`Reply::Refused`]) or the teacher (the board's answer to a control).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Refusal {
    fn from(text: String) -> Refusal {
        Refusal(text)
    }
}

impl From<&str> for Refusal {
    fn from(text: &str) -> Refusal {
        Refusal(text.to_string())
    }
}

impl From<Refusal> for Reply {
    fn from(refusal: Refusal) -> Reply {
        Reply::Refused { reason: refusal.0 }
    }
}

/// The room's answer to a hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reply {
    /// Joined: keep the token (it is never sent again).
    Welcome {
        learner: u32,
        token: String,
        name: String,
    },
    Ok,
    Refused {
        reason: String,
    },
}

/// What the room tells a running agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToAgent {
    /// The links this peer dials, one per dial slot (`None`: that slot is idle).
    Slots { links: Vec<Option<u32>> },
    /// A peer dialled this one on `link`: open the listening end.
    Open { link: u32 },
    /// Type this line on the peer's stdin (a "one entry each" round).
    Type { text: String },
}

/// What a running agent tells the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FromAgent {
    /// The highest seq the peer printed of each log it holds.
    Heads { heads: BTreeMap<String, u64> },
}

impl Signed {
    /// Signs `act` for `learner` with `token`, with a fresh nonce.
    pub fn new(learner: u32, token: &str, act: Act) -> anyhow::Result<Signed> {
        let nonce = secrets::nonce()?;
        let mac = secrets::mac(token, learner, nonce, &act.text());
        Ok(Signed {
            learner,
            nonce,
            mac,
            act,
        })
    }

    /// Whether the MAC is right for `token`.
    pub fn verifies(&self, token: &str) -> bool {
        secrets::same_mac(
            &self.mac,
            &secrets::mac(token, self.learner, self.nonce, &self.act.text()),
        )
    }
}

impl Act {
    /// The text the MAC covers: the act as JSON (its fields have a fixed order).
    fn text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One value as a line for the wire (with its `\n`).
pub fn line<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Parses one line of the room protocol, in words a learner can act on if it is not one.
pub fn parse<T: for<'de> Deserialize<'de>>(raw: &[u8]) -> Result<T, Refusal> {
    if raw.len() > MAX_LINE {
        return Err(Refusal(format!("a message longer than {MAX_LINE} bytes")));
    }
    serde_json::from_slice(raw).map_err(|e| Refusal(format!("not a message of the room protocol ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_message_round_trips_and_verifies() -> anyhow::Result<()> {
        let act = Act::Report(Report {
            exercise: 2,
            verdict: Verdict::Passed,
            passed: 5,
            total: 5,
            seed: 7,
        });
        let hello = Hello::Signed(Signed::new(3, "secret", act)?);
        let text = line(&hello);
        let back: Hello = parse(text.trim_end().as_bytes()).map_err(|r| anyhow::anyhow!("{r}"))?;
        assert_eq!(back, hello);
        let Hello::Signed(signed) = back else {
            unreachable!()
        };
        assert!(signed.verifies("secret"));
        assert!(!signed.verifies("another"));
        let mut changed = signed.clone();
        changed.act = Act::Peer { exercise: 4 };
        assert!(!changed.verifies("secret"), "the MAC covers the act");
        Ok(())
    }

    #[test]
    fn unknown_fields_and_long_lines_are_refused() {
        let extra = br#"{"type":"join","code":"A","name":"b","admin":true}"#;
        assert!(parse::<Hello>(extra).is_err());
        let long = vec![b' '; MAX_LINE + 1];
        assert_eq!(
            parse::<Hello>(&long),
            Err(Refusal(format!("a message longer than {MAX_LINE} bytes")))
        );
    }
}
