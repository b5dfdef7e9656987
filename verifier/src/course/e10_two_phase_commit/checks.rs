//! The checks of exercise 10, one scenario each (the seeded schedules are in
//! [`super::schedule`]).
//!
//! Why one file over 500 lines: nine scenarios of one protocol, each a page, sharing the
//! cluster set-up and the "visible on every node or on none" judgement; read side by
//! side they show what each fault adds to the one before.
//!
//! `answer_to`'s `Err(String)` says how the learner's node mishandled garbage, for a
//! `Failure`; it is a plain message on purpose, not a harness error.

use crate::harness::trial::{Background, Cluster, Event, Failure, Trial, Who, Written};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long a step of a transaction may take to show (a vote, a held message).
const STEP: Duration = Duration::from_secs(5);
/// A participant prints `blocked` after ~1 s without a decision; this is its budget.
const BLOCKED_WITHIN: Duration = Duration::from_secs(8);
/// How long the verifier watches blocked participants for a decision taken alone:
/// longer than a participant that "gives up after a while" would wait.
const WATCH: Duration = Duration::from_millis(3000);
/// How long a restarted cluster may take to finish a pending transaction.
const CONVERGE: Duration = Duration::from_secs(10);
/// --min-consensus of the checks' clusters of three.
const MIN: usize = 2;

pub(super) fn tested(count: usize) -> Vec<Who> {
    vec![Who::Tested; count]
}

/// Fails unless a write ended as expected.
/// `put KEY VALUE` through node `via`, which must commit (`why` says why it should);
/// then every node must hold the value (`seen` is the note that says so).
pub(super) fn put_commits_everywhere(
    c: &mut Cluster,
    trial: &mut Trial,
    via: usize,
    (key, value): (&str, &str),
    why: &str,
    seen: &str,
) -> Result<(), Failure> {
    let written = c.put(trial, via, key, value)?;
    expect(c, trial, written, &[Written::Committed], why)?;
    c.expect_everywhere(trial, key, Some(value), seen)
}

pub(super) fn expect(
    cluster: &mut Cluster,
    trial: &mut Trial,
    got: Written,
    want: &[Written],
    why: &str,
) -> Result<(), Failure> {
    if want.contains(&got) {
        return Ok(());
    }
    let wanted: Vec<String> = want
        .iter()
        .map(|w| format!("{} (exit {})", w.word(), w.code()))
        .collect();
    let mut failure = Failure::new(format!(
        "the write ended {} (exit {}), expected {}: {why}",
        got.word(),
        got.code(),
        wanted.join(" or ")
    ));
    if !cluster.last_reason().is_empty() {
        failure = failure.detail(format!("It said: {}", cluster.last_reason()));
    }
    Err(cluster.failed(trial, failure))
}

fn is(event: &Event, name: &str, txid: &str) -> bool {
    event.event == name && event.txid.as_deref() == Some(txid)
}

fn decided(event: &Event, txid: &str) -> bool {
    is(event, "committed", txid) || is(event, "aborted", txid)
}

/// Waits until node `index` printed `prepared` for `key`; returns the txid.
fn prepared(cluster: &mut Cluster, trial: &mut Trial, index: usize, key: &str) -> Result<String, Failure> {
    let event = cluster.wait_for(trial, index, STEP, |e| {
        e.event == "prepared" && e.key.as_deref() == Some(key)
    })?;
    match event.and_then(|e| e.txid) {
        Some(txid) => Ok(txid),
        None => {
            let name = cluster.name(index);
            Err(cluster.failed(
                trial,
                Failure::new(format!(
                    "{name} never printed {{\"event\":\"prepared\",\"key\":\"{key}\",…}} within {}",
                    crate::runner::seconds(crate::harness::patience::stretch(STEP))
                ))
                .detail(
                    "A participant records the prepared write durably, prints `prepared`, then votes yes.",
                ),
            ))
        }
    }
}

/// Waits until a gate holds at least one message.
pub(super) fn until_held(
    cluster: &mut Cluster,
    trial: &mut Trial,
    from: usize,
    to: usize,
    what: &str,
) -> Result<(), Failure> {
    let deadline = std::time::Instant::now() + crate::harness::patience::stretch(STEP);
    while cluster.held(from, to) == 0 {
        cluster.healthy(trial)?;
        if std::time::Instant::now() >= deadline {
            let (a, b) = (cluster.name(from), cluster.name(to));
            return Err(cluster.failed(
                trial,
                Failure::new(format!(
                    "{a} never sent {what} to {b} within {}",
                    crate::runner::seconds(crate::harness::patience::stretch(STEP))
                )),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

pub(super) fn commit_everywhere(trial: &mut Trial) -> Result<(), Failure> {
    let mut c = Cluster::start(trial, &tested(3), MIN)?;
    let steps: [(usize, &str, Option<&str>); 4] = [
        (0, "colour", Some("red")),
        (2, "colour", Some("blue")),
        (1, "shape", Some("round")),
        (1, "colour", None),
    ];
    for (node, key, value) in steps {
        let written = match value {
            Some(value) => c.put(trial, node, key, value)?,
            None => c.del(trial, node, key)?,
        };
        expect(
            &mut c,
            trial,
            written,
            &[Written::Committed],
            "every node is up and connected",
        )?;
        c.expect_everywhere(trial, key, value, "it exited 0: committed on every node")?;
    }
    c.finish(trial);
    Ok(())
}

pub(super) fn not_enough_peers(trial: &mut Trial) -> Result<(), Failure> {
    let mut c = Cluster::start(trial, &tested(3), MIN)?;
    let written = c.put(trial, 0, "k", "1")?;
    expect(&mut c, trial, written, &[Written::Committed], "every node is up")?;
    let since = c.events(0).len();
    c.partition(trial, &[0]);
    let notready = c.wait_after(trial, 0, since, STEP, |e| e.event == "notready")?;
    if notready.is_none() {
        return Err(c.failed(
            trial,
            Failure::new("p1, cut off from both its peers, never printed {\"event\":\"notready\"}")
                .detail("Print `notready` when fewer than --min-consensus peers are connected."),
        ));
    }
    trial.note("p1 printed notready");
    let written = c.put(trial, 0, "k", "2")?;
    expect(
        &mut c,
        trial,
        written,
        &[Written::Refused],
        "p1 reaches 0 peers, fewer than --min-consensus 2: refuse at once, prepare nothing",
    )?;
    let got = c.get(trial, 0, "k")?;
    if got.as_deref() != Some("1") {
        return Err(c.failed(
            trial,
            Failure::new(format!(
                "`get --node p1 k` shows {} while p1 is cut off, expected \"1\": reads are served from committed values",
                crate::harness::trial::show(got.as_deref())
            )),
        ));
    }
    c.show_line(trial, "get k on p1 (cut off): \"1\"".to_string());
    let since = c.events(0).len();
    c.heal(trial);
    if c.wait_after(trial, 0, since, STEP, |e| e.event == "ready")?
        .is_none()
    {
        return Err(c.failed(
            trial,
            Failure::new("p1 never printed {\"event\":\"ready\"} again after the links were healed")
                .detail("Dial a lost peer again every ~100 ms; print `ready` when --min-consensus peers are connected again."),
        ));
    }
    trial.note("p1 printed ready");
    put_commits_everywhere(
        &mut c,
        trial,
        0,
        ("k", "3"),
        "the links are healed",
        "committed after healing",
    )?;
    c.finish(trial);
    Ok(())
}

pub(super) fn participant_dies_before_voting(trial: &mut Trial) -> Result<(), Failure> {
    // --min-consensus 1: one yes vote then reaches it, and still it is not enough.
    let mut c = Cluster::start(trial, &tested(3), 1)?;
    c.hold(trial, 0, 2, &["prepare"]);
    let write = c.start_write(trial, 0, &["put", "k", "v"])?;
    until_held(&mut c, trial, 0, 2, "`prepare`")?;
    c.kill(trial, 2);
    c.release(trial, false);
    let written = c.finish_write(trial, write)?;
    expect(
        &mut c,
        trial,
        written,
        &[Written::Aborted],
        "p3 died before it voted, and a missing vote is a no",
    )?;
    c.expect_everywhere(trial, "k", None, "the write aborted")?;
    c.start_again(trial, 2)?;
    c.wait_ready(trial, 2)?;
    c.expect_everywhere(trial, "k", None, "the write aborted")?;
    put_commits_everywhere(
        &mut c,
        trial,
        1,
        ("k", "w"),
        "every node is up again",
        "committed on every node",
    )?;
    c.finish(trial);
    Ok(())
}

pub(super) fn participant_dies_after_voting(trial: &mut Trial) -> Result<(), Failure> {
    let mut c = Cluster::start(trial, &tested(3), MIN)?;
    c.hold(trial, 0, 2, &["commit", "abort"]);
    let write = c.start_write(trial, 0, &["put", "k", "v"])?;
    let txid = prepared(&mut c, trial, 2, "k")?;
    let tx = trial.placeholder("tx", &txid);
    trial.note(&format!("p3 printed prepared for {tx}: it voted yes"));
    until_held(&mut c, trial, 0, 2, "the decision (`commit`)")?;
    let decision = decision_held(&c, 0, 2);
    // At once: a yes vote is a promise only if the pending write was on disk.
    c.kill(trial, 2);
    c.release(trial, false);
    // The decision stays held from p1 to p3 (resends too) until the verifier says.
    c.hold(trial, 0, 2, &["commit", "abort"]);
    // While p3 is down the coordinator cannot have every ack: the client must give up
    // within its deadline (exit 3), never hear "committed", never wait for ever.
    let (command, written) = c.collect_write(trial, write)?;
    if written == Written::Committed {
        return Err(c.failed(
            trial,
            Failure::new(format!(
                "`{command}` exited 0 (committed) while p3 was down and had not applied the write"
            ))
            .detail("Acknowledge a write only once every node acknowledged the commit: until then a node may still lack it."),
        ));
    }
    Cluster::show_written(trial, &command, written);
    let want = match decision.as_str() {
        "commit" => Written::Unknown,
        _ => Written::Aborted,
    };
    expect(
        &mut c,
        trial,
        written,
        &[want],
        &format!(
            "p1 sent `{decision}` and p3, down, cannot acknowledge it: the client gives up after ~3 s (exit 3)"
        ),
    )?;
    // p3 may not learn the decision yet, neither from p1 nor by asking (`status`).
    c.hold(trial, 2, 0, &["status"]);
    c.hold(trial, 2, 1, &["status"]);
    c.start_again(trial, 2)?;
    c.wait_ready(trial, 2)?;
    // p3 still owes the decision of k: its key must be locked again at start, so a new
    // write to k through p3 aborts until that decision is applied.
    let second = c.put(trial, 2, "k", "w")?;
    if second != Written::Aborted {
        return Err(c.failed(
            trial,
            Failure::new(format!(
                "`put --node p3 k w` ended {} (exit {}) while p3 still owed the decision of {tx} on k, which it had voted yes for before its restart: expected aborted (exit 1), k locked",
                second.word(),
                second.code()
            ))
            .detail("A yes vote must survive a crash: the pending write on disk (flushed) before the vote, and its key locked again when the node starts."),
        ));
    }
    c.release(trial, true);
    let ended = c.wait_for(trial, 2, CONVERGE, |e| decided(e, &txid))?;
    let expected_event = match decision.as_str() {
        "commit" => "committed",
        _ => "aborted",
    };
    match ended {
        Some(event) if event.event == expected_event => {
            trial.note(&format!("p3 printed {expected_event} for {tx} after its restart"));
        }
        Some(event) => {
            return Err(c.failed(
                trial,
                Failure::new(format!(
                    "p3 printed {} for {tx} after its restart, but its coordinator p1 sent `{decision}`",
                    event.event
                ))
                .detail("A participant that voted yes applies the decision it is told, or asks for it: it never decides alone."),
            ));
        }
        None => {
            return Err(c.failed(
                trial,
                Failure::new(format!(
                    "p3 voted yes for {tx}, was killed, started again, and did not learn the decision within {}",
                    crate::runner::seconds(crate::harness::patience::stretch(CONVERGE))
                ))
                .detail("Keep prepared writes on disk (durably, before voting yes) and lock their keys again on start; the coordinator resends `commit` until acknowledged."),
            ));
        }
    }
    let last = (decision == "commit").then_some("v");
    c.expect_everywhere(
        trial,
        "k",
        last,
        "the coordinator's decision, applied on every node",
    )?;
    c.finish(trial);
    Ok(())
}

/// The decision held on the link `from` → `to`: `commit` or `abort` (the first held).
fn decision_held(c: &Cluster, from: usize, to: usize) -> String {
    c.held_types(from, to)
        .into_iter()
        .find(|t| t == "commit" || t == "abort")
        .unwrap_or_else(|| "commit".to_string())
}

/// Kills `coordinator` after every participant voted yes for `key` and before any
/// heard the decision; checks that they block and never decide alone, that reads show
/// nothing of it, then restarts the coordinator and checks that all converge.
/// Returns the txid.
fn kill_between_phases(
    c: &mut Cluster,
    trial: &mut Trial,
    coordinator: usize,
    key: &str,
) -> Result<String, Failure> {
    let participants: Vec<usize> = (0..c.len()).filter(|&i| i != coordinator).collect();
    for &p in &participants {
        c.hold(trial, coordinator, p, &["commit", "abort"]);
    }
    let write = c.start_write(trial, coordinator, &["put", key, "v"])?;
    let coordinator_name = c.name(coordinator);
    c.show_line(
        trial,
        format!("$ put --node {coordinator_name} {key} v &   (in the background)"),
    );
    let mut txid = String::new();
    for &p in &participants {
        txid = prepared(c, trial, p, key)?;
    }
    let tx = trial.placeholder("tx", &txid);
    for &p in &participants {
        until_held(c, trial, coordinator, p, "the decision")?;
    }
    // The coordinator sent it, so it is on disk: after the restart it must be the
    // outcome everywhere.
    let decision = decision_held(c, coordinator, participants[0]);
    trial.note(&format!(
        "every participant voted yes for {tx}; {coordinator_name} has sent its decision (`{decision}`), held back"
    ));
    c.kill(trial, coordinator);
    c.release(trial, false);
    let _ = c.collect_write(trial, write)?;
    for &p in &participants {
        let name = c.name(p);
        let seen = c.wait_for(trial, p, BLOCKED_WITHIN, |e| {
            is(e, "blocked", &txid) || decided(e, &txid)
        })?;
        match seen {
            Some(event) if event.event == "blocked" => {}
            Some(event) => return Err(alone(c, trial, &name, &event.event, &tx, &coordinator_name)),
            None => {
                return Err(c.failed(
                    trial,
                    Failure::new(format!(
                        "{name} voted yes for {tx}, its coordinator died, and it never printed {{\"event\":\"blocked\",…}} within {}",
                        crate::runner::seconds(crate::harness::patience::stretch(BLOCKED_WITHIN))
                    ))
                    .detail("After ~1 s without a decision, print `blocked` with the txid and key, and start asking every peer (`status`)."),
                ));
            }
        }
    }
    std::thread::sleep(WATCH);
    for &p in &participants {
        if let Some(event) = c.events(p).into_iter().find(|e| decided(e, &txid)) {
            let name = c.name(p);
            return Err(alone(c, trial, &name, &event.event, &tx, &coordinator_name));
        }
    }
    let names: Vec<String> = participants.iter().map(|&p| c.name(p)).collect();
    trial.note(&format!(
        "{} print blocked for {tx} and decide nothing while {coordinator_name} is down",
        names.join(" and ")
    ));
    for &p in &participants {
        let got = c.get(trial, p, key)?;
        if got.is_some() {
            let name = c.name(p);
            return Err(c.failed(
                trial,
                Failure::new(format!(
                    "`get --node {name} {key}` shows {} while {tx} is undecided",
                    crate::harness::trial::show(got.as_deref())
                ))
                .detail("Pending writes stay out of the values `get` reads until they commit."),
            ));
        }
    }
    c.show_line(trial, format!("get {key} on {}: null", names.join(", ")));
    c.start_again(trial, coordinator)?;
    c.wait_ready(trial, coordinator)?;
    let mut outcomes = Vec::new();
    for &p in &participants {
        let name = c.name(p);
        match c.wait_for(trial, p, CONVERGE, |e| decided(e, &txid))? {
            Some(event) => outcomes.push(event.event),
            None => {
                return Err(c.failed(
                    trial,
                    Failure::new(format!(
                        "{coordinator_name} is back, and {name} still has not learnt the outcome of {tx} after {}",
                        crate::runner::seconds(crate::harness::patience::stretch(CONVERGE))
                    ))
                    .detail("The coordinator resends its decision after a restart (abort if it had none on disk); a blocked participant keeps asking."),
                ));
            }
        }
    }
    let want = match decision.as_str() {
        "commit" => "committed",
        _ => "aborted",
    };
    if let Some((p, other)) = participants
        .iter()
        .zip(&outcomes)
        .find(|(_, outcome)| *outcome != want)
    {
        let name = c.name(*p);
        return Err(c.failed(
            trial,
            Failure::new(format!(
                "{name} printed {other} for {tx}, but {coordinator_name} had sent `{decision}` before it was killed"
            ))
            .detail("A decision is on disk before anyone hears it; after a restart the coordinator announces that same decision again."),
        ));
    }
    outcomes.dedup();
    trial.note(&format!(
        "{} printed {} for {tx}",
        names.join(" and "),
        outcomes[0]
    ));
    let values = c.values(trial, key)?;
    let first = values.first().map(|(_, v)| v.clone()).unwrap_or_default();
    if let Some((index, other)) = values.iter().find(|(_, v)| *v != first) {
        let name = c.name(*index);
        return Err(c.failed(
            trial,
            Failure::new(format!(
                "after {tx} ended, `get {key}` shows {} on p1 but {} on {name}: a partial write",
                crate::harness::trial::show(first.as_deref()),
                crate::harness::trial::show(other.as_deref())
            )),
        ));
    }
    let expected = match outcomes[0].as_str() {
        "committed" => Some("v"),
        _ => None,
    };
    c.expect_everywhere(
        trial,
        key,
        expected,
        "every node ended the transaction the same way",
    )?;
    Ok(txid)
}

fn alone(
    c: &mut Cluster,
    trial: &mut Trial,
    name: &str,
    event: &str,
    tx: &str,
    coordinator: &str,
) -> Failure {
    c.failed(
        trial,
        Failure::new(format!(
            "{name} printed {event} for {tx} while its coordinator {coordinator} was down and nobody knew the outcome: it decided alone"
        ))
        .detail("A participant that voted yes has promised to do what the coordinator decides: it waits, the key locked, and asks (`status`) — it never commits or aborts on a timeout."),
    )
}

/// The deck's case: p2 has received the decision, p3 has not, and the coordinator is
/// killed. p3 must learn it from p2 (it asks every peer), and after the coordinator's
/// restart every node must show the write — the coordinator too, which must find its
/// decision on disk: it was sent, so it was durable.
fn one_heard_then_coordinator_dies(c: &mut Cluster, trial: &mut Trial, key: &str) -> Result<(), Failure> {
    for p in [1, 2] {
        c.hold(trial, 0, p, &["commit", "abort"]);
    }
    let write = c.start_write(trial, 0, &["put", key, "v"])?;
    c.show_line(trial, format!("$ put --node p1 {key} v &   (in the background)"));
    let mut txid = String::new();
    for p in [1, 2] {
        txid = prepared(c, trial, p, key)?;
    }
    let tx = trial.placeholder("tx", &txid);
    for p in [1, 2] {
        until_held(c, trial, 0, p, "the decision")?;
    }
    let decision = decision_held(c, 0, 1);
    let want = match decision.as_str() {
        "commit" => "committed",
        _ => "aborted",
    };
    c.release_link(trial, 0, 1, true);
    match c.wait_for(trial, 1, STEP, |e| decided(e, &txid))? {
        Some(event) if event.event == want => {}
        Some(event) => {
            return Err(c.failed(
                trial,
                Failure::new(format!(
                    "p2 printed {} for {tx}, but p1 had sent it `{decision}`",
                    event.event
                )),
            ));
        }
        None => {
            return Err(c.failed(
                trial,
                Failure::new(format!(
                    "p2 received `{decision}` for {tx} and did not print {want} within {}",
                    crate::runner::seconds(crate::harness::patience::stretch(STEP))
                )),
            ));
        }
    }
    trial.note(&format!(
        "p2 received `{decision}` for {tx} and printed {want}; p3 did not hear it"
    ));
    c.kill(trial, 0);
    c.release(trial, false);
    let _ = c.collect_write(trial, write)?;
    match c.wait_for(trial, 2, CONVERGE, |e| decided(e, &txid))? {
        Some(event) if event.event == want => {
            trial.note(&format!(
                "p3 learnt `{decision}` from p2 while p1 was down and printed {want}"
            ));
        }
        Some(event) => {
            return Err(c.failed(
                trial,
                Failure::new(format!(
                    "p3 printed {} for {tx} while p2 had already applied `{decision}`: a partial write",
                    event.event
                ))
                .detail("A participant that voted yes never decides alone: it asks every peer (`status`) and applies what one knows."),
            ));
        }
        None => {
            return Err(c.failed(
                trial,
                Failure::new(format!(
                    "p3 voted yes for {tx}, p2 knows the decision, and p3 did not learn it within {} while p1 was down",
                    crate::runner::seconds(crate::harness::patience::stretch(CONVERGE))
                ))
                .detail("A blocked participant asks every peer with `status`, not only the coordinator: another participant that heard can answer."),
            ));
        }
    }
    c.start_again(trial, 0)?;
    c.wait_ready(trial, 0)?;
    let expected = (decision == "commit").then_some("v");
    wait_everywhere(c, trial, key, expected)?;
    c.show_line(
        trial,
        format!(
            "p1, restarted, found its decision on disk: every node shows {}",
            crate::harness::trial::show(expected)
        ),
    );
    Ok(())
}

/// Waits (up to [`CONVERGE`]) until every node shows `expected` for `key`; then checks
/// it once more through [`Cluster::expect_everywhere`], which reports who differs.
fn wait_everywhere(
    c: &mut Cluster,
    trial: &mut Trial,
    key: &str,
    expected: Option<&str>,
) -> Result<(), Failure> {
    let deadline = std::time::Instant::now() + crate::harness::patience::stretch(CONVERGE);
    while std::time::Instant::now() < deadline {
        let values = c.values(trial, key)?;
        if values.iter().all(|(_, v)| v.as_deref() == expected) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    c.expect_everywhere(
        trial,
        key,
        expected,
        "the coordinator's decision, sent before it was killed, on every node",
    )
}

pub(super) fn coordinator_dies_between_phases(trial: &mut Trial) -> Result<(), Failure> {
    let mut c = Cluster::start(trial, &tested(3), MIN)?;
    let written = c.put(trial, 0, "before", "1")?;
    expect(&mut c, trial, written, &[Written::Committed], "every node is up")?;
    kill_between_phases(&mut c, trial, 0, "k")?;
    one_heard_then_coordinator_dies(&mut c, trial, "heard")?;
    let written = c.put(trial, 0, "after", "1")?;
    let txids: Vec<String> = c
        .all_events(0)
        .into_iter()
        .filter(|e| e.event == "prepared")
        .filter_map(|e| e.txid)
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for txid in &txids {
        if !seen.insert(txid) {
            let tx = trial.placeholder("tx", txid);
            return Err(c.failed(
                trial,
                Failure::new(format!(
                    "p1 used the transaction id {tx} twice, before and after its restart"
                ))
                .detail(
                    "A txid must be unique across restarts: keep a counter on disk, or add a random part.",
                ),
            ));
        }
    }
    trial.note("p1's transaction ids before and after its restart all differ");
    expect(
        &mut c,
        trial,
        written,
        &[Written::Committed],
        "every node is up again",
    )?;
    c.expect_everywhere(trial, "after", Some("1"), "committed on every node")?;
    c.finish(trial);
    Ok(())
}

pub(super) fn conflicting_writes(trial: &mut Trial) -> Result<(), Failure> {
    // Two nodes first: each write's only participant is the other coordinator, so
    // only a coordinator that locks its own key makes the two abort each other.
    let mut pair = Cluster::start(trial, &tested(2), 1)?;
    held_round(&mut pair, trial)?;
    pair.finish(trial);
    let mut c = Cluster::start(trial, &tested(3), MIN)?;
    let mut current = held_round(&mut c, trial)?;
    // Free races: the writes overlap as the machine lets them.
    let mark = trial.mark();
    let rounds = 4;
    for r in 0..rounds {
        let values: Vec<String> = (0..3).map(|n| format!("r{r} from p{}", n + 1)).collect();
        let writes: Vec<Background> = (0..3)
            .map(|n| c.start_write(trial, n, &["put", "k", &values[n]]))
            .collect::<Result<_, _>>()?;
        let committed = round(&mut c, trial, writes, &values, &mut current, "racing")?;
        current = same_everywhere(&mut c, trial, &committed, &values, current.clone())?;
    }
    trial.replace_since(
        mark,
        &format!("{rounds} rounds of three racing puts to k: every node shows the same value, one that a committed write wrote"),
    );
    c.finish(trial);
    Ok(())
}

/// One round of truly concurrent writes to k, one through every node: every
/// `prepare` is held until all coordinators have sent theirs, then all are let
/// through at once. At most one may commit; every node must show the same value.
fn held_round(c: &mut Cluster, trial: &mut Trial) -> Result<Option<String>, Failure> {
    let n = c.len();
    for a in 0..n {
        for b in 0..n {
            if a != b {
                c.hold(trial, a, b, &["prepare"]);
            }
        }
    }
    let values: Vec<String> = (0..n).map(|i| format!("held from p{}", i + 1)).collect();
    let writes: Vec<Background> = (0..n)
        .map(|i| c.start_write(trial, i, &["put", "k", &values[i]]))
        .collect::<Result<_, _>>()?;
    let shown: Vec<String> = (0..n).map(|i| format!("put --node p{} k … &", i + 1)).collect();
    c.show_line(trial, format!("$ {}", shown.join(" ")));
    for a in 0..n {
        for b in 0..n {
            if a != b {
                until_held(c, trial, a, b, "`prepare`")?;
            }
        }
    }
    c.release(trial, true);
    let mut current = None;
    let how = format!("the {n} prepares met");
    let committed = round(c, trial, writes, &values, &mut current, &how)?;
    let current = same_everywhere(c, trial, &committed, &values, current)?;
    c.show_line(
        trial,
        format!("at most one of the {n} committed, and every node shows the same value"),
    );
    Ok(current)
}

/// Fails unless every node shows the same value of k: the committed write's of the
/// round, or (none committed) the value before. Returns it.
fn same_everywhere(
    c: &mut Cluster,
    trial: &mut Trial,
    committed: &[usize],
    values: &[String],
    before: Option<String>,
) -> Result<Option<String>, Failure> {
    let shown = c.values(trial, "k")?;
    let first = shown.first().map(|(_, v)| v.clone()).unwrap_or_default();
    if let Some((index, other)) = shown.iter().find(|(_, v)| *v != first) {
        let name = c.name(*index);
        return Err(c.failed(
            trial,
            Failure::new(format!(
                "after a round of concurrent writes to k, p1 shows {} but {name} shows {}",
                crate::harness::trial::show(first.as_deref()),
                crate::harness::trial::show(other.as_deref())
            ))
            .detail("Overlapping transactions on one key must not both commit: lock the key when preparing."),
        ));
    }
    let allowed: Vec<Option<String>> = match committed.is_empty() {
        true => vec![before],
        false => committed.iter().map(|&n| Some(values[n].clone())).collect(),
    };
    if !allowed.contains(&first) {
        return Err(c.failed(
            trial,
            Failure::new(format!(
                "after a round of concurrent writes to k every node shows {}, which is not what the committed writes left",
                crate::harness::trial::show(first.as_deref())
            )),
        ));
    }
    Ok(first)
}

/// Collects a round of writes to k; fails if more than one committed while they
/// overlapped (`overlap`) or if one neither committed nor aborted. Returns who committed.
fn round(
    c: &mut Cluster,
    trial: &mut Trial,
    writes: Vec<Background>,
    values: &[String],
    current: &mut Option<String>,
    how: &str,
) -> Result<Vec<usize>, Failure> {
    let mut committed = Vec::new();
    for (n, write) in writes.into_iter().enumerate() {
        let (command, written) = c.collect_write(trial, write)?;
        match written {
            Written::Committed => committed.push(n),
            Written::Aborted => {}
            other => {
                return Err(c.failed(
                    trial,
                    Failure::new(format!(
                        "`{command}` ended {} (exit {}) in a round of concurrent writes to k",
                        other.word(),
                        other.code()
                    ))
                    .detail("A write that meets a locked key aborts at once (a no vote): it neither waits nor times out."),
                ));
            }
        }
    }
    if how != "racing" && committed.len() > 1 {
        let who: Vec<String> = committed.iter().map(|n| format!("p{}", n + 1)).collect();
        return Err(c.failed(
            trial,
            Failure::new(format!(
                "{} overlapping writes to one key all committed (through {}) when {how}",
                committed.len(),
                who.join(", ")
            ))
            .detail("Lock the key when you prepare (the coordinator too) and vote no while another transaction holds it."),
        ));
    }
    if let [n] = committed.as_slice() {
        *current = Some(values[*n].clone());
    }
    Ok(committed)
}

pub(super) fn interop_with_reference(trial: &mut Trial) -> Result<(), Failure> {
    let who = [Who::Tested, Who::Reference, Who::Reference];
    let mut c = Cluster::start(trial, &who, MIN)?;
    trial.note("p1 is yours, p2 and p3 are reference nodes");
    put_commits_everywhere(
        &mut c,
        trial,
        0,
        ("a", "from p1"),
        "p1 coordinates",
        "committed on every node",
    )?;
    put_commits_everywhere(
        &mut c,
        trial,
        1,
        ("b", "from p2"),
        "p1 is a participant",
        "committed on every node",
    )?;
    // p1 as a blocked participant that must learn the outcome from the reference.
    kill_between_phases(&mut c, trial, 1, "c")?;
    c.finish(trial);
    Ok(())
}

/// What a node answers to a garbage line: the first line it sends, or `None` if it
/// closed the connection without a word. `Err`: it kept the connection open.
fn answer_to(port: u16, garbage: &[u8]) -> Result<Option<String>, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("cannot connect: {e}"))?;
    let _ = stream.set_read_timeout(Some(STEP));
    // A node may close as soon as it has read enough: a failed write is fine.
    let _ = stream.write_all(garbage);
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(None),
        Err(_) => return Err("sent nothing and kept the connection open".into()),
    }
    let mut rest = String::new();
    match reader.read_line(&mut rest) {
        Ok(0) => Ok(Some(line)),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(Some(line)),
        Ok(_) => Err(format!("answered {:?} and then more", line.trim())),
        Err(_) => Err(format!("answered {:?} but kept the connection open", line.trim())),
    }
}

pub(super) fn garbage_from_a_peer(trial: &mut Trial) -> Result<(), Failure> {
    let mut c = Cluster::start(trial, &tested(3), MIN)?;
    let port = c.port(0);
    let long_line = vec![b'x'; 100 * 1024];
    let garbage: [(&str, &[u8]); 5] = [
        ("a line that is not JSON", b"hello\n"),
        ("bytes that are not UTF-8", b"\xff\xfe\x00\n"),
        (
            "a prepare without its operation",
            b"{\"type\":\"prepare\",\"txid\":\"x-1-1\"}\n",
        ),
        (
            "an answer sent as a request",
            b"{\"type\":\"vote\",\"txid\":\"x-1-1\",\"vote\":\"yes\"}\n",
        ),
        ("100 KiB without a newline", &long_line),
    ];
    for (what, bytes) in garbage {
        match answer_to(port, bytes) {
            Ok(Some(line)) => {
                let kind = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string));
                if kind.as_deref() != Some("error") {
                    return Err(c.failed(
                        trial,
                        Failure::new(format!(
                            "p1 answered {what} with {:?}, expected {{\"type\":\"error\",\"reason\":…}}",
                            crate::harness::records::shorten(line.trim(), 80)
                        )),
                    ));
                }
            }
            Ok(None) => {}
            Err(problem) => {
                return Err(c.failed(
                    trial,
                    Failure::new(format!("p1, sent {what}, {problem}"))
                        .detail("Answer a line that is not a message (or longer than 64 KiB) with `error`, then close the connection."),
                ));
            }
        }
        c.healthy(trial)?;
        trial.note(&format!("p1 refused {what}"));
    }
    put_commits_everywhere(
        &mut c,
        trial,
        0,
        ("k", "v"),
        "p1 refused the garbage and goes on",
        "committed on every node",
    )?;
    c.finish(trial);
    Ok(())
}
