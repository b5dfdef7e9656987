//! Two-phase commit: every node takes writes, and a write becomes visible only once
//! every node has promised to make it.
//!
//! The node that takes a write is its *coordinator*. Phase 1: it records the write as
//! pending on its own disk and asks every peer to do the same (`prepare`); a peer that
//! can (the key is not locked by another write) records it durably, locks the key and
//! votes yes. Phase 2: only if every vote was yes, the coordinator records "commit"
//! durably, applies the write, and tells every peer until each has acknowledged; else
//! it records "abort" and tells them to forget it. A peer that voted yes has given up
//! its right to decide: it waits, the key locked, and asks the others what happened.
//!
//! The modules: [`protocol`] (the messages), [`store`] (what is on disk: values,
//! pending writes, decisions), [`node`] (the coordinator's and the participant's
//! rules), [`peers`] (one connection to each peer), [`server`] (the port others dial),
//! [`events`] (the records a node prints), [`client`] (`put`, `del`, `get`) and
//! [`cli`] (the programs).

pub mod cli;
pub mod client;
pub mod events;
pub mod node;
pub mod peers;
pub mod protocol;
pub mod server;
pub mod store;
