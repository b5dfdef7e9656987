//! The shell's commands: their names, one-line help, longer help, and what to suggest
//! for a word that is not a command (the closest name, by edit distance).

/// One command of the shell.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    /// Other names it answers to.
    pub aliases: &'static [&'static str],
    /// Its arguments, as shown in the help.
    pub args: &'static str,
    /// One line of help.
    pub about: &'static str,
    /// More, for `help NAME`.
    pub more: &'static str,
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "list",
        aliases: &["ls"],
        args: "",
        about: "the exercises: ✓ passed, ▸ the current one",
        more: "Lists every exercise with its number, name and title.",
    },
    Spec {
        name: "select",
        aliases: &["cd", "go"],
        args: "N",
        about: "make exercise N the current one (a number or a name)",
        more: "`select 2` or `select append-only-logs`. A bare number works too: `2`.",
    },
    Spec {
        name: "next",
        aliases: &["n"],
        args: "",
        about: "go on to the next exercise",
        more: "Makes the exercise after the current one the current one.",
    },
    Spec {
        name: "prev",
        aliases: &["previous"],
        args: "",
        about: "go back to the previous exercise",
        more: "Makes the exercise before the current one the current one.",
    },
    Spec {
        name: "print",
        aliases: &["show"],
        args: "",
        about: "the problem text of the current exercise",
        more: "Shows the problem text (also in exercises/NN-name/README.md), wrapped to your terminal.",
    },
    Spec {
        name: "verify",
        aliases: &["check", "v"],
        args: "[N] [OPTIONS]",
        about: "build your code and run every check against it",
        more: "Builds your package, runs every check against your programs as real processes, and \
               explains the first failure. A pass is recorded in your progress. Ctrl-C stops it \
               (and every program it started). `verify 3` verifies exercise 3; `--all` explains \
               every failure, `--seed S` replays the random choices of an earlier run, and \
               `--program NAME=COMMAND` runs a command instead of your program NAME.",
    },
    Spec {
        name: "run",
        aliases: &[],
        args: "PROGRAM [ARGS...]",
        about: "build and run one of your programs by hand, without judging it",
        more: "`run append hi` then `run read`: the programs run in a folder that persists between \
               runs (.replicate/scratch/NN-name/), with the same limits as in checks (5 seconds). \
               Quote arguments with spaces: `run append \"hello world\"`.",
    },
    Spec {
        name: "hint",
        aliases: &[],
        args: "[LEVEL]",
        about: "the next hint: a nudge first, then the approach, then nearly the answer",
        more: "Each `hint` shows one more level; `hint 2` shows level 2 again. Hints seen are remembered.",
    },
    Spec {
        name: "solution",
        aliases: &[],
        args: "[diff]",
        about: "the reference solution's source (asks first until you pass)",
        more: "Shows the files of the reference solution that you were meant to write, in a pager \
               ($PAGER, or less). `solution diff` shows them as a diff against your own code. \
               Files that are the same as yours apart from the crate name are only named.",
    },
    Spec {
        name: "reset",
        aliases: &[],
        args: "",
        about: "put the original stub back (your files are backed up first)",
        more: "After you confirm, copies exercises/NN-name/ to .replicate/backups/ and restores the \
               stub as the course's git history has it.",
    },
    Spec {
        name: "watch",
        aliases: &["w"],
        args: "",
        about: "verify again every time you save a file",
        more: "Verifies the current exercise, then again whenever a file under exercises/NN-name/ \
               changes. Ctrl-C returns to the prompt.",
    },
    Spec {
        name: "progress",
        aliases: &["status"],
        args: "",
        about: "what you have passed, and the hints you have seen",
        more: "Your progress is kept in .replicate/state.json.",
    },
    Spec {
        name: "room",
        aliases: &[],
        args: "join|peer|host ...",
        about: "a classroom: join the teacher's room, run your peer in its mesh",
        more: "`room join ADDRESS CODE --name NAME` joins the room the teacher shows (your \
               `verify` verdicts are reported there from then on: the numbers, never your code). \
               `room peer 4` runs your peer of exercise 04 linked to the neighbours the room \
               gives it; Ctrl-C stops it. `room host` opens a room (for the teacher).",
    },
    Spec {
        name: "slides",
        aliases: &[],
        args: "[DECK]",
        about: "present the slides of the current exercise (or deck DECK)",
        more: "Presents the deck that leads into the current exercise in the terminal, one slide \
               per screen: → or Space next, ← previous, s speaker notes, q back to the workshop. \
               `slides 3` presents deck 3. Outside the workshop, `cargo run -- slides` lists the \
               decks and `cargo run -- slides --html DIR` exports them for a browser, with a \
               presenter view.",
    },
    Spec {
        name: "help",
        aliases: &["?", "h"],
        args: "[COMMAND]",
        about: "this list, or more about one command",
        more: "`help run` says more about `run`.",
    },
    Spec {
        name: "clear",
        aliases: &["cls"],
        args: "",
        about: "clear the screen",
        more: "Clears the terminal, as Ctrl-L does at the prompt.",
    },
    Spec {
        name: "quit",
        aliases: &["exit", "q"],
        args: "",
        about: "leave the workshop (asks first; Ctrl-D does not); your progress is kept",
        more: "Asks first, since `q` is easily typed once too often (it also leaves the slides). \
               Your progress is saved as you go; `cargo run` brings you back where you were.",
    },
];

/// The command a word names, by its name or an alias.
pub fn find(word: &str) -> Option<&'static Spec> {
    COMMANDS
        .iter()
        .find(|c| c.name == word || c.aliases.contains(&word))
}

/// The list of commands, one line each.
pub fn help() -> String {
    let mut text = String::from("Commands (they act on the current exercise, shown in the prompt):\n");
    for command in COMMANDS {
        let usage = match command.args {
            "" => command.name.to_string(),
            args => format!("{} {args}", command.name),
        };
        text.push_str(&format!("  {usage:<24} {}\n", command.about));
    }
    text.push_str("Tab completes commands and exercise names. `help COMMAND` says more about one.\n");
    text
}

/// The longer help of one command (markdown, paragraphs apart).
pub fn help_for(word: &str) -> String {
    match find(word) {
        Some(command) => {
            let usage = format!("{} {}", command.name, command.args);
            let mut text = format!("{}: {}\n\n{}\n", usage.trim_end(), command.about, command.more);
            if !command.aliases.is_empty() {
                text.push_str(&format!("\nAlso: {}\n", command.aliases.join(", ")));
            }
            text
        }
        None => unknown(word),
    }
}

/// What to say about a word that is no command: the closest command, if one is close.
pub fn unknown(word: &str) -> String {
    match closest(word) {
        Some(name) => {
            format!("Unknown command `{word}`. Did you mean `{name}`? (`help` lists the commands)\n")
        }
        None => format!("Unknown command `{word}`: `help` lists the commands.\n"),
    }
}

/// The command name nearest to `word`: one it starts, or within two edits.
pub fn closest(word: &str) -> Option<&'static str> {
    let word = word.to_lowercase();
    if word.is_empty() {
        return None;
    }
    if let Some(command) = find(&word) {
        return Some(command.name);
    }
    let names = || {
        COMMANDS.iter().flat_map(|c| {
            std::iter::once(&c.name)
                .chain(c.aliases.iter())
                .map(move |n| (*n, c.name))
        })
    };
    if word.len() >= 2
        && let Some((_, name)) = names().find(|(n, _)| n.starts_with(&word))
    {
        return Some(name);
    }
    let (distance, name) = names()
        .map(|(n, name)| (edit_distance(&word, n), name))
        .min_by_key(|(d, _)| *d)?;
    let allowed = if word.chars().count() <= 3 { 1 } else { 2 };
    (distance <= allowed).then_some(name)
}

/// Levenshtein distance, with a swap of two neighbours counting as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_command() {
        assert_eq!(closest("lsit"), Some("list"));
        assert_eq!(closest("verfy"), Some("verify"));
        assert_eq!(closest("sol"), Some("solution"));
        assert_eq!(closest("exit"), Some("quit"));
        assert_eq!(closest("xyzzy"), None);
        assert!(unknown("lsit").contains("Did you mean `list`?"));
    }

    #[test]
    fn every_name_is_unique() {
        let mut names: Vec<&str> = COMMANDS
            .iter()
            .flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied()))
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn help_names_every_command() {
        let text = help();
        for command in COMMANDS {
            assert!(text.contains(command.name), "{}", command.name);
        }
        assert!(help_for("run").contains("scratch"));
    }
}
