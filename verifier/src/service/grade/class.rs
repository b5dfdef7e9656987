//! `grade --class`: a whole class, one gradebook.
//!
//! Each checkout is graded exactly as `grade CHECKOUT` grades it (the same
//! [`super::grade`], the same trust rules: a trusted copy of the course, a fresh
//! target, the sandboxes), one at a time or several at once (`--jobs`, each in a
//! course copy of its own). Each grade is kept as a JSON report (and the human one
//! beside it) under `reports/`; a checkout whose report says it was graded at the
//! commit it is at now is not graded again. The gradebook is then made from the
//! reports alone, exactly as from reports a CI collected (`--from-reports`), and
//! near-identical learner code is flagged per exercise ([`super::similarity`]).

use super::gradebook::{Gradebook, Similar};
use super::similarity::{FLAGGED_FROM, Fingerprint, stub_lines};
use super::{Format, Options, commit_of, grade, render};
use crate::course::Exercise;
use crate::harness::course_copy::Files;
use crate::harness::trial::Side;
use crate::runner::Limits;
use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What to grade and how: the settings of `grade`, for every checkout.
pub struct ClassOptions {
    /// The learners' checkouts, each with the name it is shown by.
    pub checkouts: Vec<(String, PathBuf)>,
    /// Where the gradebook and `reports/` are written.
    pub out: PathBuf,
    pub course: PathBuf,
    pub exercises: Vec<&'static Exercise>,
    pub limits: Limits,
    pub seed: u64,
    pub build_timeout: Duration,
    pub allow_unsandboxed: bool,
    /// Checkouts graded at once.
    pub jobs: usize,
    /// Grade again even a checkout already graded at its commit.
    pub regrade: bool,
}

/// The checkouts of a class: every folder directly under `class` that is a checkout
/// of the course, or, when `class` is a file, the paths it lists (one a line,
/// relative to the file's folder; `#` starts a comment). Each is named by its
/// folder's name, made unique.
pub fn checkouts(class: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let shown = class.display();
    let meta = std::fs::metadata(class).with_context(|| format!("cannot read {shown}"))?;
    let mut paths = Vec::new();
    if meta.is_dir() {
        for entry in std::fs::read_dir(class).with_context(|| format!("cannot read {shown}"))? {
            let path = entry?.path();
            if path.join("exercises").is_dir() {
                paths.push(path);
            }
        }
        paths.sort();
        if paths.is_empty() {
            bail!("{shown} holds no checkout of this course (no folder in it has an exercises/ folder)");
        }
    } else {
        let list = std::fs::read_to_string(class).with_context(|| format!("cannot read {shown}"))?;
        let base = class.parent().unwrap_or(Path::new("."));
        for line in list
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let path = base.join(line);
            if !path.join("exercises").is_dir() {
                bail!("{shown} lists {line}, which is not a checkout of this course (no exercises/ folder)");
            }
            paths.push(path);
        }
    }
    let mut named: Vec<(String, PathBuf)> = Vec::new();
    for path in paths {
        let path = path.canonicalize().unwrap_or(path);
        let base = file_safe(&path.file_name().unwrap_or_default().to_string_lossy());
        let mut name = base.clone();
        let mut n = 2;
        while named.iter().any(|(taken, _)| *taken == name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        named.push((name, path));
    }
    Ok(named)
}

/// A name usable as a file name: letters, digits, `.`, `_` and `-`, the rest `_`.
fn file_safe(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                true => c,
                false => '_',
            },
        )
        .collect();
    match safe.trim_start_matches('.') {
        "" => "learner".to_string(),
        rest => rest.to_string(),
    }
}

/// Grades every checkout (those already graded at their commit excepted), then
/// makes the gradebook from the reports and writes it; progress goes to `progress`.
pub fn grade_class(options: &ClassOptions, progress: &(dyn Fn(&str) + Sync)) -> anyhow::Result<Gradebook> {
    let reports = options.out.join("reports");
    std::fs::create_dir_all(&reports).with_context(|| format!("cannot write {}", reports.display()))?;
    let (next, finished) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let failures = Mutex::new(Vec::new());
    let total = options.checkouts.len();
    // `[2/5] bob: 8 of 8 checks passed`: how many are finished, then the news.
    let told = |news: &str, finishes: bool| {
        let count = finished.fetch_add(usize::from(finishes), Ordering::SeqCst) + usize::from(finishes);
        progress(&format!("[{count}/{total}] {news}"));
    };
    std::thread::scope(|scope| {
        for slot in 0..options.jobs.clamp(1, total.max(1)) {
            let (next, failures, reports, told) = (&next, &failures, &reports, &told);
            scope.spawn(move || {
                while let Some((learner, checkout)) =
                    options.checkouts.get(next.fetch_add(1, Ordering::SeqCst))
                {
                    let done = grade_one(options, learner, checkout, reports, slot, told);
                    if let Err(error) = done
                        && let Ok(mut failures) = failures.lock()
                    {
                        failures.push(format!("{learner}: {error:#}"));
                    }
                }
            });
        }
    });
    if let Some(first) = failures.into_inner().unwrap_or_default().first() {
        bail!("cannot keep a report: {first}");
    }
    let mut book = Gradebook::from_reports(&reports, &options.out)
        .with_context(|| format!("cannot read {}", reports.display()))?;
    book.similar = similar(options);
    book.write(&options.out)
        .with_context(|| format!("cannot write the gradebook in {}", options.out.display()))?;
    Ok(book)
}

/// Grades one checkout into `reports/LEARNER.json` and `.txt`, unless that report
/// is of the same commit and exercises.
fn grade_one(
    options: &ClassOptions,
    learner: &str,
    checkout: &Path,
    reports: &Path,
    slot: usize,
    progress: &(dyn Fn(&str, bool) + Sync),
) -> std::io::Result<()> {
    let json = reports.join(format!("{learner}.json"));
    let commit = commit_of(checkout);
    if !options.regrade
        && let Some(commit) = &commit
        && graded_at(&json, commit, &options.exercises)
    {
        progress(
            &format!("{learner}: already graded at {commit} (--regrade grades it again)"),
            true,
        );
        return Ok(());
    }
    progress(&format!("{learner}: grading {}", checkout.display()), false);
    let prefix = learner.to_string();
    let graded = grade(&Options {
        submission: checkout.to_path_buf(),
        course: options.course.clone(),
        exercises: options.exercises.clone(),
        limits: options.limits,
        seed: options.seed,
        fail_fast: false,
        programs: Vec::new(),
        build_timeout: options.build_timeout,
        allow_unsandboxed: options.allow_unsandboxed,
        progress: Box::new(move |step| eprintln!("… {prefix}: {step}")),
        slot,
    });
    let (json_text, human_text) = match graded {
        Ok(graded) => {
            progress(
                &format!(
                    "{learner}: {} of {} checks passed",
                    graded.count(super::Outcome::Passed),
                    graded.results.len()
                ),
                true,
            );
            (render(&graded, Format::Json), render(&graded, Format::Human))
        }
        Err(error) => {
            progress(&format!("{learner}: could not be graded: {error:#}"), true);
            let report = serde_json::json!({
                "version": 3,
                "status": "error",
                "message": format!("{error:#}"),
                "tests": [],
                "replicate": {"commit": commit},
            });
            (format!("{report:#}\n"), format!("{error:#}\n"))
        }
    };
    std::fs::write(&json, json_text)?;
    std::fs::write(reports.join(format!("{learner}.txt")), human_text)
}

/// Whether the report at `json` graded `exercises` at `commit`.
fn graded_at(json: &Path, commit: &str, exercises: &[&'static Exercise]) -> bool {
    let Ok(text) = std::fs::read_to_string(json) else {
        return false;
    };
    let Ok(report) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    let mut graded: Vec<u64> = report["tests"]
        .as_array()
        .map(|tests| tests.iter().filter_map(|t| t["task_id"].as_u64()).collect())
        .unwrap_or_default();
    graded.sort_unstable();
    graded.dedup();
    let mut wanted: Vec<u64> = exercises.iter().map(|e| u64::from(e.number)).collect();
    wanted.sort_unstable();
    report["replicate"]["commit"].as_str() == Some(commit) && graded == wanted
}

/// Pairs of learners whose own code of an exercise is near-identical.
fn similar(options: &ClassOptions) -> Vec<Similar> {
    let mut flagged = Vec::new();
    for exercise in &options.exercises {
        let src = format!("{}/src", exercise.dir(Side::Learner));
        let stub = match Files::git_head(&options.course, &src) {
            Ok(files) => files,
            Err(_) => Files::folder(&options.course.join(&src)).unwrap_or_default(),
        };
        let stub = stub_lines(&texts(&stub));
        let prints: Vec<(&str, Fingerprint)> = options
            .checkouts
            .iter()
            .map(|(learner, checkout)| {
                let files = Files::folder(&checkout.join(&src)).unwrap_or_default();
                (learner.as_str(), Fingerprint::of(&texts(&files), &stub))
            })
            .collect();
        for (i, (a, one)) in prints.iter().enumerate() {
            for (b, other) in &prints[i + 1..] {
                if let Some(score) = one.similarity(other).filter(|s| *s >= FLAGGED_FROM) {
                    flagged.push(Similar {
                        exercise: exercise.number,
                        learners: (a.to_string(), b.to_string()),
                        score,
                    });
                }
            }
        }
    }
    flagged
}

/// The texts of the Rust files of a set.
fn texts(files: &Files) -> Vec<String> {
    files
        .paths()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter_map(|p| files.text(p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_file_names() {
        assert_eq!(file_safe("alice"), "alice");
        assert_eq!(file_safe("../bob\n7 of 7"), "_bob_7_of_7");
        assert_eq!(file_safe(".."), "learner");
    }

    #[test]
    fn a_class_is_a_folder_of_checkouts_or_a_list() -> anyhow::Result<()> {
        let class = tempfile::tempdir()?;
        for name in ["bob", "alice", "not-a-checkout"] {
            std::fs::create_dir_all(class.path().join(name))?;
        }
        for name in ["bob", "alice"] {
            std::fs::create_dir_all(class.path().join(name).join("exercises"))?;
        }
        let found = checkouts(class.path())?;
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["alice", "bob"]);
        let list = class.path().join("list.txt");
        std::fs::write(&list, "# the class\nbob\n\nalice\n")?;
        let names: Vec<String> = checkouts(&list)?.into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["bob", "alice"]);
        std::fs::write(&list, "bob\nnot-a-checkout\n")?;
        let error = checkouts(&list).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            error.ends_with(
                "lists not-a-checkout, which is not a checkout of this course (no exercises/ folder)"
            ),
            "{error}"
        );
        Ok(())
    }
}
