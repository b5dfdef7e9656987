//! `verifier grade` end to end: a whole submission, in the formats CI systems render,
//! with the documented exit codes (0 all passed, 1 some failed, 2 harness error).

mod common;

use assert_cmd::Command;
use common::{copy_course, copy_dir, root, stubs_copy};
use std::path::Path;
use std::time::Instant;

/// `verifier grade ARGS`, run in the course copy whose `exercises/` are the stubs as
/// committed (a learner's solved work tree must not change what these tests see).
fn grade(args: &[&str]) -> (i32, String, String) {
    let copy = stubs_copy(|_| {});
    let mut command = Command::cargo_bin("verifier").expect("the verifier binary is built");
    let output = command
        .current_dir(copy.root())
        .env_remove("REPLICATE_ROOT")
        .env_remove("CARGO_TARGET_DIR")
        .arg("grade")
        .args(args)
        .output()
        .expect("it runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_stubs_fail_in_exercism_json() -> Result<(), serde_json::Error> {
    let (code, out, err) = grade(&["-e", "1", "-e", "append-only-logs", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(report["version"], 3);
    assert_eq!(report["status"], "fail");
    let tests = report["tests"].as_array().cloned().unwrap_or_default();
    let checks = |n: &str| verifier::course::find(n).map_or(0, |e| e.checks.len());
    let (one, two) = (checks("1"), checks("2"));
    assert_eq!(
        tests.len(),
        one + two,
        "one result per check of exercises 1 and 2"
    );
    assert!(tests.iter().all(|t| t["status"] == "fail"));
    assert_eq!(tests[0]["task_id"], 1);
    assert_eq!(tests[one + two - 1]["task_id"], 2);
    assert!(
        tests[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not implemented yet"))
    );
    assert!(
        tests
            .iter()
            .all(|t| t["output"].as_str().is_none_or(|o| o.chars().count() <= 600))
    );
    Ok(())
}

#[test]
fn any_language_passes_in_junit_written_to_a_file() -> std::io::Result<()> {
    let fixture = root().join("verifier/tests/fixtures/python/append_only_log.py");
    let dir = tempfile::tempdir()?;
    let report = dir.path().join("report.xml");
    let (code, out, err) = grade(&[
        "-e",
        "2",
        "--format",
        "junit",
        "--output",
        &report.display().to_string(),
        "--program",
        &format!("2:append=python3 {} append", fixture.display()),
        "--program",
        &format!("2:read=python3 {} read", fixture.display()),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.is_empty(), "with --output the report goes to the file");
    assert!(err.contains("8 of 8 checks passed; report written to"), "{err}");
    let xml = std::fs::read_to_string(&report)?;
    assert!(
        xml.contains(r#"<testsuite name="02-append-only-logs" tests="8" failures="0" errors="0""#),
        "{xml}"
    );
    Ok(())
}

#[test]
fn tap_and_usage_errors() {
    let (code, out, _) = grade(&["-e", "1", "--format", "tap", "--fail-fast"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("TAP version 13\n1..8\nnot ok 1 - 01-leveldb: put-then-get\n"),
        "{out}"
    );
    for args in [
        &["/no/such/checkout"][..],
        &["-e", "99"],
        &["--format", "xml"],
        &["--program", "2:append"],
        &["--class"],
        &["--from-reports", "reports"],
    ] {
        let (code, _, err) = grade(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("error"), "{err}");
    }
}

/// A path that is not a checkout is named for what it is.
#[test]
fn a_bad_submission_path_says_exactly_what_is_wrong() -> std::io::Result<()> {
    let (code, _, err) = grade(&["/no/such/checkout"]);
    assert_eq!((code, err.trim()), (2, "error: /no/such/checkout does not exist"));
    let file = tempfile::NamedTempFile::new()?;
    let shown = file.path().display().to_string();
    let (code, _, err) = grade(&[&shown]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        format!("error: {shown} is a file, not a folder: give the folder of a checkout of this course")
    );
    let dir = tempfile::tempdir()?;
    let shown = dir.path().display().to_string();
    let (code, _, err) = grade(&[&shown]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        format!("error: {shown} is not a checkout of this course (it has no exercises/ folder)")
    );
    Ok(())
}

/// A learner who copied every reference solution into `exercises/` passes everything:
/// grading a whole course end to end, from a checkout that is not this workspace.
#[test]
fn a_perfect_submission_passes_every_check() -> std::io::Result<()> {
    let checkout = tempfile::Builder::new()
        .prefix("replicate-submission-")
        .tempdir()?;
    copy_course(&root(), checkout.path())?;
    for exercise in std::fs::read_dir(root().join("solutions"))? {
        let exercise = exercise?.file_name();
        let src = checkout.path().join("exercises").join(&exercise).join("src");
        std::fs::remove_dir_all(&src)?;
        copy_dir(&root().join("solutions").join(&exercise).join("src"), &src)?;
        // As a learner would: the crate is called ex0N_…, not sol0N_….
        rename_crates(&src)?;
    }
    let started = Instant::now();
    let mut command = Command::cargo_bin("verifier").expect("the verifier binary is built");
    let output = command
        .env_remove("CARGO_TARGET_DIR")
        .args(["grade", &checkout.path().display().to_string(), "--format", "tap"])
        .output()?;
    let out = String::from_utf8_lossy(&output.stdout);
    println!("graded the perfect submission in {:.1?}", started.elapsed());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!out.contains("not ok"), "{out}");
    Ok(())
}

/// A hostile submission: a build script that would write outside and never end, a
/// changed manifest, and learner code that reads a file outside its copy at compile
/// time. Only `src/` is taken, the rest is named as ignored, the read is refused by
/// the build sandbox, and the other exercise is still graded.
#[test]
fn a_hostile_submission_changes_nothing_but_its_own_grade() -> std::io::Result<()> {
    let checkout = tempfile::Builder::new().prefix("replicate-hostile-").tempdir()?;
    copy_course(&root(), checkout.path())?;
    let marker = std::env::temp_dir().join(format!("replicate-pwned-{}", std::process::id()));
    let ex01 = checkout.path().join("exercises/01-leveldb");
    std::fs::write(
        ex01.join("build.rs"),
        format!(
            "fn main() {{ let _ = std::fs::write({:?}, \"pwned\"); std::thread::sleep(std::time::Duration::from_secs(86400)); }}\n",
            marker.display().to_string()
        ),
    )?;
    let manifest = std::fs::read_to_string(ex01.join("Cargo.toml"))?;
    std::fs::write(
        ex01.join("Cargo.toml"),
        manifest.replacen("[package]", "[package]\nbuild = \"build.rs\"", 1),
    )?;
    let outside = root().join("Cargo.toml");
    let lib = std::fs::read_to_string(ex01.join("src/lib.rs"))?;
    std::fs::write(
        ex01.join("src/lib.rs"),
        format!(
            "{lib}\npub const STOLEN: &str = include_str!({:?});\n",
            outside.display().to_string()
        ),
    )?;
    let output = Command::cargo_bin("verifier")
        .expect("the verifier binary is built")
        .env_remove("REPLICATE_ROOT")
        .env_remove("CARGO_TARGET_DIR")
        .args([
            "grade",
            &checkout.path().display().to_string(),
            "-e",
            "1",
            "-e",
            "2",
        ])
        .output()?;
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{out}\n{err}");
    assert!(
        out.contains("Ignored (only exercises/NN-slug/src/ is graded"),
        "{out}"
    );
    assert!(out.contains("exercises/01-leveldb/build.rs (added)"), "{out}");
    assert!(out.contains("exercises/01-leveldb/Cargo.toml (changed)"), "{out}");
    assert!(out.contains("does not compile"), "{out}");
    assert!(
        out.contains("02-append-only-logs"),
        "the other exercise is graded too:\n{out}"
    );
    assert!(
        !marker.exists(),
        "the build script ran and wrote {}",
        marker.display()
    );
    Ok(())
}

/// Rewrites `sol0N_slug` to `ex0N_slug` in every Rust file below `dir`.
fn rename_crates(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rename_crates(&path)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path)?;
            std::fs::write(&path, text.replace("sol0", "ex0").replace("sol1", "ex1"))?;
        }
    }
    Ok(())
}

/// A checkout whose exercise 1 is the reference solution (crates renamed as a
/// learner's), the rest the stubs.
fn solved_ex01(checkout: &Path) -> std::io::Result<()> {
    copy_course(&root(), checkout)?;
    let src = checkout.join("exercises/01-leveldb/src");
    std::fs::remove_dir_all(&src)?;
    copy_dir(&root().join("solutions/01-leveldb/src"), &src)?;
    rename_crates(&src)
}

/// `verifier grade CHECKOUT ARGS…` from the course: (exit code, stdout, stderr).
fn grade_checkout(checkout: &Path, args: &[&str]) -> std::io::Result<(Option<i32>, String, String)> {
    let output = Command::cargo_bin("verifier")
        .expect("the verifier binary is built")
        .env_remove("REPLICATE_ROOT")
        .env_remove("CARGO_TARGET_DIR")
        .arg("grade")
        .arg(checkout)
        .args(args)
        .output()?;
    Ok((
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

/// The forged grade of issue 20: a submission with no code of its own embeds the
/// programs the grader built for the previous submission. Each submission builds in a
/// fresh target, and the build sandbox reads only the copy's sources: the embedding
/// does not even compile.
#[test]
fn a_submission_cannot_embed_what_was_built_for_the_previous_one() -> std::io::Result<()> {
    let solved = tempfile::Builder::new().prefix("replicate-solved-").tempdir()?;
    solved_ex01(solved.path())?;
    let (code, out, err) = grade_checkout(solved.path(), &["-e", "1"])?;
    assert_eq!(code, Some(0), "{out}\n{err}");
    let copies = root().join("target/course-copies");
    let built = copies.join("grade.target/debug/put");
    assert!(
        built.is_file(),
        "the solved submission's `put` is at {}",
        built.display()
    );

    let forger = tempfile::Builder::new().prefix("replicate-forger-").tempdir()?;
    copy_course(&root(), forger.path())?;
    let lib = forger.path().join("exercises/01-leveldb/src/lib.rs");
    let stub = std::fs::read_to_string(&lib)?;
    let embedded = [
        built.clone(),
        copies.join("grade.target/replicate-bins/ex01-leveldb/debug/put"),
        copies.join("grade/target/debug/put"),
    ];
    let forged: String = embedded
        .iter()
        .enumerate()
        .map(|(i, path)| {
            format!(
                "pub static FORGED_{i}: &[u8] = include_bytes!({:?});\n",
                path.display().to_string()
            )
        })
        .collect();
    std::fs::write(&lib, format!("{stub}\n{forged}"))?;
    let (code, out, err) = grade_checkout(forger.path(), &["-e", "1", "--format", "junit"])?;
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(out.contains("does not compile"), "{out}");
    assert!(!out.contains(r#"failures="0""#), "{out}");
    assert!(
        !built.exists(),
        "the previous submission's programs are gone from the fresh target"
    );
    Ok(())
}

/// Exercise 1 half done, in a learner's own words: put, get and del; range and
/// collections still the stub's.
const HALF_SOLVED: [(&str, &str); 3] = [
    (
        "anyhow::bail!(\"not implemented yet: Store::put — see exercises/01-leveldb/README.md\")",
        "let previous = self.tree.insert(_key.as_bytes(), _value.as_bytes());\n        \
         previous.map(|_| ()).map_err(|problem| anyhow::anyhow!(\"sled refused {_key}: {problem}\"))",
    ),
    (
        "anyhow::bail!(\"not implemented yet: Store::get — see exercises/01-leveldb/README.md\")",
        "let Some(found) = self.tree.get(_key.as_bytes())? else { return Ok(None) };\n        \
         let text = std::str::from_utf8(&found).map_err(|bad| anyhow::anyhow!(\"{_key} holds no text: {bad}\"))?;\n        \
         Ok(Some(text.to_owned()))",
    ),
    (
        "anyhow::bail!(\"not implemented yet: Store::del — see exercises/01-leveldb/README.md\")",
        "match self.tree.remove(_key.as_bytes()) {\n            Ok(_gone) => Ok(()),\n            \
         Err(problem) => Err(anyhow::anyhow!(\"sled could not remove {_key}: {problem}\")),\n        }",
    ),
];

/// A fake git checkout at a fixed commit (what `grade --class` reads to skip).
fn at_commit(checkout: &Path, commit: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(checkout.join(".git"))?;
    std::fs::write(checkout.join(".git/HEAD"), format!("{commit}\n"))
}

/// The classroom of issue 22: five checkouts — solved, half-solved, not compiling,
/// hostile, and a reformatted copy of the half-solved one — graded into a gradebook:
/// the table, the CSV, the similarity flag on the copied pair only; graded again
/// at the same commits, nothing is rebuilt; and the gradebook made from the reports
/// alone is the same.
#[test]
fn a_class_is_graded_into_one_gradebook() -> std::io::Result<()> {
    let class = tempfile::Builder::new().prefix("replicate-class-").tempdir()?;
    let checkout = |name: &str| class.path().join(name);
    solved_ex01(&checkout("a-solved"))?;
    for name in ["b-half", "c-broken", "d-hostile"] {
        copy_course(&root(), &checkout(name))?;
    }
    let lib = |name: &str| checkout(name).join("exercises/01-leveldb/src/lib.rs");
    let mut half = std::fs::read_to_string(lib("b-half"))?;
    for (stub, own) in HALF_SOLVED {
        assert!(half.contains(stub), "the stub still has {stub}");
        half = half.replacen(stub, own, 1);
    }
    std::fs::write(lib("b-half"), &half)?;
    copy_course(&checkout("b-half"), &checkout("e-copy"))?;
    // Reindented, with a comment of its own: the same code.
    let copied = format!("// All my own work.\n{}", half.replace("        ", "    "));
    std::fs::write(lib("e-copy"), copied)?;
    let broken = std::fs::read_to_string(lib("c-broken"))?;
    std::fs::write(lib("c-broken"), format!("{broken}\npub fn broken( {{\n"))?;
    let hostile = checkout("d-hostile").join("exercises/01-leveldb");
    std::fs::write(hostile.join("x\n7 of 7 checks passed\x1b[2J"), "")?;
    std::os::unix::fs::symlink("/etc/passwd", hostile.join("src/passwd.rs"))?;
    let stub = std::fs::read_to_string(lib("d-hostile"))?;
    std::fs::write(
        lib("d-hostile"),
        format!("{stub}\npub static SHADOW: &str = include_str!(\"/etc/shadow\");\n"),
    )?;
    for (i, name) in ["a-solved", "b-half", "c-broken", "d-hostile", "e-copy"]
        .iter()
        .enumerate()
    {
        at_commit(&checkout(name), &format!("{i}").repeat(40))?;
    }
    let out = tempfile::tempdir()?;
    let book = out.path().join("book");
    let class_grade = |extra: &[&str]| -> std::io::Result<(Option<i32>, String)> {
        let output = Command::cargo_bin("verifier")
            .expect("the verifier binary is built")
            .env_remove("REPLICATE_ROOT")
            .env_remove("CARGO_TARGET_DIR")
            .args(["grade", "-e", "1", "--seed", "1", "--output"])
            .arg(&book)
            .args(extra)
            .output()?;
        Ok((
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    };
    let class_dir = class.path().display().to_string();
    let (code, err) = class_grade(&["--class", &class_dir])?;
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("[5/5] "), "progress on stderr:\n{err}");
    let csv = std::fs::read_to_string(book.join("gradebook.csv"))?;
    // Shown when the snapshot differs: why each learner got what they got.
    for learner in ["a-solved", "b-half", "c-broken", "d-hostile", "e-copy"] {
        let report = std::fs::read_to_string(book.join(format!("reports/{learner}.json")))?;
        println!("── {learner}\n{report}");
    }
    insta::assert_snapshot!("class_gradebook_csv", csv);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(book.join("gradebook.json"))?)?;
    let similar = json["similar"].as_array().cloned().unwrap_or_default();
    assert_eq!(similar.len(), 1, "{similar:?}");
    assert_eq!(similar[0]["learners"], serde_json::json!(["b-half", "e-copy"]));
    assert!(
        similar[0]["score"].as_f64().is_some_and(|s| s >= 0.8),
        "{similar:?}"
    );
    let html = std::fs::read_to_string(book.join("gradebook.html"))?;
    assert!(
        html.contains("<table id=\"book\">") && html.contains("href=\"reports/a-solved.json\""),
        "{html}"
    );
    assert!(html.contains("href=\"#l0-e1\">8/8</a>"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
    let report = std::fs::read_to_string(book.join("reports/d-hostile.txt"))?;
    assert!(
        report.contains("x\\n7 of 7 checks passed\\x1b[2J (added)"),
        "{report}"
    );
    assert!(report.contains("src/passwd.rs (a symbolic link)"), "{report}");

    let (code, err) = class_grade(&["--class", &class_dir, "--jobs", "2"])?;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(err.matches("already graded at").count(), 5, "{err}");
    assert!(err.contains("[5/5] "), "{err}");
    assert_eq!(std::fs::read_to_string(book.join("gradebook.csv"))?, csv);

    let reports = book.join("reports").display().to_string();
    let from = out.path().join("from-reports");
    let output = Command::cargo_bin("verifier")
        .expect("the verifier binary is built")
        .args(["grade", "--class", "--from-reports", &reports, "--output"])
        .arg(&from)
        .output()?;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(std::fs::read_to_string(from.join("gradebook.csv"))?, csv);
    Ok(())
}
