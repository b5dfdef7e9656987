//! Exercise 09, a merkle DAG log (after hyperlog): nodes keyed by the hash of
//! their content, linked to the nodes they follow, signed by their log, and
//! replicated by a have/want exchange that sends only the missing nodes,
//! parents first.
//!
//! The verifier recomputes every key and checks every signature itself
//! ([`dag`]), decodes and judges the protocol ([`wire`]), and plays a peer of its
//! own to send what an honest peer never would: orphans, tampered nodes, forged
//! signatures and a log that equivocates ([`scripted`]). The lesson that hung on
//! stage is replayed in [`sync`]: two logs with no common node, and a copied
//! database directory.

mod dag;
mod generated;
mod local;
mod nodes;
mod scripted;
mod sync;
mod wire;

use super::{Check, Exercise, Program};
use crate::harness::records::{Field, FieldKind, RecordShape};
use crate::harness::redact::Redactor;

/// A line of merkle-dag/1 as the transcripts show it (for the `demo` command).
pub fn show_line(raw: &[u8], redactor: &mut Redactor) -> String {
    wire::decode(raw).show(redactor)
}

pub static EXERCISE: Exercise = Exercise {
    number: 9,
    slug: "merkle-dag",
    title: "A merkle DAG log",
    summary: "content-hashed nodes, heads, fork and merge, signed logs, have/want replication",
    problem: include_str!("../../../../exercises/09-merkle-dag/README.md"),
    hints: include_str!("hints.md"),
    programs: &[
        Program {
            name: "add",
            usage: "add DB [--link KEY]... VALUE",
            prints: Some(NODE),
            sorted: false,
        },
        Program {
            name: "heads",
            usage: "heads DB",
            prints: Some(NODE),
            sorted: true,
        },
        Program {
            name: "list",
            usage: "list DB",
            prints: Some(NODE),
            // Checked parents-first by the checks; shown in a stable order.
            sorted: true,
        },
        Program {
            name: "get",
            usage: "get DB KEY",
            prints: Some(NODE),
            sorted: false,
        },
        Program {
            name: "replicate",
            usage: "replicate DB   (speaks merkle-dag/1 on stdin/stdout)",
            prints: None,
            sorted: false,
        },
    ],
    checks: &[
        Check {
            name: "keys-recompute",
            about: "every key printed is the SHA-256 of the text's encoding; get returns the node",
            advice: "Hash exactly the bytes the text lists: each field framed by its 8-byte length, links sorted and without repeats, the value's own bytes.",
            run: local::keys_recompute,
        },
        Check {
            name: "unknown-link-refused",
            about: "a link to a key the database does not hold is refused, and nothing is added",
            advice: "Before adding, look up every --link key; if one is missing, exit 1 with a reason on stderr.",
            run: local::unknown_link_refused,
        },
        Check {
            name: "fork-and-merge",
            about: "two nodes on one parent make two heads; add without --link merges them into one",
            advice: "A node stops being a head when another links to it; add without --link links every current head.",
            run: local::fork_and_merge,
        },
        Check {
            name: "parents-first",
            about: "list puts every node after its parents, and a sync sends parents before children",
            advice: "Keep the order in which nodes were stored (a counter in sled): it always has parents first. List and send in that order.",
            run: sync::parents_first,
        },
        Check {
            name: "disjoint-logs-converge",
            about: "two databases with no node in common end up with the same nodes (no common root needed)",
            advice: "Want every log the other side has more of; send what the other side wants; say done with a count and close stdout.",
            run: sync::disjoint_logs_converge,
        },
        Check {
            name: "only-missing-cross",
            about: "a second sync sends only the new nodes, and a third sends none",
            advice: "Send a log's nodes from the seq the other side's want names, never from the start.",
            run: sync::only_missing_cross,
        },
        Check {
            name: "missing-parent-never-stored",
            about: "a node that arrives before its parent waits for it; one whose parent never comes is not stored",
            advice: "Buffer a node until every link (and the previous node of its log) is stored; at done, report what still waits and store none of it.",
            run: scripted::missing_parent_never_stored,
        },
        Check {
            name: "waiting-is-bounded",
            about: "more than 1,000 nodes waiting for their parents end the session; none of them is stored",
            advice: "Keep at most 1,000 nodes waiting for a parent; the next one is an error, before anything else arrives.",
            run: scripted::waiting_is_bounded,
        },
        Check {
            name: "tampered-node-refused",
            about: "a node whose value was changed, key kept, is refused",
            advice: "Recompute the key of every node you receive from its log, seq, links and value; a different key is an error.",
            run: scripted::tampered_node_refused,
        },
        Check {
            name: "forged-signature-refused",
            about: "a node signed by another key than its log's is refused",
            advice: "Verify every received node's signature with the public key that is its log id.",
            run: scripted::forged_signature_refused,
        },
        Check {
            name: "equivocation-detected",
            about: "a log that signs two different nodes for one seq is detected, named, and not merged",
            advice: "Compare the other side's have with what you hold: the same log and seq with another key means two writers. Exit 1 naming the log and both keys.",
            run: scripted::equivocation_detected,
        },
        Check {
            name: "copied-directory-refused",
            about: "a database directory copied and written on both sides: two writers, one log id, refused, nothing lost",
            advice: "This is the stage demo's second cause: the copies share one key pair. Detect it from the haves and refuse, naming the log.",
            run: sync::copied_directory_refused,
        },
        Check {
            name: "cut-stream",
            about: "a stream cut mid-sync leaves only whole nodes with their parents, and a new sync completes both",
            advice: "Store each node in one transaction with its heads; on end-of-file before done, keep what you stored and exit 1.",
            run: sync::cut_stream,
        },
        Check {
            name: "killed-mid-sync",
            about: "a peer killed with SIGKILL mid-sync loses nothing, and a new sync completes both",
            advice: "Never remove or rewrite nodes during a sync; one sled transaction per node keeps the database whole after a crash.",
            run: sync::killed_mid_sync,
        },
        Check {
            name: "interop-with-reference",
            about: "your replicate syncs with the reference one, in both roles",
            advice: "Follow the protocol text exactly (field names, types, order of messages, done, close); the reference peer is strict.",
            run: sync::interop_with_reference,
        },
        Check {
            name: "seeded-workloads",
            about: "seeded adds (some with --link, values outside ASCII) and syncs on 2 to 4 databases: every sync judged, every log a chain, all converge, no node lost",
            advice: "Every rule of the text at once: keys over the exact bytes, previous and links stored first, want exactly what you lack, send parents first, store in one transaction.",
            run: generated::seeded_workloads,
        },
        Check {
            name: "catch-up-costs-what-is-new",
            about: "3 new nodes on a DAG of 2,000 nodes: exactly 3 cross, within a budget of 2 s",
            advice: "Find what to send with one range scan per wanted log, starting after the seq the other side holds; never walk the whole DAG.",
            run: sync::catch_up_costs_what_is_new,
        },
    ],
};

/// `{"key", "links", "value", "log", "seq", "previous"}`: one node.
pub const NODE: RecordShape = RecordShape {
    fields: &[
        Field {
            name: "key",
            kind: FieldKind::Id("node"),
        },
        Field {
            name: "links",
            kind: FieldKind::Versions("node"),
        },
        Field {
            name: "value",
            kind: FieldKind::Text,
        },
        Field {
            name: "log",
            kind: FieldKind::Id("log"),
        },
        Field {
            name: "seq",
            kind: FieldKind::Number,
        },
        Field {
            name: "previous",
            kind: FieldKind::OptionalId("node"),
        },
    ],
};
