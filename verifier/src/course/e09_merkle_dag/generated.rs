//! Generate, record, check: seeded workloads of `add`s (some with `--link`,
//! values outside ASCII, with surrounding spaces, quotes and line breaks) and
//! syncs between two to four databases, judged by properties of the whole
//! history rather than by a script:
//!
//! - every sync follows the protocol (each message judged, as everywhere);
//! - every `list` keeps each log a gap-free chain naming its previous node,
//!   parents first, every key recomputed (the checks of [`super::nodes`]);
//! - after a final round of syncs, every database holds exactly the same
//!   nodes, and every node any database added is among them: no write lost.
//!
//! The steps depend on the seed, so the transcript shows one line per round;
//! a failure lists the steps that led to it (`--seed` replays them).

use super::nodes::{Printed, add_linked_unshown, keys, list_unshown};
use super::sync::{replicate, sync_counted};
use crate::harness::trial::{Failure, Trial};
use std::collections::BTreeSet;

const NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// Values a printer or a hash could get wrong: not ASCII, padded, quoted,
/// JSON-like, with a line break or a tab.
const VALUES: [&str; 10] = [
    "plain",
    "  padded on both sides  ",
    "naïve café",
    "日本語のノード",
    "emoji 🎉 and ß",
    "{\"b\": 1, \"a\": [true]}",
    "say \"hi\" \\ bye",
    "two\nlines",
    "tab\there",
    " leading space",
];

pub fn seeded_workloads(trial: &mut Trial) -> Result<(), Failure> {
    for round in 1..=2 {
        let count = 2 + trial.rng().usize(0..3);
        trial.note(&format!(
            "round {round}: two to four databases (drawn from the seed), seeded adds (some with --link) and syncs, then syncs along a chain and back"
        ));
        let mark = trial.mark();
        workload(trial, round, count)?;
        trial.replace_since(
            mark,
            "every sync judged; every list gap-free, parents first; all databases hold the same nodes, none lost",
        );
    }
    Ok(())
}

struct Run {
    dbs: Vec<String>,
    /// Keys each database is known to hold (its own adds, and after syncs).
    held: Vec<BTreeSet<String>>,
    added: Vec<(usize, Printed)>,
    steps: Vec<String>,
}

impl Run {
    fn fail(&self, trial: &Trial, summary: String) -> Failure {
        self.with_steps(trial.fail(summary))
    }

    /// A failure, with the seeded steps that led to it.
    fn with_steps(&self, mut failure: Failure) -> Failure {
        let start = self.steps.len().saturating_sub(25);
        failure = failure.detail(format!(
            "The seeded steps before it ({} in all, the last {} shown):",
            self.steps.len(),
            self.steps.len() - start
        ));
        for step in &self.steps[start..] {
            failure = failure.detail(format!("  {step}"));
        }
        failure
    }

    fn sync(&mut self, trial: &mut Trial, a: usize, b: usize) -> Result<(), Failure> {
        self.steps.push(format!("sync {} ⇄ {}", NAMES[a], NAMES[b]));
        let (da, db) = (self.dbs[a].clone(), self.dbs[b].clone());
        sync_counted(trial, replicate(&da), replicate(&db))?;
        let union: BTreeSet<String> = self.held[a].union(&self.held[b]).cloned().collect();
        self.held[a] = union.clone();
        self.held[b] = union;
        Ok(())
    }
}

fn workload(trial: &mut Trial, round: usize, count: usize) -> Result<(), Failure> {
    let mut run = Run {
        dbs: (0..count).map(|i| format!("r{round}-{}.db", NAMES[i])).collect(),
        held: vec![BTreeSet::new(); count],
        added: Vec::new(),
        steps: Vec::new(),
    };
    let steps = 10 + trial.rng().usize(0..6);
    for _ in 0..steps {
        let who = trial.rng().usize(0..count);
        if trial.rng().usize(0..10) < 6 || run.held[who].is_empty() {
            let value = VALUES[trial.rng().usize(0..VALUES.len())];
            let links: Vec<String> = match trial.rng().bool() {
                true => Vec::new(),
                false => {
                    let held: Vec<&String> = run.held[who].iter().collect();
                    let wanted = 1 + trial.rng().usize(0..3);
                    (0..wanted)
                        .filter(|_| !held.is_empty())
                        .map(|_| held[trial.rng().usize(0..held.len())].clone())
                        .collect()
                }
            };
            run.steps.push(format!(
                "{} adds {value:?} {}",
                NAMES[who],
                match links.len() {
                    0 => "linking the heads".to_string(),
                    n => format!("with {n} --link"),
                }
            ));
            let db = run.dbs[who].clone();
            let node = add_linked_unshown(trial, &db, &links, value, "a seeded add: not shown")
                .map_err(|f| run.with_steps(f))?;
            if node.value != value {
                return Err(run.fail(
                    trial,
                    format!("`add` printed the value {:?}; it was given {value:?}", node.value),
                ));
            }
            run.held[who].insert(node.key.clone());
            run.added.push((who, node));
        } else {
            let other = (who + 1 + trial.rng().usize(0..count - 1)) % count;
            run.sync(trial, who, other).map_err(|f| run.with_steps(f))?;
        }
    }
    for i in 0..count - 1 {
        run.sync(trial, i, i + 1).map_err(|f| run.with_steps(f))?;
    }
    for i in (0..count - 1).rev() {
        run.sync(trial, i, i + 1).map_err(|f| run.with_steps(f))?;
    }
    judge(trial, &run)
}

/// The properties of the end state: every list valid, all the same, none lost.
fn judge(trial: &mut Trial, run: &Run) -> Result<(), Failure> {
    let mut lists: Vec<Vec<Printed>> = Vec::new();
    for db in &run.dbs {
        lists.push(
            list_unshown(trial, db, "its nodes depend on the seed: not shown")
                .map_err(|f| run.with_steps(f))?,
        );
    }
    let first = keys(&lists[0]);
    for (index, list) in lists.iter().enumerate().skip(1) {
        let these = keys(list);
        if these != first {
            let only_here = these.difference(&first).count();
            let only_there = first.difference(&these).count();
            return Err(run.fail(
                trial,
                format!(
                    "after syncing along a chain and back, {} holds {only_here} node(s) that {} lacks, and lacks {only_there} that it holds",
                    run.dbs[index], run.dbs[0]
                ),
            ));
        }
    }
    if let Some((who, lost)) = run.added.iter().find(|(_, n)| !first.contains(n.key.as_str())) {
        return Err(run.fail(
            trial,
            format!(
                "the node {:?} (seq {}) that {} added is held by no database after the final syncs",
                lost.value, lost.seq, run.dbs[*who]
            ),
        ));
    }
    Ok(())
}
