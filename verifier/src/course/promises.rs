//! Promises: what a problem text says the verifier checks, tied to the checks that do.
//!
//! Each exercise's `README.md` has a section `## What the verifier checks`: a bullet
//! list, every bullet ending with the checks that test it, as
//! ``(checks: `first-append`, `append-twice`)`` or ``(check: `first-append`)``.
//! [`problems`] reads that list and names every bullet that points at no existing
//! check, and every check no bullet points at: a text that promises a check the
//! verifier does not run, or a check the text does not tell the learner about.

use super::Exercise;
use anyhow::bail;

/// The heading of the section that lists the promises.
pub const HEADING: &str = "## What the verifier checks";

/// One bullet of the section: its text (without the annotation) and the checks it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promise {
    pub text: String,
    pub checks: Vec<String>,
}

/// The bullets of a problem text's promise section, in order.
pub fn promises(problem: &str) -> anyhow::Result<Vec<Promise>> {
    let mut lines = problem.lines().skip_while(|line| line.trim_end() != HEADING);
    if lines.next().is_none() {
        bail!("the text has no section `{HEADING}`");
    }
    let mut bullets: Vec<String> = Vec::new();
    for line in lines.take_while(|line| !line.starts_with("## ")) {
        if let Some(rest) = line.strip_prefix("- ") {
            bullets.push(rest.trim().to_string());
        } else if line.starts_with(char::is_whitespace)
            && !line.trim().is_empty()
            && let Some(bullet) = bullets.last_mut()
        {
            bullet.push(' ');
            bullet.push_str(line.trim());
        }
    }
    if bullets.is_empty() {
        bail!("the section `{HEADING}` has no bullets");
    }
    bullets.iter().map(|bullet| promise(bullet)).collect()
}

/// Splits one bullet into its text and the names of its annotation.
fn promise(bullet: &str) -> anyhow::Result<Promise> {
    // A list's own punctuation may follow the annotation: `…(check: `x`);`.
    let bullet = bullet.trim_end_matches([';', '.']);
    let annotation = ["(checks: ", "(check: "]
        .iter()
        .filter_map(|opening| bullet.rfind(opening).map(|at| (at, opening.len())))
        .max();
    let (Some((at, opening)), true) = (annotation, bullet.ends_with(')')) else {
        bail!("this bullet does not end with ``(checks: `name`, …)``: {bullet}");
    };
    let names = &bullet[at + opening..bullet.len() - 1];
    let checks: Option<Vec<String>> = names
        .split(',')
        .map(|name| {
            let name = name.trim().strip_prefix('`')?.strip_suffix('`')?;
            (!name.is_empty()).then(|| name.to_string())
        })
        .collect();
    match checks {
        Some(checks) => Ok(Promise {
            text: bullet[..at].trim().to_string(),
            checks,
        }),
        None => bail!("this bullet's check names are not all in backticks: {bullet}"),
    }
}

/// What is wrong between an exercise's text and its checks; empty when they agree.
pub fn problems(exercise: &Exercise) -> Vec<String> {
    let promises = match promises(exercise.problem) {
        Ok(promises) => promises,
        Err(problem) => return vec![format!("{problem:#}")],
    };
    let mut problems = Vec::new();
    for promise in &promises {
        for name in &promise.checks {
            if exercise.check(name).is_none() {
                problems.push(format!(
                    "a bullet names `{name}`, which is no check of this exercise: {}",
                    promise.text
                ));
            }
        }
    }
    for check in exercise.checks {
        if !promises.iter().any(|p| p.checks.iter().any(|n| n == check.name)) {
            problems.push(format!("no bullet of the text names the check `{}`", check.name));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::COURSE;

    /// Exercises whose texts are annotated on another branch; emptied when it lands.
    const NOT_YET_ANNOTATED: &[u32] = &[];

    #[test]
    fn every_promise_names_a_check_and_every_check_is_promised() {
        let mut wrong = Vec::new();
        for exercise in COURSE.iter().filter(|e| !NOT_YET_ANNOTATED.contains(&e.number)) {
            for problem in problems(exercise) {
                wrong.push(format!("{}: {problem}", exercise.dir_name()));
            }
        }
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    }

    const TEXT: &str = "# 99\n\n## What the verifier checks\n\nIntro.\n\n\
        - one thing (check: `one`);\n\
        - two things, said on\n  two lines (checks: `one`, `two`)\n\n## Next\n\n- not a promise\n";

    #[test]
    fn reads_bullets_and_their_checks() {
        let read = promises(TEXT).unwrap();
        assert_eq!(
            read,
            [
                Promise {
                    text: "one thing".into(),
                    checks: vec!["one".into()]
                },
                Promise {
                    text: "two things, said on two lines".into(),
                    checks: vec!["one".into(), "two".into()]
                },
            ]
        );
    }

    #[test]
    fn refuses_bullets_without_checks() {
        for text in [
            "## What the verifier checks\n- nothing named\n",
            "## What the verifier checks\n- bare (checks: one)\n",
            "## What the verifier checks\n- empty (checks: ``)\n",
            "## What the verifier checks\n- trailing (check: `one`) and more\n",
            "## What the verifier checks\nno bullets\n",
            "# no section\n",
        ] {
            assert!(promises(text).is_err(), "{text}");
        }
    }
}
