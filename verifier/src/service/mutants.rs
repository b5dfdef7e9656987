//! Mutants: known-wrong variants of the reference solutions, each of which some check
//! must reject — how the course stays honest as its checks change.
//!
//! A mutant is `verifier/mutants/NN-slug/NAME.patch`: a header (`Bug:` what is wrong,
//! as a learner would get it wrong; `Caught-by:` the checks that must reject it), a
//! blank line, then a `git diff` of the solution folder (`a/src/lib.rs`). To try one,
//! the course's work tree is copied to `target/course-copies/mutants/`
//! ([`crate::harness::course_copy`]: only changed files are rewritten, and the copy
//! builds in the course's target directory, so repeated runs build incrementally and
//! reuse the course's compiled dependencies), the patch is applied there with `git apply`
//! (the tool that wrote the diff reads it back exactly, several files per patch
//! included, and refuses a patch whose context no longer matches), the mutated
//! solution is built, and the named checks run against it, with the untouched
//! reference solution as the other peer where a check needs one.
//!
//! Cost (measured on a loaded 2-core machine): the copy reuses the dependencies already
//! compiled for the course (it used to compile its own, about 7 minutes); the 31 mutants of 01–03 take about
//! 3 to 6 minutes (2–10 s of build and up to 20 s of checks each). That is too long for
//! `cargo test`, which only checks that every mutant is well-formed and still applies;
//! run `cargo run -- course-check --mutants [N...] [--only NAME]` after changing checks.

use crate::course::{Exercise, Side};
use crate::harness::build::{BuildError, build};
use crate::harness::course_copy::{CourseCopy, Files};
use crate::harness::trial::{Context, Failure};
use crate::harness::verdict::{Settings, Verdict, run_check};
use crate::runner::{Invocation, Limits, run};
use anyhow::{Context as _, anyhow, bail};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One known-wrong variant of an exercise's reference solution.
#[derive(Debug, Clone)]
pub struct Mutant {
    pub exercise: &'static Exercise,
    /// The file name without `.patch`.
    pub name: String,
    /// What is wrong, in one line.
    pub bug: String,
    /// The checks that must reject it.
    pub caught_by: Vec<String>,
    /// The whole file (git apply skips the header).
    pub patch: String,
}

impl Mutant {
    /// `03-replicate/flush-per-entry`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.exercise.dir_name(), self.name)
    }
}

/// The folder of an exercise's mutants.
pub fn dir(root: &Path, exercise: &Exercise) -> PathBuf {
    root.join("verifier").join("mutants").join(exercise.dir_name())
}

/// The mutants of an exercise, sorted by name; an error names a malformed file.
pub fn load(root: &Path, exercise: &'static Exercise) -> anyhow::Result<Vec<Mutant>> {
    let folder = dir(root, exercise);
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "patch"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
            let name = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default();
            parse(exercise, &name, &text).with_context(|| path.display().to_string())
        })
        .collect()
}

/// Reads a mutant's header and checks that it names real checks.
pub fn parse(exercise: &'static Exercise, name: &str, text: &str) -> anyhow::Result<Mutant> {
    let header: Vec<&str> = text.lines().take_while(|line| !line.trim().is_empty()).collect();
    let field = |key: &str| {
        header
            .iter()
            .find_map(|line| line.strip_prefix(key))
            .map(|value| value.trim().to_string())
    };
    let bug = field("Bug:").context("the header has no `Bug:` line")?;
    let caught_by: Vec<String> = field("Caught-by:")
        .context("the header has no `Caught-by:` line")?
        .split(',')
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect();
    if caught_by.is_empty() {
        bail!("`Caught-by:` names no check");
    }
    if let Some(unknown) = caught_by.iter().find(|name| exercise.check(name).is_none()) {
        bail!("`Caught-by:` names `{unknown}`, which is no check of this exercise");
    }
    if !text.contains("\ndiff --git ") {
        bail!("no `diff --git` after the header");
    }
    Ok(Mutant {
        exercise,
        name: name.to_string(),
        bug,
        caught_by,
        patch: text.to_string(),
    })
}

/// A scratch copy of the course (`target/course-copies/mutants/`, building in the
/// course's target directory), held while the mutants are tried.
pub struct Scratch {
    copy: Option<CourseCopy>,
    files: Files,
    course: PathBuf,
}

impl Scratch {
    /// Copies the course's work tree to the scratch place (only changed files are
    /// rewritten, so cargo rebuilds only what a patch touched).
    pub fn mirror(course: &Path) -> anyhow::Result<Scratch> {
        let failed = "cannot copy the course for the mutants";
        let files = Files::work_tree(course).context(failed)?;
        let copy = CourseCopy::write(course, COPY, &files).context(failed)?;
        Ok(Scratch {
            copy: Some(copy),
            files,
            course: course.to_path_buf(),
        })
    }

    /// The copy's root, where a mutated solution is built.
    pub fn root(&self) -> PathBuf {
        self.copy
            .as_ref()
            .map(|copy| copy.root().to_path_buf())
            .unwrap_or_else(|| self.course.join("target").join("course-copies").join(COPY))
    }

    /// Undoes the previous patch: the copy holds the course's files again.
    pub fn restore(&mut self) -> anyhow::Result<()> {
        // The copy is locked while held: let go of it before writing it again.
        self.copy = None;
        let copy =
            CourseCopy::write(&self.course, COPY, &self.files).context("cannot restore the scratch copy")?;
        self.copy = Some(copy);
        Ok(())
    }

    /// Applies a mutant to its solution folder in the scratch copy.
    pub fn apply(&self, mutant: &Mutant) -> anyhow::Result<()> {
        git_apply(&self.root(), mutant, false)
    }
}

/// The name of the mutants' course copy.
const COPY: &str = "mutants";

/// Whether a mutant still applies to the course's solution, changing nothing (a quick
/// test of them all).
pub fn applies(course: &Path, mutant: &Mutant) -> anyhow::Result<()> {
    git_apply(course, mutant, true)
}

/// `git apply` of a mutant's patch to its solution folder under `root` (a copy of the
/// course, or the course itself with `check_only`).
fn git_apply(root: &Path, mutant: &Mutant, check_only: bool) -> anyhow::Result<()> {
    let solution = mutant.exercise.dir(Side::Reference);
    let mut args: Vec<String> = [
        "apply",
        "--whitespace=nowarn",
        &format!("--directory={solution}"),
        "-",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if check_only {
        args.insert(1, "--check".into());
    }
    // The scratch copy lies inside the course's checkout: stop git from finding
    // that repository, so the patch applies to the files, not to the index.
    let ceiling = root.parent().unwrap_or(root).display().to_string();
    let invocation = Invocation {
        program: "git".into(),
        argv: std::iter::once("git".to_string())
            .chain(args.iter().cloned())
            .collect(),
        args,
        cwd: root.to_path_buf(),
        env: vec![("GIT_CEILING_DIRECTORIES".into(), ceiling)],
    };
    let limits = Limits {
        timeout: Duration::from_secs(60),
        max_output: 1 << 20,
        resources: None,
    };
    let finished =
        run(&invocation, Some(mutant.patch.as_bytes()), &limits).context("cannot run git apply")?;
    if finished.ending.success() {
        return Ok(());
    }
    bail!(
        "the patch does not apply to {solution}: {}",
        String::from_utf8_lossy(&finished.stderr).trim()
    )
}

/// How a mutant fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Every named check failed for a reason of its own: the first line of each.
    Rejected(Vec<(String, String)>),
    /// A named check passed.
    Accepted(Vec<String>),
    /// A named check failed only by a time limit, or errored: not the reason named.
    WrongReason(Vec<(String, String)>),
    /// The patch did not apply, or the mutated solution did not build.
    Broken(String),
}

/// A mutant's judgement and what it cost.
#[derive(Debug, Clone)]
pub struct Trial {
    pub mutant: Mutant,
    pub judgement: Judgement,
    pub build: Duration,
    pub checks: Duration,
}

/// Applies, builds and verifies one mutant; the scratch copy is restored after.
pub fn try_one(scratch: &mut Scratch, mutant: &Mutant, settings: &Settings, limits: &Limits) -> Trial {
    let started = Instant::now();
    let built = scratch.apply(mutant).and_then(|()| {
        build(
            &scratch.root(),
            &mutant.exercise.buildable(Side::Reference),
            &|_| {},
        )
        .map_err(|e| match e {
            BuildError::Compile(errors) => anyhow!("the mutated solution does not compile:\n{errors}"),
            other => other.into(),
        })
    });
    let restored = scratch.restore();
    let build_time = started.elapsed();
    let broken = |error: anyhow::Error| Trial {
        mutant: mutant.clone(),
        judgement: Judgement::Broken(format!("{error:#}")),
        build: build_time,
        checks: Duration::ZERO,
    };
    let programs = match (built, restored) {
        (Ok(built), Ok(())) => built.programs,
        (Err(error), _) | (_, Err(error)) => return broken(error),
    };
    let started = Instant::now();
    // The course itself (not the scratch copy) provides the reference peer and the
    // snapshots: a mutant must not play both sides.
    let context = Context::new(mutant.exercise, programs, &scratch.course, *limits);
    let mut rejected = Vec::new();
    let mut accepted = Vec::new();
    let mut wrong = Vec::new();
    for name in &mutant.caught_by {
        let Some(check) = mutant.exercise.check(name) else {
            wrong.push((name.clone(), "no such check".to_string()));
            continue;
        };
        match run_check(&context, check, settings).verdict {
            Verdict::Pass => accepted.push(name.clone()),
            Verdict::Fail(failure) if by_time_limit(&failure) => wrong.push((name.clone(), failure.summary)),
            Verdict::Fail(failure) => rejected.push((name.clone(), failure.summary)),
            Verdict::Error(message) => wrong.push((name.clone(), message)),
        }
    }
    let judgement = match (accepted.is_empty(), wrong.is_empty()) {
        (false, _) => Judgement::Accepted(accepted),
        (true, false) => Judgement::WrongReason(wrong),
        (true, true) => Judgement::Rejected(rejected),
    };
    Trial {
        mutant: mutant.clone(),
        judgement,
        build: build_time,
        checks: started.elapsed(),
    }
}

/// Whether a failure says no more than "a program ran out of time".
pub fn by_time_limit(failure: &Failure) -> bool {
    failure.summary.starts_with("Timed out")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::find;

    const PATCH: &str =
        "Bug: forgets to flush\nCaught-by: put-then-get, overwrite\n\ndiff --git a/src/lib.rs b/src/lib.rs\n";

    #[test]
    fn reads_the_header() {
        let exercise = find("1").unwrap();
        let mutant = parse(exercise, "no-flush", PATCH).unwrap();
        assert_eq!(mutant.bug, "forgets to flush");
        assert_eq!(mutant.caught_by, ["put-then-get", "overwrite"]);
        assert_eq!(mutant.id(), "01-leveldb/no-flush");
    }

    #[test]
    fn refuses_bad_headers() {
        let exercise = find("1").unwrap();
        for (text, problem) in [
            ("Caught-by: overwrite\n\ndiff --git a b\n", "Bug:"),
            ("Bug: x\n\ndiff --git a b\n", "Caught-by:"),
            ("Bug: x\nCaught-by: nope\n\ndiff --git a b\n", "`nope`"),
            ("Bug: x\nCaught-by: overwrite\n\n", "diff --git"),
        ] {
            let error = parse(exercise, "m", text).unwrap_err().to_string();
            assert!(error.contains(problem), "{error}");
        }
    }
}
