//! The messages of the replication protocol "replicate/1", and how they are
//! written and read: one JSON object per line.
//!
//! There are three messages. Each side first sends a `handshake` with the
//! head of every log it holds; then one `entry` per entry the other side
//! lacks; then `end` with the number of entries it sent. The full rules are in
//! `exercises/03-replicate/README.md`; this module only knows what a single
//! message looks like, not when it may come.

use std::collections::BTreeMap;
use std::io::{self, Write};

use anyhow::{Result, anyhow, bail};
use logs::{Record, is_valid_peer_id};
use serde::{Deserialize, Serialize};

/// The heads of a database: peer id -> highest seq held of that peer's log.
/// A log that is not listed is one we hold nothing of (head 0).
pub type Heads = BTreeMap<String, u64>;

/// One message of the protocol. Serialized, the `type` field comes first,
/// then the fields in the order written here:
///
/// ```text
/// {"type":"handshake","peer":"5f1c2a9b3d4e6f70","heads":{"5f1c2a9b3d4e6f70":3}}
/// {"type":"entry","peer":"5f1c2a9b3d4e6f70","seq":3,"entry":"hello"}
/// {"type":"end","sent":1}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Message {
    /// "I am `peer`, and these are the heads of every log I hold: send me,
    /// of each log, the entries after its head." Sent first, by both sides.
    Handshake { peer: String, heads: Heads },
    /// One entry of one peer's log.
    Entry { peer: String, seq: u64, entry: String },
    /// "That was all: I sent you `sent` entries." Sent last, then the sender
    /// closes its output.
    End { sent: u64 },
}

impl From<Record> for Message {
    fn from(record: Record) -> Message {
        Message::Entry {
            peer: record.peer,
            seq: record.seq,
            entry: record.entry,
        }
    }
}

impl Message {
    /// The message's type, as on the wire: `handshake`, `entry` or `end`.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Handshake { .. } => "handshake",
            Message::Entry { .. } => "entry",
            Message::End { .. } => "end",
        }
    }

    /// The message's type with its article, for messages to people: "a
    /// handshake", "an entry", "an end".
    pub fn described(&self) -> &'static str {
        match self {
            Message::Handshake { .. } => "a handshake",
            Message::Entry { .. } => "an entry",
            Message::End { .. } => "an end",
        }
    }

    /// Checks what JSON alone cannot say: peer ids are non-empty and contain
    /// no NUL byte, and seqs start at 1.
    fn check(&self) -> Result<()> {
        match self {
            Message::Handshake { peer, heads } => {
                check_peer_id(peer)?;
                for log in heads.keys() {
                    check_peer_id(log)?;
                }
            }
            Message::Entry { peer, seq, .. } => {
                check_peer_id(peer)?;
                if *seq == 0 {
                    bail!("an entry with seq 0: seqs start at 1");
                }
            }
            Message::End { .. } => {}
        }
        Ok(())
    }
}

fn check_peer_id(peer: &str) -> Result<()> {
    if !is_valid_peer_id(peer) {
        bail!("invalid peer id {peer:?}: a peer id is non-empty and contains no NUL byte");
    }
    Ok(())
}

/// Reads one message from one line (without its `\n`), or says precisely
/// why the line is not a valid message.
pub fn decode(line: &str) -> Result<Message> {
    match serde_json::from_str::<Message>(line) {
        Ok(message) => {
            message.check()?;
            Ok(message)
        }
        Err(error) => Err(explain(line, error)),
    }
}

/// Why `line` is not a message, as precisely as we can say: not JSON at all,
/// not an object, no or an unknown `type`, or a field missing, extra or of
/// the wrong type.
fn explain(line: &str, error: serde_json::Error) -> anyhow::Error {
    let value: serde_json::Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(_) => return anyhow!("not JSON: {}", without_position(&error)),
    };
    let Some(fields) = value.as_object() else {
        return anyhow!("not a message: a message is a JSON object, this is {value}");
    };
    let kind = match fields.get("type") {
        Some(serde_json::Value::String(kind)) => kind.clone(),
        Some(other) => return anyhow!("not a message: its \"type\" is {other}, not a string"),
        None => return anyhow!("not a message: it has no \"type\" field"),
    };
    if !["handshake", "entry", "end"].contains(&kind.as_str()) {
        return anyhow!("unknown message type {kind:?}: a message is a handshake, an entry or an end");
    }
    // Decoding the parsed value again gives serde's reason without the
    // "at line 1 column N" that means nothing for a single line.
    match serde_json::from_value::<Message>(value) {
        Err(reason) => anyhow!("not a valid {kind} message: {reason}"),
        Ok(_) => anyhow!("not a valid {kind} message: {}", without_position(&error)),
    }
}

/// serde_json's reason, with "at line 1 column 7" turned into "(column 7)":
/// the line is always 1 here, since we decode one line at a time.
fn without_position(error: &serde_json::Error) -> String {
    let reason = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    match reason.strip_suffix(&position) {
        Some(reason) => format!("{reason} (column {})", error.column()),
        None => reason,
    }
}

/// Writes `message` as one line: its JSON, then `\n`.
pub fn write_message(out: &mut impl Write, message: &Message) -> io::Result<()> {
    serde_json::to_writer(&mut *out, message)?;
    out.write_all(b"\n")
}

/// `message` as one line of text, `\n` included.
pub fn encode(message: &Message) -> String {
    let mut line = serde_json::to_string(message).expect("a message always serializes");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(line: &str) -> String {
        format!("{:#}", decode(line).unwrap_err())
    }

    #[test]
    fn messages_have_the_documented_json() {
        let heads = Heads::from([("b0b".to_string(), 2), ("a11ce".to_string(), 3)]);
        let handshake = Message::Handshake {
            peer: "a11ce".to_string(),
            heads,
        };
        assert_eq!(
            encode(&handshake),
            "{\"type\":\"handshake\",\"peer\":\"a11ce\",\"heads\":{\"a11ce\":3,\"b0b\":2}}\n"
        );
        let entry = Message::Entry {
            peer: "a11ce".to_string(),
            seq: 1,
            entry: "say \"hi\"".to_string(),
        };
        assert_eq!(
            encode(&entry),
            "{\"type\":\"entry\",\"peer\":\"a11ce\",\"seq\":1,\"entry\":\"say \\\"hi\\\"\"}\n"
        );
        assert_eq!(
            encode(&Message::End { sent: 7 }),
            "{\"type\":\"end\",\"sent\":7}\n"
        );
        for message in [handshake, entry, Message::End { sent: 7 }] {
            assert_eq!(decode(encode(&message).trim_end()).unwrap(), message);
        }
    }

    #[test]
    fn field_order_does_not_matter_when_reading() {
        let message = decode(r#"{"sent":2,"type":"end"}"#).unwrap();
        assert_eq!(message, Message::End { sent: 2 });
    }

    #[test]
    fn bad_lines_are_explained() {
        assert_eq!(error_of("hello"), "not JSON: expected value (column 1)");
        assert!(error_of("").starts_with("not JSON"));
        assert!(error_of("[1,2]").contains("a message is a JSON object"));
        assert!(error_of(r#"{"sent":1}"#).contains("no \"type\" field"));
        assert!(error_of(r#"{"type":"hello"}"#).starts_with("unknown message type \"hello\""));
        assert!(error_of(r#"{"type":"end"}"#).contains("missing field `sent`"));
        assert!(error_of(r#"{"type":"end","sent":1,"more":2}"#).contains("unknown field `more`"));
        assert!(error_of(r#"{"type":"end","sent":"1"}"#).contains("invalid type"));
        assert!(error_of(r#"{"type":"end","sent":-1}"#).contains("invalid value"));
        assert!(error_of(r#"{"type":"entry","peer":"","seq":1,"entry":"x"}"#).contains("invalid peer id"));
        assert!(error_of(r#"{"type":"entry","peer":"a\u0000b","seq":1,"entry":"x"}"#).contains("NUL"));
        assert!(error_of(r#"{"type":"entry","peer":"a","seq":0,"entry":"x"}"#).contains("seq 0"));
        assert!(error_of(r#"{"type":"handshake","peer":"a","heads":{"":1}}"#).contains("invalid peer id"));
        assert!(error_of(r#"{"type":"handshake","peer":"a","heads":[]}"#).contains("invalid type"));
    }
}
