//! The learner's progress, kept between sessions in `.replicate/state.json`: the current
//! exercise, the exercises passed and how many hints of each were seen.
//!
//! Exercises are recorded by slug, not number, so progress survives a course that
//! grows a new exercise in the middle. The file is written atomically (a temporary
//! file, then a rename), so a crash never leaves half a file; a missing or unreadable
//! file starts fresh with a one-line notice, and an unreadable one is kept aside.

use crate::course::{COURSE, Exercise};
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable that moves the state folder (tests use a temporary one).
pub const STATE_DIR_VAR: &str = "REPLICATE_STATE_DIR";

/// The folder of everything the workshop keeps: `REPLICATE_STATE_DIR`, else
/// `.replicate/` at the repository root.
pub fn state_dir(root: &Path) -> PathBuf {
    match std::env::var_os(STATE_DIR_VAR) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => root.join(".replicate"),
    }
}

/// What the workshop remembers about a learner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The slug of the current exercise (`None`: the first one).
    pub current: Option<String>,
    /// The slugs of the exercises passed.
    pub passed: BTreeSet<String>,
    /// How many hint levels of each exercise were shown, by slug.
    pub hints_seen: BTreeMap<String, usize>,
}

/// A state read from its file, with what to tell the learner about it.
#[derive(Debug)]
pub struct Loaded {
    pub state: State,
    /// A one-line notice: no saved progress, or a file that could not be read.
    pub notice: Option<String>,
}

impl State {
    /// The state in `dir/state.json`. Never fails: a missing file is a fresh start, and
    /// an unreadable one is renamed to `state.json.corrupt` and replaced by a fresh start.
    pub fn load(dir: &Path) -> Loaded {
        let file = dir.join("state.json");
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Loaded {
                    state: State::default(),
                    notice: Some("No saved progress yet: starting at exercise 1.".into()),
                };
            }
            Err(e) => return fresh(&file, &e.to_string()),
        };
        match serde_json::from_str::<State>(&text) {
            Ok(state) => Loaded { state, notice: None },
            Err(e) => fresh(&file, &e.to_string()),
        }
    }

    /// Writes the state to `dir/state.json` atomically, creating `dir` if needed.
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        let file = dir.join("state.json");
        let cannot = || format!("cannot save your progress in {}", file.display());
        std::fs::create_dir_all(dir).with_context(cannot)?;
        let json = serde_json::to_string_pretty(self)?;
        let temporary = dir.join(format!(".state.json.{}.tmp", std::process::id()));
        let written = std::fs::File::create(&temporary).and_then(|mut f| {
            f.write_all(json.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&temporary, &file)) {
            let _ = std::fs::remove_file(&temporary);
            return Err(e).with_context(cannot);
        }
        Ok(())
    }

    /// The current exercise: the one recorded, or the first if none is (or it is gone).
    pub fn current(&self) -> &'static Exercise {
        let recorded = self
            .current
            .as_deref()
            .and_then(|slug| COURSE.iter().find(|e| e.slug == slug));
        recorded.or_else(|| COURSE.first()).copied().unwrap_or(&EMPTY)
    }

    pub fn set_current(&mut self, exercise: &Exercise) {
        self.current = Some(exercise.slug.to_string());
    }

    pub fn has_passed(&self, exercise: &Exercise) -> bool {
        self.passed.contains(exercise.slug)
    }

    /// Records a pass; false if it was already recorded.
    pub fn mark_passed(&mut self, exercise: &Exercise) -> bool {
        self.passed.insert(exercise.slug.to_string())
    }

    /// The exercise to go on to after `after`: the first one after it not passed yet,
    /// else the first one before it not passed yet; `None` once every one has passed.
    pub fn next_to_do(&self, after: &Exercise) -> Option<&'static Exercise> {
        let open = |e: &&&'static Exercise| !self.has_passed(e);
        let later = COURSE.iter().filter(|e| e.number > after.number).find(open);
        later.or_else(|| COURSE.iter().find(open)).copied()
    }

    pub fn hints_seen(&self, exercise: &Exercise) -> usize {
        self.hints_seen.get(exercise.slug).copied().unwrap_or(0)
    }

    /// Records that hint `level` was shown (levels only ever grow).
    pub fn saw_hint(&mut self, exercise: &Exercise, level: usize) {
        let seen = self.hints_seen.entry(exercise.slug.to_string()).or_insert(0);
        *seen = (*seen).max(level);
    }
}

/// A fresh state in place of an unreadable file, which is kept beside it.
fn fresh(file: &Path, why: &str) -> Loaded {
    let kept = file.with_extension("json.corrupt");
    let kept_note = match std::fs::rename(file, &kept) {
        Ok(()) => format!(" (the old file is now {})", kept.display()),
        Err(_) => String::new(),
    };
    let why = why.lines().next().unwrap_or("unreadable");
    Loaded {
        state: State::default(),
        notice: Some(format!(
            "Could not read {} ({why}): starting fresh{kept_note}.",
            file.display()
        )),
    }
}

/// Stands in for the current exercise of a course with no exercises at all.
static EMPTY: Exercise = Exercise {
    number: 0,
    slug: "none",
    title: "no exercises",
    summary: "",
    problem: "",
    hints: "",
    programs: &[],
    checks: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_again() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut state = State::default();
        let second = COURSE[1];
        state.set_current(second);
        state.mark_passed(COURSE[0]);
        state.saw_hint(second, 2);
        state.saw_hint(second, 1);
        state.save(dir.path())?;
        let loaded = State::load(dir.path());
        assert_eq!(loaded.notice, None);
        assert_eq!(loaded.state, state);
        assert_eq!(loaded.state.current().number, 2);
        assert_eq!(loaded.state.hints_seen(second), 2);
        assert!(loaded.state.has_passed(COURSE[0]));
        Ok(())
    }

    #[test]
    fn the_next_exercise_to_do_skips_the_passed_ones() {
        let mut state = State::default();
        assert_eq!(state.next_to_do(COURSE[0]).map(|e| e.number), Some(2));
        state.mark_passed(COURSE[0]);
        state.mark_passed(COURSE[1]);
        state.mark_passed(COURSE[2]);
        assert_eq!(state.next_to_do(COURSE[0]).map(|e| e.number), Some(4));
        // After the last one, back to the first one not passed yet.
        let last = COURSE[COURSE.len() - 1];
        assert_eq!(state.next_to_do(last).map(|e| e.number), Some(4));
        for exercise in COURSE {
            state.mark_passed(exercise);
        }
        assert!(state.next_to_do(COURSE[0]).is_none());
    }

    #[test]
    fn a_missing_file_starts_fresh_with_a_notice() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let loaded = State::load(dir.path());
        assert_eq!(loaded.state, State::default());
        assert_eq!(loaded.state.current().number, 1);
        assert!(loaded.notice.is_some());
        Ok(())
    }

    #[test]
    fn a_corrupt_file_is_kept_aside() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("state.json"), "{ not json")?;
        let loaded = State::load(dir.path());
        assert_eq!(loaded.state, State::default());
        let notice = loaded.notice.unwrap_or_default();
        assert!(notice.contains("starting fresh"), "{notice}");
        assert!(dir.path().join("state.json.corrupt").exists());
        Ok(())
    }

    #[test]
    fn an_unknown_current_exercise_means_the_first() {
        let state = State {
            current: Some("gone-now".into()),
            ..State::default()
        };
        assert_eq!(state.current().number, 1);
    }
}
