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

/// The budget of a pull of what is new, stretched on a busy machine (it catches a pull
/// that costs the whole log, which is slower by far more than any load explains).
fn pull_budget() -> Duration {
    crate::harness::patience::stretch(PULL_BUDGET)
}

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

/// Serves a log of records the verifier made up: the records with a position
/// `<= last` (and above the request's `after`), then `end` with `last`.
struct MadeUpLog {
    server: ScriptedServer,
    last: Arc<AtomicU64>,
}

impl MadeUpLog {
    fn start(peer: &'static str, records: Vec<(u64, String)>, last: u64) -> Result<MadeUpLog, Failure> {
        let lines: Arc<Vec<(u64, String)>> = Arc::new(records);
        let held = Arc::new(AtomicU64::new(last));
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
        Ok(MadeUpLog { server, last: held })
    }

    fn grow_to(&self, last: u64) {
        self.last.store(last, Ordering::SeqCst);
    }
}

/// A pull by the program under test that must exit 0; returns the outcome and
/// how long it took.
fn timed_pull(
    trial: &mut Trial,
    db: &str,
    address: &str,
    name: &str,
    what: &str,
) -> Result<(Outcome, Duration), Failure> {
    let started = Instant::now();
    let outcome = pull_at(trial, Who::Tested, db, address, name, &[])?;
    let took = started.elapsed();
    if outcome.ending != Ending::Exited(0) {
        return Err(trial.fail(format!("the pull of {what} {}", outcome.ending.describe())));
    }
    Ok((outcome, took))
}

pub(super) fn pull_cost(trial: &mut Trial) -> Result<(), Failure> {
    let peer = "c0c0c0c0c0c0c0c0";
    // Positions 20, 40, … of a compacted log whose last position given is
    // 100,000; the newest 100 positions are holes too. Each key is written twice
    // (clock 1, then clock 2 later in the log), so the puller stores both and its
    // own compaction leaves holes in its log. Then 10 new records, and 10 more.
    let step = LAST_OLD / OLD_RECORDS;
    let key_of = |seq: u64| format!("key{:04}", (seq / step) % (OLD_RECORDS / 2));
    let records: Vec<(u64, String)> = (1..=OLD_RECORDS)
        .map(|i| i * step)
        .filter(|&seq| seq <= LAST_OLD - 100)
        .map(|seq| {
            let clock = 1 + (seq / step) / (OLD_RECORDS / 2);
            (seq, record_line(peer, seq, &key_of(seq), clock, "v"))
        })
        .chain(
            (LAST_OLD + 1..=LAST_OLD + 20)
                .map(|seq| (seq, record_line(peer, seq, &format!("new{seq}"), 1, "v"))),
        )
        .collect();
    let log = MadeUpLog::start(peer, records, LAST_OLD)?;
    let verifier = log.server.address();
    trial.note("the verifier serves a compacted log whose last position is 100,000: records at 20, 40, … 99,900, every key twice; the newest 100 positions are holes");
    let (first, full) = timed_pull(trial, "bob.db", &verifier, "verifier", "a log with holes")?;
    let seen = number(&learnt(trial, &first)?, "seen");
    if seen != LAST_OLD {
        return Err(trial
            .fail(format!("after the pull, bob's `seen` is {seen}; the server's `end` said {LAST_OLD}"))
            .detail("At `end`, the position seen becomes `last`: the positions after the last record sent are holes, and asking for them again would be wasted."));
    }
    trial.note("the verifier's log grows by 10 records");
    log.grow_to(LAST_OLD + 10);
    let (second, elapsed) = timed_pull(trial, "bob.db", &verifier, "verifier", "10 new records")?;
    trial.measured(format!(
        "{:.2} s, budget {:.1} s: pulling 10 new records (the first pull, of {}, took {:.2} s)",
        elapsed.as_secs_f64(),
        pull_budget().as_secs_f64(),
        OLD_RECORDS - 5,
        full.as_secs_f64()
    ));
    let after = request(trial, &log.server, 1)?;
    if after != LAST_OLD {
        return Err(trial
            .fail(format!("the second pull asked for the records after position {after}; bob had seen up to {LAST_OLD}"))
            .detail("At `end` the position seen becomes `last`, even where the positions before it are holes; store it durably, per server peer id, and ask after it."));
    }
    let received = number(&learnt(trial, &second)?, "received");
    if received != 10 {
        return Err(trial.fail(format!(
            "the second pull says it received {received} records; 10 were new"
        )));
    }
    over_budget(trial, elapsed, "pulling 10 new records", full)?;
    expect(trial, "bob.db", &format!("new{}", LAST_OLD + 10), Some("v"))?;
    serve_cost(trial, &log)
}

fn over_budget(trial: &Trial, elapsed: Duration, what: &str, full: Duration) -> Result<(), Failure> {
    let budget = pull_budget();
    if elapsed <= budget {
        return Ok(());
    }
    Err(trial
        .fail(format!(
            "{what} took {:.2} s; the budget is {:.1} s (the first, full pull took {:.2} s)",
            elapsed.as_secs_f64(),
            budget.as_secs_f64(),
            full.as_secs_f64()
        ))
        .detail("A pull's cost should be what is new: read one position, answer (or apply) the records after it, nothing more."))
}

/// The second half of `pull-cost`: bob's own `serve`, on a log with holes
/// (bob compacts the keys it holds twice), answers carol; then bob learns 10
/// more and carol's next pull costs those 10.
fn serve_cost(trial: &mut Trial, log: &MadeUpLog) -> Result<(), Failure> {
    trial.note(
        "bob compacts (every key was stored twice: half of bob's positions become holes) and serves carol",
    );
    trial.run("compact", &["--db", "bob.db"])?;
    let mut bob = serve(trial, "bob.db", "bob")?;
    let (first, full) = timed_pull(trial, "carol.db", &bob.address(), "bob", "bob's log")?;
    let held = number(&learnt(trial, &first)?, "seen");
    trial.note("bob pulls 10 more records from the verifier; carol pulls from bob again");
    log.grow_to(LAST_OLD + 20);
    let (_, _) = timed_pull(
        trial,
        "bob.db",
        &log.server.address(),
        "verifier",
        "10 more records",
    )?;
    let (second, elapsed) = timed_pull(trial, "carol.db", &bob.address(), "bob", "bob's 10 new records")?;
    bob.alive(trial)?;
    bob.stop(trial);
    trial.measured(format!(
        "{:.2} s, budget {:.1} s: your serve answering 10 new records after a compacted log (the first, full answer took {:.2} s)",
        elapsed.as_secs_f64(),
        pull_budget().as_secs_f64(),
        full.as_secs_f64()
    ));
    let second = learnt(trial, &second)?;
    let received = number(&second, "received");
    if received != 10 {
        return Err(trial
            .fail(format!(
                "carol's second pull from bob's serve received {received} records; bob stored 10 since carol saw position {held}"
            ))
            .detail("serve sends the records at positions after the request's `after`, by position (a compacted log has holes: never count records to find a position)."));
    }
    over_budget(
        trial,
        elapsed,
        "carol's pull of 10 new records from bob's serve",
        full,
    )?;
    let mark = trial.mark();
    same_listings(trial, &["bob.db", "carol.db"])?;
    trial.replace_since(
        mark,
        "bob and carol list the same keys and values (2,520 of them: not shown)",
    );
    Ok(())
}

/// A server restored from an older copy: its `end` says a position below the
/// one the puller saw. The text says: the position seen moves back to it, and
/// the next pull asks after it (the server will give those positions again).
pub(super) fn restored_server(trial: &mut Trial) -> Result<(), Failure> {
    let peer = "5e5e5e5e5e5e5e5e";
    let records: Vec<(u64, String)> = (1..=8)
        .map(|seq| {
            (
                seq,
                record_line(peer, seq, &format!("r{seq}"), 1, &format!("v{seq}")),
            )
        })
        .collect();
    let log = MadeUpLog::start(peer, records, 8)?;
    let address = log.server.address();
    trial.note("the verifier serves positions 1 … 8");
    timed_pull(trial, "bob.db", &address, "verifier", "8 records")?;
    trial.note("the server is restored from a copy taken at position 5: its end now says 5");
    log.grow_to(5);
    let (outcome, _) = timed_pull(trial, "bob.db", &address, "verifier", "a restored server's log")?;
    let seen = number(&learnt(trial, &outcome)?, "seen");
    if seen != 5 {
        return Err(trial
            .fail(format!("after a pull whose `end` said 5 (bob had seen 8), bob's `seen` is {seen}"))
            .detail("An `end` below the position seen means the server was restored from an older copy: move the position seen back to `last`, or the records it stores at positions 6, 7, 8 again will never be asked for."));
    }
    trial.note("it writes again, giving positions 6 and 7 once more");
    log.grow_to(7);
    timed_pull(
        trial,
        "bob.db",
        &address,
        "verifier",
        "the restored server's new records",
    )?;
    let after = request(trial, &log.server, 2)?;
    if after != 5 {
        return Err(trial.fail(format!(
            "the pull after the restore asked after position {after}; the restored server's log ended at 5"
        )));
    }
    Ok(())
}

/// A puller that asks for a large answer and stops reading must not keep the
/// server's database from everyone else: a local `put` still succeeds.
pub(super) fn slow_puller_blocks_nobody(trial: &mut Trial) -> Result<(), Failure> {
    const BIG: usize = 900 * 1024;
    // 9 MiB: more than a socket holds for a reader that stopped (the sender's
    // buffer grows to 4 MiB at most here, the stalled reader's stays small).
    const COUNT: u64 = 10;
    let peer = "b1b1b1b1b1b1b1b1";
    let value = "x".repeat(BIG);
    let records: Vec<(u64, String)> = (1..=COUNT)
        .map(|seq| (seq, record_line(peer, seq, &format!("big{seq:02}"), 1, &value)))
        .collect();
    let log = MadeUpLog::start(peer, records, COUNT)?;
    trial.note(&format!(
        "bob pulls {COUNT} records of 900 KiB each (about 9 MiB) from the verifier"
    ));
    trial.set_timeout(Some(Duration::from_secs(30)));
    timed_pull(
        trial,
        "bob.db",
        &log.server.address(),
        "verifier",
        "large records",
    )?;
    trial.set_timeout(None);
    let mut bob = serve(trial, "bob.db", "bob")?;
    trial.note("a puller connects to bob's serve, asks after 0, reads the first byte of the answer and stops reading: the answer is far larger than the socket buffers");
    let stalled = stall(&bob.address()).map_err(|e| {
        trial
            .fail(format!("a pull from bob's serve got no answer: {e}"))
            .detail("serve answers a request with hello, the records after `after`, and end.")
    })?;
    let outcome = trial.run_any_exit("put", &["--db", "bob.db", "meanwhile", "written"])?;
    drop(stalled);
    bob.alive(trial)?;
    bob.stop(trial);
    if outcome.ending != Ending::Exited(0) {
        return Err(trial
            .fail(format!("`put --db bob.db` {} while a puller of bob's serve had stopped reading", outcome.ending.describe()))
            .detail("serve must not hold the database while it writes to a puller: read what to send, let the database go, then write (a stalled or slow puller would otherwise lock every writer out).")
            .advise("Collect the answer (or a chunk of it) first, close the database, then write it to the socket."));
    }
    expect(trial, "bob.db", "meanwhile", Some("written"))
}

/// Connects, reads the hello, asks for everything, waits for the answer's
/// first bytes (a serve writes once it has read what to send), and reads
/// nothing more. Returns the connection, to be dropped when done.
fn stall(address: &str) -> std::io::Result<std::net::TcpStream> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut input = BufReader::new(stream.try_clone()?);
    let mut hello = String::new();
    input.read_line(&mut hello)?;
    stream.write_all(b"{\"type\":\"pull\",\"after\":0}\n")?;
    stream.flush()?;
    input.read_exact(&mut [0u8; 1])?;
    Ok(stream)
}
