//! Snapshots: the expected transcript of each check, made from the reference solution.
//!
//! The files live in `verifier/snapshots/NN-slug/CHECK.snap` in insta's format, so the
//! course's own test suite creates and reviews them with insta (`cargo insta review`,
//! `INSTA_UPDATE=always cargo test`). At run time the verifier reads the same files and
//! compares them with the learner's transcript, showing a line diff when they differ.

use crate::harness::trial::{Check, Exercise};
use similar::{ChangeTag, TextDiff};
use std::path::{Path, PathBuf};

/// The folder holding an exercise's snapshots, below the course root.
pub fn dir(root: &Path, exercise: &Exercise) -> PathBuf {
    root.join("verifier").join("snapshots").join(exercise.dir_name())
}

/// The snapshot file of a check.
pub fn path(root: &Path, exercise: &Exercise, check: &Check) -> PathBuf {
    dir(root, exercise).join(format!("{}.snap", check.name))
}

/// Reads the expected transcript of a check.
pub fn load(root: &Path, exercise: &Exercise, check: &Check) -> anyhow::Result<String> {
    let path = path(root, exercise, check);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the snapshot {} ({e}). Course authors: run `INSTA_UPDATE=always cargo test` to create it from the reference solution.",
            path.display()
        )
    })?;
    Ok(body(&text).to_string())
}

/// The content of an insta snapshot file, without its `---` metadata header.
pub fn body(file: &str) -> &str {
    let Some(rest) = file.strip_prefix("---\n") else {
        return file;
    };
    match rest.find("\n---\n") {
        Some(end) => &rest[end + 5..],
        None => file,
    }
}

/// Text normalised the way insta compares file snapshots: no whitespace at the end,
/// Windows line ends as `\n`.
pub fn normalise(text: &str) -> String {
    text.trim_end().replace("\r\n", "\n")
}

/// Whether a transcript matches the expected one.
pub fn matches(expected: &str, actual: &str) -> bool {
    normalise(expected) == normalise(actual)
}

/// A line diff, expected lines marked `-`, the learner's `+`, common lines indented.
pub fn diff(expected: &str, actual: &str) -> Vec<String> {
    let (expected, actual) = (normalise(expected), normalise(actual));
    let diff = TextDiff::from_lines(&expected, &actual);
    diff.iter_all_changes()
        .map(|change| {
            let sign = match change.tag() {
                ChangeTag::Delete => "- ",
                ChangeTag::Insert => "+ ",
                ChangeTag::Equal => "  ",
            };
            format!("{sign}{}", change.value().trim_end_matches('\n'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_insta_metadata() {
        let file = "---\nsource: verifier/tests/course.rs\nexpression: transcript\n---\n$ read\n<peer#1, 1, \"x\">\n";
        assert_eq!(body(file), "$ read\n<peer#1, 1, \"x\">\n");
        assert_eq!(body("no header"), "no header");
    }

    #[test]
    fn compares_like_insta() {
        assert!(matches("$ read\r\n<a>\n\n", "$ read\n<a>"));
        assert!(!matches("$ read\n<a>", "$ read"));
    }

    #[test]
    fn diffs_line_by_line() {
        let lines = diff(
            "$ read\n<peer#1, 1>\n<peer#1, 2>",
            "$ read\n<peer#1, 1>\n<peer#2, 1>",
        );
        assert_eq!(
            lines,
            vec!["  $ read", "  <peer#1, 1>", "- <peer#1, 2>", "+ <peer#2, 1>"]
        );
    }
}
