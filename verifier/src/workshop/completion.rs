//! Tab completion in the shell: command names first; after `select`, exercise numbers
//! and names; after `run`, the current exercise's programs; after `help`, commands.

use super::commands::COMMANDS;
use crate::course::COURSE;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The line editor's helper: it completes, and does nothing else.
pub struct Completion {
    /// The number of the current exercise, kept up to date by the shell.
    pub current: Arc<AtomicU32>,
}

/// What can complete the word that ends `line`: where that word starts, and the
/// candidates, in order.
pub fn candidates(line: &str, current: u32) -> (usize, Vec<String>) {
    let start = line
        .char_indices()
        .rfind(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &line[start..];
    let before: Vec<&str> = line[..start].split_whitespace().collect();
    let options: Vec<String> = match before.as_slice() {
        [] => COMMANDS.iter().map(|c| c.name.to_string()).collect(),
        [command] if matches!(*command, "select" | "cd" | "go") => COURSE
            .iter()
            .flat_map(|e| [e.number.to_string(), e.slug.to_string()])
            .collect(),
        [command] if matches!(*command, "help" | "?") => {
            COMMANDS.iter().map(|c| c.name.to_string()).collect()
        }
        [command] if *command == "run" => COURSE
            .iter()
            .find(|e| e.number == current)
            .map(|e| e.programs.iter().map(|p| p.name.to_string()).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let matching = options.into_iter().filter(|o| o.starts_with(word)).collect();
    (start, matching)
}

impl Completer for Completion {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, found) = candidates(&line[..pos.min(line.len())], self.current.load(Ordering::Relaxed));
        let pairs = found
            .into_iter()
            .map(|c| Pair {
                display: c.clone(),
                replacement: format!("{c} "),
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for Completion {
    type Hint = String;
}

impl Highlighter for Completion {}

impl Validator for Completion {}

impl Helper for Completion {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_commands_exercises_and_programs() {
        assert_eq!(candidates("se", 1), (0, vec!["select".to_string()]));
        assert_eq!(candidates("p", 1).1, vec!["prev", "print", "progress"]);
        assert_eq!(
            candidates("select ", 1).1[..2],
            ["1".to_string(), "leveldb".to_string()]
        );
        assert_eq!(
            candidates("select app", 1),
            (7, vec!["append-only-logs".to_string()])
        );
        assert_eq!(candidates("run r", 2), (4, vec!["read".to_string()]));
        assert_eq!(candidates("run ", 1).1, vec!["put", "get", "del", "range"]);
        assert_eq!(candidates("print x", 1).1, Vec::<String>::new());
        assert_eq!(candidates("select\u{a0}le", 1), (8, vec!["leveldb".to_string()]));
    }
}
