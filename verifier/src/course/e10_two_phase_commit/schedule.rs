//! Seeded schedules of writes, kills and partitions, with `get` on every node after
//! every step.
//!
//! The model: for each key, the values it may have. A write that answered `committed`
//! leaves one; `aborted` or `refused` changes nothing; "no answer" (exit 3) adds its
//! value as a possibility, and the key stays undecided until a later write to it
//! commits. After every step every running node must show the one value of every
//! decided key — "on every node or on none". At the end every link is healed and every
//! node started again, and each key must settle to one of its possible values, the same
//! on every node.

use super::checks::{put_commits_everywhere, tested};
use crate::harness::trial::{Cluster, Failure, Trial, Written, show};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const KEYS: [&str; 2] = ["a", "b"];
/// How long the healed cluster may take to settle undecided keys.
const SETTLE: Duration = Duration::from_secs(15);

/// The check: one seeded schedule of 12 steps.
pub(super) fn seeded_schedules(trial: &mut Trial) -> Result<(), Failure> {
    let mark = trial.mark();
    let steps = 12;
    schedule(trial, steps)?;
    trial.replace_since(
        mark,
        &format!("a seeded schedule of {steps} steps (writes, some with a kill or a cut while in flight, kills, restarts, partitions, heals) on 3 nodes: after every step each write was on every node or on none"),
    );
    Ok(())
}

/// Runs one schedule of `steps` random steps, chosen by the trial's seed.
pub fn schedule(trial: &mut Trial, steps: usize) -> Result<(), Failure> {
    let mut c = Cluster::start(trial, &tested(3), 2)?;
    let mut model: BTreeMap<&str, Vec<Option<String>>> = KEYS.iter().map(|k| (*k, vec![None])).collect();
    let mut cut: Option<usize> = None;
    for step in 0..steps {
        let up: Vec<usize> = (0..c.len()).filter(|&i| c.is_up(i)).collect();
        let down: Vec<usize> = (0..c.len()).filter(|&i| !c.is_up(i)).collect();
        let choice = trial.rng().usize(0..10);
        match choice {
            0..=6 => {
                let node = up[trial.rng().usize(0..up.len())];
                let key = KEYS[trial.rng().usize(0..KEYS.len())];
                let value = format!("s{step}");
                let delete = trial.rng().usize(0..5) == 0;
                let words: Vec<&str> = match delete {
                    true => vec!["del", key],
                    false => vec!["put", key, &value],
                };
                let write = c.start_write(trial, node, &words)?;
                // Now and then, a fault while the write is in flight.
                let fault = trial.rng().usize(0..4);
                let delay = Duration::from_millis(trial.rng().u64(0..30));
                if fault == 0 && up.len() == c.len() {
                    std::thread::sleep(delay);
                    let victim = trial.rng().usize(0..c.len());
                    c.kill(trial, victim);
                } else if fault == 1 && cut.is_none() {
                    std::thread::sleep(delay);
                    let victim = trial.rng().usize(0..c.len());
                    c.partition(trial, &[victim]);
                    cut = Some(victim);
                }
                let written = c.finish_write(trial, write)?;
                let outcome = if delete { None } else { Some(value.clone()) };
                let candidates = model.entry(key).or_default();
                match written {
                    Written::Committed => *candidates = vec![outcome],
                    Written::Aborted | Written::Refused => {}
                    Written::Unknown => candidates.push(outcome),
                }
            }
            7 if !down.is_empty() => {
                let node = down[trial.rng().usize(0..down.len())];
                c.start_again(trial, node)?;
                match cut {
                    // With a node cut off, no node reaches --min-consensus 2.
                    Some(_) => c.wait_listening(trial, node)?,
                    None => c.wait_ready(trial, node)?,
                }
            }
            7 | 8 if up.len() == c.len() => {
                let victim = trial.rng().usize(0..c.len());
                c.kill(trial, victim);
            }
            _ => {
                if cut.take().is_some() {
                    c.heal(trial);
                } else {
                    let victim = trial.rng().usize(0..c.len());
                    c.partition(trial, &[victim]);
                    cut = Some(victim);
                }
            }
        }
        for key in KEYS {
            if let [value] = model[key].as_slice() {
                c.expect_everywhere(trial, key, value.as_deref(), "the last write to it that answered")?;
            }
        }
    }
    c.heal(trial);
    for node in 0..c.len() {
        if !c.is_up(node) {
            c.start_again(trial, node)?;
        }
    }
    for node in 0..c.len() {
        c.wait_ready(trial, node)?;
    }
    for key in KEYS {
        settle(&mut c, trial, key, &model[key])?;
    }
    // The cluster still takes writes.
    put_commits_everywhere(
        &mut c,
        trial,
        0,
        ("a", "last"),
        "every node is up and connected",
        "committed on every node",
    )?;
    c.finish(trial);
    Ok(())
}

/// Waits until every node shows the same value of `key`, one of `candidates`.
fn settle(
    c: &mut Cluster,
    trial: &mut Trial,
    key: &str,
    candidates: &[Option<String>],
) -> Result<(), Failure> {
    let deadline = Instant::now() + crate::harness::patience::stretch(SETTLE);
    loop {
        let values = c.values(trial, key)?;
        let first = values.first().map(|(_, v)| v.clone()).unwrap_or_default();
        let agree = values.iter().all(|(_, v)| *v == first);
        if agree && candidates.contains(&first) {
            c.show_line(
                trial,
                format!("get {key} on every node: {}", show(first.as_deref())),
            );
            return Ok(());
        }
        if agree && !candidates.contains(&first) {
            return Err(c.failed(
                trial,
                Failure::new(format!(
                    "every node shows {} for {key}, a value no write that could have committed wrote",
                    show(first.as_deref())
                )),
            ));
        }
        if Instant::now() >= deadline {
            let shown: Vec<String> = values
                .iter()
                .map(|(i, v)| format!("{} {}", c.name(*i), show(v.as_deref())))
                .collect();
            return Err(c.failed(
                trial,
                Failure::new(format!(
                    "{} after healing and restarting every node, the nodes still disagree on {key}: {}",
                    crate::runner::seconds(crate::harness::patience::stretch(SETTLE)),
                    shown.join(", ")
                ))
                .detail("Every undecided transaction must end the same way everywhere: the coordinator resends its decision; blocked participants keep asking."),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
