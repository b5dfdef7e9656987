//! A key/value store with no master, built on replicated logs.
//!
//! Every database takes writes. A write changes nothing in place: it appends
//! an *operation* to the database's own log, such as
//! `{"type":"put","key":"x","value":"1"}` or `{"type":"del","key":"x"}`.
//! The logs travel between databases exactly as in exercise 03. What `get`
//! reads is the *view*: a tree that maps each key to its value, built by
//! applying every operation of every log held, each exactly once.
//!
//! The logs are the truth; the view is derived from them and can always be
//! derived again. Appending an operation and updating the view are two
//! writes, and a crash may fall between them. So the view also remembers how
//! far it has applied each log (the tree `applied`, written in the same sled
//! transaction as the view), and every open applies whatever the logs hold
//! beyond that. A crash heals on the next run, and a sync needs nothing of its
//! own: the entries it stored are applied the same way.
//!
//! Storage layout, in one sled database:
//! - trees `meta` and `log`: exercise 02's logs, unchanged; each entry of a
//!   log is one operation, as JSON text;
//! - tree `applied`, key `peer id bytes`: the seq up to which that peer's log
//!   is applied to the view, as a u64 big-endian (8 bytes);
//! - tree `values`, key `the key's UTF-8 bytes`: the value's UTF-8 bytes.
//!   Keys sort as bytes, so `list` is one walk over the tree.
//!
//! The modules: [`op`] (the operations as JSON), [`store`] (logs, view and
//! the catch-up that keeps them in step, for any view: exercises 06 and 07
//! reuse it with views of their own), [`values`] (this exercise's view) and
//! [`cli`] (the programs).
//!
//! Your work is in the bodies marked `TODO`, in the order of their step
//! numbers: `values.rs` (step 1), `store.rs` (steps 2 and 3), `values.rs`
//! again (step 4), then `store.rs` (step 5). Each doc comment says what a
//! function must do; how is up to you (`hint` gives a nudge, then the
//! approach, then nearly the answer). The operations (`op.rs`), the programs
//! (`cli.rs`, `src/bin/`) and the rest of the store are written for you.
//!
//! You'll need: `sled::Transactional` (the `transaction` method on a tuple of
//! trees), [`store::committed`] and [`store::mark_applied`]; `serde_json::to_string`;
//! your exercise 02's `Log::heads` and `entries_after_iter`; exercise 03's
//! `replicate::replicate`.

pub mod cli;
pub mod op;
pub mod store;
pub mod values;

pub use op::Op;
pub use store::{Store, Synced, View};
pub use values::{KeyValue, Values};
