//! A merkle DAG log: nodes named by the hash of what they say, linked to the
//! nodes they follow, signed by the log that wrote them, and replicated over
//! one duplex stream by saying what each side has and wants.
//!
//! - A node's key is the SHA-256 of its log, seq, links and value, framed so
//!   that no two different nodes hash the same bytes ([`node`]). Anyone can
//!   recompute it, so a key is also a proof of content.
//! - Links point at earlier nodes: a node cannot exist before the nodes it
//!   links to. The heads are the nodes nothing links to yet; adding a node
//!   that links every head merges the forks ([`store`]).
//! - Each database writes one log, named by an ed25519 public key; every node
//!   it writes is signed ([`identity`]).
//! - Replication ([`session`]): both sides say what they have (per log: the
//!   highest seq and its key), ask for what they want, send the missing nodes
//!   in the order they were stored (parents first), and say `done` with a
//!   count. A node whose parents are not there yet waits in a bounded buffer
//!   ([`receive`]); a node is never stored before its parents.
//!
//! The modules: [`node`], [`identity`], [`store`], [`protocol`], [`send`],
//! [`receive`], [`session`], [`stream`] and [`cli`].

pub mod cli;
pub mod identity;
pub mod node;
pub mod protocol;
pub mod receive;
pub mod send;
pub mod session;
pub mod store;
pub mod stream;

pub use node::{Node, key_of};
pub use store::Dag;
