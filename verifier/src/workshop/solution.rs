//! `solution`: the reference solution's source files, those that differ from the
//! learner's first. Before the exercise has passed it asks first: reading the answer
//! too early takes away the part of the exercise that teaches.

use super::{Ask, Outcome, Workshop};
use crate::course::{Exercise, Side};
use std::path::{Path, PathBuf};

/// One source file of the reference solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Relative to the repository root: `solutions/02-append-only-logs/src/lib.rs`.
    pub path: PathBuf,
    pub text: String,
    /// Whether it differs from the learner's file of the same name (or they have none).
    pub differs: bool,
}

/// The reference solution's `src/**/*.rs`, those that differ from the learner's first,
/// each group in path order.
pub fn solution_files(root: &Path, exercise: &Exercise) -> Result<Vec<SourceFile>, String> {
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
            std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let theirs = std::fs::read_to_string(root.join(&learner).join(&relative)).ok();
        files.push(SourceFile {
            path: solution.join(&relative),
            differs: theirs.as_deref() != Some(text.as_str()),
            text,
        });
    }
    files.sort_by(|a, b| (!a.differs, &a.path).cmp(&(!b.differs, &b.path)));
    Ok(files)
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            rust_files(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    Ok(())
}

/// Shows the solution: at once after a pass, otherwise if the learner confirms.
pub fn show_solution(workshop: &Workshop, exercise: &Exercise, ask: &mut dyn Ask) -> Outcome {
    if !workshop.state.has_passed(exercise)
        && !ask.confirm(&format!(
            "You have not passed exercise {} yet. Show the solution before passing? [y/N]",
            exercise.number
        ))
    {
        println!("Not shown. `hint` gives a smaller step; `verify` shows what is still missing.");
        return Outcome::Passed;
    }
    let files = match solution_files(&workshop.root, exercise) {
        Ok(files) => files,
        Err(message) => {
            println!("error: {message}");
            return Outcome::Error;
        }
    };
    println!(
        "The reference solution of exercise {} ({}/), the files that differ from yours first:",
        exercise.number,
        exercise.dir(Side::Reference)
    );
    for file in files {
        let note = if file.differs { "" } else { " (the same as yours)" };
        println!(
            "\n{}",
            workshop
                .style
                .paint("1", &format!("── {}{note} ──", file.path.display()))
        );
        print!("{}", file.text);
        if !file.text.ends_with('\n') {
            println!();
        }
    }
    Outcome::Passed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::COURSE;
    use crate::service::root::default_root;

    #[test]
    fn lists_the_files_that_differ_first() -> Result<(), String> {
        let files = solution_files(&default_root(), COURSE[0])?;
        assert!(!files.is_empty());
        assert!(
            files
                .iter()
                .all(|f| f.path.starts_with("solutions/01-leveldb/src"))
        );
        let first_same = files.iter().position(|f| !f.differs).unwrap_or(files.len());
        assert!(files[first_same..].iter().all(|f| !f.differs));
        assert!(files.iter().any(|f| f.path.ends_with("lib.rs") && f.differs));
        Ok(())
    }
}
