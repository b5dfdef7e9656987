//! The checks of the data and of replication between well-behaved peers.

use super::super::stores::{expect, get, listing, same_listings, write};
use crate::harness::records::Record;
use crate::harness::trial::{Failure, Outcome, Server, Trial, Who};
use crate::runner::Ending;

/// A value as a failure names it: `"blue"`, or `not found`.
fn shown(value: &Option<String>) -> String {
    value
        .as_ref()
        .map_or("not found".to_string(), |v| format!("{v:?}"))
}

/// `put --db DB KEY VALUE`.
pub(super) fn put(trial: &mut Trial, db: &str, key: &str, value: &str) -> Result<(), Failure> {
    write(trial, "put", db, &[key, value])
}

/// Starts the `serve` under test on `db`, shown as `name`.
pub(super) fn serve(trial: &mut Trial, db: &str, name: &str) -> Result<Server, Failure> {
    Server::start(trial, Who::Tested, "serve", db, name)
}

/// `pull --db DB --from ADDRESS` by `who`, any exit code; the address shown as `name`.
pub(super) fn pull_at(
    trial: &mut Trial,
    who: Who,
    db: &str,
    address: &str,
    name: &str,
    extra: &[&str],
) -> Result<Outcome, Failure> {
    let mut args = vec!["--db", db, "--from", address];
    args.extend_from_slice(extra);
    trial.run_shown(who, "pull", &args, &[(address, name)])
}

/// What a pull printed: exactly one record.
pub(super) fn learnt(trial: &Trial, outcome: &Outcome) -> Result<Record, Failure> {
    match outcome.records.as_slice() {
        [record] => Ok(record.clone()),
        other => Err(trial
            .fail(format!(
                "`pull` printed {} records; it prints exactly one, what it learnt",
                other.len()
            ))
            .detail("{\"from\":…,\"received\":…,\"applied\":…,\"seen\":…}, even when the pull ends early.")),
    }
}

/// A successful pull of the programs under test from a server; what it learnt.
pub(super) fn pull(trial: &mut Trial, db: &str, server: &Server) -> Result<Record, Failure> {
    pull_with(trial, db, server, &[])
}

pub(super) fn pull_with(
    trial: &mut Trial,
    db: &str,
    server: &Server,
    extra: &[&str],
) -> Result<Record, Failure> {
    let outcome = pull_at(trial, Who::Tested, db, &server.address(), server.name(), extra)?;
    if outcome.ending != Ending::Exited(0) {
        return Err(trial
            .fail(format!("`pull --db {db}` from {} {}; it should succeed", server.name(), outcome.ending.describe()))
            .detail("The server answered in full: a pull that reads hello, sends its request and reads every record up to `end` exits 0."));
    }
    learnt(trial, &outcome)
}

/// A number field of a pull's record (0 if absent: the shape was checked).
pub(super) fn number(record: &Record, field: &str) -> u64 {
    record.number(field).unwrap_or(0)
}

/// Every record of a database's log.
pub(super) fn log(trial: &mut Trial, db: &str) -> Result<Vec<Record>, Failure> {
    trial.run("log", &["--db", db])
}

/// The peer id of a database: the writer of the first record of its log.
pub(super) fn peer_of(trial: &mut Trial, db: &str) -> Result<String, Failure> {
    let records = trial.run_unshown("log", &["--db", db], "to learn its peer id: not shown")?;
    records
        .first()
        .and_then(|r| r.text("peer"))
        .map(str::to_string)
        .ok_or_else(|| {
            trial.fail(format!(
                "{db}'s log is empty after a put: every write is a record of the log"
            ))
        })
}

pub(super) fn one_store(trial: &mut Trial) -> Result<(), Failure> {
    put(trial, "alice.db", "colour", "red")?;
    put(trial, "alice.db", "colour", "blue")?;
    put(trial, "alice.db", "size", "big")?;
    write(trial, "del", "alice.db", &["size"])?;
    expect(trial, "alice.db", "colour", Some("blue"))?;
    expect(trial, "alice.db", "size", None)?;
    let listed = listing(trial, Who::Tested, "alice.db")?;
    if listed.len() != 1 {
        return Err(trial.fail(format!(
            "`list` printed {} records; only colour has a value",
            listed.len()
        )));
    }
    let records = log(trial, "alice.db")?;
    let clocks: Vec<(String, u64, u64)> = records
        .iter()
        .map(|r| {
            (
                r.text("key").unwrap_or("").to_string(),
                number(r, "clock"),
                number(r, "seq"),
            )
        })
        .collect();
    let expected = [("colour", 1, 1), ("colour", 2, 2), ("size", 1, 3), ("size", 2, 4)];
    let matches = clocks.len() == expected.len()
        && clocks
            .iter()
            .zip(expected)
            .all(|((k, c, s), (ek, ec, es))| k == ek && *c == ec && *s == es);
    if !matches {
        return Err(trial
            .fail(format!("the log holds (key, clock, seq) {clocks:?}; expected {expected:?}"))
            .detail("Each write is stamped 1 + the largest clock of its key held, and stored at the next position (1, 2, 3, …)."));
    }
    Ok(())
}

pub(super) fn different_keys_merge(trial: &mut Trial) -> Result<(), Failure> {
    put(trial, "alice.db", "a", "from alice")?;
    put(trial, "bob.db", "b", "from bob")?;
    let mut alice = serve(trial, "alice.db", "alice")?;
    let mut bob = serve(trial, "bob.db", "bob")?;
    pull(trial, "bob.db", &alice)?;
    pull(trial, "alice.db", &bob)?;
    trial.note("carol pulls from bob only: bob serves alice's write too");
    pull(trial, "carol.db", &bob)?;
    alice.alive(trial)?;
    bob.alive(trial)?;
    alice.stop(trial);
    bob.stop(trial);
    for db in ["alice.db", "bob.db", "carol.db"] {
        expect(trial, db, "a", Some("from alice"))?;
        expect(trial, db, "b", Some("from bob"))?;
    }
    same_listings(trial, &["alice.db", "bob.db", "carol.db"])
}

pub(super) fn higher_clock_wins(trial: &mut Trial) -> Result<(), Failure> {
    put(trial, "alice.db", "k", "alice 1")?;
    put(trial, "alice.db", "k", "alice 2")?;
    trial.note("later, bob writes k once, without having seen alice's writes");
    put(trial, "bob.db", "k", "bob 1")?;
    let mut alice = serve(trial, "alice.db", "alice")?;
    let mut bob = serve(trial, "bob.db", "bob")?;
    // How many records each pull applies depends on the random peer ids (alice's
    // first write ties bob's at clock 1): the transcript names the pulls only.
    let mark = trial.mark();
    pull(trial, "carol.db", &alice)?;
    pull(trial, "carol.db", &bob)?;
    pull(trial, "dave.db", &bob)?;
    pull(trial, "dave.db", &alice)?;
    pull(trial, "alice.db", &bob)?;
    pull(trial, "bob.db", &alice)?;
    trial.replace_since(
        mark,
        "carol pulls from alice, then bob; dave from bob, then alice; alice from bob; bob from alice",
    );
    alice.stop(trial);
    bob.stop(trial);
    for db in ["alice.db", "bob.db", "carol.db", "dave.db"] {
        expect(trial, db, "k", Some("alice 2"))?;
    }
    trial.note("clock 2 beats clock 1 everywhere; bob's write, concurrent with alice's, is lost");
    trial.note("a logical clock orders what one peer saw before writing; it cannot merge what nobody saw (07's siblings keep both)");
    Ok(())
}

pub(super) fn informed_write_wins(trial: &mut Trial) -> Result<(), Failure> {
    // Exercise 06 lost this write because bob's wall clock ran ahead. No
    // program of this exercise reads a wall clock, so no skew can be set up
    // for it: what is checked is the order of what was seen, nothing else.
    trial.note(
        "bob writes two drafts; whatever the wall clocks say, only what alice has seen orders her write",
    );
    put(trial, "bob.db", "x", "draft 1")?;
    put(trial, "bob.db", "x", "draft 2")?;
    let mut bob = serve(trial, "bob.db", "bob")?;
    pull(trial, "alice.db", &bob)?;
    expect(trial, "alice.db", "x", Some("draft 2"))?;
    trial.note("alice has seen the draft; she writes the final text");
    put(trial, "alice.db", "x", "final")?;
    let mut alice = serve(trial, "alice.db", "alice")?;
    pull(trial, "bob.db", &alice)?;
    alice.stop(trial);
    bob.stop(trial);
    let got = get(trial, "bob.db", "x")?;
    if got.as_deref() != Some("final") {
        return Err(trial
            .fail(format!("bob.db says x is {} after pulling alice's informed write; expected \"final\"",
                shown(&got)))
            .detail("Alice wrote after pulling clock 2: her write must be stamped 3. Raise the clock past every write of the key you hold, pulled ones included."));
    }
    expect(trial, "alice.db", "x", Some("final"))?;
    trial.note(
        "what exercise 06 could not do: the write made knowing the other wins, whatever the wall clocks say",
    );
    Ok(())
}

/// One seeded round: three peers write k, serve, and pull from each other in a
/// random order; all must keep the write of the greatest peer id.
fn equal_clocks_round(trial: &mut Trial, round: usize) -> Result<(), Failure> {
    let names = ["alice", "bob", "carol"];
    let dbs: Vec<String> = names.iter().map(|n| format!("{n}{round}.db")).collect();
    let mut writers = Vec::new();
    for (name, db) in names.iter().zip(&dbs) {
        put(trial, db, "k", &format!("from {name}"))?;
        writers.push((peer_of(trial, db)?, format!("from {name}")));
    }
    let mut servers = Vec::new();
    for (name, db) in names.iter().zip(&dbs) {
        servers.push(serve(trial, db, &format!("{name}{round}"))?);
    }
    let mut pairs: Vec<(usize, usize)> = vec![(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)];
    trial.rng().shuffle(&mut pairs);
    let mark = trial.mark();
    for &(puller, server) in &pairs {
        pull(trial, &dbs[puller], &servers[server])?;
    }
    let order: Vec<String> = pairs
        .iter()
        .map(|&(p, s)| format!("{}←{}", names[p], names[s]))
        .collect();
    trial.replace_since(
        mark,
        "each pulls from each other once, in an order drawn from the seed",
    );
    for mut server in servers {
        server.stop(trial);
    }
    let expected = writers
        .iter()
        .max_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()))
        .map(|w| w.1.clone());
    let mark = trial.mark();
    for db in &dbs {
        let got = get(trial, db, "k")?;
        if got != expected {
            return Err(trial
                .fail(format!(
                    "{db} keeps {} for k after the pulls {}; the write of the greatest peer id is {}",
                    shown(&got),
                    order.join(", "),
                    shown(&expected)
                ))
                .detail("All three writes have clock 1: the resolver must pick the same one everywhere, the greatest peer id, whatever the arrival order and whoever wrote it."));
        }
    }
    trial.replace_since(mark, "all three keep the write of the greatest peer id");
    Ok(())
}

pub(super) fn equal_clocks_resolve(trial: &mut Trial) -> Result<(), Failure> {
    for round in 1..=3 {
        trial.note(&format!(
            "round {round}: three new peers each write k once (clock 1)"
        ));
        equal_clocks_round(trial, round)?;
    }
    Ok(())
}

pub(super) fn no_resolver_diverges(trial: &mut Trial) -> Result<(), Failure> {
    put(trial, "alice.db", "k", "from alice")?;
    put(trial, "bob.db", "k", "from bob")?;
    let mut alice = serve(trial, "alice.db", "alice")?;
    let mut bob = serve(trial, "bob.db", "bob")?;
    trial.note("as the original without a resolver: equal clocks keep what is held");
    for round in 0..2 {
        let from_bob = pull_with(trial, "alice.db", &bob, &["--no-resolver"])?;
        let from_alice = pull_with(trial, "bob.db", &alice, &["--no-resolver"])?;
        let again = number(&from_bob, "received") + number(&from_alice, "received");
        if round == 1 && again != 0 {
            return Err(trial
                .fail(format!("the second round of pulls received {again} records; nothing was written since the first"))
                .detail("A pull asks after the position seen of that server: a record that arrived once, and lost, is not sent again."));
        }
    }
    let (a, b) = (get(trial, "alice.db", "k")?, get(trial, "bob.db", "k")?);
    if a == b {
        return Err(trial
            .fail(format!("with --no-resolver, alice and bob both keep {}: the original's flaw is not reproduced", shown(&a)))
            .detail("With --no-resolver, a pulled record wins only with a strictly greater clock; on equal clocks the held write stays."));
    }
    trial
        .note("they will never agree: each write crossed once and lost; later pulls ask after it and receive nothing");
    trial.note("(so turning the resolver on later would not help them either: only a new write of k changes anything)");
    alice.stop(trial);
    bob.stop(trial);
    trial.note("the same story with the resolver, on two new peers");
    let mark = trial.mark();
    put(trial, "carol.db", "k", "from carol")?;
    put(trial, "dave.db", "k", "from dave")?;
    let mut carol = serve(trial, "carol.db", "carol")?;
    let mut dave = serve(trial, "dave.db", "dave")?;
    pull(trial, "carol.db", &dave)?;
    pull(trial, "dave.db", &carol)?;
    carol.stop(trial);
    dave.stop(trial);
    let (c, d) = (get(trial, "carol.db", "k")?, get(trial, "dave.db", "k")?);
    trial.replace_since(
        mark,
        "carol and dave each write k once, serve, and pull from each other without --no-resolver",
    );
    if c != d {
        return Err(trial.fail(format!(
            "with the resolver, carol keeps {} and dave {} after pulling from each other",
            shown(&c),
            shown(&d)
        )));
    }
    trial.note("both keep the write of the greater peer id");
    Ok(())
}

pub(super) fn compaction(trial: &mut Trial) -> Result<(), Failure> {
    for value in ["1", "2", "3"] {
        put(trial, "alice.db", "k", value)?;
    }
    put(trial, "alice.db", "j", "only")?;
    put(trial, "bob.db", "b", "bob's")?;
    let mut bob = serve(trial, "bob.db", "bob")?;
    pull(trial, "alice.db", &bob)?;
    write(trial, "del", "alice.db", &["j"])?;
    trial.run("compact", &["--db", "alice.db"])?;
    let records = log(trial, "alice.db")?;
    let mut keys: Vec<&str> = records.iter().filter_map(|r| r.text("key")).collect();
    keys.sort_unstable();
    if keys != ["b", "j", "k"] {
        return Err(trial
            .fail(format!("after compact, alice's log holds records of the keys {keys:?}; expected one each of b, j, k"))
            .detail("Compaction keeps exactly one record per key (a del too: it must still win over older puts elsewhere)."));
    }
    let newest = records
        .iter()
        .find(|r| r.text("key") == Some("k"))
        .and_then(|r| r.text("value"));
    if newest != Some("3") {
        return Err(trial
            .fail(format!(
                "after compact, alice's record of k holds {newest:?}; the newest write is \"3\""
            ))
            .detail("Keep the record that wins the key (the view's), not the first one found."));
    }
    let mut alice = serve(trial, "alice.db", "alice")?;
    pull(trial, "carol.db", &alice)?;
    pull(trial, "bob.db", &alice)?;
    alice.stop(trial);
    bob.stop(trial);
    expect(trial, "carol.db", "k", Some("3"))?;
    expect(trial, "carol.db", "j", None)?;
    same_listings(trial, &["alice.db", "bob.db", "carol.db"])
}

pub(super) fn seqs_grow_after_compaction(trial: &mut Trial) -> Result<(), Failure> {
    for value in ["1", "2", "3", "4"] {
        put(trial, "alice.db", "k", value)?;
    }
    let mut alice = serve(trial, "alice.db", "alice")?;
    pull(trial, "bob.db", &alice)?;
    alice.stop(trial);
    trial.run("compact", &["--db", "alice.db"])?;
    put(trial, "alice.db", "new", "after compaction")?;
    let records = log(trial, "alice.db")?;
    let seq_of_new = records
        .iter()
        .find(|r| r.text("key") == Some("new"))
        .map(|r| number(r, "seq"));
    if seq_of_new.is_some_and(|seq| seq <= 4) {
        return Err(trial
            .fail(format!(
                "after compaction, the new record got position {}, but positions up to 4 were already given (and bob has seen 4)",
                seq_of_new.unwrap_or(0)
            ))
            .detail("Positions only grow: a puller asks for what comes after the last position it saw, so a reused position is never sent to it."));
    }
    alice.start_again(trial)?;
    pull(trial, "bob.db", &alice)?;
    alice.stop(trial);
    expect(trial, "bob.db", "new", Some("after compaction"))
}

pub(super) fn interop_with_reference(trial: &mut Trial) -> Result<(), Failure> {
    put(trial, "alice.db", "k", "alice 1")?;
    put(trial, "alice.db", "k", "alice 2")?;
    trial.run_as(Who::Reference, "put", &["--db", "bob.db", "b", "bob only"])?;
    let mut bob = Server::start(trial, Who::Reference, "serve", "bob.db", "bob")?;
    pull(trial, "alice.db", &bob)?;
    bob.stop(trial);
    let mut alice = serve(trial, "alice.db", "alice")?;
    let outcome = pull_at(trial, Who::Reference, "bob.db", &alice.address(), "alice", &[])?;
    alice.alive(trial)?;
    alice.stop(trial);
    if outcome.ending != Ending::Exited(0) {
        return Err(trial
            .fail(format!("the reference `pull` from your `serve` {}", outcome.ending.describe()))
            .detail("Your serve must say hello, read one pull request and answer with record messages and `end`, exactly as the text specifies."));
    }
    expect(trial, "alice.db", "b", Some("bob only"))?;
    expect(trial, "alice.db", "k", Some("alice 2"))?;
    let theirs = trial.run_as(Who::Reference, "get", &["--db", "bob.db", "k"])?;
    if theirs.first().and_then(|r| r.text("value")) != Some("alice 2") {
        return Err(trial.fail("the reference database did not take your record of k with clock 2"));
    }
    Ok(())
}
