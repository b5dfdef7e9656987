//! Writes that name what they replace: every write's `prev` is the list of
//! the key's current versions, as this database's view holds them.
//!
//! That is all it takes to tell a stale write from a resolved conflict. A
//! write replaces exactly what its writer could see; whatever it could not
//! see (a concurrent write on another peer) stays, beside it.

use anyhow::{Result, bail};
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
pub fn merge(store: &Store<Siblings>, key: &str, value: &str) -> Result<Record> {
    let count = current_versions(store, key)?.len();
    if count < 2 {
        let versions = if count == 1 { "version" } else { "versions" };
        bail!("nothing to merge: {key} has {count} current {versions}, merge needs at least 2 (use put)");
    }
    put(store, key, value)
}

/// The names of the current versions of `key`, in version order.
fn current_versions(store: &Store<Siblings>, key: &str) -> Result<Vec<Version>> {
    Ok(store
        .view()
        .siblings(key)?
        .iter()
        .map(|sibling| sibling.version())
        .collect())
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixStream;
    use std::thread;

    use super::*;
    use crate::siblings::KeyVersion;

    fn open() -> (tempfile::TempDir, Store<Siblings>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn sync(a: &Store<Siblings>, b: &Store<Siblings>) {
        let (a_end, b_end) = UnixStream::pair().unwrap();
        let (a_input, b_input) = (a_end.try_clone().unwrap(), b_end.try_clone().unwrap());
        thread::scope(|scope| {
            let a_side = scope.spawn(|| a.sync(a_input, a_end));
            let b_side = scope.spawn(|| b.sync(b_input, b_end));
            a_side.join().unwrap().unwrap();
            b_side.join().unwrap().unwrap();
        });
    }

    /// The values of `key`'s siblings, in version order.
    fn values(store: &Store<Siblings>, key: &str) -> Vec<Option<String>> {
        store
            .view()
            .get(key)
            .unwrap()
            .into_iter()
            .map(|v| v.value)
            .collect()
    }

    fn some(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|value| Some(value.to_string())).collect()
    }

    #[test]
    fn writes_name_every_current_version_as_prev() {
        let (_dir, store) = open();
        let first = put(&store, "x", "1").unwrap();
        let second = put(&store, "x", "2").unwrap();
        assert_eq!(
            second.entry,
            format!(
                r#"{{"type":"put","key":"x","value":"2","prev":["{}@1"]}}"#,
                first.peer
            )
        );
        let deleted = del(&store, "x").unwrap();
        assert!(
            deleted
                .entry
                .ends_with(&format!(r#""prev":["{}@2"]}}"#, first.peer))
        );
        assert_eq!(values(&store, "x"), [None]);
    }

    #[test]
    fn concurrent_puts_become_siblings_everywhere_and_a_merge_resolves_them() {
        let (_alice_dir, alice) = open();
        let (_bob_dir, bob) = open();
        put(&alice, "x", "alice").unwrap();
        put(&bob, "x", "bob").unwrap();
        sync(&alice, &bob);
        let both = alice.view().get("x").unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(bob.view().get("x").unwrap(), both);

        assert!(merge(&alice, "y", "nothing there").is_err());
        merge(&bob, "x", "alice+bob").unwrap();
        let error = merge(&bob, "x", "again").unwrap_err().to_string();
        assert!(
            error.starts_with("nothing to merge: x has 1 current version"),
            "{error}"
        );
        sync(&alice, &bob);
        for store in [&alice, &bob] {
            let expected = KeyVersion {
                key: "x".to_string(),
                value: Some("alice+bob".to_string()),
                peer: bob.log().peer().to_string(),
                seq: 2,
            };
            assert_eq!(store.view().get("x").unwrap(), [expected]);
        }
    }

    #[test]
    fn a_stale_write_keeps_both_values() {
        let (_alice_dir, alice) = open();
        let (_bob_dir, bob) = open();
        put(&alice, "x", "draft").unwrap();
        sync(&alice, &bob);
        // Bob saw the draft and replaces it; Alice, who has not seen Bob's
        // value, writes over her draft.
        put(&bob, "x", "bob's final").unwrap();
        put(&alice, "x", "alice's final").unwrap();
        sync(&alice, &bob);
        let mut expected = some(&["alice's final", "bob's final"]);
        if bob.log().peer() < alice.log().peer() {
            expected.reverse();
        }
        assert_eq!(values(&alice, "x"), expected);
        assert_eq!(values(&bob, "x"), expected);
    }

    #[test]
    fn a_merge_reaches_a_third_peer_in_any_order() {
        for merge_first in [true, false] {
            let (_alice_dir, alice) = open();
            let (_bob_dir, bob) = open();
            let (_carol_dir, carol) = open();
            put(&alice, "x", "alice").unwrap();
            put(&bob, "x", "bob").unwrap();
            sync(&alice, &bob);
            merge(&alice, "x", "merged").unwrap();
            // Carol meets Bob (who lacks the merge) and Alice, in both orders.
            if merge_first {
                sync(&carol, &alice);
                sync(&carol, &bob);
            } else {
                sync(&carol, &bob);
                sync(&carol, &alice);
            }
            assert_eq!(values(&carol, "x"), some(&["merged"]));
        }
    }
}
