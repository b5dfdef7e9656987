//! The checks of faults and costs: cut answers, killed servers, garbage and
//! forged clocks on the wire, and a pull from a 100,000-record log.

use super::super::stores::{expect, get, listing, same_listings};
use super::checks::{learnt, number, pull, pull_at, put, serve};
use crate::harness::trial::{Cut, CutRelay, Failure, Outcome, ScriptedServer, Server, Trial, Who};
use crate::runner::Ending;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How many records the answer of the cut and killed checks holds.
const RECORDS: usize = 20;

/// How long the pull of 10 new records may take.
const PULL_BUDGET: Duration = Duration::from_secs(3);

/// The records left of the verifier's compacted log in `pull-cost`, and its last position.
const OLD_RECORDS: u64 = 5_000;
const LAST_OLD: u64 = 100_000;

/// The largest clock a record may carry: 2^53 - 1.
const MAX_CLOCK: u64 = (1 << 53) - 1;

/// Writes RECORDS keys on alice.db.
fn twenty_writes(trial: &mut Trial) -> Result<(), Failure> {
    let mark = trial.mark();
    for i in 1..=RECORDS {
        put(trial, "alice.db", &format!("k{i:02}"), &format!("v{i}"))?;
    }
    trial.replace_since(
        mark,
        &format!("alice writes k01 … k{RECORDS} (positions 1 … {RECORDS})"),
    );
    Ok(())
}

/// A pull that must end early (exit code not 0) and print what it learnt.
fn cut_pull(trial: &mut Trial, outcome: &Outcome, why: &str) -> Result<u64, Failure> {
    if outcome.ending == Ending::Exited(0) {
        return Err(trial
            .fail(format!("`pull` exited 0 although {why}"))
            .detail("A pull that ends before `end` failed: apply what arrived whole, print what you learnt, say why on stderr and exit 1."));
    }
    Ok(number(&learnt(trial, outcome)?, "received"))
}

/// Requires bob.db to hold exactly `count` keys.
fn holds(trial: &mut Trial, db: &str, count: usize, why: &str) -> Result<(), Failure> {
    let listed = listing(trial, Who::Tested, db)?;
    if listed.len() != count {
        return Err(trial
            .fail(format!("{db} holds {} keys; {why}, it should hold {count}", listed.len()))
            .detail("Apply every record that arrived whole before the stream ended (an unfinished last line is not a record), and nothing else."));
    }
    Ok(())
}

/// The rest after a cut: a full pull from `server` must bring exactly the rest.
fn resume(trial: &mut Trial, server: &Server, applied: usize) -> Result<(), Failure> {
    let rest = pull(trial, "bob.db", server)?;
    let received = number(&rest, "received");
    if received != (RECORDS - applied) as u64 {
        return Err(trial
            .fail(format!(
                "the next pull received {received} records; {applied} of {RECORDS} were applied already, so {} were new",
                RECORDS - applied
            ))
            .detail("The position seen moves with every record applied (in the same transaction): the next pull asks after it."));
    }
    Ok(())
}

pub(super) fn cut_mid_stream(trial: &mut Trial) -> Result<(), Failure> {
    twenty_writes(trial)?;
    let mut alice = serve(trial, "alice.db", "alice")?;
    let whole = 1 + trial.rng().usize(1..RECORDS - 1);
    let extra = trial.rng().usize(1..40);
    let applied = whole - 1;
    let relay = CutRelay::start(alice.port(), Cut { lines: whole, extra }, None)
        .map_err(|e| Failure::harness(format!("cannot start a relay: {e}")))?;
    let mark = trial.mark();
    trial.note("bob pulls through a relay that cuts alice's answer in the middle of a record line");
    let outcome = pull_at(
        trial,
        Who::Tested,
        "bob.db",
        &relay.address(),
        "alice-via-relay",
        &[],
    )?;
    let received = cut_pull(
        trial,
        &outcome,
        &format!("the answer was cut after {applied} whole records"),
    )?;
    if received != applied as u64 {
        return Err(trial.fail(format!(
            "`pull` says it received {received} records; {applied} arrived whole before the cut"
        )));
    }
    holds(
        trial,
        "bob.db",
        applied,
        &format!("after {applied} whole records and a cut"),
    )?;
    trial.replace_since(mark, "bob pulls through a relay that cuts the answer after a seeded number of records and part of the next: pull exits 1, bob keeps exactly the whole ones");
    let mark = trial.mark();
    resume(trial, &alice, applied)?;
    trial.replace_since(
        mark,
        "bob pulls from alice directly: it receives exactly the rest",
    );
    alice.stop(trial);
    holds(trial, "bob.db", RECORDS, "after the second pull")?;
    same_listings(trial, &["alice.db", "bob.db"])
}

pub(super) fn serve_killed(trial: &mut Trial) -> Result<(), Failure> {
    twenty_writes(trial)?;
    let mut alice = serve(trial, "alice.db", "alice")?;
    let whole = 1 + trial.rng().usize(1..RECORDS - 1);
    let extra = trial.rng().usize(1..40);
    let applied = whole - 1;
    let relay = CutRelay::start(alice.port(), Cut { lines: whole, extra }, alice.group())
        .map_err(|e| Failure::harness(format!("cannot start a relay: {e}")))?;
    let mark = trial.mark();
    let outcome = pull_at(trial, Who::Tested, "bob.db", &relay.address(), "alice", &[])?;
    let received = cut_pull(
        trial,
        &outcome,
        &format!("alice's serve was killed after {applied} whole records"),
    )?;
    if received != applied as u64 {
        return Err(trial.fail(format!(
            "`pull` says it received {received} records; {applied} arrived whole before the serve died"
        )));
    }
    holds(
        trial,
        "bob.db",
        applied,
        &format!("after {applied} whole records and a killed serve"),
    )?;
    trial.replace_since(mark, "bob pulls; the verifier kills alice's serve (SIGKILL) after a seeded number of records and part of the next: pull exits 1, bob keeps exactly the whole ones");
    alice.stop(trial);
    alice.start_again(trial)?;
    let mark = trial.mark();
    resume(trial, &alice, applied)?;
    trial.replace_since(
        mark,
        "bob pulls from the restarted alice: it receives exactly the rest",
    );
    alice.stop(trial);
    holds(trial, "bob.db", RECORDS, "after the retry")?;
    same_listings(trial, &["alice.db", "bob.db"])
}

/// A record message of a scripted server.
fn record_line(peer: &str, seq: u64, key: &str, clock: u64, value: &str) -> String {
    let record = json!({"peer": peer, "seq": seq, "key": key, "clock": clock, "type": "put", "value": value});
    format!("{}\n", json!({"type": "record", "record": record}))
}

fn end_line(last: u64) -> String {
    format!("{}\n", json!({"type": "end", "last": last}))
}

fn hello(peer: &str) -> String {
    json!({"type": "hello", "peer": peer}).to_string()
}

/// The `after` of a request line (None if it is not a pull request).
fn after_of(request: &str) -> Option<u64> {
    let value: Value = serde_json::from_str(request).ok()?;
    (value.get("type")?.as_str()? == "pull").then_some(())?;
    value.get("after")?.as_u64()
}

fn scripted(
    hello_peer: &str,
    answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static,
) -> Result<ScriptedServer, Failure> {
    ScriptedServer::start(hello(hello_peer), Box::new(answer))
        .map_err(|e| Failure::harness(format!("cannot start the verifier's server: {e}")))
}

/// The request lines a scripted server received, or a failure naming what was sent.
fn request(trial: &Trial, server: &ScriptedServer, index: usize) -> Result<u64, Failure> {
    let requests = server.requests();
    let Some(line) = requests.get(index) else {
        return Err(trial.fail("`pull` sent no request after the server's hello").detail(
            "After reading hello, send one line: {\"type\":\"pull\",\"after\":N}, N the last position seen of that server (0 the first time).",
        ));
    };
    after_of(line).ok_or_else(|| {
        trial
            .fail(format!(
                "`pull` sent {line:?}; expected {{\"type\":\"pull\",\"after\":N}}"
            ))
            .detail("The request is one line: {\"type\":\"pull\",\"after\":N}.")
    })
}

pub(super) fn garbage_refused(trial: &mut Trial) -> Result<(), Failure> {
    let peer = "9a9a9a9a9a9a9a9a";
    let connections = Arc::new(AtomicU64::new(0));
    let counter = connections.clone();
    let server = scripted(peer, move |request| {
        let after = after_of(request).unwrap_or(0);
        let mut answer = String::new();
        let first = counter.fetch_add(1, Ordering::SeqCst) == 0;
        for seq in (after + 1)..=3 {
            if first && seq == 3 {
                answer.push_str("this is not a message\n");
            }
            answer.push_str(&record_line(
                peer,
                seq,
                &format!("g{seq}"),
                1,
                &format!("good {seq}"),
            ));
        }
        answer.push_str(&end_line(3));
        answer.into_bytes()
    })?;
    trial.note("the verifier serves g1, g2, then a line `this is not a message`, then g3 and end");
    let outcome = pull_at(trial, Who::Tested, "bob.db", &server.address(), "verifier", &[])?;
    cut_pull(trial, &outcome, "a line of the answer was garbage")?;
    let said = trial
        .runs()
        .last()
        .map(|r| String::from_utf8_lossy(&r.stderr).trim().to_string())
        .unwrap_or_default();
    if said.is_empty() {
        return Err(trial
            .fail("`pull` refused the garbage but said nothing on stderr")
            .detail("Say why a pull ended early, e.g. `error: not a message: \"this is not a message\"`."));
    }
    expect(trial, "bob.db", "g2", Some("good 2"))?;
    let g3 = get(trial, "bob.db", "g3")?;
    if g3.is_some() {
        return Err(trial
            .fail("bob.db holds g3, which came after the garbage line")
            .detail("Stop at the first line that is not a valid message: a stream that went wrong once cannot be trusted after that point."));
    }
    trial.note("the verifier now answers correctly");
    pull_at(trial, Who::Tested, "bob.db", &server.address(), "verifier", &[])?;
    let after = request(trial, &server, 1)?;
    if after != 2 {
        return Err(trial.fail(format!(
            "the next pull asked for records after {after}; bob applied up to position 2"
        )));
    }
    expect(trial, "bob.db", "g3", Some("good 3"))
}

pub(super) fn clock_at_maximum(trial: &mut Trial) -> Result<(), Failure> {
    let peer = "7f7f7f7f7f7f7f7f";
    let server = scripted(peer, move |_| {
        let mut answer = record_line(peer, 1, "top", MAX_CLOCK, "at the maximum");
        answer.push_str(&end_line(1));
        answer.into_bytes()
    })?;
    trial.note(&format!(
        "the verifier serves a record of `top` with clock {MAX_CLOCK} (2^53 - 1)"
    ));
    let outcome = pull_at(trial, Who::Tested, "bob.db", &server.address(), "verifier", &[])?;
    if outcome.ending != Ending::Exited(0) {
        return Err(trial.fail(format!(
            "`pull` {} on a record with clock {MAX_CLOCK}, the largest valid clock",
            outcome.ending.describe()
        )));
    }
    expect(trial, "bob.db", "top", Some("at the maximum"))?;
    let outcome = trial.run_any_exit("put", &["--db", "bob.db", "top", "one more"])?;
    if outcome.ending == Ending::Exited(0) {
        return Err(trial
            .fail(format!("`put` of `top` exited 0, but its clock is already {MAX_CLOCK}: the write would need a larger one"))
            .detail("Refuse a write whose stamp would pass 2^53 - 1: exit 1, write nothing."));
    }
    expect(trial, "bob.db", "top", Some("at the maximum"))?;
    let forged = "6e6e6e6e6e6e6e6e";
    let server = scripted(forged, move |_| {
        let mut answer = record_line(forged, 1, "over", MAX_CLOCK + 1, "past the maximum");
        answer.push_str(&record_line(forged, 2, "after", 1, "after the forged one"));
        answer.push_str(&end_line(2));
        answer.into_bytes()
    })?;
    trial.note(&format!(
        "another server sends a record with clock {} (one past), then a good one",
        MAX_CLOCK + 1
    ));
    let outcome = pull_at(trial, Who::Tested, "bob.db", &server.address(), "verifier", &[])?;
    cut_pull(
        trial,
        &outcome,
        &format!("a record carried clock {}", MAX_CLOCK + 1),
    )?;
    expect(trial, "bob.db", "over", None)?;
    expect(trial, "bob.db", "after", None)
}

pub(super) fn pull_cost(trial: &mut Trial) -> Result<(), Failure> {
    let peer = "c0c0c0c0c0c0c0c0";
    // Positions 20, 40, … 100,000 (a compacted log: holes are normal), then 10 new ones.
    let positions: Vec<u64> = (1..=OLD_RECORDS)
        .map(|i| i * (LAST_OLD / OLD_RECORDS))
        .chain(LAST_OLD + 1..=LAST_OLD + 10)
        .collect();
    let lines: Arc<Vec<(u64, String)>> = Arc::new(
        positions
            .iter()
            .map(|&seq| (seq, record_line(peer, seq, &format!("key{seq:06}"), 1, "v")))
            .collect(),
    );
    let held = Arc::new(AtomicU64::new(LAST_OLD));
    let shared = held.clone();
    let server = scripted(peer, move |request| {
        let last = shared.load(Ordering::SeqCst);
        let after = after_of(request).unwrap_or(0);
        let mut answer: String = lines
            .iter()
            .filter(|(seq, _)| *seq > after && *seq <= last)
            .map(|(_, line)| line.as_str())
            .collect();
        answer.push_str(&end_line(last));
        answer.into_bytes()
    })?;
    trial
        .note("the verifier serves a compacted log: positions up to 100,000, 5,000 records left (20, 40, …)");
    let started = Instant::now();
    let first = pull_at(trial, Who::Tested, "bob.db", &server.address(), "verifier", &[])?;
    let full = started.elapsed();
    if first.ending != Ending::Exited(0) {
        return Err(trial
            .fail(format!("the first pull, of a log with holes, {}", first.ending.describe()))
            .detail("Positions of a compacted log have holes (20, 40, …): that is normal here, not a gap to refuse."));
    }
    trial.note("the verifier's log grows by 10 records");
    held.store(LAST_OLD + 10, Ordering::SeqCst);
    let started = Instant::now();
    let second = pull_at(trial, Who::Tested, "bob.db", &server.address(), "verifier", &[])?;
    let elapsed = started.elapsed();
    trial.measured(format!(
        "{:.2} s, budget {} s: pulling 10 new records (the first pull, of 5,000, took {:.2} s)",
        elapsed.as_secs_f64(),
        PULL_BUDGET.as_secs(),
        full.as_secs_f64()
    ));
    if second.ending != Ending::Exited(0) {
        return Err(trial.fail(format!("the pull of 10 new records {}", second.ending.describe())));
    }
    let after = request(trial, &server, 1)?;
    if after != LAST_OLD {
        return Err(trial
            .fail(format!("the second pull asked for the records after position {after}; bob had seen up to {LAST_OLD}"))
            .detail("Store the last position seen of each server (by its peer id) durably, in the database, and ask after it."));
    }
    let received = number(&learnt(trial, &second)?, "received");
    if received != 10 {
        return Err(trial.fail(format!(
            "the second pull says it received {received} records; 10 were new"
        )));
    }
    if elapsed > PULL_BUDGET {
        return Err(trial
            .fail(format!(
                "pulling 10 new records took {:.2} s; the budget is {} s (the first pull, of 5,000, took {:.2} s)",
                elapsed.as_secs_f64(),
                PULL_BUDGET.as_secs(),
                full.as_secs_f64()
            ))
            .detail("A pull's cost should be what is new: open the database, read one position, apply 10 records."));
    }
    expect(trial, "bob.db", &format!("key{:06}", LAST_OLD + 10), Some("v"))
}
