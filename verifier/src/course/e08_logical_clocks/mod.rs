//! Exercise 08, logical clocks and a resolver (after level-replicator): every
//! write of a key is stamped 1 + the largest clock of that key held, the greater
//! `(clock, peer)` wins, and peers replicate by *pulling* what another stored
//! after the last position seen of it, over short-lived TCP connections.
//!
//! The checks run `serve` as a long-running program on a free port, pull through
//! relays that cut an answer (and kill its server) after so many lines, and play
//! a server themselves for garbage, forged clocks and a 100,000-record log.

mod checks;
mod faults;
mod generated;

use super::shapes::KEY_VALUE;
use super::{Check, Exercise, Program};
use crate::harness::records::{Field, FieldKind, RecordShape};

/// `{"peer":…,"seq":…,"key":…,"clock":…,"type":…,"value":…}`: a record of the log.
pub const LOG_RECORD: RecordShape = RecordShape {
    fields: &[
        Field {
            name: "peer",
            kind: FieldKind::Id("peer"),
        },
        Field {
            name: "seq",
            kind: FieldKind::Number,
        },
        Field {
            name: "key",
            kind: FieldKind::Text,
        },
        Field {
            name: "clock",
            kind: FieldKind::Number,
        },
        Field {
            name: "type",
            kind: FieldKind::Text,
        },
        Field {
            name: "value",
            kind: FieldKind::OptionalText,
        },
    ],
};

/// `{"from":…,"received":…,"applied":…,"seen":…}`: what a pull learnt.
pub const LEARNT: RecordShape = RecordShape {
    fields: &[
        Field {
            name: "from",
            kind: FieldKind::Id("peer"),
        },
        Field {
            name: "received",
            kind: FieldKind::Number,
        },
        Field {
            name: "applied",
            kind: FieldKind::Number,
        },
        Field {
            name: "seen",
            kind: FieldKind::Number,
        },
    ],
};

pub const PROGRAMS: &[Program] = &[
    Program {
        name: "put",
        usage: "put [--db PATH] KEY VALUE",
        prints: None,
        sorted: false,
    },
    Program {
        name: "del",
        usage: "del [--db PATH] KEY",
        prints: None,
        sorted: false,
    },
    Program {
        name: "get",
        usage: "get [--db PATH] KEY",
        prints: Some(KEY_VALUE),
        sorted: false,
    },
    Program {
        name: "list",
        usage: "list [--db PATH]",
        prints: Some(KEY_VALUE),
        sorted: false,
    },
    Program {
        name: "log",
        usage: "log [--db PATH]",
        prints: Some(LOG_RECORD),
        sorted: false,
    },
    Program {
        name: "compact",
        usage: "compact [--db PATH]",
        prints: None,
        sorted: false,
    },
    Program {
        name: "serve",
        usage: "serve [--db PATH] --port PORT   (until killed)",
        prints: None,
        sorted: false,
    },
    Program {
        name: "pull",
        usage: "pull [--db PATH] --from HOST:PORT [--no-resolver]",
        prints: Some(LEARNT),
        sorted: false,
    },
];

pub static EXERCISE: Exercise = Exercise {
    number: 8,
    slug: "logical-clocks",
    title: "Logical clocks, a resolver, and pulling logs",
    summary: "per-key Lamport clocks instead of wall clocks, pull replication after a durable position, compaction",
    problem: include_str!("../../../../exercises/08-logical-clocks/README.md"),
    hints: include_str!("hints.md"),
    programs: PROGRAMS,
    checks: &[
        Check {
            name: "one-store",
            about: "put, get, del, list and log on one database: every write of a key one clock higher",
            advice: "Stamp a write 1 + the largest clock of its key held (1 for a new key); store it at the next position; `log` prints every record in order of position.",
            run: checks::one_store,
        },
        Check {
            name: "different-keys-merge",
            about: "writes of different keys on two peers merge, and a third peer gets both through one of them",
            advice: "`serve` sends every record it holds after the position asked for, whoever wrote it; `pull` applies each record whose key is new.",
            run: checks::different_keys_merge,
        },
        Check {
            name: "higher-clock-wins",
            about: "the higher clock wins whatever the pull order — and the concurrent write with the lower clock is lost",
            advice: "A pulled record wins when its (clock, peer) is greater than the held winner's: compare clocks first, whatever order records arrive in.",
            run: checks::higher_clock_wins,
        },
        Check {
            name: "informed-write-wins",
            about: "a write made after pulling wins everywhere: what was seen orders it, no wall clock",
            advice: "Stamp a local write 1 + the largest clock of the key held, pulled writes included: that is what makes a write made after seeing another one win.",
            run: checks::informed_write_wins,
        },
        Check {
            name: "equal-clocks-resolve",
            about: "three writes with equal clocks resolve to the greatest peer id on three peers, in seeded pull orders",
            advice: "On equal clocks, the write of the greater peer id (compared as bytes) wins, on every database and for every pair, your own writes included.",
            run: checks::equal_clocks_resolve,
        },
        Check {
            name: "no-resolver-diverges",
            about: "the original's flaw: with --no-resolver, two peers with equal clocks keep different values for ever",
            advice: "With --no-resolver, a pulled record wins only with a strictly higher clock; without the flag, the resolver decides ties.",
            run: checks::no_resolver_diverges,
        },
        Check {
            name: "compaction",
            about: "compact keeps exactly the newest record of each key, and pulls from a compacted log still converge",
            advice: "Keep, for each key, the record that wins it (the one the view holds) and delete every other record of the log.",
            run: checks::compaction,
        },
        Check {
            name: "seqs-grow-after-compaction",
            about: "after compaction, new records still get positions above every position ever given, so pullers see them",
            advice: "Keep the last position given in its own durable place; never derive it from what the log holds now.",
            run: checks::seqs_grow_after_compaction,
        },
        Check {
            name: "seeded-workloads",
            about: "seeded puts, dels and pulls on 2 to 4 serving databases, keys and values outside ASCII: clocks grow, all converge, the greatest (clock, peer) wins",
            advice: "Every rule at once: stamp above every write of the key held, apply by (clock, peer), serve everything you hold, move the position seen as records are applied.",
            run: generated::seeded_workloads,
        },
        Check {
            name: "interop-with-reference",
            about: "your pull works against the reference serve, and the reference pull against your serve",
            advice: "Follow the protocol of the text to the letter: hello, one pull request, record messages in order of position, end.",
            run: checks::interop_with_reference,
        },
        Check {
            name: "cut-mid-stream",
            about: "a pull cut in the middle of an answer keeps every record that arrived whole, and the next pull resumes after it",
            advice: "Apply records as they arrive (in small batches, each with the new position seen, in one transaction), and apply what you have before reporting a cut.",
            run: faults::cut_mid_stream,
        },
        Check {
            name: "serve-killed",
            about: "a serve killed mid-answer: the pull keeps what arrived, and the next pull from the restarted serve gets the rest",
            advice: "The position seen is keyed by the server's peer id (from hello), not its address, and only moves past records you applied.",
            run: faults::serve_killed,
        },
        Check {
            name: "garbage-refused",
            about: "a line of garbage in an answer ends the pull with an error; nothing after it is applied",
            advice: "Stop at the first line that is not a valid message: apply what came before, print what you learnt, say why on stderr, exit 1.",
            run: faults::garbage_refused,
        },
        Check {
            name: "clock-at-maximum",
            about: "a key whose clock reached 2^53 - 1 cannot be written again, and a record above it is refused",
            advice: "Refuse a write whose stamp would pass 9007199254740991 (exit 1, nothing written); a pulled record with a larger clock is garbage.",
            run: faults::clock_at_maximum,
        },
        Check {
            name: "pull-cost",
            about: "after a compacted log of 100,000 positions (the newest ones holes), a pull of 10 new records asks after 100000; your serve answers 10 new records after a compacted log; each under 3 s",
            advice: "At `end` the position seen becomes `last`; store it durably per server and ask `after` it; serve by position, never by counting records: a pull's cost is what is new.",
            run: faults::pull_cost,
        },
        Check {
            name: "restored-server",
            about: "a server whose end is below the position seen (restored from an older copy): the position seen moves back",
            advice: "When `end.last` is below the position you had seen of that server, it was restored from an older copy and will give those positions again: set the position seen to `last`.",
            run: faults::restored_server,
        },
        Check {
            name: "slow-puller-blocks-nobody",
            about: "a puller that stops reading a large answer does not keep put out of the server's database",
            advice: "serve reads what to send, lets the database go, and only then writes to the socket.",
            run: faults::slow_puller_blocks_nobody,
        },
    ],
};
