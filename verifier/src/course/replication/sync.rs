//! Conversations: two peers replicating through the verifier's relay, or one peer
//! talking to the verifier itself.
//!
//! Every message is decoded and judged against the protocol independently of any
//! solution: a side must open with its handshake, send exactly the entries the other
//! side's handshake says it lacks (each log in order, nothing twice, nothing extra),
//! close with an `end` that counts them, and exit once both directions are done.
//!
//! [`judge_direction`]'s `Err(String)` says how the learner's program broke the
//! protocol, for a `Failure`; it is a plain message on purpose, not a harness error.

use super::wire::{self, Direction, Line, Message};
use crate::harness::diagnosis::{Sides, diagnose};
use crate::harness::duplex::{self, Fault, Mode};
use crate::harness::redact::{Redactor, placeholder_number};
use crate::harness::timeline::Timeline;
use crate::harness::trial::{Failure, Peer, RunLog, Trial, Who, shown_line};
use crate::runner::{Ending, Invocation, Stderr, run, seconds};
use std::collections::BTreeMap;
use std::time::Duration;

/// What happened in a relayed conversation.
#[derive(Debug, Clone)]
pub struct SyncRun {
    pub a: Ending,
    pub b: Ending,
    /// Every line that crossed, in arrival order, and whether it was forwarded.
    pub lines: Vec<(Direction, Line, bool)>,
    pub fault_fired: bool,
}

impl SyncRun {
    /// How many entry messages were forwarded in one direction.
    pub fn entries(&self, direction: Direction) -> usize {
        self.lines
            .iter()
            .filter(|(d, line, forwarded)| *d == direction && *forwarded && line.is_entry())
            .count()
    }
}

/// What a peer said to the verifier, which played the other side.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub ending: Ending,
    pub replies: Vec<Line>,
    pub stderr: String,
    /// From the start of the peer to its exit.
    pub elapsed: Duration,
}

/// How a sync over plain pipes ended, and how long it took.
#[derive(Debug, Clone, Copy)]
pub struct PlainRun {
    pub a: Ending,
    pub b: Ending,
    pub elapsed: Duration,
}

/// The peer id the verifier uses when it plays a peer itself.
pub const VERIFIER_PEER: &str = "feedfacecafebeef";

impl Trial<'_> {
    /// Replicates A with B through the relay. Both must follow the protocol and exit 0;
    /// the transcript shows each direction's messages.
    pub fn sync(&mut self, a: Peer, b: Peer) -> Result<SyncRun, Failure> {
        let run = self.relay(&a, &b, Fault::None)?;
        // Placeholders are numbered in the transcript's stable order first; then the
        // wire in order of arrival is kept for the report, whatever happens next.
        let shown = grouped(&run.lines, &mut self.redactor);
        self.remember_wire(&run.lines);
        let names = [self.describe(&a, "A"), self.describe(&b, "B")];
        if let Some(failure) = silent_side(&run, &names) {
            return Err(failure);
        }
        for (direction, ending, name) in [
            (Direction::AtoB, run.a, &names[0]),
            (Direction::BtoA, run.b, &names[1]),
        ] {
            if !ending.success() {
                return Err(self.sync_failure(&run, direction, ending, name));
            }
        }
        let handshakes = handshakes(&run);
        for direction in [Direction::AtoB, Direction::BtoA] {
            let (sender, receiver) = match direction {
                Direction::AtoB => (&handshakes[0], &handshakes[1]),
                Direction::BtoA => (&handshakes[1], &handshakes[0]),
            };
            let sent: Vec<&Line> = run
                .lines
                .iter()
                .filter(|(d, _, _)| *d == direction)
                .map(|(_, line, _)| line)
                .collect();
            let side = match direction {
                Direction::AtoB => &names[0],
                Direction::BtoA => &names[1],
            };
            if let Err(problem) = judge_direction(&sent, sender.as_ref(), receiver.as_ref()) {
                return Err(self
                    .fail(format!("{side} broke the protocol: {problem}"))
                    .detail("The exercise text specifies every message; below is what crossed the wire."));
            }
        }
        self.transcript.extend(shown);
        Ok(run)
    }

    /// Replicates A with B and injects a fault. The peers may exit with an error, but
    /// must exit: a hang still fails. The transcript notes the fault, not the messages
    /// (how many got through before it depends on timing).
    pub fn sync_with_fault(&mut self, a: Peer, b: Peer, fault: Fault) -> Result<SyncRun, Failure> {
        let run = self.relay(&a, &b, fault)?;
        self.remember_wire(&run.lines);
        for (ending, name) in [(run.a, self.describe(&a, "A")), (run.b, self.describe(&b, "B"))] {
            if let Ending::TimedOut(limit) = ending {
                return Err(self
                    .fail(format!("Timed out after {} while waiting for {name} to exit", seconds(limit)))
                    .detail("After the stream broke, a peer must notice end-of-file on stdin and exit (with an error: it never got `end`)."));
            }
            if ending.flooded() {
                return Err(self.fail(format!("{name} {}", ending.describe())));
            }
        }
        let what = match fault {
            Fault::None => "nothing".to_string(),
            Fault::CutAfter(_) => "the verifier cut the stream in the middle (seeded)".to_string(),
            Fault::KillAAfter(_) => "the verifier killed A with SIGKILL in the middle (seeded)".to_string(),
        };
        self.transcript.push(format!(
            "$ {} ⇄ {}",
            self.line_of(&a).unwrap_or_default(),
            self.line_of(&b).unwrap_or_default()
        ));
        self.note(&what);
        Ok(run)
    }

    /// Runs one peer with the verifier playing the other side: `messages` (lines,
    /// without their `\n`; any bytes) are fed to its stdin, then end-of-file; its replies
    /// are decoded. The transcript shows what the verifier sent; [`Trial::show_replies`]
    /// adds what the peer answered.
    pub fn converse(&mut self, peer: Peer, messages: &[impl AsRef<[u8]>]) -> Result<Conversation, Failure> {
        let invocation = self.invocation(peer.who, peer.program, &peer.args)?;
        self.transcript.push(format!(
            "$ {}   (the verifier plays the other side)",
            shown_line(peer.who, &invocation)
        ));
        let mut input = Vec::new();
        for message in messages {
            let line = wire::decode(message.as_ref()).show(&mut self.redactor);
            self.transcript.push(format!("verifier → A  {line}"));
            input.extend_from_slice(message.as_ref());
            input.push(b'\n');
        }
        self.talk(invocation, peer.program, &input, true)
    }

    /// Like [`Trial::converse`] for a conversation too long to show: the transcript
    /// shows `why` instead of the messages. A hang is not judged here but returned,
    /// for checks that time the peer and name a slow one as such.
    pub fn converse_unshown(&mut self, peer: Peer, input: &[u8], why: &str) -> Result<Conversation, Failure> {
        let invocation = self.invocation(peer.who, peer.program, &peer.args)?;
        self.transcript
            .push(format!("$ {}   ({why})", shown_line(peer.who, &invocation)));
        self.talk(invocation, peer.program, input, false)
    }

    fn talk(
        &mut self,
        invocation: Invocation,
        peer_program: &str,
        input: &[u8],
        judge_hang: bool,
    ) -> Result<Conversation, Failure> {
        let finished = run(&invocation, Some(input), &self.limits())
            .map_err(|e| Failure::could_not_start(&invocation, e))?;
        self.runs.push(RunLog {
            invocation,
            ending: finished.ending,
            stderr: finished.stderr.clone(),
        });
        self.stayed_inside(peer_program)?;
        if let Ending::TimedOut(limit) = finished.ending
            && judge_hang
        {
            return Err(self
                .misbehaved(&format!("Timed out after {} while waiting for `{}` to exit", seconds(limit), peer_program))
                .detail("The verifier sent its messages and closed the stream: a peer must notice end-of-file and exit."));
        }
        if matches!(finished.ending, Ending::Signalled(_)) || finished.ending.flooded() {
            return Err(self.misbehaved(&format!("`{}` {}", peer_program, finished.ending.describe())));
        }
        let replies: Vec<Line> = finished
            .stdout
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .map(wire::decode)
            .collect();
        self.wire = replies
            .iter()
            .map(|line| format!("A → verifier  {}", line.show(&mut self.redactor)))
            .collect();
        Ok(Conversation {
            ending: finished.ending,
            replies,
            stderr: String::from_utf8_lossy(&finished.stderr).into_owned(),
            elapsed: finished.elapsed,
        })
    }

    /// Replicates A with B over two plain pipes, nothing in between (no relay to
    /// buffer, record or pace the messages): as in production, a side that does not
    /// read while it writes blocks once a pipe is full. Neither ending is judged here;
    /// the transcript shows the command, or `why` instead when given.
    pub fn sync_plain(&mut self, a: Peer, b: Peer, why: Option<&str>) -> Result<PlainRun, Failure> {
        let inv_a = self.invocation(a.who, a.program, &a.args)?;
        let inv_b = self.invocation(b.who, b.program, &b.args)?;
        let line = format!("$ {} ⇄ {}", shown_line(a.who, &inv_a), shown_line(b.who, &inv_b));
        self.transcript.push(match why {
            Some(why) => format!("{line}   ({why})"),
            None => format!("{line}   (plain pipes)"),
        });
        let stderr = [Stderr::Captured, Stderr::Captured];
        let outcome = duplex::run(&inv_a, &inv_b, Mode::Direct, stderr, &self.limits())
            .map_err(|e| Failure::harness(format!("could not start the two peers: {e}")))?;
        self.wired(&a, &b, outcome.timeline.clone());
        self.runs.push(RunLog {
            invocation: inv_a,
            ending: outcome.a,
            stderr: outcome.stderr_a,
        });
        self.runs.push(RunLog {
            invocation: inv_b,
            ending: outcome.b,
            stderr: outcome.stderr_b,
        });
        self.stayed_inside(a.program)?;
        Ok(PlainRun {
            a: outcome.a,
            b: outcome.b,
            elapsed: outcome.elapsed,
        })
    }

    /// Adds a peer's replies to the transcript, handshake first, entries by log and seq.
    pub fn show_replies(&mut self, conversation: &Conversation) {
        let lines: Vec<(Direction, Line, bool)> = conversation
            .replies
            .iter()
            .map(|line| (Direction::AtoB, line.clone(), true))
            .collect();
        let shown = grouped(&lines, &mut self.redactor);
        self.transcript
            .extend(shown.into_iter().map(|l| l.replacen("A → B", "A → verifier", 1)));
        if let Ending::Exited(code) = conversation.ending
            && code != 0
        {
            self.transcript.push(format!("(exit code {code})"));
        }
    }

    /// Starts both peers wired through the relay and waits for them.
    fn relay(&mut self, a: &Peer, b: &Peer, fault: Fault) -> Result<SyncRun, Failure> {
        let run = self.relay_raw(a, b, fault)?;
        self.wired(a, b, run.timeline.clone());
        if fault == Fault::None
            && let (Some(line_a), Some(line_b)) = (self.line_of(a), self.line_of(b))
        {
            self.transcript.push(format!("$ {line_a} ⇄ {line_b}"));
        }
        Ok(SyncRun {
            a: run.a,
            b: run.b,
            lines: run
                .lines
                .iter()
                .map(|(direction, raw, forwarded)| (*direction, wire::decode(raw), *forwarded))
                .collect(),
            fault_fired: run.fault_fired,
        })
    }

    /// Keeps the timeline of a wired run with what it shows went wrong, judged by
    /// this protocol (its last word is `end`).
    fn wired(&mut self, a: &Peer, b: &Peer, timeline: Timeline) {
        let names = [("A", self.describe(a, "A")), ("B", self.describe(b, "B"))];
        let is_end = |line: &str| matches!(wire::decode(line.as_bytes()), Line::Message(Message::End { .. }));
        let sides = Sides {
            names: &names,
            limit: seconds(self.limits().timeout),
            is_last_word: &is_end,
        };
        let diagnosis = diagnose(&timeline, &sides);
        self.keep_timeline(
            timeline,
            |raw, redactor| wire::decode(raw.as_bytes()).show(redactor),
            diagnosis,
        );
    }

    /// `A (replicate alice.db)` or `B (the reference replicate bob.db)`.
    fn describe(&self, peer: &Peer, letter: &str) -> String {
        let line = self.line_of(peer).unwrap_or_else(|| peer.program.to_string());
        match peer.who {
            Who::Tested => format!("{letter} (`{line}`)"),
            Who::Reference => format!("{letter} (the reference `{line}`)"),
        }
    }

    fn line_of(&self, peer: &Peer) -> Option<String> {
        let invocation = self.invocation(peer.who, peer.program, &peer.args).ok()?;
        Some(shown_line(peer.who, &invocation))
    }

    fn remember_wire(&mut self, lines: &[(Direction, Line, bool)]) {
        self.wire = lines
            .iter()
            .map(|(direction, line, forwarded)| {
                let dropped = if *forwarded {
                    ""
                } else {
                    "   (dropped: the stream was cut)"
                };
                format!(
                    "{}  {}{dropped}",
                    direction.arrow(),
                    line.show(&mut self.redactor)
                )
            })
            .collect();
    }

    /// Why a side of a clean sync did not exit 0, told from what crossed the wire.
    fn sync_failure(&self, run: &SyncRun, direction: Direction, ending: Ending, name: &str) -> Failure {
        let said_end = |d: Direction| {
            run.lines
                .iter()
                .any(|(dir, line, _)| *dir == d && matches!(line, Line::Message(Message::End { .. })))
        };
        let other = match direction {
            Direction::AtoB => Direction::BtoA,
            Direction::BtoA => Direction::AtoB,
        };
        let mut failure = match ending {
            Ending::TimedOut(limit) => Failure::new(format!(
                "Timed out after {} while waiting for {name} to exit",
                seconds(limit)
            )),
            other_ending => self.misbehaved_run(name, other_ending, direction),
        };
        if let Ending::TimedOut(_) = ending {
            failure = match (said_end(direction), said_end(other)) {
                (false, _) => failure.detail(
                    "It never sent `end`: after the entries the other side lacks, send {\"type\":\"end\",\"sent\":N} and close stdout.",
                ),
                (true, true) => failure.detail(
                    "Both sides sent `end`, yet it did not exit: exit once you have sent your end AND received the other's.",
                ),
                (true, false) => failure.detail(
                    "It sent `end` but the other side never did, so it waited forever: see what the other side sent below.",
                ),
            };
        }
        failure
    }

    fn misbehaved_run(&self, name: &str, ending: Ending, direction: Direction) -> Failure {
        let index = match direction {
            Direction::AtoB => self.runs.len().saturating_sub(2),
            Direction::BtoA => self.runs.len().saturating_sub(1),
        };
        let stderr = self
            .runs
            .get(index)
            .map(|r| String::from_utf8_lossy(&r.stderr).into_owned())
            .unwrap_or_default();
        let mut failure = Failure::new(format!(
            "{name} {}; it should exit 0 after a clean sync",
            ending.describe()
        ));
        if !stderr.trim().is_empty() {
            failure = failure.detail(crate::harness::records::it_said(&stderr));
        }
        failure
    }
}

/// A side that hung without ever getting its handshake out: it was never flushed (or
/// never written), so the other side waited for it, and it for the other's `end`.
fn silent_side(run: &SyncRun, names: &[String; 2]) -> Option<Failure> {
    let [a, b] = handshakes(run);
    let sides = [(run.a, a.is_none(), &names[0]), (run.b, b.is_none(), &names[1])];
    let (limit, name) = sides.iter().find_map(|(ending, silent, name)| match ending {
        Ending::TimedOut(limit) if *silent => Some((*limit, name)),
        _ => None,
    })?;
    Some(
        Failure::new(format!(
            "{name} never sent its handshake: in {} not one line came out of it, so both sides waited",
            seconds(limit)
        ))
        .detail(
            "If your program writes it, it is still in a buffer: nothing leaves a BufWriter before a flush.",
        )
        .advise(
            "Send the handshake at once and flush it: the other side sends nothing before it has your heads.",
        ),
    )
}

/// The handshake each side sent (A's first, B's second), if any.
fn handshakes(run: &SyncRun) -> [Option<BTreeMap<String, u64>>; 2] {
    let of = |direction: Direction| {
        run.lines.iter().find_map(|(d, line, _)| match line {
            Line::Message(Message::Handshake { heads, .. }) if *d == direction => Some(heads.clone()),
            _ => None,
        })
    };
    [of(Direction::AtoB), of(Direction::BtoA)]
}

/// Checks one direction of a finished sync against the protocol: handshake first, then
/// exactly the entries the receiver lacked (per log, ascending, none twice), then an
/// `end` counting them, then nothing.
pub fn judge_direction(
    sent: &[&Line],
    sender: Option<&BTreeMap<String, u64>>,
    receiver: Option<&BTreeMap<String, u64>>,
) -> Result<(), String> {
    let (Some(sender), Some(receiver)) = (sender, receiver) else {
        return Err("a side sent no handshake".into());
    };
    let mut lines = sent.iter();
    match lines.next() {
        Some(Line::Message(Message::Handshake { .. })) => {}
        Some(Line::Garbled { text, why }) => {
            return Err(format!("its first line is not a message: {text} ({why})"));
        }
        _ => return Err("its first message is not the handshake".into()),
    }
    let mut next: BTreeMap<&str, u64> = BTreeMap::new();
    let mut count = 0u64;
    let mut ended = false;
    for line in lines {
        let message = match line {
            Line::Garbled { text, why } => {
                return Err(format!("it sent a line that is not a message: {text} ({why})"));
            }
            Line::Message(message) => message,
        };
        if ended {
            return Err("it sent a message after `end`".into());
        }
        match message {
            Message::Handshake { .. } => return Err("it sent a second handshake".into()),
            Message::End { sent } if *sent != count => {
                return Err(format!(
                    "its `end` says {sent} entries were sent, but {count} were"
                ));
            }
            Message::End { .. } => ended = true,
            Message::Entry { peer, seq, .. } => {
                count += 1;
                let known = receiver.get(peer).copied().unwrap_or(0);
                let head = sender.get(peer).copied().unwrap_or(0);
                let expected = next.entry(peer).or_insert(known + 1);
                if *seq != *expected || *seq > head {
                    return Err(format!(
                        "it sent entry {seq} of a log the other side held up to {known}; expected {}",
                        if *expected > head {
                            "no more entries of that log".to_string()
                        } else {
                            format!("entry {expected}")
                        }
                    ));
                }
                *expected += 1;
            }
        }
    }
    if !ended {
        return Err("it never sent `end`".into());
    }
    for (peer, head) in sender {
        let known = receiver.get(peer).copied().unwrap_or(0);
        let sent_up_to = next.get(peer.as_str()).map_or(known, |n| n - 1);
        if *head > known && sent_up_to < *head {
            return Err(format!(
                "it held a log up to {head}, the other side only up to {known}, but it sent only up to {sent_up_to}"
            ));
        }
    }
    Ok(())
}

/// A direction's messages in a stable order: handshake, entries by log and seq, end.
/// (Within the protocol, logs may be sent in any order; the transcript must not care.)
fn grouped(lines: &[(Direction, Line, bool)], redactor: &mut Redactor) -> Vec<String> {
    let mut shown = Vec::new();
    for direction in [Direction::AtoB, Direction::BtoA] {
        let mut keyed: Vec<((u8, u64, u64, usize), String)> = Vec::new();
        for (index, (_, line, _)) in lines
            .iter()
            .enumerate()
            .filter(|(_, (d, _, f))| *d == direction && *f)
        {
            let key = match line {
                Line::Message(Message::Handshake { .. }) => (0, 0, 0, index),
                Line::Message(Message::Entry { peer, seq, .. }) => {
                    let number = placeholder_number(&redactor.placeholder("peer", peer));
                    (1, number, *seq, 0)
                }
                Line::Message(Message::End { .. }) => (2, 0, 0, index),
                Line::Garbled { .. } => (3, 0, 0, index),
            };
            keyed.push((key, format!("{}  {}", direction.arrow(), line.show(redactor))));
        }
        keyed.sort_by_key(|x| x.0);
        shown.extend(keyed.into_iter().map(|(_, line)| line));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(json: &str) -> Line {
        wire::decode(json.as_bytes())
    }

    fn heads(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(p, s)| (p.to_string(), *s)).collect()
    }

    fn judge(sent: &[&str], sender: &[(&str, u64)], receiver: &[(&str, u64)]) -> Result<(), String> {
        let lines: Vec<Line> = sent.iter().map(|s| line(s)).collect();
        let refs: Vec<&Line> = lines.iter().collect();
        judge_direction(&refs, Some(&heads(sender)), Some(&heads(receiver)))
    }

    const HS: &str = r#"{"type":"handshake","peer":"a","heads":{"a":2}}"#;
    const E1: &str = r#"{"type":"entry","peer":"a","seq":1,"entry":"x"}"#;
    const E2: &str = r#"{"type":"entry","peer":"a","seq":2,"entry":"y"}"#;

    #[test]
    fn accepts_exactly_what_the_other_lacks() {
        assert_eq!(
            judge(&[HS, E1, E2, r#"{"type":"end","sent":2}"#], &[("a", 2)], &[]),
            Ok(())
        );
        assert_eq!(
            judge(&[HS, E2, r#"{"type":"end","sent":1}"#], &[("a", 2)], &[("a", 1)]),
            Ok(())
        );
        assert_eq!(
            judge(&[HS, r#"{"type":"end","sent":0}"#], &[("a", 2)], &[("a", 2)]),
            Ok(())
        );
    }

    #[test]
    fn names_each_way_to_break_the_protocol() {
        let end2 = r#"{"type":"end","sent":2}"#;
        assert!(
            judge(&[E1, HS, end2], &[("a", 2)], &[])
                .unwrap_err()
                .contains("first message")
        );
        assert!(
            judge(&[HS, E2, E1, end2], &[("a", 2)], &[])
                .unwrap_err()
                .contains("expected entry 1")
        );
        assert!(judge(&[HS, E1, E1, end2], &[("a", 2)], &[]).is_err());
        assert!(
            judge(&[HS, E1, E2, end2], &[("a", 2)], &[("a", 1)])
                .unwrap_err()
                .contains("sent entry 1")
        );
        assert!(
            judge(&[HS, E1, r#"{"type":"end","sent":1}"#], &[("a", 2)], &[])
                .unwrap_err()
                .contains("only up to 1")
        );
        assert!(
            judge(&[HS, E1, E2], &[("a", 2)], &[])
                .unwrap_err()
                .contains("never sent `end`")
        );
        assert!(
            judge(&[HS, E1, E2, r#"{"type":"end","sent":5}"#], &[("a", 2)], &[])
                .unwrap_err()
                .contains("says 5")
        );
        assert!(
            judge(&[HS, E1, E2, end2, E1], &[("a", 2)], &[])
                .unwrap_err()
                .contains("after `end`")
        );
        assert!(
            judge(&[HS, "hello", end2], &[("a", 2)], &[])
                .unwrap_err()
                .contains("not a message")
        );
    }

    #[test]
    fn groups_directions_and_sorts_entries_by_log_then_seq() {
        let mut redactor = Redactor::new();
        redactor.placeholder("peer", "a");
        redactor.placeholder("peer", "b");
        let lines = vec![
            (
                Direction::BtoA,
                line(r#"{"type":"handshake","peer":"b","heads":{}}"#),
                true,
            ),
            (
                Direction::AtoB,
                line(r#"{"type":"handshake","peer":"a","heads":{"a":10,"b":1}}"#),
                true,
            ),
            (
                Direction::AtoB,
                line(r#"{"type":"entry","peer":"b","seq":1,"entry":"b1"}"#),
                true,
            ),
            (
                Direction::AtoB,
                line(r#"{"type":"entry","peer":"a","seq":10,"entry":"a10"}"#),
                true,
            ),
            (
                Direction::AtoB,
                line(r#"{"type":"entry","peer":"a","seq":9,"entry":"a9"}"#),
                true,
            ),
            (Direction::AtoB, line(r#"{"type":"end","sent":3}"#), true),
            (Direction::BtoA, line(r#"{"type":"end","sent":0}"#), true),
        ];
        assert_eq!(
            grouped(&lines, &mut redactor),
            vec![
                "A → B  handshake peer#1 {peer#1: 10, peer#2: 1}",
                "A → B  entry <peer#1, 9, \"a9\">",
                "A → B  entry <peer#1, 10, \"a10\">",
                "A → B  entry <peer#2, 1, \"b1\">",
                "A → B  end (3 sent)",
                "B → A  handshake peer#2 {}",
                "B → A  end (0 sent)",
            ]
        );
    }
}
