//! The wire: messages of the replication protocol (exercise 03's "replicate/1"), as
//! the verifier sees them crossing between two peers.
//!
//! The verifier decodes the protocol itself, independently of any solution, so it can
//! count entries on the wire, check that each side sends exactly what the other lacks,
//! and draw a transcript a learner can read: `A → B  handshake peer#1 {peer#1: 3}`.

pub use crate::harness::duplex::Direction;
use crate::harness::redact::Redactor;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One protocol message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Message {
    /// "These are the heads of every log I hold; send me what comes after them."
    Handshake {
        peer: String,
        heads: BTreeMap<String, u64>,
    },
    /// One entry of one peer's log.
    Entry { peer: String, seq: u64, entry: String },
    /// "I have sent everything I will send: `sent` entries."
    End { sent: u64 },
}

/// A line from the wire: a message, or the reason it is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Message(Message),
    Garbled { text: String, why: String },
}

/// Decodes one line (without its `\n`).
pub fn decode(raw: &[u8]) -> Line {
    let text = String::from_utf8_lossy(raw);
    match serde_json::from_slice::<Message>(raw) {
        Ok(message) => Line::Message(message),
        Err(e) => Line::Garbled {
            text: crate::harness::records::shorten(text.trim_end(), 100),
            why: e.to_string(),
        },
    }
}

impl Line {
    /// The line for a transcript, ids redacted: `entry <peer#1, 2, "hi">`.
    pub fn show(&self, redactor: &mut Redactor) -> String {
        match self {
            Line::Message(Message::Handshake { peer, heads }) => {
                let peer = redactor.placeholder("peer", peer);
                // A head of 0 written out means the same as no head at all.
                let mut heads: Vec<String> = heads
                    .iter()
                    .filter(|(_, seq)| **seq > 0)
                    .map(|(p, seq)| format!("{}: {seq}", redactor.placeholder("peer", p)))
                    .collect();
                heads.sort();
                format!("handshake {peer} {{{}}}", heads.join(", "))
            }
            Line::Message(Message::Entry { peer, seq, entry }) => {
                let peer = redactor.placeholder("peer", peer);
                // Entries may embed ids and clocks (operations of exercises 05–07).
                let entry = redactor.redact_text("peer", entry);
                format!("entry <{peer}, {seq}, {}>", serde_json::Value::from(entry))
            }
            Line::Message(Message::End { sent }) => format!("end ({sent} sent)"),
            Line::Garbled { text, why } => format!("not a message: {text}  ({why})"),
        }
    }

    pub fn is_entry(&self) -> bool {
        matches!(self, Line::Message(Message::Entry { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_three_messages() {
        assert_eq!(
            decode(br#"{"type":"handshake","peer":"aa","heads":{"aa":3,"bb":1}}"#),
            Line::Message(Message::Handshake {
                peer: "aa".into(),
                heads: [("aa".to_string(), 3), ("bb".to_string(), 1)].into(),
            })
        );
        assert!(decode(br#"{"type":"entry","peer":"aa","seq":1,"entry":"x"}"#).is_entry());
        assert_eq!(
            decode(br#"{"type":"end","sent":0}"#),
            Line::Message(Message::End { sent: 0 })
        );
    }

    #[test]
    fn anything_else_is_garbled() {
        for line in [
            &b"hello"[..],
            br#"{"type":"hello"}"#,
            br#"{"type":"end"}"#,
            br#"{"type":"end","sent":1,"extra":true}"#,
            br#"{"type":"entry","peer":"a","seq":-1,"entry":"x"}"#,
        ] {
            assert!(
                matches!(decode(line), Line::Garbled { .. }),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn shows_messages_redacted() {
        let mut r = Redactor::new();
        let hs = decode(br#"{"type":"handshake","peer":"bb","heads":{"aa":3,"bb":1}}"#);
        assert_eq!(hs.show(&mut r), "handshake peer#1 {peer#1: 1, peer#2: 3}");
        let zero = decode(br#"{"type":"handshake","peer":"bb","heads":{"bb":0}}"#);
        assert_eq!(zero.show(&mut r), "handshake peer#1 {}");
        let e = decode(br#"{"type":"entry","peer":"aa","seq":2,"entry":"say \"hi\""}"#);
        assert_eq!(e.show(&mut r), r#"entry <peer#2, 2, "say \"hi\"">"#);
        assert_eq!(decode(br#"{"type":"end","sent":2}"#).show(&mut r), "end (2 sent)");
    }
}
