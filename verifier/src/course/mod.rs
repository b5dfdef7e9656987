//! The course catalogue: every exercise, in order, in one list.
//!
//! An exercise is one module under `course/` that says everything about it: its number,
//! slug and title, the programs a learner writes and what each prints, its hints, and
//! its checks. The problem text is the `README.md` in the learner's folder
//! (`exercises/NN-slug/`), compiled in so that `verifier print` works anywhere.
//!
//! Adding an exercise: create `exercises/NN-slug/` and `solutions/NN-slug/`, write the
//! module `course/eNN_slug/` (copy a neighbour), and add it to [`COURSE`] below.

pub use crate::harness::trial::{Check, Exercise, Hint, Program, Side};

pub mod e01_leveldb;
pub mod e02_append_only_logs;
pub mod e03_replicate;
pub mod e04_gossip;
pub mod e05_kv_store;
pub mod e06_last_writer_wins;
pub mod e07_siblings;
pub mod e08_logical_clocks;
pub mod e09_merkle_dag;
pub mod e10_two_phase_commit;
pub mod logs;
pub mod promises;
pub mod replication;
pub mod shapes;
pub mod stores;

/// Every exercise, in the order learners meet them.
pub static COURSE: &[&Exercise] = &[
    &e01_leveldb::EXERCISE,
    &e02_append_only_logs::EXERCISE,
    &e03_replicate::EXERCISE,
    &e04_gossip::EXERCISE,
    &e05_kv_store::EXERCISE,
    &e06_last_writer_wins::EXERCISE,
    &e07_siblings::EXERCISE,
    &e08_logical_clocks::EXERCISE,
    &e09_merkle_dag::EXERCISE,
    &e10_two_phase_commit::EXERCISE,
];

/// Finds an exercise by number (`2`, `02`) or slug (`append-only-logs`, `02-append-only-logs`).
pub fn find(query: &str) -> anyhow::Result<&'static Exercise> {
    let query = query.trim();
    let found = match query.parse::<u32>() {
        Ok(number) => COURSE.iter().find(|e| e.number == number),
        Err(_) => COURSE.iter().find(|e| e.slug == query || e.dir_name() == query),
    };
    found.copied().ok_or_else(|| {
        let known: Vec<String> = COURSE
            .iter()
            .map(|e| format!("  {:>2}  {}", e.number, e.slug))
            .collect();
        anyhow::anyhow!(
            "there is no exercise `{query}`. Give a number or a name:\n{}",
            known.join("\n")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn numbers_are_consecutive_from_one() {
        for (index, exercise) in COURSE.iter().enumerate() {
            assert_eq!(exercise.number as usize, index + 1, "{}", exercise.slug);
        }
    }

    #[test]
    fn every_exercise_is_complete() {
        for exercise in COURSE {
            let hints = exercise.hints();
            assert!(hints.len() >= 3, "{} needs three levels of hints", exercise.slug);
            assert!(
                hints.iter().all(|h| !h.body.is_empty()),
                "{}: empty hint",
                exercise.slug
            );
            assert!(!exercise.problem.trim().is_empty());
            assert!(!exercise.programs.is_empty());
            assert!(!exercise.checks.is_empty());
            let names: HashSet<_> = exercise.checks.iter().map(|c| c.name).collect();
            assert_eq!(
                names.len(),
                exercise.checks.len(),
                "{}: check names repeat",
                exercise.slug
            );
        }
    }

    /// By hand, a learner runs their own programs; the reference solution is shown only
    /// through `demo`. A text that builds the reference (`cargo build -p sol08-…`) puts
    /// its binaries where the learner's own, of the same names, were.
    #[test]
    fn texts_never_build_or_run_the_reference() {
        for exercise in COURSE {
            for (number, line) in exercise.problem.lines().enumerate() {
                let words: Vec<&str> = line.split_whitespace().collect();
                let builds_reference = words
                    .windows(2)
                    .any(|pair| pair[0] == "-p" && pair[1].starts_with("sol"));
                assert!(
                    !builds_reference,
                    "exercise {} README line {}: {line}",
                    exercise.number,
                    number + 1
                );
            }
        }
    }

    #[test]
    fn finds_by_number_or_slug() -> anyhow::Result<()> {
        assert_eq!(find("2")?.slug, "append-only-logs");
        assert_eq!(find("02")?.slug, "append-only-logs");
        assert_eq!(find("append-only-logs")?.number, 2);
        assert_eq!(find("02-append-only-logs")?.number, 2);
        assert!(find("99").is_err());
        assert!(find("nope").unwrap_err().to_string().contains("append-only-logs"));
        Ok(())
    }

    #[test]
    fn names_packages_and_folders() -> anyhow::Result<()> {
        let e = find("2")?;
        assert_eq!(e.dir(Side::Learner), "exercises/02-append-only-logs");
        assert_eq!(e.package(Side::Reference), "sol02-append-only-logs");
        Ok(())
    }
}
