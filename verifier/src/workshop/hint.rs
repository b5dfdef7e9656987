//! Hints, one level at a time: each `hint` shows the next level (a nudge, the approach,
//! nearly the answer) and remembers it, so a learner never sees more than they asked for.

use super::state::State;
use crate::course::Exercise;
use crate::text::{Style, render};

/// Shows the next hint level of `exercise` (or `level`, when given) and records it.
pub fn hint(state: &mut State, exercise: &Exercise, level: Option<usize>, style: Style) -> String {
    let hints = exercise.hints();
    let seen = state.hints_seen(exercise);
    let level = match level {
        Some(level) => level,
        None if seen >= hints.len() => {
            return format!(
                "That was the last hint for exercise {} ({} of {}). `hint N` shows hint N again; \
                 `solution` shows the reference solution.\n",
                exercise.number,
                hints.len(),
                hints.len()
            );
        }
        None => seen + 1,
    };
    let Some(shown) = level.checked_sub(1).and_then(|i| hints.get(i)) else {
        return format!(
            "Exercise {} has hints 1 to {}; there is no hint {level}.\n",
            exercise.number,
            hints.len()
        );
    };
    state.saw_hint(exercise, level);
    let heading = style.paint("1", &format!("Hint {level} of {}: {}", hints.len(), shown.title));
    let mut text = format!("{heading}\n\n{}", render(&shown.body, style));
    if level < hints.len() && level > seen {
        text.push_str("\n(`hint` again for the next one.)\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::COURSE;

    #[test]
    fn shows_each_level_once_then_says_it_was_the_last() {
        let mut state = State::default();
        let exercise = COURSE[0];
        let count = exercise.hints().len();
        for level in 1..=count {
            let text = hint(&mut state, exercise, None, Style::plain(80));
            assert!(text.starts_with(&format!("Hint {level} of {count}: ")), "{text}");
        }
        assert_eq!(state.hints_seen(exercise), count);
        let text = hint(&mut state, exercise, None, Style::plain(80));
        assert!(text.starts_with("That was the last hint"), "{text}");
        let again = hint(&mut state, exercise, Some(1), Style::plain(80));
        assert!(again.starts_with("Hint 1 of"), "{again}");
        assert_eq!(state.hints_seen(exercise), count);
        assert!(hint(&mut state, exercise, Some(9), Style::plain(80)).contains("there is no hint 9"));
    }
}
