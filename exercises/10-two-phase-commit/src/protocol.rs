//! The messages: one JSON object per line over TCP, told apart by `"type"`.
//!
//! Nodes dial each other and send requests (`prepare`, `commit`, `abort`, `status`);
//! the dialled node answers on the same connection (`vote`, `ack`, `outcome`), naming
//! the transaction, so that many transactions can share one connection and answers may
//! come in any order. Clients dial a node and send `put`, `del` or `get`, one request
//! at a time, and get one answer each. Anything else is answered with `error` and the
//! connection is closed.

use serde::{Deserialize, Serialize};

/// The longest line a node reads; longer is garbage.
pub const MAX_LINE: usize = 64 * 1024;

/// A write: what a transaction does to one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Op {
    Put { key: String, value: String },
    Del { key: String },
}

impl Op {
    pub fn key(&self) -> &str {
        match self {
            Op::Put { key, .. } | Op::Del { key } => key,
        }
    }
}

/// A participant's vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vote {
    Yes,
    No,
}

/// What became of a transaction, as far as the answering node knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Commit,
    Abort,
    Unknown,
}

/// Every message of the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Message {
    // Node to node, requests.
    /// Phase 1: record `op` durably and lock its key, then vote.
    Prepare {
        txid: String,
        op: Op,
    },
    /// Phase 2: apply the prepared write. Answered with `ack`, also when already done.
    Commit {
        txid: String,
    },
    /// Phase 2: forget the prepared write. Answered with `ack`, also when unknown.
    Abort {
        txid: String,
    },
    /// "Do you know what became of this transaction?" Answered with `outcome`.
    Status {
        txid: String,
    },
    // Node to node, answers.
    Vote {
        txid: String,
        vote: Vote,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Ack {
        txid: String,
    },
    Outcome {
        txid: String,
        outcome: Outcome,
    },
    // Client to node.
    Put {
        key: String,
        value: String,
    },
    Del {
        key: String,
    },
    Get {
        key: String,
    },
    // Node to client.
    Committed {
        txid: String,
    },
    Aborted {
        txid: String,
        reason: String,
    },
    Refused {
        reason: String,
    },
    Value {
        key: String,
        value: Option<String>,
    },
    /// The request was not understood; the connection closes after it.
    Error {
        reason: String,
    },
}

impl Message {
    /// One line of JSON, newline included.
    pub fn line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }

    /// Parses one line, saying what is wrong with it if it is not a message.
    pub fn parse(line: &[u8]) -> Result<Message, String> {
        serde_json::from_slice(line).map_err(|e| format!("not a message of the protocol: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_look_like_the_text_says() {
        let prepare = Message::Prepare {
            txid: "a-1-1".into(),
            op: Op::Put {
                key: "k".into(),
                value: "v".into(),
            },
        };
        assert_eq!(
            prepare.line(),
            "{\"type\":\"prepare\",\"txid\":\"a-1-1\",\"op\":{\"type\":\"put\",\"key\":\"k\",\"value\":\"v\"}}\n"
        );
        let vote = Message::parse(br#"{"type":"vote","txid":"t","vote":"no","reason":"locked"}"#);
        assert_eq!(
            vote,
            Ok(Message::Vote {
                txid: "t".into(),
                vote: Vote::No,
                reason: Some("locked".into())
            })
        );
        assert!(Message::parse(b"{\"type\":\"commit\"}").is_err());
        assert!(Message::parse(b"hello").is_err());
    }
}
