//! A submission placed in a trusted copy of the course.
//!
//! Grading must trust only the grader. A learner owns the `src/` folder of each
//! exercise and nothing else: a changed `Cargo.toml` could add a build script, a
//! changed verifier could print "All checks passed", a changed snapshot could expect
//! the wrong answer. So the grader copies its *own* course (manifests, reference
//! solutions, verifier, snapshots) to a scratch place, puts the submission's
//! `exercises/NN-x/src/` trees into it, and builds and checks that. Every other file
//! in which the submission differs from the course is listed as ignored, so a teacher
//! sees what a student tried to change.

use crate::course::{COURSE, Exercise};
use crate::harness::build::{Confined, Trust};
use crate::harness::course_copy::{CourseCopy, Files};
use crate::harness::trial::Side;
use anyhow::Context as _;
use std::path::{Path, PathBuf};

/// Where the learner-owned files of a submission are: `exercises/NN-x/src/`.
pub const OWNED: &str = "exercises/NN-slug/src/";

/// A submission ready to grade.
pub struct Placement {
    /// Where to build the learner's code from.
    pub code: PathBuf,
    /// Files of the submission outside the learner-owned folders that differ from the
    /// course (`Cargo.toml (changed)`, `exercises/02-x/build.rs (added)`).
    pub ignored: Vec<String>,
    /// Entries of the submission that were not read at all: files over the size
    /// limit, symbolic links, special files (`exercises/01-x/src/big (1.0 GiB, …)`).
    pub refused: Vec<String>,
    /// For someone else's code: what its build may read, and its fresh target.
    pub confined: Option<Confined>,
    /// Held while grading: the copy is locked for this grader.
    _copy: Option<CourseCopy>,
}

impl Placement {
    /// Whether the code comes from someone else's submission (built sandboxed).
    pub fn untrusted(&self) -> bool {
        self.confined.is_some()
    }

    /// How the code is built: in place when it is the grader's own, else confined.
    pub fn trust(&self) -> Trust {
        match &self.confined {
            Some(confined) => Trust::Untrusted(confined.clone()),
            None => Trust::Trusted,
        }
    }
}

/// The name of the course copy a grader uses: `grade`, or `grade-N` for the N-th of
/// several submissions graded at once.
pub fn copy_name(slot: usize) -> String {
    match slot {
        0 => "grade".to_string(),
        n => format!("grade-{n}"),
    }
}

/// Places the submission at `submission` into a trusted copy of the course at
/// `course` (the copy [`copy_name`]`(slot)`), with a fresh target folder for its
/// build (seeded: see [`warm_dependencies`]). Grading the course's own checkout needs no copy: whoever runs the grader there
/// owns every file anyway.
pub fn place(course: &Path, submission: &Path, slot: usize) -> anyhow::Result<Placement> {
    if same_checkout(course, submission) {
        return Ok(Placement {
            code: course.to_path_buf(),
            ignored: Vec::new(),
            refused: Vec::new(),
            confined: None,
            _copy: None,
        });
    }
    let cannot = "cannot make a trusted copy of the course";
    let ours = Files::work_tree(course).context(cannot)?;
    let theirs = Files::work_tree(submission).context(cannot)?;
    let mut placed = ours.clone();
    let mut owned: Vec<PathBuf> = Vec::new();
    for exercise in COURSE {
        let src = Path::new(&exercise.dir(Side::Learner)).join("src");
        let files = match submission.join(&src).is_dir() {
            true => Files::folder(&submission.join(&src)).context(cannot)?,
            // No src/ at all: the exercise is graded as the empty package it is.
            false => Files::default(),
        };
        placed.replace(&src, files);
        owned.push(src);
    }
    let ignored = theirs
        .changed_from(&ours)
        .into_iter()
        .filter(|(path, _)| !owned.iter().any(|src| path.starts_with(src)))
        .map(|(path, added)| {
            let how = if added { "added" } else { "changed" };
            format!("{} ({how})", path.display())
        })
        .collect();
    let refused = theirs.refused().iter().map(ToString::to_string).collect();
    let copy = CourseCopy::write(course, &copy_name(slot), &placed).context(cannot)?;
    let target = copy
        .fresh_target(course)
        .context("cannot make a fresh target folder for the submission's build")?;
    Ok(Placement {
        code: copy.root().to_path_buf(),
        ignored,
        refused,
        confined: Some(Confined {
            sources: copy.sources(),
            target,
        }),
        _copy: Some(copy),
    })
}

/// Whether the submission is the course's own checkout (graded in place).
pub fn same_checkout(course: &Path, submission: &Path) -> bool {
    match (course.canonicalize(), submission.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Builds the reference solution of each exercise in the grader's own, trusted
/// target, before someone else's code is placed: a reference package has the
/// dependencies of the learner's package, so this compiles (once, then finds fresh)
/// exactly the dependency artefacts the submission's build will want, and its fresh
/// target is seeded with them instead of compiling them again for every
/// submission. A failure only makes grading slower.
pub fn warm_dependencies(
    course: &Path,
    exercises: &[&'static Exercise],
    progress: &dyn Fn(&crate::harness::build::Progress),
) -> Vec<String> {
    let mut problems = Vec::new();
    for exercise in exercises {
        let package = exercise.buildable(Side::Reference);
        if let Err(error) = crate::harness::build::build(course, &package, progress) {
            problems.push(format!(
                "the dependencies of {} were not prepared ({error}): each submission's build compiles them",
                package.name
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)
    }

    #[test]
    fn takes_only_the_learners_src_and_names_the_rest() -> anyhow::Result<()> {
        let course = tempfile::tempdir()?;
        let submission = tempfile::tempdir()?;
        let stub = "exercises/01-leveldb/src/lib.rs";
        for root in [course.path(), submission.path()] {
            write(
                &root.join("Cargo.toml"),
                "[workspace]\nmembers = [\"exercises/*\"]\n",
            )?;
            write(&root.join(stub), "// stub\n")?;
            write(&root.join("exercises/01-leveldb/Cargo.toml"), "[package]\n")?;
        }
        write(&submission.path().join(stub), "// solved\n")?;
        write(&submission.path().join("Cargo.toml"), "[workspace]\n# evil\n")?;
        write(
            &submission.path().join("exercises/01-leveldb/build.rs"),
            "fn main() {}\n",
        )?;
        write(&submission.path().join("verifier/snapshots/x.snap"), "forged\n")?;
        let placed = place(course.path(), submission.path(), 0)?;
        assert_eq!(
            placed.ignored,
            [
                "Cargo.toml (changed)",
                "exercises/01-leveldb/build.rs (added)",
                "verifier/snapshots/x.snap (added)"
            ]
        );
        let read = |p: &str| std::fs::read_to_string(placed.code.join(p));
        assert_eq!(read(stub)?, "// solved\n");
        assert!(read("Cargo.toml")?.starts_with("[workspace]\nmembers"));
        assert!(!placed.code.join("exercises/01-leveldb/build.rs").exists());
        assert!(!placed.code.join("verifier/snapshots/x.snap").exists());
        Ok(())
    }

    /// A 1 GiB sparse file, a FIFO and a link in a learner's `src/` are listed and
    /// never opened (a FIFO would block the reader for ever, the sparse file fill its
    /// memory), and none of them reaches the trusted copy.
    #[test]
    fn huge_special_and_linked_files_are_refused_unread() -> anyhow::Result<()> {
        let course = tempfile::tempdir()?;
        let submission = tempfile::tempdir()?;
        let src = "exercises/01-leveldb/src";
        for root in [course.path(), submission.path()] {
            write(&root.join(src).join("lib.rs"), "// stub\n")?;
        }
        let theirs = submission.path().join(src);
        std::fs::File::create(theirs.join("big.rs"))?.set_len(1 << 30)?;
        nix::unistd::mkfifo(&theirs.join("fifo"), nix::sys::stat::Mode::S_IRWXU)?;
        std::os::unix::fs::symlink("/etc/passwd", theirs.join("passwd.rs"))?;
        let started = std::time::Instant::now();
        let placed = place(course.path(), submission.path(), 0)?;
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        assert_eq!(
            placed.refused,
            [
                "exercises/01-leveldb/src/big.rs (1024 MiB, over the 1 MiB limit)",
                "exercises/01-leveldb/src/fifo (not a regular file: a FIFO, socket or device)",
                "exercises/01-leveldb/src/passwd.rs (a symbolic link)",
            ]
        );
        for name in ["big.rs", "fifo", "passwd.rs"] {
            let copied = placed.code.join(src).join(name);
            assert!(std::fs::symlink_metadata(&copied).is_err(), "{name} was copied");
        }
        assert!(placed.code.join(src).join("lib.rs").is_file());
        Ok(())
    }

    #[test]
    fn the_course_itself_is_graded_in_place() -> anyhow::Result<()> {
        let here = crate::service::root::default_root();
        let placed = place(&here, &here, 0)?;
        assert_eq!(placed.code, here);
        assert!(placed.ignored.is_empty());
        Ok(())
    }
}
