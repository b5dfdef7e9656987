//! The changes a transaction makes to the database, and how a round of them is
//! applied: in **one** sled transaction over the trees, so that a crash keeps all of a
//! round or none of it, and a write moves from `pending` to `values` whole.
//!
//! A sled transaction costs more than its inserts: sled writes its log at the start and
//! at the end of each one (that is how it makes the batch atomic). One per round, not
//! one per change, is what makes a busy node fast.

use super::Pending;
use crate::protocol::{Op, Outcome};

/// One change to the database, as a transaction asks for it.
pub enum Change {
    /// A write prepared here: into `pending`.
    Prepare { txid: String, pending: Pending },
    /// A coordinator's decision: into `decisions` and `announce`.
    Decide { txid: String, outcome: Outcome },
    /// A decision applied here: the pending write leaves `pending`, on commit its
    /// operation goes into `values`, and the decision is kept in `decisions`.
    Finish { txid: String, outcome: Outcome },
    /// Not a change: what `decisions` says, once all before it is durable.
    Ask { txid: String },
}

/// What became of one change.
#[derive(Debug, PartialEq, Eq)]
pub enum Done {
    /// Recorded.
    Recorded,
    /// A `Finish`: the operation it ended, `None` if the write was not pending here.
    Ended(Option<Op>),
    /// An `Ask`: the decision known.
    Known(Outcome),
}

/// The trees a round writes to.
#[derive(Clone)]
pub struct Trees {
    pub db: sled::Db,
    pub values: sled::Tree,
    pub pending: sled::Tree,
    pub decisions: sled::Tree,
    pub announce: sled::Tree,
}

/// Applies a round of changes (each with whatever its caller keeps beside it) and
/// says what became of each, in order: **one** sled transaction over the four trees
/// for the whole round, so that all of it is applied or, when sled fails, none (then
/// every change of the round gets the error). A problem with one change alone (a
/// pending record that cannot be encoded, or read back when it finishes) is that
/// change's own `Err`, and the rest of the round still applies.
///
/// - `Prepare`: `pending[txid]` = the [`Pending`] record as JSON → `Done::Recorded`.
/// - `Decide`: the outcome word (`commit`/`abort`) in `decisions[txid]` and in
///   `announce[txid]` → `Done::Recorded`.
/// - `Finish`: the outcome word in `decisions[txid]`; take `pending[txid]` out; on
///   commit apply its operation to `values` (insert, or remove for a delete) →
///   `Done::Ended(Some(op))`; when nothing was pending → `Done::Ended(None)`: deciding
///   twice must be harmless.
/// - `Ask`: read `decisions[txid]` → `Done::Known(…)` (`Unknown` when absent).
///
/// You'll need: `sled::Transactional`, `(&trees.values, &trees.pending, …)
/// .transaction(|(values, pending, decisions, announce)| …)`, [`outcome_word`],
/// `serde_json::{to_vec, from_slice}`, `ConflictableTransactionError`.
// Compile error here? `error[E0282]: type annotations needed` on `.transaction`: see hint 3.
pub fn apply<T>(trees: &Trees, round: &[(Change, T)]) -> Vec<Result<Done, String>> {
    let _ = (trees, outcome_word(Outcome::Commit));
    let not_yet = "not implemented yet: store::changes::apply — see exercises/10-two-phase-commit/README.md";
    round.iter().map(|_| Err(not_yet.to_string())).collect()
}

/// How a decision is stored (`outcome_of` in `store.rs` reads it back).
fn outcome_word(outcome: Outcome) -> &'static [u8] {
    match outcome {
        Outcome::Commit => b"commit",
        _ => b"abort",
    }
}
