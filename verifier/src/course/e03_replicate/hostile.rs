//! Hostile and broken messages: each must be refused with a reason that names its
//! line, and the log must stay as it was.

use super::fixtures::*;
use crate::course::logs::holds;
use crate::course::replication::VERIFIER_PEER;
use crate::harness::trial::{Failure, Trial, Who};
use crate::runner::Ending;

/// Whether `said` names `line N` (not `line N0`, not `line 1N`).
pub(super) fn names_line(said: &str, line: u64) -> bool {
    let wanted = format!("line {line}");
    said.match_indices(&wanted).any(|(at, _)| {
        let before = said[..at].chars().next_back();
        let after = said[at + wanted.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// A hostile conversation: what it is, its lines, and the number of the bad one
/// (none for a stream that ends too early).
pub(super) type Attack<'a> = (&'a str, Vec<Vec<u8>>, Option<u64>);

pub(super) fn refuses_bad_messages(trial: &mut Trial) -> Result<(), Failure> {
    let alice = append(trial, Who::Tested, "alice.db", &["a1", "a2", "a3"])?;
    let hello = || handshake(VERIFIER_PEER, &[]).into_bytes();
    let text = |line: &str| line.as_bytes().to_vec();
    let entry = |peer: &str, seq: u64, text: &str| entry(peer, seq, text).into_bytes();
    let end = |sent: u64| end(sent).into_bytes();
    // Each bad line is followed by what a receiver that silently skipped it would take
    // for a clean session (an `end` counting what it would count), so only refusing
    // the bad line itself, and naming it, passes.
    let attacks: Vec<Attack> = vec![
        (
            "a line that is not JSON",
            vec![hello(), text("this is not json"), end(0)],
            Some(2),
        ),
        (
            "a line that is JSON but not an object",
            vec![hello(), text("[1,2,3]"), end(0)],
            Some(2),
        ),
        (
            "a line that is not UTF-8",
            vec![hello(), b"{\"type\":\"end\",\"sent\":\xff}".to_vec(), end(0)],
            Some(2),
        ),
        (
            "an unknown message type",
            vec![hello(), text(r#"{"type":"hello"}"#), end(0)],
            Some(2),
        ),
        (
            "an entry with a field missing",
            vec![
                hello(),
                text(&format!(r#"{{"type":"entry","peer":"{VERIFIER_PEER}","seq":1}}"#)),
                end(0),
            ],
            Some(2),
        ),
        (
            "an entry with an unknown field",
            vec![
                hello(),
                text(&format!(
                    r#"{{"type":"entry","peer":"{VERIFIER_PEER}","seq":1,"entry":"v1","by":"me"}}"#
                )),
                end(1),
            ],
            Some(2),
        ),
        (
            "an entry whose seq is a string",
            vec![
                hello(),
                text(&format!(
                    r#"{{"type":"entry","peer":"{VERIFIER_PEER}","seq":"1","entry":"v1"}}"#
                )),
                end(1),
            ],
            Some(2),
        ),
        (
            "an entry with an empty peer id",
            vec![hello(), entry("", 1, "x"), end(1)],
            Some(2),
        ),
        (
            "a peer id with a NUL character",
            vec![hello(), entry("a\u{0}b", 1, "x"), end(1)],
            Some(2),
        ),
        (
            "an entry with seq 0",
            vec![hello(), entry(VERIFIER_PEER, 0, "v0"), end(1)],
            Some(2),
        ),
        (
            "an entry before the handshake",
            vec![entry(VERIFIER_PEER, 1, "v1"), hello(), end(0)],
            Some(1),
        ),
        ("a second handshake", vec![hello(), hello(), end(0)], Some(2)),
        (
            "a gap: seq 2 of a log held up to 0",
            vec![hello(), entry(VERIFIER_PEER, 2, "v2"), end(1)],
            Some(2),
        ),
        (
            "an entry of alice's own log that alice never wrote",
            vec![hello(), entry(&alice, 4, "forged"), end(1)],
            Some(2),
        ),
        (
            "a duplicate of alice's entry 1 with a different text",
            vec![hello(), entry(&alice, 1, "rewritten"), end(1)],
            Some(2),
        ),
        ("an `end` that miscounts", vec![hello(), end(3)], Some(2)),
        ("a message after `end`", vec![hello(), end(0), end(0)], Some(3)),
        (
            "end-of-file after two valid entries, before `end`",
            vec![hello(), entry(OTHER_PEER, 1, "o1"), entry(OTHER_PEER, 2, "o2")],
            None,
        ),
    ];
    for (attack, messages, line) in attacks {
        trial.note(&format!("the verifier sends {attack}"));
        let talk = trial.converse(replicate("alice.db"), &messages)?;
        if talk.ending.success() {
            return Err(trial
                .fail(format!("`replicate alice.db` accepted {attack} and exited 0"))
                .detail("What followed it would end a clean session: a peer that skips the bad line instead of refusing it takes the session for a success.")
                .advise("Refuse every message the protocol's error table lists: a one-line reason on stderr naming the line, and exit 1 at once."));
        }
        if talk.ending != Ending::Exited(1) {
            return Err(trial.fail(format!(
                "`replicate alice.db` {} after {attack}; it should refuse it with exit code 1",
                talk.ending.describe()
            )));
        }
        let said = talk.stderr.trim();
        if said.is_empty() {
            return Err(trial.fail(format!(
                "`replicate alice.db` refused {attack} but said nothing on stderr"
            )));
        }
        if let Some(line) = line
            && !names_line(said, line)
        {
            let last = said.lines().last().unwrap_or_default();
            return Err(trial
                .fail(format!(
                    "`replicate alice.db` exited 1 after {attack}, but its reason does not name line {line}, the bad one"
                ))
                .detail(format!("It said: {}", crate::harness::records::shorten(last, 200)))
                .advise(format!("Number the lines you receive from 1 and say which one was refused: `error: line {line}: …`. A reason that names another line means the bad one was let through.")));
        }
        trial.note(match line {
            Some(_) => "refused with exit code 1, naming the bad line",
            None => "refused with exit code 1",
        });
    }
    let logs = read(trial, Who::Tested, "alice.db")?;
    holds(trial, "alice.db", &logs, &alice, &entries("a", 3))?;
    holds(trial, "alice.db", &logs, OTHER_PEER, &entries("o", 2))?;
    if logs.contains_key(VERIFIER_PEER) {
        return Err(trial.fail("alice.db stored an entry from a message it should have refused"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_names_a_line_by_its_number_alone() {
        assert!(names_line("error: line 2: a gap", 2));
        assert!(names_line("line 2", 2));
        assert!(!names_line("error: line 12: a gap", 2));
        assert!(!names_line("error: line 21: a gap", 2));
        assert!(!names_line("error: a gap", 2));
        assert!(!names_line("error: baseline 2", 2));
    }
}
