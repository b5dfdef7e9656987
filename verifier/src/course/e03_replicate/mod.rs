//! Exercise 03, replicating two logs over one duplex stream: a handshake with the
//! head of every log held, the entries the other side lacks, an `end`, and a clean exit.
//!
//! The checks wire two `replicate` processes through the verifier's relay, decode
//! every message, and judge both the conversation (exactly the missing entries, each
//! once) and the result (the same logs on both sides, no gap, no repeat). Then they
//! break things: the learner's peer against the reference one in both positions, a
//! stream cut after a seeded number of messages, a peer killed mid-sync, and hostile
//! messages that must be refused without damaging the log.
//!
//! One file per kind of check: [`sync`] (syncs that must succeed), [`faults`] (cuts,
//! kills, large diffs), [`hostile`] (messages to refuse), [`speed`]; [`fixtures`] holds
//! what they start from and share.

mod faults;
mod fixtures;
mod hostile;
mod speed;
mod sync;

use super::shapes::{APPEND, READ_ALL_LOGS};
use super::{Check, Exercise, Program};
use faults::{cut_stream, killed_mid_sync, large_diffs};
use hostile::refuses_bad_messages;
use speed::speed;
use sync::{
    converge, empty_databases, ignores_duplicates, interop_with_reference, only_new_entries,
    relays_other_logs, second_sync_sends_nothing, speaks_the_protocol,
};

pub static EXERCISE: Exercise = Exercise {
    number: 3,
    slug: "replicate",
    title: "Replicate two logs over a duplex stream",
    summary: "a handshake of heads, the missing entries, an end marker: sync over stdin/stdout",
    problem: include_str!("../../../../exercises/03-replicate/README.md"),
    hints: include_str!("hints.md"),
    programs: &[
        APPEND,
        READ_ALL_LOGS,
        Program {
            name: "replicate",
            usage: "replicate DB   (speaks the protocol on stdin/stdout)",
            prints: None,
            sorted: false,
        },
    ],
    checks: &[
        Check {
            name: "empty-databases",
            about: "two empty databases sync: handshakes, no entries, ends, exit 0",
            advice: "Send your handshake at once, then (after reading the other's) the entries it lacks — none here — then {\"type\":\"end\",\"sent\":0}; close stdout; exit once you have the other's end.",
            run: empty_databases,
        },
        Check {
            name: "converge",
            about: "two logs sync both ways and end up holding the same logs",
            advice: "Each side sends, for every log in its handshake, the entries after the other side's head for that log; store what you receive if it is the next of its log.",
            run: converge,
        },
        Check {
            name: "second-sync-sends-nothing",
            about: "syncing again sends no entries at all",
            advice: "Your handshake's heads must list EVERY log you hold (others' too), so the other side knows you already have them.",
            run: second_sync_sends_nothing,
        },
        Check {
            name: "only-new-entries",
            about: "after three new appends, exactly those three cross",
            advice: "Start sending at the other side's head + 1 (a range scan from that key), never from seq 1.",
            run: only_new_entries,
        },
        Check {
            name: "relays-other-logs",
            about: "a database passes on logs it got from a third one",
            advice: "Your heads and your diff cover every log you hold, not just your own: that is what lets entries travel a-b, b-c to reach c.",
            run: relays_other_logs,
        },
        Check {
            name: "speaks-the-protocol",
            about: "against the verifier as the other side: the exact messages, in order",
            advice: "Read the protocol section of the problem text message by message: field names, order, and the `sent` count.",
            run: speaks_the_protocol,
        },
        Check {
            name: "ignores-duplicates",
            about: "an entry it already holds, sent again with the same text, is not stored again",
            advice: "An entry whose seq is at or below your head of its log is a duplicate: compare its text with the one you hold, and store nothing.",
            run: ignores_duplicates,
        },
        Check {
            name: "interop-with-reference",
            about: "your peer syncs with the reference peer, in both positions",
            advice: "Follow the protocol text exactly (field names, types, end, close); the reference peer is strict.",
            run: interop_with_reference,
        },
        Check {
            name: "large-diffs",
            about: "thousands of entries each way over plain pipes finish (no deadlock)",
            advice: "Read while you write: one thread sends (handshake, diff, end) while another receives; a pipe holds only about 64 KiB.",
            run: large_diffs,
        },
        Check {
            name: "cut-stream",
            about: "a stream cut mid-sync leaves whole log prefixes, and a new sync completes them",
            advice: "On end-of-file before `end`, keep what you stored (each log arrives in order, so it is a prefix), exit with an error, and let the next sync fetch the rest.",
            run: cut_stream,
        },
        Check {
            name: "killed-mid-sync",
            about: "a peer killed with SIGKILL mid-sync loses nothing it had, and resyncs",
            advice: "Never rewrite or remove stored entries during a sync; sled writes are crash-safe, so a killed peer reopens with every entry it had flushed.",
            run: killed_mid_sync,
        },
        Check {
            name: "refuses-bad-messages",
            about: "hostile or broken messages are refused with an error; the log stays intact",
            advice: "Validate every message before storing anything: known type and fields, handshake first, no gaps, no rewriting an entry, a correct `sent` count, `end` before end-of-file.",
            run: refuses_bad_messages,
        },
        Check {
            name: "speed",
            about: "100,000 entries from scratch, then 10 new ones on top, each within a time budget",
            advice: "Stream each log with one range scan from the other side's head + 1, write through a BufWriter, keep the heads in memory, and flush the database once at the end, not per entry.",
            run: speed,
        },
    ],
};
