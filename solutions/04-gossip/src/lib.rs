//! Live gossip: many peers, connected over TCP in any shape, that keep
//! replicating as long as they run.
//!
//! Each connection speaks exercise 03's messages in live mode: handshake,
//! the entries the other side lacks, and then, instead of `end`, every entry
//! stored from then on. Because a peer sends on everything it stores, also
//! what it learnt from its other connections, entries travel along any path:
//! peers that never connected to each other still get each other's logs.
//!
//! The modules: [`node`] (the state all connections share: the database,
//! the heads, a doorbell), [`link`] (one connection), [`peer`] (listening,
//! dialling, stdin), and [`cli`] (the program).

pub mod cli;
pub mod link;
pub mod node;
pub mod peer;
