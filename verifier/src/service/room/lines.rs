//! Reading one line from a stranger: at most a given number of bytes, within a
//! deadline. A line that does not end in time or in size is refused, never buffered.

use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// What reading a line gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// A line, without its `\n`.
    Line(Vec<u8>),
    /// The other side closed the connection.
    Closed,
    /// More than `max` bytes without a `\n`.
    TooLong,
    /// Nothing complete within the deadline.
    TimedOut,
}

/// Reads one line of at most `max` bytes within `within`.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
    within: Option<Duration>,
) -> Read {
    let mut line = Vec::new();
    let reading = async {
        loop {
            let buffer = match reader.fill_buf().await {
                Ok(buffer) => buffer,
                Err(_) => return Read::Closed,
            };
            if buffer.is_empty() {
                return Read::Closed;
            }
            let (taken, done) = match buffer.iter().position(|b| *b == b'\n') {
                Some(end) => (end + 1, true),
                None => (buffer.len(), false),
            };
            line.extend_from_slice(&buffer[..taken]);
            reader.consume(taken);
            if done {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return match line.len() > max {
                    true => Read::TooLong,
                    false => Read::Line(std::mem::take(&mut line)),
                };
            }
            if line.len() > max {
                return Read::TooLong;
            }
        }
    };
    match within {
        Some(within) => tokio::time::timeout(within, reading)
            .await
            .unwrap_or(Read::TimedOut),
        None => reading.await,
    }
}
