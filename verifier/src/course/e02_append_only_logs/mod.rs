//! Exercise 02, append-only logs: a random peer id per database, seqs that start at 1
//! and grow by one across runs, stored so they sort numerically, read in order and
//! "after #N" — the building block every later exercise replicates.

use super::shapes::{APPEND, LOG_ENTRY};
use super::{Check, Exercise, Program};
use crate::harness::records::Record;
use crate::harness::trial::{Failure, Trial};
use crate::runner::Ending;

pub static EXERCISE: Exercise = Exercise {
    number: 2,
    slug: "append-only-logs",
    title: "Append-only logs",
    summary: "a log per peer: random id, seqs from 1, read in order and after a seq",
    problem: include_str!("../../../../exercises/02-append-only-logs/README.md"),
    hints: include_str!("hints.md"),
    programs: &[
        APPEND,
        Program {
            name: "read",
            usage: "read [--db PATH] [--after SEQ]",
            prints: Some(LOG_ENTRY),
            sorted: false,
        },
    ],
    checks: &[
        Check {
            name: "first-append",
            about: "the first entry of a new log gets seq 1",
            advice: "On first open create a random peer id and store it; the first entry is stored under (peer, seq 1) and printed as {\"peer\":…,\"seq\":1,\"entry\":…}.",
            run: first_append,
        },
        Check {
            name: "append-twice",
            about: "a second run continues the same log at seq 2",
            advice: "Reuse the stored peer id, and find the next seq from the last key of your log, so a new process continues where the last one stopped.",
            run: append_twice,
        },
        Check {
            name: "numeric-order",
            about: "seqs past 9 stay in numeric order (10 after 9)",
            advice: "Encode seq as a big-endian u64 (seq.to_be_bytes()) in the key: decimal strings sort \"10\" before \"9\".",
            run: numeric_order,
        },
        Check {
            name: "long-log",
            about: "a log past 255 and 65,535 entries keeps every seq: nothing wraps",
            advice: "Keep the seq a u64 all the way into the key (8 big-endian bytes): a seq that passes through a u8 or u16 wraps at 256 or 65,536 and lands on the key of an old entry.",
            run: long_log,
        },
        Check {
            name: "read-after",
            about: "read --after N prints only the entries after seq N",
            advice: "Start the scan just after (peer, N): the key of seq N+1 is where \"give me entries after #N\" begins.",
            run: read_after,
        },
        Check {
            name: "text-round-trip",
            about: "entries with quotes, unicode, newlines or nothing at all come back unchanged",
            advice: "Store the entry's bytes as they are and print records with serde_json so every string is escaped correctly.",
            run: text_round_trip,
        },
        Check {
            name: "two-databases",
            about: "two databases get different random peer ids",
            advice: "Generate the peer id from random bytes (getrandom) the first time a database is opened, never from a constant or the clock.",
            run: two_databases,
        },
        Check {
            name: "empty-log",
            about: "reading a log nobody appended to prints nothing",
            advice: "`read` of an empty log exits 0 and prints nothing.",
            run: empty_log,
        },
    ],
};

/// The seqs of records, in the order printed.
fn seqs(records: &[Record]) -> Vec<u64> {
    records.iter().filter_map(|r| r.number("seq")).collect()
}

/// The peer ids of records, deduplicated in order of appearance.
fn peers(records: &[Record]) -> Vec<&str> {
    let mut peers: Vec<&str> = Vec::new();
    for peer in records.iter().filter_map(|r| r.text("peer")) {
        if !peers.contains(&peer) {
            peers.push(peer);
        }
    }
    peers
}

/// Seqs for a headline: all of them when few, else the first and last few and how many.
fn short_list(seqs: &[u64]) -> String {
    const SHOWN: usize = 5;
    if seqs.len() <= 3 * SHOWN {
        return format!("{seqs:?}");
    }
    let edge = |part: &[u64]| part.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    format!(
        "[{}, … {}] ({} seqs)",
        edge(&seqs[..SHOWN]),
        edge(&seqs[seqs.len() - SHOWN..]),
        seqs.len()
    )
}

fn expect_seqs(trial: &Trial, what: &str, records: &[Record], expected: &[u64]) -> Result<(), Failure> {
    let got = seqs(records);
    if got == expected {
        return Ok(());
    }
    let failure = trial.fail(format!(
        "{what} gave seqs {}; expected {}",
        short_list(&got),
        short_list(expected)
    ));
    let mut seen = std::collections::BTreeSet::new();
    let repeated = got.iter().find(|seq| !seen.insert(**seq));
    Err(
        if got.windows(2).any(|w| w[0] > w[1]) && got.contains(&10) && got.contains(&9) {
            failure
            .detail("Seq 10 came before seq 9: your keys sort as text.")
            .advise("Encode seq as a big-endian u64 (seq.to_be_bytes()) in the key: decimal text sorts \"10\" before \"9\".")
        } else if got.windows(2).any(|w| w[0] > w[1]) {
            failure
            .detail("The seqs come out of order.")
            .advise("Print the log in key order, oldest first: one forward range scan over the keys of your peer.")
        } else if let Some(seq) = repeated {
            failure
            .detail(format!("Seq {seq} appears twice: a later run numbered its entries again from the start."))
            .advise("Find the next seq from the last key stored for your peer (range(..).next_back()), not from a counter that starts over in every process.")
        } else if got.first() == Some(&0) {
            failure
                .advise("Seqs start at 1: the next seq is the head + 1, and the head of an empty log is 0.")
        } else if got.len() < expected.len() && got.iter().all(|seq| expected.contains(seq)) {
            failure
            .detail("Entries are missing: a later run overwrote earlier ones, or `read` stopped early.")
            .advise("Find the next seq from the LAST key of your log (range(..).next_back() over your peer's keys), and never overwrite a key.")
        } else {
            failure
        },
    )
}

fn one_peer<'r>(trial: &Trial, what: &str, records: &'r [Record]) -> Result<&'r str, Failure> {
    match peers(records)[..] {
        [peer] => Ok(peer),
        [] => Err(trial.fail(format!("{what} printed no entries"))),
        _ => Err(trial
            .fail(format!(
                "{what} shows entries with {} different peer ids",
                peers(records).len()
            ))
            .detail("One database is one peer: store its id once and reuse it on every run.")),
    }
}

fn first_append(trial: &mut Trial) -> Result<(), Failure> {
    let appended = trial.run("append", &["hello world"])?;
    expect_seqs(trial, "the first `append`", &appended, &[1])?;
    let read = trial.run("read", &[])?;
    expect_seqs(trial, "`read`", &read, &[1])?;
    if read != appended {
        let field = |records: &[Record], name: &str| {
            records
                .first()
                .and_then(|r| {
                    r.text(name)
                        .map(str::to_string)
                        .or_else(|| r.number(name).map(|n| n.to_string()))
                })
                .unwrap_or_default()
        };
        let differing = ["peer", "seq", "entry"]
            .into_iter()
            .find(|name| field(&read, name) != field(&appended, name))
            .unwrap_or("entry");
        return Err(trial.fail(format!(
            "`read` printed {differing} {:?} where `append` printed {differing} {:?} for the same entry",
            field(&read, differing),
            field(&appended, differing)
        )));
    }
    Ok(())
}

fn append_twice(trial: &mut Trial) -> Result<(), Failure> {
    trial.run("append", &["hello world"])?;
    let second = trial.run("append", &["hello world"])?;
    expect_seqs(trial, "the second `append`", &second, &[2])?;
    let read = trial.run("read", &[])?;
    expect_seqs(trial, "`read`", &read, &[1, 2])?;
    one_peer(trial, "`read`", &read)?;
    Ok(())
}

/// Appends 12 entries in three runs (3 + 5 + 4) and returns what `read` shows.
fn append_twelve(trial: &mut Trial) -> Result<Vec<Record>, Failure> {
    let names: Vec<String> = (1..=12).map(|n| format!("entry {n}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let first = trial.run("append", &names[0..3])?;
    expect_seqs(trial, "appending three entries in one run", &first, &[1, 2, 3])?;
    trial.run("append", &names[3..8])?;
    trial.run("append", &names[8..12])?;
    trial.run("read", &[])
}

fn numeric_order(trial: &mut Trial) -> Result<(), Failure> {
    let read = append_twelve(trial)?;
    expect_seqs(trial, "`read`", &read, &(1..=12).collect::<Vec<_>>())?;
    one_peer(trial, "`read`", &read)?;
    Ok(())
}

/// The seqs at which a narrower integer would wrap: a seq kept in a u8 or a u16 on its
/// way into the key stores entry 256 (65,536) under the key of entry 0.
const WRAPS_AT: [u64; 2] = [1 << 8, 1 << 16];

/// The entry `long-log` appends as seq `seq`: its seq, so that a wrapped entry shows.
fn long_entry(seq: u64) -> String {
    format!("#{seq}")
}

fn long_log(trial: &mut Trial) -> Result<(), Failure> {
    let mark = trial.mark();
    let mut held = 0;
    for (step, wrap) in WRAPS_AT.into_iter().enumerate() {
        // Runs of seeded sizes that end exactly on the boundary (a wrapped program may
        // loop for ever on the entry after it), then two more beyond it.
        let largest = if step == 0 { 100 } else { 16_384 };
        while held < wrap {
            let size = trial.rng().u64(1..=largest).min(wrap - held);
            held = append_run(trial, held, size)?;
        }
        read_back_the_end(trial, held)?;
        held = append_run(trial, held, 2)?;
        read_back_the_end(trial, held)?;
    }
    trial.replace_since(
        mark,
        "appended 65,538 entries (\"#1\" to \"#65538\") in runs of seeded sizes, stopping at 256 and at 65,536; `read --after` a few seqs before each end gave back exactly the last entries",
    );
    Ok(())
}

/// Appends entries `held + 1 ..= held + size` in one run; returns the new head.
fn append_run(trial: &mut Trial, held: u64, size: u64) -> Result<u64, Failure> {
    let seqs: Vec<u64> = (held + 1..=held + size).collect();
    let entries: Vec<String> = seqs.iter().map(|&seq| long_entry(seq)).collect();
    let entries: Vec<&str> = entries.iter().map(String::as_str).collect();
    let appended = trial.run_unshown("append", &entries, "(the records are judged, not shown)")?;
    let what = format!("`append` of the entries #{} to #{}", held + 1, held + size);
    expect_seqs(trial, &what, &appended, &seqs)?;
    Ok(held + size)
}

/// Requires `read --after` a few seqs before `head` to give back the last entries.
fn read_back_the_end(trial: &mut Trial, head: u64) -> Result<(), Failure> {
    let after = head - trial.rng().u64(2..=6);
    let read = trial.run_unshown("read", &["--after", &after.to_string()], "(judged, not shown)")?;
    let expected: Vec<u64> = (after + 1..=head).collect();
    expect_seqs(
        trial,
        &format!("with {head} entries, `read --after {after}`"),
        &read,
        &expected,
    )?;
    for record in &read {
        let seq = record.number("seq").unwrap_or_default();
        let entry = record.text("entry").unwrap_or_default();
        if entry != long_entry(seq) {
            return Err(trial
                .fail(format!(
                    "with {head} entries, `read` gives seq {seq} the entry {entry:?}; it was appended as {:?}",
                    long_entry(seq)
                ))
                .detail("Another entry was stored under this seq's key: does the seq wrap on its way into the key?"));
        }
    }
    Ok(())
}

fn read_after(trial: &mut Trial) -> Result<(), Failure> {
    append_twelve(trial)?;
    let after = trial.run("read", &["--after", "9"])?;
    expect_seqs(trial, "`read --after 9`", &after, &[10, 11, 12])?;
    let after = trial.run("read", &["--after", "12"])?;
    expect_seqs(trial, "`read --after 12`", &after, &[])?;
    let after = trial.run("read", &["--after", "0"])?;
    expect_seqs(trial, "`read --after 0`", &after, &(1..=12).collect::<Vec<_>>())
}

fn text_round_trip(trial: &mut Trial) -> Result<(), Failure> {
    let entries = [
        "say \"hi\"",
        "naïve ünïcode ✓ 日本",
        "",
        "two\nlines",
        "back\\slash\ttab",
    ];
    trial.run("append", &entries)?;
    let read = trial.run("read", &[])?;
    let got: Vec<&str> = read.iter().filter_map(|r| r.text("entry")).collect();
    if got != entries {
        return Err(trial.fail(format!("`read` gave the entries {got:?}; expected {entries:?}")));
    }
    Ok(())
}

fn two_databases(trial: &mut Trial) -> Result<(), Failure> {
    let alice = trial.run("append", &["--db", "alice.db", "from alice"])?;
    let bob = trial.run("append", &["--db", "bob.db", "from bob"])?;
    let alice_peer = one_peer(trial, "`append --db alice.db`", &alice)?;
    let bob_peer = one_peer(trial, "`append --db bob.db`", &bob)?;
    if alice_peer == bob_peer {
        return Err(trial
            .fail(format!("both databases got the same peer id {alice_peer:?}"))
            .detail("The id must be random per database: two peers with one id would overwrite each other's entries when they replicate."));
    }
    trial.run("read", &["--db", "alice.db"])?;
    trial.run("read", &["--db", "bob.db"])?;
    Ok(())
}

fn empty_log(trial: &mut Trial) -> Result<(), Failure> {
    let read = trial.run("read", &[])?;
    expect_seqs(trial, "`read` of a new database", &read, &[])?;
    let outcome = trial.run_any_exit("append", &[])?;
    if outcome.ending != Ending::Exited(2) {
        return Err(trial
            .fail(format!(
                "`append` with no entries {}; it should be a usage error (exit code 2)",
                outcome.ending.describe()
            ))
            .advise("Give the entries argument `required = true` (clap), so that clap refuses an empty command line with exit code 2."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::short_list;

    #[test]
    fn long_lists_of_seqs_are_shortened() {
        assert_eq!(short_list(&[1, 2, 3]), "[1, 2, 3]");
        let long: Vec<u64> = (1..=300).collect();
        assert_eq!(
            short_list(&long),
            "[1, 2, 3, 4, 5, … 296, 297, 298, 299, 300] (300 seqs)"
        );
    }
}
