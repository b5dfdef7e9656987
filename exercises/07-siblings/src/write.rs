//! Writes that name what they replace: every write's `prev` is the list of
//! the key's current versions, as this database's view holds them.
//!
//! That is all it takes to tell a stale write from a resolved conflict. A
//! write replaces exactly what its writer could see; whatever it could not
//! see (a concurrent write on another peer) stays, beside it.

use anyhow::Result;
use logs::Record;
use store::Store;

use crate::op::Op;
use crate::siblings::Siblings;
use crate::version::Version;

/// Sets `key` to `value`, replacing every current version of it.
pub fn put(store: &Store<Siblings>, key: &str, value: &str) -> Result<Record> {
    let prev = current_versions(store, key)?;
    store.write(&Op::Put {
        key: key.to_string(),
        value: value.to_string(),
        prev,
    })
}

/// Deletes `key`: a deletion that replaces every current version of it.
pub fn del(store: &Store<Siblings>, key: &str) -> Result<Record> {
    let prev = current_versions(store, key)?;
    store.write(&Op::Del {
        key: key.to_string(),
        prev,
    })
}

/// Resolves the siblings of `key` with `value`: the same write as [`put`],
/// refused unless the key has at least two current versions, since there
/// would be nothing to merge.
///
/// The refusal says what was found and what to do instead: "nothing to merge:
/// KEY has N current version(s), merge needs at least 2 (use put)".
pub fn merge(_store: &Store<Siblings>, _key: &str, _value: &str) -> Result<Record> {
    // TODO (step 4)
    anyhow::bail!("not implemented yet: merge — see exercises/07-siblings/README.md")
}

/// The names of the current versions of `key`, in version order.
/// This is what a write names as its `prev`: what the writer saw.
fn current_versions(_store: &Store<Siblings>, _key: &str) -> Result<Vec<Version>> {
    // TODO (step 3)
    anyhow::bail!("not implemented yet: current_versions — see exercises/07-siblings/README.md")
}
