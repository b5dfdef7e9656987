//! What the checks of exercise 03 start from and share: databases made with
//! `append`, the `replicate` peers, the protocol messages the verifier writes itself,
//! and what every finished conversation must show.

use crate::course::logs::{Logs, logs_of};
use crate::course::replication::wire::Direction;
use crate::course::replication::{Conversation, Peer, SyncRun};
use crate::harness::records::Record;
use crate::harness::trial::{Failure, Trial, Who};
use crate::runner::Ending;
use serde_json::json;

/// The verifier's second peer id, for messages of a log it invents.
pub(super) const OTHER_PEER: &str = "feedfacecafe0002";

/// Appends `entries` to `db` with the given build; returns the db's peer id.
pub(super) fn append(trial: &mut Trial, who: Who, db: &str, entries: &[&str]) -> Result<String, Failure> {
    let mut args = vec!["--db", db];
    args.extend_from_slice(entries);
    let records = trial.run_as(who, "append", &args)?;
    peer_of(trial, db, &records)
}

pub(super) fn peer_of(trial: &Trial, db: &str, records: &[Record]) -> Result<String, Failure> {
    records
        .first()
        .and_then(|r| r.text("peer"))
        .map(str::to_string)
        .ok_or_else(|| trial.fail(format!("`append --db {db}` printed no record")))
}

/// Reads a database with the given build and checks every log it holds is whole.
pub(super) fn read(trial: &mut Trial, who: Who, db: &str) -> Result<Logs, Failure> {
    let records = trial.run_as(who, "read", &["--db", db])?;
    logs_of(trial, db, &records)
}

pub(super) fn entries(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("{prefix}{n}")).collect()
}

pub(super) fn strs(owned: &[String]) -> Vec<&str> {
    owned.iter().map(String::as_str).collect()
}

pub(super) fn replicate(db: &str) -> Peer<'_> {
    Peer::tested("replicate", &[db])
}

/// Alice with a1..a3, Bob with b1..b2; returns their peer ids.
pub(super) fn alice_and_bob(trial: &mut Trial) -> Result<(String, String), Failure> {
    let alice = append(trial, Who::Tested, "alice.db", &["a1", "a2", "a3"])?;
    let bob = append(trial, Who::Tested, "bob.db", &["b1", "b2"])?;
    Ok((alice, bob))
}

/// Requires a sync to have moved exactly this many entries each way.
pub(super) fn expect_crossing(
    trial: &Trial,
    run: &SyncRun,
    a_to_b: usize,
    b_to_a: usize,
) -> Result<(), Failure> {
    let (sent_ab, sent_ba) = (run.entries(Direction::AtoB), run.entries(Direction::BtoA));
    if (sent_ab, sent_ba) == (a_to_b, b_to_a) {
        return Ok(());
    }
    let failure = trial
        .fail(format!(
            "{sent_ab} entries went A → B and {sent_ba} B → A; expected {a_to_b} and {b_to_a}"
        ))
        .detail("A side sends only what the other side's handshake says it lacks.");
    Err(if sent_ab > a_to_b || sent_ba > b_to_a {
        failure.advise("A side sent entries the other already held: for each log, start right after the other side's head (entries_after_iter(peer, their_head)), never at seq 1.")
    } else {
        failure.advise("A side held entries the other lacked and did not send them: go through every log of your own handshake (others' logs too), and send each one past the other side's head for it (0 when its handshake does not list it).")
    })
}

pub(super) fn handshake(peer: &str, heads: &[(&str, u64)]) -> String {
    let heads: serde_json::Map<String, serde_json::Value> =
        heads.iter().map(|(p, s)| (p.to_string(), json!(s))).collect();
    json!({"type": "handshake", "peer": peer, "heads": heads}).to_string()
}

pub(super) fn entry(peer: &str, seq: u64, text: &str) -> String {
    json!({"type": "entry", "peer": peer, "seq": seq, "entry": text}).to_string()
}

pub(super) fn end(sent: u64) -> String {
    json!({"type": "end", "sent": sent}).to_string()
}

/// Heads without the ones written out as 0 (which mean the same as absent).
pub(super) fn without_zeros(
    heads: &std::collections::BTreeMap<String, u64>,
) -> std::collections::BTreeMap<String, u64> {
    heads
        .iter()
        .filter(|(_, seq)| **seq > 0)
        .map(|(p, s)| (p.clone(), *s))
        .collect()
}

/// A conversation the verifier played by the rules must end with exit 0.
pub(super) fn expect_clean_exit(trial: &Trial, talk: &Conversation) -> Result<(), Failure> {
    if talk.ending == Ending::Exited(0) {
        return Ok(());
    }
    Err(trial
        .fail(format!(
            "`replicate alice.db` {} after a conversation that broke no rule",
            talk.ending.describe()
        ))
        .detail(crate::harness::records::it_said(&talk.stderr)))
}
