//! Exercise 10, two-phase commit: every node takes writes, and a write is visible only
//! once every node has promised it; the price is availability, and a node that voted
//! yes and lost its coordinator must wait.
//!
//! The checks run clusters of nodes behind gates (relays that can hold back messages of
//! one type), so a node is killed exactly between the phases on every run. After every
//! step, the verifier runs `get` on every node: a write that answered "committed" is on
//! every node, one that answered "aborted" or "refused" is on none.

mod checks;
mod explore;
mod history;
mod schedule;

use super::{Check, Exercise, Program};
use crate::harness::records::{Field, FieldKind, RecordShape};

pub use schedule::schedule;

/// `{"key": …, "value": …}` with a null value for a key that has none.
const GET_VALUE: RecordShape = RecordShape {
    fields: &[
        Field {
            name: "key",
            kind: FieldKind::Text,
        },
        Field {
            name: "value",
            kind: FieldKind::OptionalText,
        },
    ],
};

pub static EXERCISE: Exercise = Exercise {
    number: 10,
    slug: "two-phase-commit",
    title: "Two-phase commit",
    summary: "writes agreed by every node before they are visible: prepare, vote, decide, and the blocking problem",
    problem: include_str!("../../../../exercises/10-two-phase-commit/README.md"),
    hints: include_str!("hints.md"),
    programs: &[
        Program {
            name: "node",
            usage: "node --db DIR --port PORT --peer HOST:PORT... --min-consensus N   (prints events)",
            prints: None,
            sorted: false,
        },
        Program {
            name: "put",
            usage: "put --node HOST:PORT KEY VALUE   (exit 0 committed, 1 aborted, 2 refused, 3 unknown)",
            prints: None,
            sorted: false,
        },
        Program {
            name: "del",
            usage: "del --node HOST:PORT KEY   (exit codes as put)",
            prints: None,
            sorted: false,
        },
        Program {
            name: "get",
            usage: "get --node HOST:PORT KEY",
            prints: Some(GET_VALUE),
            sorted: false,
        },
    ],
    checks: &[
        Check {
            name: "commit-everywhere",
            about: "put and del through any node commit on every node",
            advice: "Prepare locally, send `prepare` to every peer, and when all voted yes record the decision, apply it, send `commit` until acknowledged, then answer the client.",
            run: checks::commit_everywhere,
        },
        Check {
            name: "not-enough-peers",
            about: "cut off below --min-consensus, a node refuses writes at once and still serves reads",
            advice: "Count the connected peers: below --min-consensus print `notready` and answer writes with `refused` (exit 2) before preparing anything; `get` reads local committed values always.",
            run: checks::not_enough_peers,
        },
        Check {
            name: "participant-dies-before-voting",
            about: "a participant killed before it votes: the write aborts everywhere",
            advice: "A peer that does not answer `prepare` (connection lost, or no vote within ~1 s) counts as a no vote: decide abort and answer the client (exit 1).",
            run: checks::participant_dies_before_voting,
        },
        Check {
            name: "participant-dies-after-voting",
            about: "a participant killed after voting yes learns the outcome when it restarts and converges",
            advice: "Record the prepared write durably before voting yes, keep it across restarts (lock its key again on start), and apply `commit` when it comes; acknowledge the client only once every node acknowledged.",
            run: checks::participant_dies_after_voting,
        },
        Check {
            name: "coordinator-dies-between-phases",
            about: "the coordinator killed after the votes: participants stay blocked on the key, then converge",
            advice: "A participant that voted yes never decides alone: after ~1 s without a decision print `blocked`, keep the key locked and ask every peer with `status` until one knows.",
            run: checks::coordinator_dies_between_phases,
        },
        Check {
            name: "conflicting-writes",
            about: "concurrent writes to one key through different nodes: at most one commits, the same everywhere",
            advice: "Lock the key when preparing; a prepare for a key locked by another transaction gets a no vote at once (no waiting, no deadlock).",
            run: checks::conflicting_writes,
        },
        Check {
            name: "seeded-schedules",
            about: "seeded writes, kills and partitions: after every step a write is on every node or on none",
            advice: "Replay the seed shown below and watch each node's events; the text's rules for each role decide every case.",
            run: schedule::seeded_schedules,
        },
        Check {
            name: "explored-faults",
            about: "every fault point (prepare or decision held; coordinator or participant killed or cut) with a conflicting write, judged on the recorded history",
            advice: "Read the property that broke and the fault point it names; then ask, for that step of that role: killed or cut off right here, what is on disk, and what has it already told others?",
            run: explore::explored_faults,
        },
        Check {
            name: "interop-with-reference",
            about: "your node in a cluster of reference nodes, as coordinator, participant and blocked participant",
            advice: "Speak exactly the messages of the text: one JSON object per line, `type` first-class, txids echoed in every answer.",
            run: checks::interop_with_reference,
        },
        Check {
            name: "garbage-from-a-peer",
            about: "garbage on a node's port is answered with `error`, the connection closed, the node unharmed",
            advice: "Read at most 64 KiB per line; a line that is not a message gets {\"type\":\"error\",\"reason\":…} and the connection is closed — never a crash, never a write.",
            run: checks::garbage_from_a_peer,
        },
    ],
};
