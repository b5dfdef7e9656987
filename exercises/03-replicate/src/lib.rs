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
//! numbers: `read.rs` (step 1), `send.rs` (step 2), `receive.rs` (steps 3 and
//! 4), then `session.rs` (step 5, a skeleton: the threads are written, the
//! waiting is yours). Each doc comment says what a function must do; how is up
//! to you (`hint` gives a nudge, then the approach, then nearly the answer).
//! The messages (`protocol.rs`), closing an output (`stream.rs`) and the
//! programs (`cli.rs`, `src/bin/`) are written for you.
//!
//! You'll need: `Log::heads` and `Log::entries_after_iter` (your exercise 02),
//! `std::io::BufWriter` (and `into_inner`, `IntoInnerError::into_error`),
//! `BufRead::read_until`, `std::sync::mpsc::sync_channel`, `std::thread::spawn`,
//! `Option::take`, and `anyhow::Context::with_context`.

pub mod cli;
pub mod protocol;
pub mod read;
pub mod receive;
pub mod send;
pub mod session;
pub mod stream;

pub use protocol::{Heads, Message};
pub use session::{Summary, replicate};
