//! Where a learner stands: the exercise list with its marks (✓ passed, ▸ current),
//! and the progress report (passed, current, hints seen per exercise).

use super::state::State;
use crate::course::COURSE;

/// The numbered exercises, each with its marks: `▸ ✓  2. append-only-logs  Append-only logs`.
pub fn list(state: &State) -> String {
    let current = state.current();
    let width = COURSE.iter().map(|e| e.slug.len()).max().unwrap_or(0);
    COURSE
        .iter()
        .map(|e| {
            let here = if e.number == current.number { '▸' } else { ' ' };
            let passed = if state.has_passed(e) { '✓' } else { ' ' };
            format!(
                "{here} {passed} {:>2}. {:<width$}  {}\n",
                e.number, e.slug, e.title
            )
        })
        .collect()
}

/// The progress report.
pub fn progress(state: &State) -> String {
    let current = state.current();
    let passed = COURSE.iter().filter(|e| state.has_passed(e)).count();
    let mut text = format!("Passed {passed} of {} exercises.\n", COURSE.len());
    text.push_str(&format!(
        "Current: {} {} ({})\n",
        current.number,
        current.slug,
        match state.has_passed(current) {
            true => "passed",
            false => "not passed yet",
        }
    ));
    let width = COURSE.iter().map(|e| e.slug.len()).max().unwrap_or(0);
    for exercise in COURSE {
        let mark = if state.has_passed(exercise) {
            "✓ passed"
        } else {
            "  -     "
        };
        let hints = exercise.hints().len();
        text.push_str(&format!(
            "  {:>2}. {:<width$}  {mark}  hints seen: {} of {hints}\n",
            exercise.number,
            exercise.slug,
            state.hints_seen(exercise).min(hints)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_the_current_and_the_passed() {
        let mut state = State::default();
        state.mark_passed(COURSE[0]);
        state.set_current(COURSE[1]);
        let text = list(&state);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("  ✓  1. leveldb"), "{text}");
        assert!(lines[1].starts_with("▸    2. append-only-logs"), "{text}");
    }

    #[test]
    fn reports_hints_seen() {
        let mut state = State::default();
        state.saw_hint(COURSE[1], 2);
        let text = progress(&state);
        assert!(text.contains("Passed 0 of"), "{text}");
        assert!(text.contains("Current: 1 leveldb (not passed yet)"), "{text}");
        assert!(
            text.contains("append-only-logs    -       hints seen: 2 of 3"),
            "{text}"
        );
    }
}
