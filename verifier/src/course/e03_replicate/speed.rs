//! The `speed` check: the program under test against a budget made from the
//! reference's time for the same steps, measured in the same run.

use super::fixtures::*;
use crate::course::replication::wire::{Line, Message};
use crate::course::replication::{Peer, VERIFIER_PEER, judge_direction};
use crate::harness::trial::{Failure, Trial, Who};
use crate::runner::{Ending, Limit};

/// `speed` times four steps of the program under test against a budget made from the
/// reference solution's time for the same step, measured in the same check just before:
/// a multiple of it, plus two seconds for starting an interpreter (Python takes up to
/// a second to start on a busy machine, the reference a few milliseconds). The machine's load
/// slows both alike, so the budget holds on a busy machine too, and a program in any
/// language that does the work once per entry (the Python solution of the test suite
/// takes about twice the reference's time) meets it; one that flushes the database, or
/// reads a log from its start, per entry does not.
pub(super) const SLOWER_THAN_REFERENCE: u32 = 4;
pub(super) const STARTUP: std::time::Duration = std::time::Duration::from_secs(2);
/// How long after its budget a step is stopped.
pub(super) const GRACE: std::time::Duration = std::time::Duration::from_secs(1);
pub(super) const SPEED_ENTRIES: u64 = 100_000;
/// The longest any one step may take, the reference's included.
pub(super) const SPEED_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The four timed steps: what each does, for the verdict.
pub(super) const STEPS: [&str; 4] = [
    "receiving 100,000 entries from the verifier",
    "sending 100,000 entries to an empty database",
    "receiving 10 entries on top of 100,000",
    "sending 10 new entries of a 100,000-entry log",
];

pub(super) fn speed(trial: &mut Trial) -> Result<(), Failure> {
    let total = SPEED_ENTRIES + 10;
    trial.note("the reference solution takes the same four steps first, to set the budgets");
    let mark = trial.mark();
    let reference = speed_steps(trial, Who::Reference, "ref-alice.db", "ref-bob.db", None);
    trial.replace_since(
        mark,
        "(its times, and the budgets made from them, are shown under the verdict line)",
    );
    let reference = reference.map_err(|f| {
        Failure::new(format!(
            "the reference solution failed the speed steps: {}",
            f.summary
        ))
    })?;
    let budgets: Vec<std::time::Duration> = reference
        .iter()
        .map(|t| *t * SLOWER_THAN_REFERENCE + STARTUP)
        .collect();
    speed_steps(
        trial,
        Who::Tested,
        "alice.db",
        "bob.db",
        Some((&reference, &budgets)),
    )?;
    // Reading 100,010 entries back would be slow to show: asking bob.db for the last
    // one, as a peer that holds all the others, proves it holds the whole log.
    let ask = [handshake(VERIFIER_PEER, &[(VERIFIER_PEER, total - 1)]), end(0)];
    let talk = trial.converse(replicate("bob.db"), &ask)?;
    trial.show_replies(&talk);
    expect_clean_exit(trial, &talk)?;
    let replies: Vec<&Line> = talk.replies.iter().collect();
    let heads = match replies.first() {
        Some(Line::Message(Message::Handshake { heads, .. })) => without_zeros(heads),
        _ => return Err(trial.fail("its first message was not the handshake")),
    };
    if heads.get(VERIFIER_PEER) != Some(&total) {
        return Err(trial.fail(format!(
            "after the syncs bob.db's handshake gives the verifier's log a head of {}; it should be {total}",
            heads.get(VERIFIER_PEER).copied().unwrap_or(0)
        )));
    }
    let receiver = [(VERIFIER_PEER.to_string(), total - 1)].into();
    judge_direction(&replies, Some(&heads), Some(&receiver))
        .map_err(|problem| trial.fail(format!("it broke the protocol: {problem}")))?;
    let last = format!("v{total}");
    if !replies
        .iter()
        .any(|line| matches!(line, Line::Message(Message::Entry { entry, .. }) if *entry == last))
    {
        return Err(trial.fail(format!(
            "bob.db does not hold the text {last:?} under seq {total}"
        )));
    }
    Ok(())
}

/// The verifier's messages that give a database entries `from..=to` of its log.
pub(super) fn entries_from_the_verifier(from: u64, to: u64) -> Vec<u8> {
    let mut input = Vec::new();
    let mut line = |message: String| {
        input.extend_from_slice(message.as_bytes());
        input.push(b'\n');
    };
    line(handshake(VERIFIER_PEER, &[(VERIFIER_PEER, to)]));
    for seq in from..=to {
        line(entry(VERIFIER_PEER, seq, &format!("v{seq}")));
    }
    line(end(to + 1 - from));
    input
}

/// Runs the four steps of `speed` with `who`'s programs; returns their times. With
/// `judged` (the reference's times and the budgets), each step must keep its budget,
/// and is stopped a little after it.
pub(super) fn speed_steps(
    trial: &mut Trial,
    who: Who,
    alice: &str,
    bob: &str,
    judged: Option<(&[std::time::Duration], &[std::time::Duration])>,
) -> Result<Vec<std::time::Duration>, Failure> {
    let peer = |db| Peer {
        who,
        program: "replicate",
        args: vec![db],
    };
    let mut times = Vec::new();
    for (step, what) in STEPS.iter().enumerate() {
        let shown = match judged {
            Some(_) => format!(
                "{what}; budget: {SLOWER_THAN_REFERENCE} × the reference's time + {} s",
                STARTUP.as_secs()
            ),
            None => what.to_string(),
        };
        trial.set_timeout(Some(match judged {
            Some((_, budgets)) => budgets[step] + GRACE,
            None => SPEED_LIMIT,
        }));
        let (ending, took) = match step {
            0 | 2 => {
                let (from, to) = if step == 0 {
                    (1, SPEED_ENTRIES)
                } else {
                    (SPEED_ENTRIES + 1, SPEED_ENTRIES + 10)
                };
                let talk = trial.converse_unshown(peer(alice), &entries_from_the_verifier(from, to), &shown);
                let talk = talk.inspect_err(|_| trial.set_timeout(None))?;
                (talk.ending, talk.elapsed)
            }
            _ => {
                let run = trial.sync_plain(peer(alice), peer(bob), Some(&shown));
                let run = run.inspect_err(|_| trial.set_timeout(None))?;
                (either(run.a, run.b), run.elapsed)
            }
        };
        trial.set_timeout(None);
        if let Some((reference, budgets)) = judged {
            within(trial, what, ending, took, budgets[step], reference[step])?;
        } else if !ending.success() {
            return Err(Failure::new(format!("{what}: a side {}", ending.describe())));
        }
        times.push(took);
    }
    Ok(times)
}

/// The ending of two sides that says most: the first that is not a clean exit.
pub(super) fn either(a: Ending, b: Ending) -> Ending {
    if a.success() { b } else { a }
}

/// Requires a timed run to have exited 0 within its budget; the verdict names the
/// time, the budget, and the reference's time it was made from.
pub(super) fn within(
    trial: &mut Trial,
    what: &str,
    ending: Ending,
    took: std::time::Duration,
    budget: std::time::Duration,
    reference: std::time::Duration,
) -> Result<(), Failure> {
    let (took_s, budget_s, reference_s) = (took.as_secs_f64(), budget.as_secs_f64(), reference.as_secs_f64());
    let budget_line = format!(
        "the budget is {budget_s:.1} s: {SLOWER_THAN_REFERENCE} × the {reference_s:.2} s the reference solution took just before, + {} s",
        STARTUP.as_secs()
    );
    trial.measured(format!(
        "{took_s:.2} s (budget {budget_s:.1} s; the reference {reference_s:.2} s): {what}"
    ));
    match ending {
        Ending::Exited(0) if took <= budget => Ok(()),
        Ending::Exited(0) | Ending::TimedOut(_) | Ending::OverLimit(Limit::Cpu(_)) => {
            let took = match ending {
                Ending::Exited(0) => format!("took {took_s:.1} s"),
                _ => format!("was stopped after {took_s:.1} s, unfinished"),
            };
            Err(trial
                .fail(format!("too slow: {what} {took}; {budget_line}"))
                .detail("The usual causes: flushing the database after every entry, reading a log from its start for every entry, or one write to stdout per message without a buffer.")
                .advise("Flush the database once, after the last entry; send each log with one range scan from the other side's head + 1 through a BufWriter; keep the heads in memory."))
        }
        other => Err(trial.fail(format!("while {what}, a side {}", other.describe()))),
    }
}
