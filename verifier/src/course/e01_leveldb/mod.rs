//! Exercise 01, leveldb basics: put, get, del and range over an embedded ordered
//! key/value store (sled), with collections as isolated key spaces.
//!
//! The checks run every command as its own process, so everything they see has gone
//! through the disk: persistence is tested by every check, not just one.

use super::shapes::KEY_VALUE;
use super::{Check, Exercise, Program};
use crate::harness::records::Record;
use crate::harness::trial::{Failure, Trial};
use crate::runner::Ending;

pub static EXERCISE: Exercise = Exercise {
    number: 1,
    slug: "leveldb",
    title: "leveldb basics",
    summary: "put, get, del and range over an embedded, ordered key/value store",
    problem: include_str!("../../../../exercises/01-leveldb/README.md"),
    hints: include_str!("hints.md"),
    programs: &[
        Program {
            name: "put",
            usage: "put [--db PATH] [--collection NAME] KEY VALUE",
            prints: None,
            sorted: false,
        },
        Program {
            name: "get",
            usage: "get [--db PATH] [--collection NAME] KEY",
            prints: Some(KEY_VALUE),
            sorted: false,
        },
        Program {
            name: "del",
            usage: "del [--db PATH] [--collection NAME] KEY",
            prints: None,
            sorted: false,
        },
        Program {
            name: "range",
            usage: "range [--db PATH] [--collection NAME] [--gt K | --gte K] [--lt K | --lte K] [--reverse] [--limit N]",
            prints: Some(KEY_VALUE),
            sorted: false,
        },
    ],
    checks: &[
        Check {
            name: "put-then-get",
            about: "a value put by one process is read back by another",
            advice: "`put` must store the value in the sled database at --db (default `db`) and flush before it exits; `get` prints {\"key\":…,\"value\":…}.",
            run: put_then_get,
        },
        Check {
            name: "overwrite",
            about: "a second put of the same key replaces the value",
            advice: "A put of an existing key replaces its value: sled's insert does exactly that.",
            run: overwrite,
        },
        Check {
            name: "missing-key",
            about: "get of a missing key prints nothing and exits with code 1",
            advice: "When the key is absent, print a message on stderr (eprintln!) and exit with std::process::exit(1); print nothing on stdout.",
            run: missing_key,
        },
        Check {
            name: "delete",
            about: "del removes a key, and deleting a missing key is fine",
            advice: "`del` removes the key; removing a key that is not there is not an error (exit 0), as in leveldb.",
            run: delete,
        },
        Check {
            name: "byte-order",
            about: "range lists keys in byte order: \"10\" before \"9\"",
            advice: "Iterate the tree in its own order (sled keeps keys sorted as bytes); do not sort numerically yourself.",
            run: byte_order,
        },
        Check {
            name: "bounds",
            about: "range honours --gt/--gte/--lt/--lte, --reverse and --limit",
            advice: "Build the range from the bounds (Bound::Included / Bound::Excluded), iterate it, reverse it with .rev() when asked, then take the limit.",
            run: bounds,
        },
        Check {
            name: "collections",
            about: "collections are isolated key spaces",
            advice: "Open a separate tree per collection with db.open_tree(NAME); without --collection use the default tree.",
            run: collections,
        },
        Check {
            name: "text-round-trip",
            about: "keys and values with quotes, spaces (around them too) and unicode come back unchanged",
            advice: "Store the UTF-8 bytes of keys and values as they are, and print records with serde_json so strings are escaped correctly.",
            run: text_round_trip,
        },
    ],
};

/// The keys of records, in the order printed.
fn keys(records: &[Record]) -> Vec<&str> {
    records.iter().filter_map(|r| r.text("key")).collect()
}

/// The value `get` printed, requiring exactly one record for the key.
fn got(trial: &Trial, key: &str, records: &[Record]) -> Result<String, Failure> {
    match records {
        [record] if record.text("key") == Some(key) => {
            Ok(record.text("value").unwrap_or_default().to_string())
        }
        [record] => Err(trial.fail(format!(
            "`get {key}` printed a record for the key {:?}",
            record.text("key").unwrap_or_default()
        ))),
        _ => Err(trial.fail(format!(
            "`get {key}` printed {} records; it should print exactly one",
            records.len()
        ))),
    }
}

fn expect_value(trial: &mut Trial, args: &[&str], key: &str, expected: &str) -> Result<(), Failure> {
    let records = trial.run("get", args)?;
    let value = got(trial, key, &records)?;
    if value != expected {
        return Err(trial.fail(format!(
            "`get {key}` printed the value {value:?}; expected {expected:?}"
        )));
    }
    Ok(())
}

fn expect_missing(trial: &mut Trial, args: &[&str], key: &str) -> Result<(), Failure> {
    let outcome = trial.run_any_exit("get", args)?;
    if !outcome.records.is_empty() {
        let value = outcome.records[0].text("value").unwrap_or_default().to_string();
        return Err(trial
            .fail(format!(
                "`get {key}` printed a record (value {value:?}) for a key that is not there"
            ))
            .detail("A missing key prints nothing on stdout, a message on stderr, and exits with code 1.")
            .advise("Tell \"no value\" (None from sled) apart from an empty value: print nothing, say so on stderr, and exit 1."));
    }
    if outcome.ending != Ending::Exited(1) {
        return Err(trial
            .fail(format!(
                "`get {key}` of a missing key {}; it should exit with code 1",
                outcome.ending.describe()
            ))
            .detail("A missing key prints nothing on stdout, a message on stderr, and exits with code 1."));
    }
    Ok(())
}

fn put_then_get(trial: &mut Trial) -> Result<(), Failure> {
    trial.run("put", &["greeting", "hello"])?;
    expect_value(trial, &["greeting"], "greeting", "hello")
}

fn overwrite(trial: &mut Trial) -> Result<(), Failure> {
    trial.run("put", &["colour", "red"])?;
    trial.run("put", &["colour", "blue"])?;
    expect_value(trial, &["colour"], "colour", "blue")
}

fn missing_key(trial: &mut Trial) -> Result<(), Failure> {
    expect_missing(trial, &["nothing-here"], "nothing-here")?;
    trial.run("put", &["something", "here"])?;
    expect_missing(trial, &["nothing-here"], "nothing-here")
}

fn delete(trial: &mut Trial) -> Result<(), Failure> {
    trial.run("put", &["a", "1"])?;
    trial.run("put", &["b", "2"])?;
    trial.run("del", &["a"])?;
    expect_missing(trial, &["a"], "a")?;
    expect_value(trial, &["b"], "b", "2")?;
    trial.run("del", &["never-there"])?;
    let left = trial.run("range", &[])?;
    if keys(&left) != ["b"] {
        return Err(trial.fail(format!(
            "after deleting `a`, range lists {:?}; expected only b",
            keys(&left)
        )));
    }
    Ok(())
}

fn byte_order(trial: &mut Trial) -> Result<(), Failure> {
    for (key, value) in [
        ("9", "nine"),
        ("10", "ten"),
        ("2", "two"),
        ("100", "hundred"),
        ("1", "one"),
    ] {
        trial.run("put", &[key, value])?;
    }
    let listed = trial.run("range", &[])?;
    let keys = keys(&listed);
    if keys != ["1", "10", "100", "2", "9"] {
        return Err(trial
            .fail(format!("range listed the keys in the order {keys:?}"))
            .detail("Keys are bytes and sort as bytes: \"10\" < \"9\" because '1' < '9'. Expected [\"1\", \"10\", \"100\", \"2\", \"9\"]."));
    }
    Ok(())
}

fn bounds(trial: &mut Trial) -> Result<(), Failure> {
    for key in ["a", "b", "c", "d", "e", "f"] {
        trial.run("put", &[key, &key.to_uppercase()])?;
    }
    let cases: [(&[&str], &[&str]); 8] = [
        (&[], &["a", "b", "c", "d", "e", "f"]),
        (&["--gte", "b", "--lt", "e"], &["b", "c", "d"]),
        (&["--gt", "b", "--lte", "e"], &["c", "d", "e"]),
        (&["--gte", "cc"], &["d", "e", "f"]),
        (&["--reverse"], &["f", "e", "d", "c", "b", "a"]),
        (&["--limit", "2"], &["a", "b"]),
        (&["--reverse", "--limit", "2"], &["f", "e"]),
        (
            &["--gt", "a", "--lt", "f", "--reverse", "--limit", "3"],
            &["e", "d", "c"],
        ),
    ];
    for (args, expected) in cases {
        let listed = trial.run("range", args)?;
        if keys(&listed) != expected {
            return Err(trial.fail(format!(
                "`range {}` listed {:?}; expected {:?}",
                args.join(" "),
                keys(&listed),
                expected
            )));
        }
    }
    Ok(())
}

fn collections(trial: &mut Trial) -> Result<(), Failure> {
    trial.run("put", &["--collection", "users", "alice", "admin"])?;
    trial.run("put", &["--collection", "posts", "alice", "hello, world"])?;
    trial.run("put", &["alice", "in the default collection"])?;
    expect_value(trial, &["--collection", "users", "alice"], "alice", "admin")?;
    expect_value(
        trial,
        &["--collection", "posts", "alice"],
        "alice",
        "hello, world",
    )?;
    expect_value(trial, &["alice"], "alice", "in the default collection")?;
    trial.run("put", &["--collection", "users", "bob", "reader"])?;
    let users = trial.run("range", &["--collection", "users"])?;
    if keys(&users) != ["alice", "bob"] {
        return Err(trial.fail(format!(
            "the users collection lists {:?}; expected [\"alice\", \"bob\"]",
            keys(&users)
        )));
    }
    expect_missing(trial, &["--collection", "posts", "bob"], "bob")?;
    trial.run("del", &["--collection", "users", "alice"])?;
    expect_value(
        trial,
        &["--collection", "posts", "alice"],
        "alice",
        "hello, world",
    )?;
    let default = trial.run("range", &[])?;
    if keys(&default) != ["alice"] {
        return Err(trial
            .fail(format!(
                "the default collection lists {:?}; expected only alice",
                keys(&default)
            ))
            .detail("Keys of other collections must not appear in the default one."));
    }
    Ok(())
}

fn text_round_trip(trial: &mut Trial) -> Result<(), Failure> {
    let pairs = [
        ("with space", "say \"hi\""),
        ("naïve-ключ", "ünïcode ✓ 日本"),
        ("empty", ""),
        ("", "under the empty key"),
    ];
    for (key, value) in pairs {
        trial.run("put", &[key, value])?;
    }
    for (key, value) in pairs {
        expect_value(trial, &[key], key, value)?;
    }
    trial.run("range", &[])?;
    seeded_round_trip(trial, &pairs)
}

/// Pieces of the seeded keys and values: spaces and tabs (around the text too),
/// characters of two, three and four bytes in UTF-8, and ASCII on both sides of them
/// in byte order.
const PIECES: [&str; 12] = [" ", "  ", "\t", "a", "Z", "0", "~", "é", "ß", "日本", "🙂", "x y"];

/// A seeded text of one to four pieces, with a space first or last for the first few.
fn seeded_text(trial: &mut Trial, index: usize) -> String {
    let count = trial.rng().usize(1..=4);
    let mut text: String = (0..count)
        .map(|_| PIECES[trial.rng().usize(..PIECES.len())])
        .collect();
    match index % 3 {
        0 => text.insert(0, ' '),
        1 => text.push(' '),
        _ => {}
    }
    text
}

/// More keys and values from the seed: spaces around them, characters outside ASCII.
/// Each comes back from `get` unchanged, and `range` lists them all in byte order.
fn seeded_round_trip(trial: &mut Trial, fixed: &[(&str, &str)]) -> Result<(), Failure> {
    let mark = trial.mark();
    let mut expected: std::collections::BTreeMap<Vec<u8>, (String, String)> = fixed
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), (k.to_string(), v.to_string())))
        .collect();
    let mut written = Vec::new();
    for index in 0..8 {
        let key = seeded_text(trial, index);
        let value = seeded_text(trial, index + 1);
        trial.run("put", &[&key, &value])?;
        expected.insert(key.as_bytes().to_vec(), (key.clone(), value.clone()));
        written.push(key);
    }
    for key in &written {
        let value = expected[key.as_bytes()].1.clone();
        let records = trial.run_unshown("get", &[key], "(judged, not shown)")?;
        let got = got(trial, key, &records)?;
        if got != value {
            return Err(trial
                .fail(format!("`get {key:?}` printed the value {got:?}; expected {value:?}"))
                .detail("Keys and values are stored exactly as given: spaces around them, tabs and every Unicode character included.")
                .advise("Store the argument's bytes as they are: no trim(), no lowercasing, no normalising."));
        }
    }
    let listed = trial.run_unshown("range", &[], "(judged, not shown)")?;
    let listed: Vec<(&str, &str)> = listed
        .iter()
        .map(|r| {
            (
                r.text("key").unwrap_or_default(),
                r.text("value").unwrap_or_default(),
            )
        })
        .collect();
    let want: Vec<(&str, &str)> = expected.values().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if listed != want {
        return Err(trial
            .fail(format!("`range` listed {listed:?}; expected {want:?}"))
            .detail("`range` lists every key once, with its value, in the byte order of the keys (UTF-8 bytes, not characters)."));
    }
    trial.replace_since(
        mark,
        "8 more keys and values from the seed, with spaces and tabs around them and characters outside ASCII: `get` gave each back unchanged, and `range` listed every key in byte order",
    );
    Ok(())
}
