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
    cost_of_new(trial, total)
}

/// How many times `cost_of_new` runs each of its two syncs; the least time of each counts.
const COST_RUNS: usize = 3;
/// How much longer than its twin a sync of new entries of the long log may take.
const COST_FACTOR: u32 = 2;
const COST_SLACK: std::time::Duration = std::time::Duration::from_millis(50);

/// A sync costs what is new, not what the logs hold. Between the same two databases
/// (100,000 entries and more), 10 new entries of the verifier's 100,000-entry log and
/// 10 new entries of alice.db's own short log cross, one after the other, three times
/// each. Everything is the same for both syncs but the length of the log the entries
/// belong to: a program that reads each log from its start once per session (or once
/// per entry) pays for that length in the first. It is compared with itself, the least
/// time of each kind, so that a busy machine slows both alike.
fn cost_of_new(trial: &mut Trial, head: u64) -> Result<(), Failure> {
    let mark = trial.mark();
    let mut head = head;
    let (mut long, mut short) = (Vec::new(), Vec::new());
    for run in 0..COST_RUNS {
        let input = entries_from_the_verifier(head + 1, head + 10);
        let talk = trial.converse_unshown(
            replicate("alice.db"),
            &input,
            "10 more entries of the verifier's log",
        )?;
        expect_clean_exit(trial, &talk)?;
        head += 10;
        long.push(timed_sync(trial, "10 new entries of the 100,000-entry log")?);
        let own: Vec<String> = (1..=10).map(|n| format!("own {run}.{n}")).collect();
        let mut args = vec!["--db", "alice.db"];
        args.extend(own.iter().map(String::as_str));
        trial.run_unshown("append", &args, "10 entries of alice.db's own log")?;
        short.push(timed_sync(trial, "10 new entries of alice.db's own log")?);
    }
    let (long, short) = (least(&long), least(&short));
    let (long_s, short_s) = (long.as_secs_f64(), short.as_secs_f64());
    trial.measured(format!(
        "{long_s:.2} s: sending 10 new entries of the 100,000-entry log; {short_s:.2} s: 10 new entries of a short log, between the same databases (the least of {COST_RUNS} each)"
    ));
    trial.replace_since(
        mark,
        "10 new entries of the 100,000-entry log, then 10 of alice.db's own short log, crossed 3 times each between the same databases: the first cost about what the second did",
    );
    if long > short * COST_FACTOR + COST_SLACK {
        return Err(trial
            .fail(format!(
                "sending 10 new entries of the 100,000-entry log took {long_s:.2} s, sending 10 new entries of a short log between the same databases {short_s:.2} s (the least of {COST_RUNS} runs each): the cost grows with the log, not with what is new"
            ))
            .detail(format!(
                "Everything else was the same for both syncs; more than {COST_FACTOR} × the short log's time + {} ms means the sender reads what the other side already holds.",
                COST_SLACK.as_millis()
            ))
            .advise("Start each log's range scan right after the other side's head (their head + 1), never at the log's start, and stop at your own head."));
    }
    Ok(())
}

/// Syncs alice.db into bob.db (not shown); how long it took, if both sides exited 0.
fn timed_sync(trial: &mut Trial, what: &str) -> Result<std::time::Duration, Failure> {
    let run = trial.sync_plain(replicate("alice.db"), replicate("bob.db"), Some(what))?;
    let ending = either(run.a, run.b);
    if !ending.success() {
        return Err(trial.fail(format!("while sending {what}, a side {}", ending.describe())));
    }
    Ok(run.elapsed)
}

/// The least of some times (zero for none).
fn least(times: &[std::time::Duration]) -> std::time::Duration {
    times.iter().min().copied().unwrap_or_default()
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
