//! A whole session: both halves at once, over one duplex stream.
//!
//! The two halves run side by side, one thread each, because each side must
//! read while it writes: two sides that both write everything before reading
//! block each other as soon as a pipe is full. The receiving half tells the
//! sending half the two `want`s as it learns them.
//!
//! A session is done when this side has sent its `done` and closed its
//! output, and has read the other side's `done` and the end of the stream.
//! If anything fails, the error is returned at once; every node stored before
//! it stays stored (each one was stored whole, parents first).

use std::io::{BufReader, Read};
use std::sync::{Arc, mpsc};
use std::thread;

use anyhow::{Result, anyhow};

use crate::receive::{Received, receive};
use crate::send::send;
use crate::store::Dag;
use crate::stream::CloseWrite;

/// What a session did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub sent: u64,
    pub received: Received,
}

/// Replicates `dag` with the peer at the other end of `input` and `output`.
pub fn replicate<R, W>(dag: Arc<Dag>, input: R, output: W) -> Result<Summary>
where
    R: Read,
    W: CloseWrite + Send + 'static,
{
    let have = dag.tips()?;
    let (events, wants) = mpsc::channel();
    let sender = {
        let (dag, have) = (dag.clone(), have.clone());
        thread::spawn(move || send(&dag, &have, wants, output))
    };
    let received = receive(&dag, BufReader::new(input), &have, events);
    // What was stored is kept, even when the session fails.
    dag.flush()?;
    // On an error, the sending thread is left behind: the process is about to exit.
    let received = received?;
    let sent = sender
        .join()
        .map_err(|_| anyhow!("the sending thread panicked"))??;
    Ok(Summary { sent, received })
}
