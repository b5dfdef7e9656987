//! A key/value(s) store with no master that never resolves a conflict on its
//! own: concurrent writes of a key are all kept, as *siblings*, until someone
//! who has seen them all writes a merge.
//!
//! Each write is a *version* of its key, named by where it sits in the logs:
//! `PEER@SEQ`. A write names, in `prev`, the versions its writer's view held
//! for the key when it wrote: those it replaces. So the view keeps, per key,
//! every version that no other write has replaced. A write made without
//! knowing of another (on another peer, before a sync) replaces nothing of
//! it, and both stay. That is a conflict, out in the open: `get` prints every
//! sibling, and `merge` writes one value that replaces them all.
//!
//! Whether a version is replaced does not depend on when things arrive:
//! replaced versions are remembered for good (the tree `superseded`), and a
//! version that arrives after its replacement is never added. Every database
//! that holds the same logs holds the same view, whatever the order of syncs.
//!
//! Storage layout, in one sled database: exercise 05's (`meta`, `log`,
//! `applied`), with, instead of its `values`:
//! - tree `versions`, key `the key's UTF-8 bytes`: its current versions, as a
//!   JSON array ordered by peer id, then seq, such as
//!   `[{"peer":"5f1c2a9b3d4e6f70","seq":3,"value":"hello"}]`, with
//!   `"value":null` for a deletion. A key without versions has no entry.
//! - tree `superseded`, key `peer id bytes, 0x00, seq as u64 big-endian` (a
//!   log key, exercise 02's layout): every version replaced so far; empty
//!   values.
//!
//! The modules: [`version`] (`PEER@SEQ`), [`op`] (the operations, now with
//! `prev`), [`siblings`] (the view), [`write`] (writes that name what they
//! replace) and [`cli`] (the programs). Logs, catch-up and sync are exercise
//! 05's [`store`].
//!
//! Your work is in the bodies marked `TODO`, in the order of their step
//! numbers: `siblings.rs` (steps 1 and 2), then `write.rs` (steps 3 and 4).
//! Each doc comment says what a function must do; how is up to you (`hint`
//! gives a nudge, then the approach, then nearly the answer). Versions
//! (`version.rs`), the operations (`op.rs`) and the programs (`cli.rs`,
//! `src/bin/`) are written for you. The package uses your exercise 05 as its
//! `store` library, so finish that one first.
//!
//! You'll need: `sled::Transactional` on a tuple of three trees,
//! `sled::transaction::ConflictableTransactionError::Abort`, exercise 05's
//! `store::store::{committed, mark_applied}`, exercise 02's `logs::log_key`
//! (a version's name as a key), `Vec::retain` and `sort`.

pub mod cli;
pub mod op;
pub mod siblings;
pub mod version;
pub mod write;

pub use op::Op;
pub use siblings::{KeyVersion, Sibling, Siblings};
pub use version::Version;
