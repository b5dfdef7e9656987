//! Replication as exercise 03 defines it (the protocol "replicate/1"), as the checks of
//! exercises 03 to 07 use it: the messages on the wire, and conversations between two
//! peers (or one peer and the verifier) judged against the protocol.

pub mod sync;
pub mod wire;

pub use crate::harness::trial::Peer;
pub use sync::{Conversation, PlainRun, SyncRun, VERIFIER_PEER, judge_direction};
