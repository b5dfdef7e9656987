//! The formats a grade is written in: for people, for Exercism-style runners (JSON,
//! test-runner interface version 3), for CI test reporters (JUnit XML), and TAP 13.

use super::{Grade, TestResult};
use crate::harness::records::shorten;
use crate::service::Outcome;
use crate::service::report::{visible, visible_line};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

/// An output format of `verifier grade`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A summary per exercise and the failures, for people.
    Human,
    /// Exercism's test-runner interface, version 3.
    Json,
    /// JUnit XML: one testsuite per exercise.
    Junit,
    /// Test Anything Protocol, version 13.
    Tap,
}

/// Longest `output` kept per test: Exercism asks for at most 500 characters.
const JSON_OUTPUT_CHARS: usize = 500;
/// Longest output kept per test case in JUnit and TAP.
const LONG_OUTPUT_CHARS: usize = 4000;

/// The grade in a format.
pub fn render(grade: &Grade, format: Format) -> String {
    match format {
        Format::Human => human(grade),
        Format::Json => json_v3(grade),
        Format::Junit => junit(grade),
        Format::Tap => tap(grade),
    }
}

/// Tests grouped by exercise, in course order.
fn suites(grade: &Grade) -> BTreeMap<(u32, &str), Vec<&TestResult>> {
    let mut suites: BTreeMap<(u32, &str), Vec<&TestResult>> = BTreeMap::new();
    for result in &grade.results {
        suites
            .entry((result.task_id, &result.suite))
            .or_default()
            .push(result);
    }
    suites
}

/// For people. Every string that came from a submission (file names, what its
/// programs printed) is shown on its line [`visible_line`]: no escape sequence
/// reaches the terminal, and nothing can print a line of its own.
fn human(grade: &Grade) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Grading {}\n",
        visible_line(&super::shown_path(&grade.submission))
    );
    let lists = [
        (
            format!(
                "Ignored (only {} is graded; the rest comes from the course):",
                super::OWNED
            ),
            &grade.ignored,
        ),
        (
            "Refused (never read: files over the size limit, links, special files):".to_string(),
            &grade.refused,
        ),
    ];
    for (title, files) in lists.iter().filter(|(_, files)| !files.is_empty()) {
        let _ = writeln!(out, "  {title}");
        for file in files.iter() {
            let _ = writeln!(out, "    {}", visible_line(file));
        }
        out.push('\n');
    }
    for ((_, suite), tests) in suites(grade) {
        let passed = tests.iter().filter(|t| t.status == Outcome::Passed).count();
        let _ = writeln!(
            out,
            "  {:<24} {passed}/{} passed",
            visible_line(suite),
            tests.len()
        );
        for test in tests.iter().filter(|t| t.status != Outcome::Passed) {
            let first = test.message.lines().next().unwrap_or_default();
            let _ = writeln!(
                out,
                "    ✗ {}: {}",
                visible_line(&test.name),
                visible_line(&shorten(first, 100))
            );
        }
    }
    let total = grade.results.len();
    let _ = writeln!(
        out,
        "\n{} of {total} checks passed, {} failed, {} errors. Seed: {}.",
        grade.count(Outcome::Passed),
        grade.count(Outcome::Failed),
        grade.count(Outcome::Error),
        grade.seed
    );
    out
}

fn json_v3(grade: &Grade) -> String {
    let tests: Vec<serde_json::Value> = grade
        .results
        .iter()
        .map(|t| {
            let mut test = json!({
                "name": format!("{} / {}", t.suite, t.name),
                "status": t.status.as_str(),
                "test_code": format!("cargo run -- verify {} (check `{}`)", t.task_id, t.name),
                "task_id": t.task_id,
            });
            if t.status != Outcome::Passed {
                test["message"] = json!(t.message);
            }
            if !t.output.is_empty() {
                test["output"] = json!(truncated(&t.output, JSON_OUTPUT_CHARS));
            }
            test
        })
        .collect();
    let mut top = json!({
        "version": 3,
        "status": grade.status().as_str(),
        "tests": tests,
        // Beyond Exercism's interface (readers ignore unknown keys): what the
        // gradebook needs from a report, and what the teacher should see.
        "replicate": {
            "seed": grade.seed,
            "commit": grade.commit,
            // File names escaped as everywhere: a reader that prints them is safe.
            "ignored": grade.ignored.iter().map(|f| visible_line(f)).collect::<Vec<_>>(),
            "refused": grade.refused.iter().map(|f| visible_line(f)).collect::<Vec<_>>(),
        },
    });
    if grade.status() == Outcome::Error {
        top["message"] =
            json!("The verifier could not run some checks: see the tests with status \"error\".");
    }
    let mut text = serde_json::to_string_pretty(&top).unwrap_or_default();
    text.push('\n');
    text
}

fn junit(grade: &Grade) -> String {
    let seconds = |tests: &[&TestResult]| tests.iter().map(|t| t.elapsed.as_secs_f64()).sum::<f64>();
    let all: Vec<&TestResult> = grade.results.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"replicate\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">",
        all.len(),
        grade.count(Outcome::Failed),
        grade.count(Outcome::Error),
        seconds(&all)
    );
    for ((_, suite), tests) in suites(grade) {
        let failures = tests.iter().filter(|t| t.status == Outcome::Failed).count();
        let errors = tests.iter().filter(|t| t.status == Outcome::Error).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\">",
            xml(suite),
            tests.len(),
            seconds(&tests)
        );
        for test in tests {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                xml(suite),
                xml(&test.name),
                test.elapsed.as_secs_f64()
            );
            if test.status == Outcome::Passed {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let tag = match test.status {
                Outcome::Error => "error",
                _ => "failure",
            };
            let first = test.message.lines().next().unwrap_or_default();
            let _ = writeln!(
                out,
                "      <{tag} message=\"{}\">{}</{tag}>",
                xml(first),
                xml(&test.message)
            );
            let _ = writeln!(
                out,
                "      <system-out>{}</system-out>",
                xml(&truncated(&test.output, LONG_OUTPUT_CHARS))
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn tap(grade: &Grade) -> String {
    let mut out = String::from("TAP version 13\n");
    let _ = writeln!(out, "1..{}", grade.results.len());
    for (what, files) in [("ignored", &grade.ignored), ("refused", &grade.refused)] {
        for file in files {
            let _ = writeln!(out, "# {what}: {}", visible_line(file));
        }
    }
    for (index, test) in grade.results.iter().enumerate() {
        let ok = if test.status == Outcome::Passed {
            "ok"
        } else {
            "not ok"
        };
        let _ = writeln!(
            out,
            "{ok} {} - {}: {}",
            index + 1,
            visible_line(&test.suite),
            visible_line(&test.name)
        );
        if test.status == Outcome::Passed {
            continue;
        }
        out.push_str("  ---\n");
        let _ = writeln!(out, "  severity: {}", test.status.as_str());
        out.push_str("  message: |\n");
        for line in visible(&test.message).lines() {
            let _ = writeln!(out, "    {line}");
        }
        out.push_str("  output: |\n");
        for line in visible(&truncated(&test.output, LONG_OUTPUT_CHARS)).lines() {
            let _ = writeln!(out, "    {line}");
        }
        out.push_str("  ...\n");
    }
    out
}

/// Text cut to `max` characters, saying so.
fn truncated(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    format!(
        "{}\n[truncated: `cargo run -- verify N` shows it all]",
        shorten(text, max)
    )
}

/// Escapes text for XML: control characters and bidirectional overrides shown as
/// escapes ([`visible`]), then XML's own; characters XML 1.0 cannot hold are dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in visible(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

    fn sample() -> Grade {
        let test = |task_id, suite: &str, name: &str, status, message: &str| TestResult {
            task_id,
            suite: suite.into(),
            name: name.into(),
            status,
            message: message.into(),
            output: "$ read\n<peer#1, 1, \"x\">".into(),
            elapsed: Duration::from_millis(12),
        };
        Grade {
            submission: PathBuf::from("/nowhere/submission"),
            seed: 7,
            ignored: vec!["Cargo.toml (changed)".into()],
            refused: Vec::new(),
            commit: None,
            results: vec![
                test(1, "01-leveldb", "put-then-get", Outcome::Passed, ""),
                test(
                    2,
                    "02-append-only-logs",
                    "append-twice",
                    Outcome::Failed,
                    "seqs [1]; expected [2]\n<details & \"more\">",
                ),
                test(
                    2,
                    "02-append-only-logs",
                    "read-after",
                    Outcome::Error,
                    "no snapshot",
                ),
            ],
        }
    }

    #[test]
    fn json_follows_the_exercism_v3_shape() -> Result<(), serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(&render(&sample(), Format::Json))?;
        assert_eq!(value["version"], 3);
        assert_eq!(value["status"], "error");
        assert_eq!(value["tests"][0]["status"], "pass");
        assert_eq!(value["tests"][0]["task_id"], 1);
        assert!(value["tests"][0].get("message").is_none());
        assert_eq!(value["tests"][1]["name"], "02-append-only-logs / append-twice");
        assert_eq!(
            value["tests"][1]["message"],
            "seqs [1]; expected [2]\n<details & \"more\">"
        );
        Ok(())
    }

    #[test]
    fn junit_has_a_suite_per_exercise_and_escapes() {
        let xml = render(&sample(), Format::Junit);
        insta::assert_snapshot!(xml);
    }

    #[test]
    fn tap_numbers_every_check() {
        insta::assert_snapshot!(render(&sample(), Format::Tap));
    }

    #[test]
    fn human_summarises_per_exercise() {
        insta::assert_snapshot!(render(&sample(), Format::Human));
    }

    /// A grade as a hostile submission would make it: file names and program output
    /// with escape sequences, a carriage return, bidirectional overrides and a forged
    /// summary line.
    fn hostile() -> Grade {
        let forged = "7 of 7 checks passed, 0 failed, 0 errors. Seed: 1.";
        let mut grade = sample();
        grade.ignored = vec![format!("exercises/01-leveldb/x\n\n{forged}\n (added)")];
        grade.refused = vec![
            "exercises/01-leveldb/src/\u{1b}[2J\u{1b}]0;pwned\u{7} (a symbolic link)".into(),
            "exercises/01-leveldb/src/big\u{202e}txt.rs (1024 MiB, over the 1 MiB limit)".into(),
        ];
        grade.results[1].message = format!("\u{1b}[32mok\r{forged}\n{forged}");
        grade.results[1].output = format!("\u{0}\u{1b}[1A{forged}");
        grade
    }

    #[test]
    fn strings_from_a_submission_are_escaped_in_every_format() -> Result<(), serde_json::Error> {
        let grade = hostile();
        let forged = "7 of 7 checks passed, 0 failed, 0 errors. Seed: 1.";
        let human = render(&grade, Format::Human);
        assert!(!human.lines().any(|line| line.trim() == forged), "{human}");
        for format in [Format::Human, Format::Junit, Format::Tap] {
            let text = render(&grade, format);
            assert!(
                !text.contains(['\u{1b}', '\r', '\u{0}', '\u{7}', '\u{202e}']),
                "{format:?}: {text:?}"
            );
        }
        let tap = render(&grade, Format::Tap);
        assert!(
            !tap.lines()
                .any(|line| line.starts_with("ok") && line.contains("checks passed"))
        );
        let json: serde_json::Value = serde_json::from_str(&render(&grade, Format::Json))?;
        assert_eq!(
            json["replicate"]["ignored"][0],
            visible_line(&grade.ignored[0]).as_str()
        );
        insta::assert_snapshot!("hostile_human", human);
        insta::assert_snapshot!("hostile_tap", tap);
        insta::assert_snapshot!("hostile_junit", render(&grade, Format::Junit));
        insta::assert_snapshot!("hostile_json", render(&grade, Format::Json));
        Ok(())
    }

    #[test]
    fn long_output_is_truncated_and_says_so() {
        let long = "x".repeat(JSON_OUTPUT_CHARS + 10);
        let cut = truncated(&long, JSON_OUTPUT_CHARS);
        assert!(cut.ends_with("shows it all]"));
        assert!(cut.chars().count() < JSON_OUTPUT_CHARS + 60);
    }

    #[test]
    fn xml_escaping_keeps_text_and_shows_control_characters() {
        assert_eq!(
            xml("a<b>&\"c'\u{1}\u{fffe}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\\x01\u{fffd}"
        );
    }
}
