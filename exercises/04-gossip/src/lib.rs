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
//!
//! Your work is in the bodies marked `TODO`, in the order of their step
//! numbers: `node.rs` (steps 1 to 3), `link.rs` (step 4), `peer.rs` (step
//! 5). The rest, and the programs, are written for you.

pub mod cli;
pub mod link;
pub mod node;
pub mod peer;
