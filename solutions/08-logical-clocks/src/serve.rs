//! `serve`: answers pulls, one connection at a time, until it is killed.
//!
//! The database is opened only while the answer is read from it, never while
//! it is written to the puller: a puller that stops reading (or reads slowly)
//! must not keep `put` and the others out of the database. So the answer is
//! read whole into memory (it is what is new to the puller), the database is
//! let go, and only then is the answer written. A
//! connection that closes before sending its request is not an error: the
//! verifier knocks that way to see whether the server is up.

use std::io::{BufReader, BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::store::Store;
use crate::wire::{Message, receive, send};

/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Listens on 127.0.0.1:`port` and answers every pull, for ever.
pub fn serve(db: &Path, port: u16) -> Result<()> {
    // The id never changes: read it once, and let go of the database.
    let peer = Store::open(db)?.peer().to_string();
    let listener =
        TcpListener::bind(("127.0.0.1", port)).with_context(|| format!("cannot listen on port {port}"))?;
    eprintln!("serve: {peer} listening on 127.0.0.1:{port}");
    for connection in listener.incoming() {
        let outcome = connection
            .map_err(anyhow::Error::from)
            .and_then(|stream| answer(db, &peer, stream));
        if let Err(error) = outcome {
            eprintln!("serve: a pull failed: {error:#}");
        }
    }
    Ok(())
}

/// Answers one connection: hello, the request, the records after it, end.
fn answer(db: &Path, peer: &str, stream: TcpStream) -> Result<()> {
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    let mut input = BufReader::new(stream.try_clone()?);
    let mut out = BufWriter::new(stream);
    send(
        &mut out,
        &Message::Hello {
            peer: peer.to_string(),
        },
    )?;
    out.flush()?;
    let after = match receive(&mut input) {
        Ok(None) => return Ok(()), // A knock: nothing asked.
        Ok(Some(Message::Pull { after })) => after,
        Ok(Some(other)) => return refuse(&mut out, format!("expected a pull request, got {other:?}")),
        Err(error) => return refuse(&mut out, format!("{error:#}")),
    };
    let answer = read_answer(db, after)?;
    out.write_all(&answer)?;
    out.flush()?;
    Ok(())
}

/// The whole answer to a pull after `after`: the record messages and `end`,
/// read while the database is open; it is closed when this returns.
fn read_answer(db: &Path, after: u64) -> Result<Vec<u8>> {
    let store = Store::open(db)?;
    // Only what is held now: a record stored while we answer comes next time.
    let last = store.last_seq()?;
    let mut answer = Vec::new();
    for record in store.log_after(after) {
        let record = record?;
        if record.seq > last {
            break;
        }
        send(&mut answer, &Message::Record { record })?;
    }
    send(&mut answer, &Message::End { last })?;
    Ok(answer)
}

fn refuse(out: &mut impl Write, message: String) -> Result<()> {
    send(
        out,
        &Message::Error {
            message: message.clone(),
        },
    )?;
    out.flush()?;
    anyhow::bail!("refused a request: {message}")
}
