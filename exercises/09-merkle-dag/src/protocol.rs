//! The messages of merkle-dag/1: one JSON object per line, four types.
//!
//! Each direction of a session carries exactly: one `have`, one `want`, any
//! number of `node`s, one `done`; then the sender closes its output.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::node::Node;
use crate::store::Tips;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Message {
    /// "Of each log named, I hold the nodes 1 to `seq`; node `seq` has `key`."
    Have { logs: Tips },
    /// "Of each log named, I hold the nodes 1 to the seq given: send the rest."
    Want { logs: BTreeMap<String, u64> },
    /// One node, with its signature.
    Node(Node),
    /// "I have sent everything I will send: `sent` nodes."
    Done { sent: u64 },
}

/// The longest line a peer accepts: far more than any honest node needs.
pub const MAX_LINE: usize = 1 << 20;

/// Writes one message as a line (not flushed).
pub fn write(out: &mut impl Write, message: &Message) -> Result<()> {
    serde_json::to_writer(&mut *out, message)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Reads the next line: `None` at the end of the stream.
pub fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<Option<()>> {
    line.clear();
    let read = input.by_ref().take(MAX_LINE as u64 + 1).read_until(b'\n', line)?;
    if read == 0 {
        return Ok(None);
    }
    Ok(Some(()))
}

/// Decodes a line into a message, or says why it is not one.
pub fn decode(line: &[u8]) -> Result<Message> {
    if line.len() > MAX_LINE {
        bail!("a line longer than {MAX_LINE} bytes");
    }
    if !line.ends_with(b"\n") {
        bail!("a last line without its newline (the stream was cut inside it)");
    }
    match serde_json::from_slice(line) {
        Ok(message) => Ok(message),
        Err(e) => bail!("not a valid message ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lines_of_json_with_a_type() -> Result<()> {
        let mut out = Vec::new();
        write(&mut out, &Message::Done { sent: 2 })?;
        assert_eq!(out, b"{\"type\":\"done\",\"sent\":2}\n");
        let node = br#"{"type":"node","key":"k","links":[],"value":"v","log":"l","seq":1,"previous":null,"sig":"s"}"#;
        assert!(matches!(decode(&[&node[..], b"\n"].concat())?, Message::Node(_)));
        let extra = br#"{"type":"node","key":"k","links":[],"value":"v","log":"l","seq":1,"previous":null,"sig":"s","x":1}"#;
        assert!(decode(&[&extra[..], b"\n"].concat()).is_err());
        let missing = br#"{"type":"node","key":"k","links":[],"value":"v","log":"l","seq":1,"sig":"s"}"#;
        assert!(
            decode(&[&missing[..], b"\n"].concat()).is_err(),
            "previous is required, null for seq 1"
        );
        assert!(decode(b"{\"type\":\"done\",\"sent\":-1}\n").is_err());
        Ok(())
    }
}
