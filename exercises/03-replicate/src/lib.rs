//! Replication of append-only logs between two databases, over one duplex
//! stream: "replicate/1".
//!
//! Every database holds its own log and copies of other peers' logs, and the
//! head of each log (its highest seq) says exactly what it lacks. So two
//! databases that meet swap their heads, and each sends the other, of every
//! log, the entries after the other's head. That is the whole protocol:
//!
//! 1. each side sends a `handshake` with the heads of every log it holds,
//!    at once, without waiting for the other's;
//! 2. on the other's handshake, each sends the entries the other lacks,
//!    oldest first within each log;
//! 3. each sends `end` with the number of entries it sent, and closes its
//!    output. A side is done when it has sent its `end` and read the other's,
//!    followed by the end of the stream.
//!
//! Because the heads cover every log a database holds, not just its own,
//! entries travel on through databases that never met their author.
//!
//! The modules: [`protocol`] (the messages as JSON lines), [`send`] and
//! [`receive`] (the two halves of a session), [`session`] (both at once),
//! [`stream`] (closing an output), [`read`] (printing a database), and
//! [`cli`] (the programs).
//!
//! Your work is in the bodies marked `TODO`, in the order of their step
//! numbers: `read.rs`, `send.rs`, `receive.rs` (steps 3 and 4), then
//! `session.rs`. The messages (`protocol.rs`), closing an output
//! (`stream.rs`) and the programs (`cli.rs`, `src/bin/`) are written for you.

pub mod cli;
pub mod protocol;
pub mod read;
pub mod receive;
pub mod send;
pub mod session;
pub mod stream;

pub use protocol::{Heads, Message};
pub use session::{Summary, replicate};
