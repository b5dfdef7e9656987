//! Running `add`, `list`, `heads` and `get`, and the invariants every node they
//! print must meet: a key that is the hash of its content, and (in `list`)
//! parents before children, and every log a gap-free chain: node #n names
//! node #n − 1 as its previous.

use super::dag::key_of;
use crate::harness::records::Record;
use crate::harness::trial::{Failure, Trial, Who};
use std::collections::{HashMap, HashSet};

/// A node as the programs print it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    pub key: String,
    pub links: Vec<String>,
    pub value: String,
    pub log: String,
    pub seq: u64,
    /// The key of node seq − 1 of its log; None for seq 1.
    pub previous: Option<String>,
}

fn printed(trial: &Trial, program: &str, record: &Record) -> Result<Printed, Failure> {
    let links = record
        .get("links")
        .and_then(|v| v.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let node = Printed {
        key: record.text("key").unwrap_or_default().to_string(),
        links,
        value: record.text("value").unwrap_or_default().to_string(),
        log: record.text("log").unwrap_or_default().to_string(),
        seq: record.number("seq").unwrap_or_default(),
        previous: record.text("previous").map(str::to_string),
    };
    let previous_ok = match record.get("previous") {
        Some(serde_json::Value::Null) => node.seq == 1,
        Some(serde_json::Value::String(_)) => node.seq > 1,
        _ => false,
    };
    if !previous_ok {
        return Err(trial
            .fail(format!(
                "`{program}` printed the node {:?} (seq {}) with `previous` {}",
                node.value,
                node.seq,
                record.get("previous").map_or("missing".to_string(), |v| v.to_string())
            ))
            .detail("Every record has `previous`: null for seq 1, the key of node seq − 1 of its log for every later seq."));
    }
    let expected = key_of(
        &node.log,
        node.seq,
        node.previous.as_deref(),
        &node.links,
        &node.value,
    );
    if node.key != expected {
        return Err(trial
            .fail(format!(
                "`{program}` printed the node {:?} (seq {}) with the key {}, but the SHA-256 of its encoding is {expected}",
                node.value, node.seq, node.key
            ))
            .detail("The text's section on keys lists the exact bytes: the tag, the log id, the seq, the previous key, the links sorted and without repeats, the value; every field framed by its length."));
    }
    let mut canonical = node.links.clone();
    canonical.sort();
    canonical.dedup();
    if canonical != node.links {
        return Err(trial.fail(format!(
            "`{program}` printed the node {:?} with its links unsorted or repeated: a node's links are sorted, each once",
            node.value
        )));
    }
    Ok(node)
}

fn all(trial: &Trial, program: &str, records: &[Record]) -> Result<Vec<Printed>, Failure> {
    records.iter().map(|r| printed(trial, program, r)).collect()
}

/// `add DB [--link K]... VALUE` with the build of `who`; returns the node.
pub fn add_as(
    trial: &mut Trial,
    who: Who,
    db: &str,
    links: &[&str],
    value: &str,
) -> Result<Printed, Failure> {
    let mut args = vec![db];
    for link in links {
        args.extend(["--link", link]);
    }
    args.push(value);
    let records = trial.run_as(who, "add", &args)?;
    match all(trial, "add", &records)?.as_slice() {
        [node] => Ok(node.clone()),
        other => Err(trial.fail(format!(
            "`add` printed {} records: it prints exactly one, the node",
            other.len()
        ))),
    }
}

pub fn add(trial: &mut Trial, db: &str, links: &[&str], value: &str) -> Result<Printed, Failure> {
    add_as(trial, Who::Tested, db, links, value)
}

/// `add DB VALUE` (linking the heads) without showing the node: for long
/// histories whose every key depends on the seed.
pub fn add_unshown(trial: &mut Trial, db: &str, value: &str, why: &str) -> Result<Printed, Failure> {
    let records = trial.run_unshown("add", &[db, value], why)?;
    match all(trial, "add", &records)?.as_slice() {
        [node] => Ok(node.clone()),
        other => Err(trial.fail(format!(
            "`add` printed {} records: it prints exactly one, the node",
            other.len()
        ))),
    }
}

/// `add DB [--link K]... VALUE` without showing the node (seeded workloads).
pub fn add_linked_unshown(
    trial: &mut Trial,
    db: &str,
    links: &[String],
    value: &str,
    why: &str,
) -> Result<Printed, Failure> {
    let mut args = vec![db];
    for link in links {
        args.extend(["--link", link.as_str()]);
    }
    args.push(value);
    let records = trial.run_unshown("add", &args, why)?;
    match all(trial, "add", &records)?.as_slice() {
        [node] => Ok(node.clone()),
        other => Err(trial.fail(format!(
            "`add` printed {} records: it prints exactly one, the node",
            other.len()
        ))),
    }
}

/// Adds a chain of nodes `prefix1`, `prefix2`, … (each linking the heads).
pub fn add_many(trial: &mut Trial, db: &str, prefix: &str, count: usize) -> Result<Vec<Printed>, Failure> {
    (1..=count)
        .map(|n| add(trial, db, &[], &format!("{prefix}{n}")))
        .collect()
}

/// `list DB`, checked: keys recompute, and every node comes after its parents.
pub fn list_as(trial: &mut Trial, who: Who, db: &str) -> Result<Vec<Printed>, Failure> {
    let records = trial.run_as(who, "list", &[db])?;
    checked_list(trial, db, &records)
}

pub fn list(trial: &mut Trial, db: &str) -> Result<Vec<Printed>, Failure> {
    list_as(trial, Who::Tested, db)
}

/// `list DB` without showing the records (what they are depends on the seed).
pub fn list_unshown(trial: &mut Trial, db: &str, why: &str) -> Result<Vec<Printed>, Failure> {
    let records = trial.run_unshown("list", &[db], why)?;
    checked_list(trial, db, &records)
}

fn checked_list(trial: &Trial, db: &str, records: &[Record]) -> Result<Vec<Printed>, Failure> {
    let nodes = all(trial, "list", records)?;
    let mut before: HashSet<&str> = HashSet::new();
    let mut tips: HashMap<&str, (u64, &str)> = HashMap::new();
    for node in &nodes {
        let (held, below) = tips.get(node.log.as_str()).copied().unwrap_or((0, ""));
        if node.seq != held + 1 || node.previous.as_deref().unwrap_or_default() != below {
            return Err(trial
                .fail(format!(
                    "`list {db}` printed the node {:?} as #{} of its log, after #{held} {}",
                    node.value,
                    node.seq,
                    match node.seq == held + 1 {
                        true => "but naming another previous node",
                        false => "of that log: a gap or a repeat",
                    }
                ))
                .detail("A database holds of each log a gap-free chain 1, 2, 3, …, each node naming the one before as `previous`, stored after it."));
        }
        tips.insert(&node.log, (node.seq, &node.key));
        if let Some(link) = node.links.iter().find(|l| !before.contains(l.as_str())) {
            let problem = match nodes.iter().find(|n| n.key == *link) {
                Some(parent) => format!("before its parent {:?}, which comes after it", parent.value),
                None => format!("but not its parent {link}"),
            };
            return Err(trial
                .fail(format!("`list {db}` printed the node {:?} {problem}", node.value))
                .detail("list prints parents before children: the order in which the nodes were stored."));
        }
        if !before.insert(&node.key) {
            return Err(trial.fail(format!("`list {db}` printed the node {:?} twice", node.value)));
        }
    }
    Ok(nodes)
}

pub fn heads(trial: &mut Trial, db: &str) -> Result<Vec<Printed>, Failure> {
    let records = trial.run("heads", &[db])?;
    all(trial, "heads", &records)
}

pub fn get(trial: &mut Trial, db: &str, key: &str) -> Result<Printed, Failure> {
    let records = trial.run("get", &[db, key])?;
    match all(trial, "get", &records)?.as_slice() {
        [node] => Ok(node.clone()),
        other => Err(trial.fail(format!(
            "`get` printed {} records: it prints exactly one node",
            other.len()
        ))),
    }
}

/// The keys of a list, as a set.
pub fn keys(nodes: &[Printed]) -> HashSet<&str> {
    nodes.iter().map(|n| n.key.as_str()).collect()
}

/// Fails unless both databases hold the same nodes.
pub fn same_nodes(trial: &Trial, a: (&str, &[Printed]), b: (&str, &[Printed])) -> Result<(), Failure> {
    let (ka, kb) = (keys(a.1), keys(b.1));
    if ka == kb {
        return Ok(());
    }
    let only_a = a.1.iter().filter(|n| !kb.contains(n.key.as_str())).count();
    let only_b = b.1.iter().filter(|n| !ka.contains(n.key.as_str())).count();
    Err(trial.fail(format!(
        "after the sync {} holds {only_a} node(s) that {} lacks, and {} holds {only_b} that {} lacks",
        a.0, b.0, b.0, a.0
    )))
}

/// Fails unless `db`'s list holds every node of `expected`.
pub fn holds(trial: &Trial, db: &str, list: &[Printed], expected: &[Printed]) -> Result<(), Failure> {
    let held = keys(list);
    match expected.iter().find(|n| !held.contains(n.key.as_str())) {
        None => Ok(()),
        Some(missing) => Err(trial.fail(format!(
            "{db} lacks the node {:?} (seq {} of its log), which it should hold",
            missing.value, missing.seq
        ))),
    }
}
