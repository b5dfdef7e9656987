//! The port a node listens on: peers and clients dial it and send requests.
//!
//! Each request is answered on the connection it came on, in its own task, so a slow
//! transaction never holds up the others (and their durable writes share a flush).
//! A line that is not a message of the protocol — or longer than [`MAX_LINE`] — gets
//! an `error` answer and the connection is closed: a hostile stream never reaches
//! the database.

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::node::Node;
use crate::protocol::{MAX_LINE, Message};

/// Accepts connections forever.
pub async fn serve(listener: TcpListener, node: Arc<Node>) {
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(connection(stream, node.clone()));
        }
    }
}

async fn connection(stream: TcpStream, node: Arc<Node>) {
    let (reader, mut writer) = stream.into_split();
    let (answers, mut outgoing) = mpsc::unbounded_channel::<Message>();
    let writing = tokio::spawn(async move {
        // Every answer ready goes out in one write; an `error` is the last.
        let mut batch = String::new();
        while let Some(answer) = outgoing.recv().await {
            let mut last = matches!(answer, Message::Error { .. });
            batch.push_str(&answer.line());
            while !last && let Ok(more) = outgoing.try_recv() {
                last = matches!(more, Message::Error { .. });
                batch.push_str(&more.line());
            }
            if writer.write_all(batch.as_bytes()).await.is_err() || last {
                break;
            }
            batch.clear();
        }
    });
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut limited = (&mut reader).take(MAX_LINE as u64 + 1);
        let problem = match limited.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) if line.len() > MAX_LINE => format!("a line longer than {MAX_LINE} bytes"),
            Ok(_) => match Message::parse(&line) {
                Ok(request) => {
                    let (node, answers) = (node.clone(), answers.clone());
                    tokio::spawn(async move {
                        let _ = answers.send(node.handle(request).await);
                    });
                    continue;
                }
                Err(problem) => problem,
            },
        };
        let _ = answers.send(Message::Error { reason: problem });
        break;
    }
    drop(answers);
    let _ = writing.await;
}
