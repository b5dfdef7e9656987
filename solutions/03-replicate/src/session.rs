//! A whole session: two databases, one duplex stream, both halves at once.
//!
//! Each side must read and write at the same time. Suppose both sides first
//! sent their whole diff and only then read: with large diffs, both outputs
//! fill up (a pipe holds some 64 KiB), both sides block in a write, and
//! neither ever reads again. So one thread sends and another receives, and
//! the calling thread waits for both and reports the first failure at once.

use std::io::Read;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};
use logs::Log;

use crate::receive::{Received, receive};
use crate::send::send;
use crate::stream::CloseWrite;

/// What a finished session did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Entries we sent.
    pub sent: u64,
    /// Entries the other side sent us.
    pub received: u64,
    /// How many of those were new to us and are now stored.
    pub stored: u64,
}

/// What one half reports when it is done.
enum Half {
    Sent(Result<Option<u64>>),
    Received(Result<Received>),
}

/// Replicates `log` with the database at the other end of a duplex stream:
/// we read its messages from `input` and write ours to `output`.
///
/// Returns once we have sent our `end` and closed `output`, and have read the
/// other side's `end` and then the end of the stream. On an error, returns
/// at once, without waiting for the other side; the entries received and
/// checked before the error are stored.
pub fn replicate<R, W>(log: &Log, input: R, output: W) -> Result<Summary>
where
    R: Read + Send + 'static,
    W: CloseWrite + Send + 'static,
{
    let our_heads = log.heads().context("cannot read our heads")?;
    let (their_heads_tx, their_heads_rx) = mpsc::sync_channel(1);
    let (done_tx, done) = mpsc::channel();

    let sender = (log.clone(), our_heads.clone(), done_tx.clone());
    thread::spawn(move || {
        let (log, our_heads, done) = sender;
        let outcome = send(&log, &our_heads, output, their_heads_rx);
        let _ = done.send(Half::Sent(outcome));
    });
    let receiver = (log.clone(), done_tx);
    thread::spawn(move || {
        let (log, done) = receiver;
        let outcome = receive(&log, our_heads, input, move |heads| {
            let _ = their_heads_tx.send(heads);
        });
        let _ = done.send(Half::Received(outcome));
    });

    let mut sent = None;
    let mut received: Option<Received> = None;
    loop {
        if let (Some(sent), Some(received)) = (sent, received) {
            return Ok(Summary {
                sent,
                received: received.entries,
                stored: received.stored,
            });
        }
        // Both threads hold a sender until they report, so this only fails
        // if one of them panicked.
        match done
            .recv()
            .context("a thread of the session stopped without a word")?
        {
            Half::Sent(Ok(Some(count))) => sent = Some(count),
            // The receiving half stopped before the handshake; it says why.
            Half::Sent(Ok(None)) => {}
            Half::Sent(Err(error)) => {
                // Our output broke, most often because the other side stopped
                // reading; what it sent last usually says why, so give the
                // receiving half a moment to report first.
                return match done.recv_timeout(Duration::from_millis(200)) {
                    Ok(Half::Received(Err(reason))) => Err(reason),
                    _ => Err(error),
                };
            }
            Half::Received(Ok(outcome)) => received = Some(outcome),
            Half::Received(Err(error)) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::Shutdown;
    use std::os::unix::net::UnixStream;

    use logs::Record;

    use super::*;
    use crate::protocol::{Message, decode, encode};

    fn open() -> (tempfile::TempDir, Log) {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path()).unwrap();
        (dir, log)
    }

    fn record(peer: &str, seq: u64, entry: &str) -> Record {
        Record {
            peer: peer.to_string(),
            seq,
            entry: entry.to_string(),
        }
    }

    fn everything(log: &Log) -> Vec<Record> {
        let mut all = Vec::new();
        for peer in log.heads().unwrap().keys() {
            all.extend(log.entries_after(peer, 0).unwrap());
        }
        all
    }

    /// Runs two sessions against each other over a socket pair, as two
    /// processes would over two pipes.
    fn sync(a: &Log, b: &Log) -> (Summary, Summary) {
        let (a_end, b_end) = UnixStream::pair().unwrap();
        let (a_input, b_input) = (a_end.try_clone().unwrap(), b_end.try_clone().unwrap());
        thread::scope(|scope| {
            let a_side = scope.spawn(|| replicate(a, a_input, a_end));
            let b_side = scope.spawn(|| replicate(b, b_input, b_end));
            (a_side.join().unwrap().unwrap(), b_side.join().unwrap().unwrap())
        })
    }

    /// Runs a session against a scripted other side that sends `lines` and
    /// closes; returns the session's outcome and the messages it sent.
    fn against(log: &Log, lines: &[String]) -> (Result<Summary>, Vec<Message>) {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let input = ours.try_clone().unwrap();
        let session = {
            let log = log.clone();
            thread::spawn(move || replicate(&log, input, ours))
        };
        for line in lines {
            theirs.write_all(line.as_bytes()).unwrap();
        }
        theirs.shutdown(Shutdown::Write).unwrap();
        let mut sent = String::new();
        theirs.read_to_string(&mut sent).unwrap();
        let messages = sent.lines().map(|line| decode(line).unwrap()).collect();
        (session.join().unwrap(), messages)
    }

    fn handshake(peer: &str, heads: &[(&str, u64)]) -> String {
        encode(&Message::Handshake {
            peer: peer.to_string(),
            heads: heads.iter().map(|&(peer, seq)| (peer.to_string(), seq)).collect(),
        })
    }

    fn entry(peer: &str, seq: u64, text: &str) -> String {
        encode(&Message::from(record(peer, seq, text)))
    }

    fn end(sent: u64) -> String {
        encode(&Message::End { sent })
    }

    fn error_of(outcome: Result<Summary>) -> String {
        format!("{:#}", outcome.unwrap_err())
    }

    const CAROL: &str = "ca201000000000000";

    #[test]
    fn two_databases_converge_and_then_have_nothing_to_send() {
        let (_a_dir, alice) = open();
        let (_b_dir, bob) = open();
        for text in ["a1", "a2", "a3"] {
            alice.append(text).unwrap();
        }
        for text in ["b1", "b2"] {
            bob.append(text).unwrap();
        }
        bob.store(&record(alice.peer(), 1, "a1")).unwrap();

        let (from_alice, from_bob) = sync(&alice, &bob);
        assert_eq!(
            (from_alice.sent, from_alice.received, from_alice.stored),
            (2, 2, 2)
        );
        assert_eq!((from_bob.sent, from_bob.received, from_bob.stored), (2, 2, 2));
        assert_eq!(everything(&alice), everything(&bob));
        assert_eq!(everything(&alice).len(), 5);

        let (again_alice, again_bob) = sync(&alice, &bob);
        assert_eq!((again_alice.sent, again_bob.sent), (0, 0));
    }

    #[test]
    fn logs_travel_on_through_a_database_that_only_holds_a_copy() {
        let (_a_dir, alice) = open();
        let (_b_dir, bob) = open();
        let (_c_dir, carol) = open();
        carol.append("from carol").unwrap();
        sync(&carol, &bob);
        sync(&bob, &alice);
        assert_eq!(alice.entries_after(carol.peer(), 0).unwrap().len(), 1);
    }

    #[test]
    fn big_diffs_both_ways_do_not_deadlock() {
        let (_a_dir, alice) = open();
        let (_b_dir, bob) = open();
        // About a megabyte each way: far more than a socket buffer holds.
        let text = "x".repeat(300);
        for _ in 0..3000 {
            alice.append(&text).unwrap();
            bob.append(&text).unwrap();
        }
        let (from_alice, from_bob) = sync(&alice, &bob);
        assert_eq!((from_alice.sent, from_bob.sent), (3000, 3000));
        assert_eq!(everything(&alice), everything(&bob));
    }

    #[test]
    fn the_session_sends_its_handshake_then_what_is_missing_then_end() {
        let (_dir, log) = open();
        for text in ["one", "two", "three"] {
            log.append(text).unwrap();
        }
        let me = log.peer().to_string();
        let (outcome, sent) = against(&log, &[handshake(CAROL, &[(&me, 1)]), end(0)]);
        assert_eq!(outcome.unwrap().sent, 2);
        assert_eq!(
            sent,
            [
                decode(handshake(&me, &[(&me, 3)]).trim_end()).unwrap(),
                Message::from(record(&me, 2, "two")),
                Message::from(record(&me, 3, "three")),
                Message::End { sent: 2 },
            ]
        );
    }

    #[test]
    fn identical_duplicates_are_ignored() {
        let (_dir, log) = open();
        log.store(&record(CAROL, 1, "c1")).unwrap();
        let script = [
            handshake(CAROL, &[(CAROL, 2)]),
            entry(CAROL, 1, "c1"),
            entry(CAROL, 2, "c2"),
            end(2),
        ];
        let summary = against(&log, &script).0.unwrap();
        assert_eq!((summary.received, summary.stored), (2, 1));
        assert_eq!(log.head(CAROL).unwrap(), 2);
    }

    #[test]
    fn a_malformed_message_stops_the_session_and_keeps_what_came_before() {
        let (_dir, log) = open();
        let script = [
            handshake(CAROL, &[(CAROL, 2)]),
            entry(CAROL, 1, "c1"),
            "{\"type\":\"entry\"}\n".into(),
        ];
        let error = error_of(against(&log, &script).0);
        assert!(error.starts_with("line 3: not a valid entry message"), "{error}");
        assert_eq!(log.entries_after(CAROL, 0).unwrap(), [record(CAROL, 1, "c1")]);
    }

    #[test]
    fn a_gap_is_refused() {
        let (_dir, log) = open();
        let script = [
            handshake(CAROL, &[(CAROL, 3)]),
            entry(CAROL, 1, "c1"),
            entry(CAROL, 3, "c3"),
            end(2),
        ];
        let error = error_of(against(&log, &script).0);
        assert!(error.starts_with("line 3: a gap in the log of"), "{error}");
        assert_eq!(log.head(CAROL).unwrap(), 1);
    }

    #[test]
    fn a_conflicting_duplicate_is_refused_and_changes_nothing() {
        let (_dir, log) = open();
        log.store(&record(CAROL, 1, "c1")).unwrap();
        let script = [handshake(CAROL, &[(CAROL, 1)]), entry(CAROL, 1, "forged"), end(1)];
        let error = error_of(against(&log, &script).0);
        assert!(error.starts_with("line 2: conflicting entry"), "{error}");
        assert_eq!(log.entry(CAROL, 1).unwrap().as_deref(), Some("c1"));
    }

    #[test]
    fn nobody_else_can_have_news_of_our_own_log() {
        let (_dir, log) = open();
        log.append("mine").unwrap();
        let me = log.peer().to_string();
        let script = [
            handshake(CAROL, &[(&me, 2)]),
            entry(&me, 1, "mine"),
            entry(&me, 2, "forged"),
            end(2),
        ];
        let error = error_of(against(&log, &script).0);
        assert!(error.starts_with("line 3: entry #2 of our own log"), "{error}");
        assert_eq!(log.head(&me).unwrap(), 1);
    }

    #[test]
    fn a_stream_cut_before_end_is_an_error_and_keeps_what_arrived() {
        let (_dir, log) = open();
        let script = [
            handshake(CAROL, &[(CAROL, 5)]),
            entry(CAROL, 1, "c1"),
            entry(CAROL, 2, "c2"),
        ];
        let error = error_of(against(&log, &script).0);
        assert_eq!(
            error,
            "the other side closed the stream before saying end: 2 entries received, kept"
        );
        assert_eq!(log.head(CAROL).unwrap(), 2);
    }

    #[test]
    fn an_error_ends_the_session_without_waiting_for_the_other_side() {
        let (_dir, log) = open();
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let input = ours.try_clone().unwrap();
        let (done_tx, done) = mpsc::channel();
        {
            let log = log.clone();
            thread::spawn(move || done_tx.send(replicate(&log, input, ours)));
        }
        // A gap, and then the other side keeps the stream open, silent.
        theirs
            .write_all(handshake(CAROL, &[(CAROL, 2)]).as_bytes())
            .unwrap();
        theirs.write_all(entry(CAROL, 2, "c2").as_bytes()).unwrap();
        let outcome = done
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("the session hangs");
        assert!(error_of(outcome).starts_with("line 2: a gap"));
        drop(theirs);
    }

    #[test]
    fn out_of_order_messages_are_refused() {
        let cases: [(&[String], &str); 5] = [
            (&[entry(CAROL, 1, "c1")], "line 1: an entry before the handshake"),
            (
                &[handshake(CAROL, &[]), handshake(CAROL, &[])],
                "line 2: a second handshake",
            ),
            (
                &[handshake(CAROL, &[(CAROL, 1)]), entry(CAROL, 1, "c1"), end(2)],
                "line 3: the other side says it sent 2",
            ),
            (
                &[handshake(CAROL, &[]), end(0), end(0)],
                "line 3: an end after end",
            ),
            (&["not json\n".to_string()], "line 1: not JSON"),
        ];
        for (script, expected) in cases {
            let (_dir, log) = open();
            let error = error_of(against(&log, script).0);
            assert!(error.starts_with(expected), "{error}");
        }
    }
}
