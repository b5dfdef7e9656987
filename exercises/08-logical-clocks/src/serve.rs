//! `serve`: answers pulls, one connection at a time, until it is killed.
//!
//! The database is opened only while the answer is read from it, never while
//! it is written to the puller: a puller that stops reading (or reads slowly)
//! must not keep `put` and the others out of the database. A
//! connection that closes before sending its request is not an error: the
//! verifier knocks that way to see whether the server is up.

#[allow(unused_imports)] // Step 4 uses them.
use std::io::{BufReader, BufWriter};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

#[allow(unused_imports)] // Step 4 uses it.
use crate::store::Store;
#[allow(unused_imports)] // Step 4 uses them.
use crate::wire::{Message, receive, send};
#[allow(unused_imports)]
use std::io::Write as _;

/// How long a client may take to send its request.
#[allow(dead_code)] // Step 4 uses it.
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

/// Answers one connection as the text's *Pulling* says, `serve`'s side: hello
/// (`peer`), one request, the answer. The end of the stream before a request
/// is a knock: return `Ok(())`. A request that is not a pull: an `error`
/// message. The database is closed before any of the answer is written.
fn answer(_db: &Path, _peer: &str, _stream: TcpStream) -> Result<()> {
    // TODO (step 4). Flush hello before you read the request: a BufWriter
    // keeps it otherwise, and both sides wait for ever.
    anyhow::bail!("not implemented yet: serve's answer — see exercises/08-logical-clocks/README.md")
}
