//! The room's relays: the two ends of a link meet here, and every line between them is
//! checked before it is passed on. Only the exercise's protocol crosses (each line at
//! most [`MAX_PROTOCOL_LINE`] bytes, decoded with the exercise's own decoder, at most
//! [`LINE_BURST`] at once then [`LINE_RATE`] a second). A peer that sends anything
//! else is named on the board and its link is cut; the rest of the room goes on.

use super::limiter::Bucket;
use super::lines::{Read, read_line};
use super::mesh::ListenEnd;
use super::protocol::{Reply, Side, line};
use super::server::{Shared, send};
use crate::course::replication::wire::{Line, Message, decode};
use crate::harness::records::shorten;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufRead, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{oneshot, watch};

/// The longest protocol line a relay passes on.
pub const MAX_PROTOCOL_LINE: usize = 64 * 1024;
/// Lines one side of a link may send at once, then [`LINE_RATE`] a second.
const LINE_BURST: u32 = 5_000;
const LINE_RATE: f64 = 2_000.0;
/// How long a dialling end waits for the listening end.
const PAIR_WITHIN: Duration = Duration::from_secs(5);

/// Serves one end of a link.
pub async fn serve<R: AsyncBufRead + Unpin + Send + 'static>(
    learner: u32,
    link: u32,
    side: Side,
    reader: R,
    mut write: OwnedWriteHalf,
    shared: Shared,
) {
    let step = {
        let mut room = shared.lock();
        match room.mesh.links.get_mut(&link) {
            None => Step::Refuse(format!("there is no link {link} (the topology changed?)")),
            Some(l) if l.cut.is_some() => Step::Refuse(format!("link {link} is cut")),
            Some(l) if side == Side::Dial && l.dialler != learner => {
                Step::Refuse(format!("link {link} is not yours to dial"))
            }
            Some(l) if side == Side::Listen && l.listener != learner => {
                Step::Refuse(format!("link {link} does not lead to you"))
            }
            Some(l) => match side {
                Side::Dial => {
                    let (tx, rx) = oneshot::channel();
                    l.waiting = Some(tx);
                    Step::Wait(rx, l.closing.subscribe())
                }
                Side::Listen => {
                    if let Some(waiting) = l.waiting.take() {
                        let _ = waiting.send((Box::new(reader), write));
                    }
                    return; // Handed over to the dialling end (or no one waits).
                }
            },
        }
    };
    let (pairing, closing) = match step {
        Step::Wait(pairing, closing) => (pairing, closing),
        Step::Refuse(reason) => {
            send(&mut write, &line(&Reply::Refused { reason })).await;
            return;
        }
    };
    shared.lock().mesh.ask_open(link);
    let Ok(Ok((listen_reader, mut listen_write))) = tokio::time::timeout(PAIR_WITHIN, pairing).await else {
        return; // The listening peer did not answer: the dialler will retry.
    };
    let dialler_ok = send(&mut write, &line(&Reply::Ok)).await;
    let listener_ok = send(&mut listen_write, &line(&Reply::Ok)).await;
    if !(dialler_ok && listener_ok) {
        return;
    }
    let listener = shared.lock().mesh.links.get(&link).map(|l| l.listener);
    let Some(listener) = listener else { return };
    let forward = pass_lines(
        reader,
        listen_write,
        link,
        learner,
        shared.clone(),
        closing.clone(),
    );
    let backward = pass_lines(listen_reader, write, link, listener, shared, closing);
    // When either direction ends, the link's connection ends: both sides reconnect.
    tokio::select! {
        _ = forward => {}
        _ = backward => {}
    }
}

/// What a relay connection does after its hello.
enum Step {
    /// A dialling end waits for its listening end.
    Wait(oneshot::Receiver<ListenEnd>, watch::Receiver<bool>),
    Refuse(String),
}

/// Passes lines from `sender`'s side to the other until either closes, the link is
/// cut, or the sender breaks the rules (then it is named and the link cut).
async fn pass_lines<R: AsyncBufRead + Unpin>(
    mut from: R,
    mut to: OwnedWriteHalf,
    link: u32,
    sender: u32,
    shared: Shared,
    mut closing: watch::Receiver<bool>,
) {
    let mut bucket = Bucket::new(LINE_BURST, LINE_RATE, Instant::now());
    loop {
        let read = tokio::select! {
            read = read_line(&mut from, MAX_PROTOCOL_LINE, None) => read,
            _ = closing.wait_for(|closed| *closed) => break,
        };
        let raw = match read {
            Read::Line(raw) => raw,
            Read::TooLong => {
                name(
                    &shared,
                    link,
                    sender,
                    format!("sent a line longer than {MAX_PROTOCOL_LINE} bytes"),
                );
                break;
            }
            Read::Closed | Read::TimedOut => break,
        };
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let message = match decode(&raw) {
            Line::Message(message) => message,
            Line::Garbled { text, why } => {
                name(&shared, link, sender, format!("sent garbage: {text} ({why})"));
                break;
            }
        };
        if !bucket.take(Instant::now()) {
            name(
                &shared,
                link,
                sender,
                format!("flooded the link (more than {LINE_RATE} lines a second)"),
            );
            break;
        }
        let mut raw = raw;
        raw.push(b'\n');
        if to.write_all(&raw).await.is_err() {
            break;
        }
        if let Some(l) = shared.lock().mesh.links.get_mut(&link) {
            l.lines += 1;
            l.last = Some((sender, crossing(&message)));
        }
    }
    let _ = to.shutdown().await;
}

/// A message as the board shows it crossing a link.
fn crossing(message: &Message) -> String {
    match message {
        Message::Handshake { heads, .. } => format!("handshake ({} logs)", heads.len()),
        Message::Entry { seq, entry, .. } => format!("entry {seq}: {}", shorten(entry, 40)),
        Message::End { sent } => format!("end ({sent} sent)"),
    }
}

/// Names a learner on the board for what their peer sent, and cuts the link.
fn name(shared: &Shared, link: u32, learner: u32, what: String) {
    let mut room = shared.lock();
    let who = room
        .roster
        .learner(learner)
        .map_or_else(|| format!("learner {learner}"), |l| l.name.clone());
    let why = format!("{who}'s peer {what}");
    if let Some(l) = room.roster.learner_mut(learner) {
        l.named = Some(why.clone());
    }
    room.mesh.name(learner);
    let _ = room.mesh.set_cut(link, Some(why));
}
