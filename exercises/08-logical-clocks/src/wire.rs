//! The pull protocol's messages: one JSON object per line, over a TCP
//! connection that serves one pull and closes.
//!
//! ```text
//! server: {"type":"hello","peer":"5f1c2a9b3d4e6f70"}
//! client: {"type":"pull","after":12}
//! server: {"type":"record","record":{"peer":…,"seq":13,"key":…,"clock":…,"type":"put","value":…}}
//! server: … one per record held at a position after 12, in order of position
//! server: {"type":"end","last":20}
//! ```
//!
//! A message is a line that ends with `\n`: an unfinished line at the end of
//! a stream (the connection dropped) is not a message.

use std::io::{BufRead, ErrorKind, Read, Write};

use anyhow::{Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::record::Record;

/// The longest line either side accepts, in bytes (a record with a large value
/// fits; a stream that never sends `\n` does not exhaust memory).
pub const MAX_LINE: usize = 1 << 20;

/// One message of the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Message {
    /// The server's first line: who it is.
    Hello { peer: String },
    /// The client's only line: send me what you stored after position `after`.
    Pull { after: u64 },
    /// One record the server holds, at its position `record.seq`.
    Record { record: Record },
    /// The last line: everything the server held up to position `last` was sent.
    End { last: u64 },
    /// The server refuses the request.
    Error { message: String },
}

/// Writes one message as a line.
pub fn send(out: &mut impl Write, message: &Message) -> Result<()> {
    let mut line = serde_json::to_vec(message)?;
    line.push(b'\n');
    out.write_all(&line)?;
    Ok(())
}

/// Reads the next message; `None` at the end of the stream. A line that is too
/// long, unfinished, not JSON or not a message is an error naming it.
pub fn receive(input: &mut impl BufRead) -> Result<Option<Message>> {
    let mut line = Vec::new();
    let read = match input
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)
    {
        Ok(read) => read,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            bail!("nothing arrived for too long (the read timed out)")
        }
        Err(e) => return Err(e.into()),
    };
    if read == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        if line.len() > MAX_LINE {
            bail!("a line longer than {MAX_LINE} bytes");
        }
        bail!("the stream ended in the middle of a line: {}", shorten(&line));
    }
    serde_json::from_slice(&line)
        .map(Some)
        .map_err(|e| anyhow!("not a message: {} ({e})", shorten(&line)))
}

/// A line, shortened for an error message.
fn shorten(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end();
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_lines() -> Result<()> {
        let mut out = Vec::new();
        send(&mut out, &Message::Pull { after: 3 })?;
        assert_eq!(out, b"{\"type\":\"pull\",\"after\":3}\n");
        let mut input = out.as_slice();
        assert_eq!(receive(&mut input)?, Some(Message::Pull { after: 3 }));
        assert_eq!(receive(&mut input)?, None);
        Ok(())
    }

    #[test]
    fn refuses_garbage_and_unfinished_lines() {
        assert!(receive(&mut &b"hello\n"[..]).is_err());
        assert!(receive(&mut &b"{\"type\":\"end\",\"last\":1}"[..]).is_err());
        assert!(receive(&mut &b"{\"type\":\"end\",\"last\":1,\"x\":2}\n"[..]).is_err());
    }
}
