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
//! numbers: `node.rs` (steps 1 to 3), `link.rs` (step 4: a skeleton, the
//! tokio plumbing is written, the two loops are yours), `peer.rs` (step 5).
//! Each doc comment says what a function must do; how is up to you (`hint`
//! gives a nudge, then the approach, then nearly the answer). The rest, and
//! the programs, are written for you.
//!
//! You'll need: exercise 03's `read::print_database`, `receive::check_entry`
//! and `receive::raise`; `tokio::sync::watch::Receiver`'s `borrow_and_update`
//! and `changed`; `tokio::net::TcpStream::connect`; `tokio::time::sleep`.

pub mod cli;
pub mod link;
pub mod node;
pub mod peer;
