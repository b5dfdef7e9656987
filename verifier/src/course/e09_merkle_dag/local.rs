//! Checks of one database on its own: keys, links, heads.

use super::nodes::{Printed, add, get, heads, keys, list};
use crate::harness::trial::{Failure, Trial};

/// A key no database holds.
const UNKNOWN: &str = "0000000000000000000000000000000000000000000000000000000000000bad";

pub fn keys_recompute(trial: &mut Trial) -> Result<(), Failure> {
    let root = add(trial, "alice.db", &[], "root")?;
    trial.note("a value whose bytes a JSON printer would change, and one with quotes and a line break");
    let json = add(trial, "alice.db", &[&root.key], r#"{"b":  1, "a": "é"}"#)?;
    let tricky = add(trial, "alice.db", &[&root.key], "say \"hi\"\nnaïve")?;
    trial.note("links given twice, and in two opposite orders: hashed sorted, each once");
    let (r, j, t) = (root.key.as_str(), json.key.as_str(), tricky.key.as_str());
    let merge = add(trial, "alice.db", &[r, j, t, r], "merge")?;
    let again = add(trial, "alice.db", &[t, j, r], "merge again")?;
    for node in [&merge, &again] {
        if node.links.len() != 3 {
            return Err(trial.fail(format!(
                "`add` printed {} links for three different --link keys",
                node.links.len()
            )));
        }
    }
    let got = get(trial, "alice.db", &merge.key)?;
    if got != merge {
        return Err(trial.fail("`get` printed a different node than `add` did for the same key"));
    }
    Ok(())
}

pub fn unknown_link_refused(trial: &mut Trial) -> Result<(), Failure> {
    let root = add(trial, "alice.db", &[], "root")?;
    for link in [UNKNOWN, "not-a-key"] {
        let outcome = trial.run_any_exit(
            "add",
            &["alice.db", "--link", &root.key, "--link", link, "orphan"],
        )?;
        if outcome.ending.success() {
            return Err(trial
                .fail(format!(
                    "`add --link {link}` added a node that links a key alice.db does not hold"
                ))
                .detail(
                    "A DAG never has a link to nothing: refuse with exit code 1 and a reason on stderr.",
                ));
        }
        let said = trial.runs().last().map(|r| !r.stderr.is_empty()).unwrap_or(false);
        if !said {
            return Err(trial.fail(format!("`add --link {link}` failed but said nothing on stderr")));
        }
    }
    let nodes = list(trial, "alice.db")?;
    if nodes.len() != 1 {
        return Err(trial.fail("alice.db holds more than its root after two refused adds"));
    }
    Ok(())
}

fn sorted_keys(nodes: &[&Printed]) -> Vec<String> {
    let mut keys: Vec<String> = nodes.iter().map(|n| n.key.clone()).collect();
    keys.sort();
    keys
}

pub fn fork_and_merge(trial: &mut Trial) -> Result<(), Failure> {
    let root = add(trial, "alice.db", &[], "root")?;
    let left = add(trial, "alice.db", &[&root.key], "left")?;
    let right = add(trial, "alice.db", &[&root.key], "right")?;
    trial.note("a fork: two nodes on one parent, two heads");
    let forked = heads(trial, "alice.db")?;
    if keys(&forked) != keys(&[left.clone(), right.clone()]) {
        return Err(trial
            .fail(format!(
                "`heads` printed {} node(s); after a fork the heads are exactly the two nodes on the root",
                forked.len()
            ))
            .detail("A head is a node no other node links to."));
    }
    trial.note("add without --link links every head: a merge");
    let merge = add(trial, "alice.db", &[], "merge")?;
    if merge.links != sorted_keys(&[&left, &right]) {
        return Err(trial
            .fail(format!(
                "the merge links {} node(s) that are not exactly the two heads",
                merge.links.len()
            ))
            .detail("add without --link takes every current head as a link, not just the latest."));
    }
    let merged = heads(trial, "alice.db")?;
    if merged != [merge] {
        return Err(trial.fail("after the merge `heads` should print the merge node only"));
    }
    Ok(())
}
