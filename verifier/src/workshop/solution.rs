//! `solution`: the reference solution's source. Files the learner was meant to write
//! come first, in full or (`--diff`) as a diff against their own code; scaffolding that
//! is the same in stub and solution apart from the crate name (`src/bin/*.rs`, the
//! command line) is only named. Before the exercise has passed it asks first: reading
//! the answer too early takes away the part of the exercise that teaches.

use super::{Ask, Outcome, Workshop, output};
use crate::course::{Exercise, Side};
use anyhow::Context as _;
use std::path::{Path, PathBuf};

/// One source file of the reference solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Relative to the repository root: `solutions/02-append-only-logs/src/lib.rs`.
    pub path: PathBuf,
    pub text: String,
    /// The learner's file of the same name, with the solution's crate name, if they
    /// have one.
    pub theirs: Option<String>,
}

impl SourceFile {
    /// Whether the learner's file differs (or is missing): a file they were meant to
    /// write, not scaffolding. Lines in another order count as the same: with the crate
    /// renamed, rustfmt may sort a `use` line elsewhere.
    pub fn differs(&self) -> bool {
        fn sorted(text: &str) -> Vec<&str> {
            let mut lines: Vec<&str> = text.lines().collect();
            lines.sort_unstable();
            lines
        }
        self.theirs
            .as_deref()
            .is_none_or(|theirs| sorted(theirs) != sorted(&self.text))
    }
}

/// How `solution` shows the files that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Each file in full.
    Full,
    /// A unified diff from the learner's file to the solution's.
    Diff,
}

/// The reference solution's `src/**/*.rs`: those that differ from the learner's first,
/// then the same ones, each group in path order.
pub fn solution_files(root: &Path, exercise: &Exercise) -> anyhow::Result<Vec<SourceFile>> {
    let solution = PathBuf::from(exercise.dir(Side::Reference));
    let learner = PathBuf::from(exercise.dir(Side::Learner));
    let mut found = Vec::new();
    rust_files(&root.join(&solution).join("src"), &mut found)?;
    let mut files = Vec::new();
    for file in found {
        let relative = file
            .strip_prefix(root.join(&solution))
            .unwrap_or(&file)
            .to_path_buf();
        let text =
            std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let theirs = std::fs::read_to_string(root.join(&learner).join(&relative))
            .ok()
            .map(|theirs| as_solution_crate(&theirs, exercise));
        files.push(SourceFile {
            path: solution.join(&relative),
            text,
            theirs,
        });
    }
    files.sort_by(|a, b| (!a.differs(), &a.path).cmp(&(!b.differs(), &b.path)));
    Ok(files)
}

/// The learner's text with their crate's name (`ex02_append_only_logs`) replaced by the
/// solution's (`sol02_append_only_logs`): the only difference scaffolding may have.
pub fn as_solution_crate(text: &str, exercise: &Exercise) -> String {
    let name = |side| exercise.package(side).replace('-', "_");
    text.replace(&name(Side::Learner), &name(Side::Reference))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let cannot = || format!("cannot read {}", dir.display());
    let entries = std::fs::read_dir(dir).with_context(cannot)?;
    for entry in entries {
        let path = entry.with_context(cannot)?.path();
        if path.is_dir() {
            rust_files(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    Ok(())
}

/// The text `solution` shows: the files the learner was meant to write (in full or as
/// diffs), then the names of the files that are the same as theirs.
pub fn solution_text(workshop: &Workshop, exercise: &Exercise, shown: Shown) -> anyhow::Result<String> {
    let files = solution_files(&workshop.root, exercise)?;
    let style = workshop.style;
    let learner = exercise.dir(Side::Learner);
    let mut text = match shown {
        Shown::Full => format!(
            "The reference solution of exercise {} ({}/): the files you write first.\n",
            exercise.number,
            exercise.dir(Side::Reference)
        ),
        Shown::Diff => format!(
            "Your code ({learner}/, `-`) against the reference solution ({}/, `+`):\n",
            exercise.dir(Side::Reference)
        ),
    };
    let (written, same): (Vec<_>, Vec<_>) = files.iter().partition(|f| f.differs());
    for file in &written {
        let heading = format!("── {} ──", file.path.display());
        text.push_str(&format!("\n{}\n", style.paint("1", &heading)));
        match (shown, &file.theirs) {
            (Shown::Diff, Some(theirs)) => text.push_str(&diff(theirs, &file.text, style.colour)),
            (Shown::Diff, None) => {
                text.push_str("(You have no such file; here it is in full.)\n");
                push_full(&mut text, &file.text);
            }
            (Shown::Full, _) => push_full(&mut text, &file.text),
        }
    }
    if written.is_empty() {
        text.push_str("\nEvery file of the solution is the same as yours.\n");
    }
    if !same.is_empty() {
        let names: Vec<String> = same
            .iter()
            .map(|f| {
                let relative = f.path.strip_prefix(exercise.dir(Side::Reference));
                relative.unwrap_or(&f.path).display().to_string()
            })
            .collect();
        text.push_str(&format!(
            "\nThe same as yours apart from the crate name (not shown): {}.\n",
            names.join(", ")
        ));
    }
    Ok(text)
}

fn push_full(text: &mut String, file: &str) {
    text.push_str(file);
    if !file.ends_with('\n') {
        text.push('\n');
    }
}

/// A unified diff from `theirs` to `ours`, three lines of context, `+`/`-` coloured
/// when `colour`.
pub fn diff(theirs: &str, ours: &str, colour: bool) -> String {
    let diff = similar::TextDiff::from_lines(theirs, ours);
    let unified = diff.unified_diff().context_radius(3).to_string();
    if !colour {
        return unified;
    }
    unified
        .lines()
        .map(|line| {
            let code = match line.chars().next() {
                Some('+') => "32",
                Some('-') => "31",
                Some('@') => "36",
                _ => "",
            };
            match code {
                "" => format!("{line}\n"),
                code => format!("\x1b[{code}m{line}\x1b[0m\n"),
            }
        })
        .collect()
}

/// Shows the solution (paged on a terminal): at once after a pass, otherwise if the
/// learner confirms.
pub fn show_solution(workshop: &Workshop, exercise: &Exercise, ask: &mut dyn Ask, shown: Shown) -> Outcome {
    if !workshop.state.has_passed(exercise)
        && !ask.confirm(&format!(
            "You have not passed exercise {} yet. Show the solution before passing? [y/N]",
            exercise.number
        ))
    {
        println!("Not shown. `hint` gives a smaller step; `verify` shows what is still missing.");
        return Outcome::Passed;
    }
    match solution_text(workshop, exercise, shown) {
        Ok(text) => match output::page(&text) {
            Ok(()) => Outcome::Passed,
            Err(e) => {
                eprintln!("error: cannot show the solution: {e}");
                Outcome::Error
            }
        },
        Err(error) => {
            println!("error: {error:#}");
            Outcome::Error
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::COURSE;
    use crate::service::root::default_root;

    #[test]
    fn lists_the_files_that_differ_first() -> anyhow::Result<()> {
        // Against the stubs as committed: a learner who solved 01 has no differences.
        let (copy, _) = crate::harness::course_copy::committed_stubs(&default_root())?;
        let files = solution_files(copy.root(), COURSE[0])?;
        assert!(!files.is_empty());
        assert!(
            files
                .iter()
                .all(|f| f.path.starts_with("solutions/01-leveldb/src"))
        );
        let first_same = files.iter().position(|f| !f.differs()).unwrap_or(files.len());
        assert!(files[first_same..].iter().all(|f| !f.differs()));
        assert!(files.iter().any(|f| f.path.ends_with("lib.rs") && f.differs()));
        Ok(())
    }

    #[test]
    fn scaffolding_differs_only_by_the_crate_name() -> anyhow::Result<()> {
        for exercise in COURSE {
            let files = solution_files(&default_root(), exercise)?;
            for file in files
                .iter()
                .filter(|f| f.path.components().any(|c| c.as_os_str() == "bin"))
            {
                assert!(!file.differs(), "{} is shown as written", file.path.display());
            }
        }
        Ok(())
    }

    #[test]
    fn a_diff_marks_what_the_solution_adds_and_removes() {
        let text = diff("a\nb\nc\n", "a\nB\nc\n", false);
        assert!(text.contains("-b\n") && text.contains("+B\n"), "{text}");
        assert!(diff("a\n", "a\n", false).is_empty());
        assert!(diff("a\n", "b\n", true).contains("\x1b[32m+b\x1b[0m"));
    }
}
