//! The client side of `put`, `del` and `get`: one request to one node, one answer,
//! within a deadline. A client never hangs: when the deadline passes it says that the
//! outcome is unknown (the write may still commit or abort later).

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::protocol::{MAX_LINE, Message};

/// How long a client waits for its answer, in all.
pub const DEADLINE: Duration = Duration::from_secs(3);

/// Sends `request` to the node at `address` and returns its answer, or why there is none.
pub async fn ask(address: &str, request: &Message) -> Result<Message, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(address)
            .await
            .map_err(|e| format!("cannot connect to {address}: {e}"))?;
        stream
            .write_all(request.line().as_bytes())
            .await
            .map_err(|e| format!("cannot send to {address}: {e}"))?;
        let mut reader = BufReader::new(stream).take(MAX_LINE as u64 + 1);
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) => Err(format!("{address} closed the connection without an answer")),
            Ok(_) => Message::parse(&line),
            Err(e) => Err(format!("cannot read from {address}: {e}")),
        }
    };
    match tokio::time::timeout(DEADLINE, exchange).await {
        Ok(answer) => answer,
        Err(_) => Err(format!(
            "no answer from {address} within {} s: the outcome is unknown",
            DEADLINE.as_secs()
        )),
    }
}
