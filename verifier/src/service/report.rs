//! Reports: the verdict a learner reads.
//!
//! One line per check, then the first failure in full: what went wrong, the exact
//! commands and the directory they ran in, expected against actual output, the end of
//! stderr, and what to try. Later failures are listed but not expanded (unless asked):
//! they often have the same cause, and one clear problem at a time is easier to fix.

use crate::course::{Exercise, Side};
use crate::harness::build::BuildError;
use crate::harness::diagram::{fit, thousands};
use crate::harness::records::shorten;
use crate::harness::snapshot;
use crate::harness::trial::RunLog;
use crate::harness::verdict::{CheckResult, Verdict};
use crate::runner::Ending;
use crate::service::verify::{NotRun, Verification};
use std::borrow::Cow;
use std::fmt::Write;

/// How many lines of stderr a failure shows.
const STDERR_LINES: usize = 10;

/// How many lines of a wire transcript a failure shows (the last ones).
const WIRE_LINES: usize = 40;

/// The widest line a report prints (in display columns); a longer one is cut with a
/// marker. Commands with many arguments are elided before that (the full command
/// is in the kept folder's `commands.txt`).
pub const MAX_LINE: usize = 240;

/// A command line with more arguments than this shows its first and last ones only.
const COMMAND_ARGUMENTS: usize = 24;
const COMMAND_WIDTH: usize = 160;

/// How many lines the sequence diagram of a hung run may take.
const DIAGRAM_LINES: usize = 40;

/// Options for [`human`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Expand every failure, not just the first.
    pub all_failures: bool,
    /// The seed of the run, shown when a check made random choices.
    pub seed: u64,
    /// The reference solution ran (`--solution`): the replay line says so too.
    pub solution: bool,
}

/// Text a program printed, made safe to show in a terminal or a CI report: control
/// characters (terminal escape sequences, NUL, a carriage return that would overwrite
/// the line, bidirectional overrides) appear as escapes such as `\x1b`; line breaks
/// and tabs stay. A program under test must not be able to drive the reader's screen.
pub fn visible(text: &str) -> Cow<'_, str> {
    fn hidden(c: char) -> bool {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\r' => out.push_str("\\r"),
            c if hidden(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A string from a submission shown on a line of a report (a file name, a path):
/// [`visible`], and line breaks and tabs shown as `\n` and `\t` too, so that it can
/// never start a line of its own (a forged "7 of 7 checks passed").
pub fn visible_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in visible(text).chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The whole human report of a verification: why nothing ran, or every check's verdict.
/// Whatever a program printed is shown [`visible`].
pub fn verification(verified: &Verification, all_failures: bool) -> String {
    bounded(&visible(&unescaped_verification(verified, all_failures)))
}

/// Every line cut to [`MAX_LINE`] display columns, with a marker saying how much was
/// cut — but a command line (`  $ …`), which is for pasting and elides its arguments
/// itself when they are many.
pub fn bounded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        // A command is for pasting: whole, unless its arguments were elided already.
        if display_width(body) <= MAX_LINE || body.starts_with("  $ ") {
            out.push_str(line);
            continue;
        }
        // The marker takes at most 34 columns (` … (999,999,999 more characters)`).
        let kept = fit(body, MAX_LINE - 34);
        let kept = kept.trim_end_matches('…');
        let cut = body.chars().count() - kept.chars().count();
        out.push_str(kept);
        let _ = write!(out, " … ({} more characters)", thousands(cut));
        out.push_str(end);
    }
    out
}

/// A command as a report shows it: whole when it fits; else its first arguments, `…`
/// and its last one, with the count: `append --db alice.db 'a1 …' … 'a2000 …' (2,002 arguments)`.
pub fn shown_command(run: &RunLog) -> String {
    let exact = run.invocation.exact_line();
    let argv = &run.invocation.argv;
    // A wide command with few arguments is shown whole (a long path): [`bounded`]
    // cuts it only past the report's limit.
    if argv.len() <= COMMAND_ARGUMENTS {
        return exact;
    }
    let quoted = |args: &[String]| crate::runner::quote(args.iter().map(String::as_str));
    let first = argv.len().min(4);
    let head = fit(&quoted(&argv[..first]), COMMAND_WIDTH / 2);
    let last = match argv.len() > first {
        true => format!(" … {}", fit(&quoted(&argv[argv.len() - 1..]), COMMAND_WIDTH / 4)),
        false => String::new(),
    };
    format!(
        "{head}{last} ({} arguments; the whole command is in commands.txt)",
        thousands(argv.len().saturating_sub(1))
    )
}

/// What [`verification`] says after the check lines of a verification whose checks
/// ran (empty if none ran): for a caller that printed those lines as they came.
pub fn verification_rest(verified: &Verification, all_failures: bool) -> String {
    match verified.not_run {
        Some(_) => String::new(),
        None => visible(&unescaped_rest(verified, all_failures)).into_owned(),
    }
}

fn unescaped_rest(verified: &Verification, all_failures: bool) -> String {
    let exercise = verified.exercise;
    let options = Options {
        all_failures,
        seed: verified.seed,
        solution: verified.side == Side::Reference,
    };
    let mut out = human_tail(exercise, &verified.checks, options);
    if verified.stopped {
        let _ = writeln!(
            out,
            "Stopped after {} of {} checks.",
            verified.checks.len(),
            exercise.checks.len()
        );
    }
    out
}

fn unescaped_verification(verified: &Verification, all_failures: bool) -> String {
    let exercise = verified.exercise;
    let Some(not_run) = &verified.not_run else {
        let mut out = human_head(exercise, &verified.subject);
        for result in &verified.checks {
            out.push_str(&human_check_line(exercise, result));
        }
        out.push_str(&unescaped_rest(verified, all_failures));
        return out;
    };
    let dir = exercise.dir(verified.side);
    match not_run {
        NotRun::UnknownProgram { program, known } => format!(
            "exercise {} has no program `{program}`; its programs are: {}\n",
            exercise.number,
            known.join(", ")
        ),
        NotRun::Build(BuildError::Compile(errors)) => format!(
            "Your code in {dir} does not compile yet. The compiler says:\n\n{errors}\n\nFix the first error first: later ones are often caused by it.\n"
        ),
        NotRun::Build(BuildError::MissingProgram { program, .. }) => format!(
            "Your code in {dir} has no program `{program}`: every program of the exercise is a file src/bin/NAME.rs (add {dir}/src/bin/{program}.rs). No check could run.\n"
        ),
        NotRun::Build(error @ BuildError::TimedOut(_)) => format!(
            "Building {dir} failed: {error} (a build script or a dependency that never finishes?). No check could run.\n"
        ),
        NotRun::Build(error @ BuildError::OverLimit(_)) => {
            format!("Building {dir} failed: {error}. No check could run.\n")
        }
        NotRun::Build(BuildError::Harness(message)) => {
            format!("The verifier could not build {dir}: {message}\n")
        }
    }
}

/// What to say after `exercise` passed, where `next` is the exercise to go on to (the
/// first one not passed yet after it, see `State::next_to_do`), `None` when every
/// exercise has passed.
pub fn congratulation(exercise: &Exercise, next: Option<&Exercise>, in_shell: bool) -> String {
    let passed = format!("Exercise {} is marked as passed", exercise.number);
    match (next, in_shell) {
        (Some(next), true) if next.number == exercise.number + 1 => format!(
            "{passed}. `next` goes on to exercise {}: {}.",
            next.number, next.title
        ),
        (Some(next), true) => format!(
            "{passed}. `select {}` goes on to exercise {}: {}, the next one not passed yet.",
            next.number, next.number, next.title
        ),
        (Some(next), false) => format!(
            "{passed}. Next: `cargo run -- print {}` ({}).",
            next.number, next.title
        ),
        (None, _) => format!(
            "{passed}: every exercise has passed, and you have built a replicated database. Well done!"
        ),
    }
}

/// The full human report of one exercise's checks: [`human_head`], a
/// [`human_check_line`] for each check, then [`human_tail`]. (`verify` prints the
/// first two as the checks finish, so a hang never hides earlier results.)
pub fn human(exercise: &Exercise, what: &str, results: &[CheckResult], options: Options) -> String {
    let mut out = human_head(exercise, what);
    for result in results {
        out.push_str(&human_check_line(exercise, result));
    }
    out.push_str(&human_tail(exercise, results, options));
    out
}

/// The report's first lines: which exercise, whose programs.
pub fn human_head(exercise: &Exercise, what: &str) -> String {
    format!("Exercise {}: {} ({what})\n\n", exercise.number, exercise.title)
}

/// One check's line (and its figures): `  ✓ pass   name  what it checks`.
pub fn human_check_line(exercise: &Exercise, result: &CheckResult) -> String {
    let width = exercise.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mark = match result.verdict {
        Verdict::Pass => "✓ pass ",
        Verdict::Fail(_) => "✗ FAIL ",
        Verdict::Error(_) => "! ERROR",
    };
    let mut out = format!("  {mark}  {:width$}  {}\n", result.check.name, result.check.about);
    for figure in &result.measured {
        let _ = writeln!(out, "             {:width$}  {figure}", "");
    }
    out
}

/// The report after the check lines: the failures explained, the summary, notes.
pub fn human_tail(exercise: &Exercise, results: &[CheckResult], options: Options) -> String {
    let mut out = String::new();
    let mut expanded = 0;
    let failed = results.iter().filter(|r| r.verdict != Verdict::Pass).count();
    for result in results {
        if result.verdict == Verdict::Pass || (expanded > 0 && !options.all_failures) {
            continue;
        }
        expanded += 1;
        out.push('\n');
        out.push_str(&failure(result));
    }
    if failed > expanded {
        let others = failed - expanded;
        let _ = writeln!(
            out,
            "\n({others} more failed {}: `verify {} --all` explains every one.)",
            if others == 1 { "check" } else { "checks" },
            exercise.number
        );
    }
    out.push('\n');
    out.push_str(&summary_line(results));
    out.push('\n');
    // What this machine could not enforce on the programs ("not isolated: …").
    for note in crate::runner::protection_notes() {
        let _ = writeln!(out, "Note: {note}.");
    }
    if results.iter().any(|r| r.used_seed) {
        let _ = writeln!(
            out,
            "Seed: {} (replay the same run: {})",
            options.seed,
            replay_command(exercise, options)
        );
    }
    out
}

/// The command that runs the same verification again with the same random choices.
fn replay_command(exercise: &Exercise, options: Options) -> String {
    let solution = match options.solution {
        true => " --solution",
        false => "",
    };
    format!(
        "cargo run -- verify {}{solution} --seed {}",
        exercise.number, options.seed
    )
}

/// `All 7 checks passed.` or `2 of 7 checks failed.`
pub fn summary_line(results: &[CheckResult]) -> String {
    let total = results.len();
    let failed = results.iter().filter(|r| r.verdict != Verdict::Pass).count();
    match failed {
        0 => format!("All {total} checks passed."),
        _ => format!("{failed} of {total} checks failed."),
    }
}

/// How the verifier ends the programs it stops itself (a network at the end of a
/// check, a peer it kills on purpose).
const KILLED_BY_US: Ending = Ending::Signalled(9);

/// The runs whose stderr explains a failure: the last one, and the recent ones that
/// failed by themselves (the other peer of a conversation, a peer of a network that
/// crashed) — not those the verifier killed when it stopped everything.
fn runs_to_explain(runs: &[RunLog]) -> Vec<&RunLog> {
    let last = runs.len().saturating_sub(1);
    let mut shown: Vec<&RunLog> = runs
        .iter()
        .enumerate()
        .filter(|(i, run)| *i == last || (!run.ending.success() && run.ending != KILLED_BY_US))
        .map(|(_, run)| run)
        .collect();
    // The last few are enough: earlier failures were part of what the check expected.
    let keep = shown.len().saturating_sub(3);
    shown.drain(..keep);
    shown
}

/// One failed check, explained in full.
pub fn failure(result: &CheckResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "── {} ──", result.check.name);
    match &result.verdict {
        Verdict::Pass => {}
        Verdict::Error(message) => {
            let _ = writeln!(out, "The verifier could not run this check: {message}");
            return out;
        }
        Verdict::Fail(failure) => {
            let _ = writeln!(out, "{}.", failure.summary.trim_end_matches('.'));
            for line in &failure.details {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    if !result.runs.is_empty() {
        let place = match &result.kept_dir {
            Some(dir) => format!("{} (kept, so you can look inside)", dir.display()),
            None => format!("{} (removed)", result.dir.display()),
        };
        let _ = writeln!(out, "\nCommands, in {place}:");
        for run in &result.runs {
            let _ = writeln!(out, "  $ {}", shown_command(run));
            if run.ending == KILLED_BY_US {
                let _ = writeln!(out, "    (stopped by the check)");
            } else if !run.ending.success() {
                let _ = writeln!(out, "    ({})", run.ending.describe());
            }
        }
    }
    match &result.expected {
        Some(expected) if !result.transcript.is_empty() => {
            let _ = writeln!(
                out,
                "\nExpected (-) and yours (+), ids replaced by placeholders (peer#1 is the first id seen):"
            );
            for line in snapshot::diff(expected, &result.transcript) {
                let _ = writeln!(out, "  {line}");
            }
        }
        _ if !result.transcript.is_empty() => {
            let _ = writeln!(
                out,
                "\nWhat your programs printed (ids replaced by placeholders):"
            );
            for line in result.transcript.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        _ => {}
    }
    if !result.wire.is_empty() {
        let shown = &result.wire[result.wire.len().saturating_sub(WIRE_LINES)..];
        let _ = writeln!(out, "\nWhat crossed the wire, in order of arrival:");
        if shown.len() < result.wire.len() {
            let _ = writeln!(out, "  … ({} earlier lines)", result.wire.len() - shown.len());
        }
        for line in shown {
            let _ = writeln!(out, "  {}", shorten(line, 160));
        }
    }
    if let Some(timeline) = result.timeline.as_ref().filter(|t| hung(t)) {
        let _ = writeln!(
            out,
            "\nThe run that hung, as the verifier saw it (seconds from its start):"
        );
        for line in crate::harness::diagram::render(timeline, MAX_LINE.min(100) - 2, DIAGRAM_LINES) {
            let _ = writeln!(out, "  {line}");
        }
    }
    for run in runs_to_explain(&result.runs) {
        let stderr = String::from_utf8_lossy(&run.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        let tail = &lines[lines.len().saturating_sub(STDERR_LINES)..];
        let name = run.invocation.short_line();
        if tail.is_empty() {
            let _ = writeln!(out, "\nstderr of `{name}`: (empty)");
            continue;
        }
        let last = match tail.len() {
            1 => "last line".to_string(),
            n => format!("last {n} lines"),
        };
        let _ = writeln!(out, "\nstderr of `{name}` ({last}):");
        for line in tail {
            let _ = writeln!(out, "  | {}", shorten(line, 160));
        }
    }
    let advice = match &result.verdict {
        Verdict::Fail(failure) => failure.advice.as_deref(),
        _ => None,
    };
    let _ = writeln!(out, "\nTry: {}", advice.unwrap_or(result.check.advice));
    bounded(&out)
}

/// How many terminal columns a line takes (a wide character counts two).
pub fn display_width(line: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(line)
}

/// Whether a side of the run was still running at its time limit.
fn hung(timeline: &crate::harness::timeline::Timeline) -> bool {
    timeline
        .events
        .iter()
        .any(|e| matches!(e.what, crate::harness::timeline::What::TimeLimit { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::COURSE;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(visible("plain\nlines\tand tabs"), "plain\nlines\tand tabs");
        assert_eq!(
            visible("\u{1b}[2J\u{1b}]0;title\u{7}"),
            "\\x1b[2J\\x1b]0;title\\x07"
        );
        assert_eq!(
            visible("nul\0 cr\r del\u{7f} csi\u{9b}"),
            "nul\\0 cr\\r del\\x7f csi\\x9b"
        );
        assert_eq!(visible("abc\u{202e}cba"), "abc\\u{202e}cba");
    }

    #[test]
    fn the_replay_line_repeats_solution() {
        let options = Options {
            seed: 7,
            solution: true,
            ..Options::default()
        };
        assert_eq!(
            replay_command(COURSE[7], options),
            "cargo run -- verify 8 --solution --seed 7"
        );
        let learner = Options {
            seed: 7,
            ..Options::default()
        };
        assert_eq!(
            replay_command(COURSE[2], learner),
            "cargo run -- verify 3 --seed 7"
        );
    }

    #[test]
    fn a_congratulation_points_to_the_exercise_it_names() {
        let text = congratulation(COURSE[0], Some(COURSE[2]), false);
        let expected = format!("Next: `cargo run -- print 3` ({}).", COURSE[2].title);
        assert!(text.ends_with(&expected), "{text}");
        let shell = congratulation(COURSE[0], Some(COURSE[2]), true);
        assert!(shell.contains("`select 3` goes on to exercise 3"), "{shell}");
        let shell = congratulation(COURSE[0], Some(COURSE[1]), true);
        assert!(shell.contains("`next` goes on to exercise 2"), "{shell}");
        let done = congratulation(COURSE[3], None, false);
        assert!(done.contains("every exercise has passed"), "{done}");
    }

    #[test]
    fn long_lines_are_cut_with_a_marker_but_commands_are_not() {
        let long = "é".repeat(1000);
        let text = format!("short\n{long}\n  $ append {long}\n");
        let out = bounded(&text);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "short");
        assert!(display_width(lines[1]) <= MAX_LINE, "{}", lines[1]);
        assert!(
            lines[1].ends_with(&format!(" … ({} more characters)", thousands(1000 - 205))),
            "{}",
            lines[1]
        );
        assert_eq!(lines[2], format!("  $ append {long}"));
    }
}
