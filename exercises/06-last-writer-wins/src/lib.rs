//! A key/value store with no master that merges concurrent writes by
//! timestamp: the last writer wins.
//!
//! Exercise 05's view depends on the order in which operations arrive, and
//! different databases receive them in different orders, so two writes of one
//! key on two peers can leave the peers disagreeing for good. The classic fix:
//! stamp every write with the writer's clock, and let every database keep, per
//! key, the write with the greatest stamp. "Greatest" is a total order, the
//! same everywhere, so every database picks the same write whatever order the
//! writes came in: the peers converge.
//!
//! A `del` is kept too, as a *tombstone* with its stamp: otherwise an older
//! put that arrives later would find the key empty and bring it back.
//!
//! The price is in the README: clocks are not causality. A peer whose clock
//! runs ahead wins against writes made later, by people who had seen its
//! value, and those writes vanish without a trace.
//!
//! Storage layout, in one sled database: exercise 05's (`meta`, `log`,
//! `applied`), with, instead of its `values`, the tree `winners`: key `the
//! key's UTF-8 bytes`, value the winning write as JSON,
//! `{"value":"v","ts":1718000000000,"peer":"5f1c2a9b3d4e6f70","seq":3}`,
//! with `"value":null` for a tombstone.
//!
//! The modules: [`clock`] (the timestamps), [`op`] (the operations, now
//! stamped), [`winners`] (the view) and [`cli`] (the programs). Logs,
//! catch-up and sync are exercise 05's [`store`].
//!
//! Your work is in the bodies marked `TODO`, in the order of their step
//! numbers: `clock.rs` (steps 1 and 2), then `winners.rs` (steps 3 to 5).
//! Each doc comment says what a function must do; how is up to you (`hint`
//! gives a nudge, then the approach, then nearly the answer). The operations
//! (`op.rs`) and the programs (`cli.rs`, `src/bin/`) are written for you. The
//! package uses your exercise 05 as its `store` library, so finish that one
//! first.
//!
//! You'll need: `OsStr::to_str`, `str::parse::<i64>`,
//! `std::time::{SystemTime, UNIX_EPOCH}` and `Duration::as_millis`, tuple
//! comparison, `sled::Transactional` with
//! `sled::transaction::ConflictableTransactionError::Abort`, and exercise 05's
//! `store::store::{committed, mark_applied}`.

pub mod cli;
pub mod clock;
pub mod op;
pub mod winners;

pub use clock::Clock;
pub use op::Op;
pub use winners::{Winner, Winners};
