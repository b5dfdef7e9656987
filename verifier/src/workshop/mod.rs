//! The interactive workshop: a shell that keeps a learner's place in the course.
//!
//! `cargo run` opens it. The prompt names the current exercise
//! (`replicate [02 append-only-logs] > `) and every command acts on it: read the problem,
//! run your programs by hand, verify, take a hint, watch the folder and verify on every
//! save. Progress (the current exercise, passes, hints seen) survives restarts in
//! `.replicate/state.json`.
//!
//! Each action is one function here or in a submodule, called both by the shell and by
//! the `verifier` subcommand of the same name. When stdin is not a terminal the shell
//! reads commands line by line and prints no prompt, spinner, colour or screen control:
//! that is how it is scripted and tested.
//!
//! - [`state`]: progress on disk; [`progress`]: the list and the progress report.
//! - [`render`]: markdown as terminal text; [`hint`]: hints one level at a time.
//! - [`run`], [`solution`], [`reset`], [`watch`]: the actions with more to them.
//! - [`input`], [`completion`], [`commands`]: reading commands, Tab, help and suggestions.
//! - [`interrupt`] and [`spinner`]: Ctrl-C and the build spinner.

pub mod by_hand;
pub mod child;
pub mod commands;
pub mod completion;
pub mod deps;
pub mod hint;
pub mod input;
pub mod interrupt;
pub mod output;
pub mod progress;
pub mod reset;
pub mod run;
pub mod solution;
pub mod spinner;
pub mod state;
pub mod watch;

use crate::course::{self, COURSE, Exercise, Side};
use crate::harness::build::{self, BuildError, Built};
use crate::service::root::default_root;
use crate::text as render;
use input::{Input, Line};
use render::Style;
use state::State;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How an action ended: the services' outcome, one for every front end.
pub use crate::service::Outcome;

/// Answers a yes/no question (the shell asks its input; `--yes` always says yes).
pub trait Ask {
    fn confirm(&mut self, question: &str) -> bool;
}

/// Says yes without asking: `--yes`.
pub struct Yes;

impl Ask for Yes {
    fn confirm(&mut self, _question: &str) -> bool {
        true
    }
}

/// Everything an action needs: where the course and the learner's state are, the
/// state itself, and how to draw.
pub struct Workshop {
    /// The repository root.
    pub root: PathBuf,
    /// The state folder: `.replicate/` or `REPLICATE_STATE_DIR`.
    pub dir: PathBuf,
    pub state: State,
    /// How text on stdout is rendered.
    pub style: Style,
    /// Whether to draw a spinner on stderr while cargo builds.
    pub decorate: bool,
}

impl Workshop {
    /// The workshop at [`default_root`], with the saved state. The notice says why the
    /// state starts fresh, if it does (the caller decides whether to show it).
    pub fn open(style: Style, decorate: bool) -> (Workshop, Option<String>) {
        let root = default_root();
        let dir = state::state_dir(&root);
        let loaded = State::load(&dir);
        let workshop = Workshop {
            root,
            dir,
            state: loaded.state,
            style,
            decorate,
        };
        (workshop, loaded.notice)
    }

    /// For a subcommand: styled for stdout, a spinner when stderr is a terminal; a
    /// notice about an unreadable state file goes to stderr.
    pub fn for_command() -> Workshop {
        let decorate = std::io::stderr().is_terminal();
        let (workshop, notice) = Workshop::open(Style::for_stdout(), decorate);
        if let Some(notice) = notice.filter(|n| n.starts_with("Could not")) {
            eprintln!("{notice}");
        }
        workshop
    }

    /// Saves the state; a failure is reported but does not stop the workshop.
    pub fn save(&self) {
        if let Err(error) = self.state.save(&self.dir) {
            eprintln!("warning: {error:#}");
        }
    }

    /// A path as the learner reads it: relative to the repository root when inside it.
    pub fn shown(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Where `run` runs the programs of an exercise.
    pub fn scratch_dir(&self, exercise: &Exercise) -> PathBuf {
        self.dir.join("scratch").join(exercise.dir_name())
    }

    /// Where `reset` keeps the learner's files.
    pub fn backups_dir(&self) -> PathBuf {
        self.dir.join("backups")
    }

    /// Builds the learner's package, with a spinner when drawing is on.
    pub fn build(&self, exercise: &Exercise) -> Result<Built, BuildError> {
        let phase = format!("Building {}", exercise.package(Side::Learner));
        if !self.decorate {
            eprintln!("{phase} …");
        }
        let spinner = spinner::Spinner::start(&phase, self.decorate);
        let built = build::build(&self.root, &exercise.buildable(Side::Learner), &|_| {});
        spinner.stop();
        built
    }

    /// `verify`: builds and runs every check of the learner's code in a child process
    /// that Ctrl-C stops ([`child`]); a pass is recorded by the child and read back.
    /// `args` are more options of `verifier verify` (`--all`, `--seed N`, `--program`).
    pub fn verify(&mut self, exercise: &'static Exercise, args: &[String]) -> child::Ran {
        let ran = child::verify(self, exercise, args);
        // The child recorded a pass, and made the exercise it verified the current one
        // as a scripted `verify N` does; in the shell, `verify N` does not move the
        // prompt: the shell's current exercise stays.
        if ran != child::Ran::Stopped {
            let current = self.state.current.clone();
            self.state = State::load(&self.dir).state;
            if self.state.current != current {
                self.state.current = current;
                self.save();
            }
        }
        if ran == child::Ran::Stopped {
            // Whoever runs verifications in a row (`watch`) stops too.
            interrupt::raise();
        }
        ran
    }

    /// Records a verification of the learner's own code, run as a command
    /// (`cargo run -- verify N`): the exercise verified becomes the current one, as if
    /// selected in the shell, and a pass is marked. Returns the exercise to go on to.
    pub fn record_verification(&mut self, exercise: &Exercise, passed: bool) -> Option<&'static Exercise> {
        self.state.set_current(exercise);
        if passed {
            self.state.mark_passed(exercise);
        }
        self.save();
        self.state.next_to_do(exercise)
    }

    /// `select`: makes `exercise` the current one and says what it is about.
    pub fn select(&mut self, exercise: &'static Exercise) {
        self.state.set_current(exercise);
        self.save();
        let passed = if self.state.has_passed(exercise) {
            " (passed)"
        } else {
            ""
        };
        // Markdown with hard line breaks (`\` at the end of a line), wrapped like the rest.
        let text = format!(
            "**Exercise {} · {}**{passed}\\\n{}.\\\n`print` shows the problem; your code is in {}/.",
            exercise.number,
            exercise.title,
            exercise.summary,
            exercise.dir(Side::Learner)
        );
        print!("{}", render::render(&text, self.style));
    }

    /// `next` (`step` 1) and `prev` (`step` -1).
    pub fn step(&mut self, forward: bool) {
        let current = self.state.current();
        let target = match forward {
            true => next_of(current),
            false => COURSE.iter().rev().find(|e| e.number < current.number).copied(),
        };
        match (target, forward) {
            (Some(exercise), _) => self.select(exercise),
            (None, true) => println!(
                "Exercise {} is the last one; `list` shows them all.",
                current.number
            ),
            (None, false) => println!("Exercise {} is the first one.", current.number),
        }
    }
}

/// The exercise after `exercise`, if any.
fn next_of(exercise: &Exercise) -> Option<&'static Exercise> {
    COURSE.iter().find(|e| e.number > exercise.number).copied()
}

/// `print`: the problem text, rendered for the terminal.
pub fn problem(exercise: &Exercise, style: Style) -> String {
    render::render(exercise.problem, style)
}

/// `slides [DECK]`: presents a deck in the terminal (`crate::slides::present`), the
/// current exercise's by default, reading the presenter's commands from `input`.
pub fn present_slides(
    workshop: &Workshop,
    exercise: &Exercise,
    query: Option<&str>,
    input: &mut dyn std::io::BufRead,
) -> Outcome {
    use crate::slides::{self, present};
    let files = match slides::deck_files(&workshop.root.join("slides")) {
        Ok(files) => files,
        Err(error) => {
            println!("error: {error:#}");
            return Outcome::Error;
        }
    };
    let deck = match query {
        Some(query) => slides::find(&files, query).and_then(|file| slides::load(file)),
        None => {
            // Decks that do not parse are skipped here; `slides DECK` names their errors.
            let decks: Vec<slides::Deck> = files.iter().filter_map(|f| slides::load(f).ok()).collect();
            slides::for_exercise(&decks, exercise.number)
                .cloned()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no deck in slides/ leads into exercise {} ({}); `slides NUMBER` presents one",
                        exercise.number,
                        exercise.slug
                    )
                })
        }
    };
    let deck = match deck {
        Ok(deck) => deck,
        Err(error) => {
            println!("{}", capitalise(&format!("{error:#}")));
            return Outcome::Error;
        }
    };
    let mut presenter = present::Presenter::new(&deck, &workshop.root, present::Style::detect(), false);
    match presenter.present(input, &mut std::io::stdout().lock()) {
        Ok(()) => Outcome::Passed,
        Err(e) => {
            println!("error: the presenter stopped: {e}");
            Outcome::Error
        }
    }
}

/// What the shell does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

/// Opens the workshop shell: reads commands until `quit`, Ctrl-D or the end of input.
pub fn shell() -> ExitCode {
    let interactive = std::io::stdin().is_terminal();
    let style = match interactive {
        true => Style::for_stdout(),
        false => Style::plain(80),
    };
    let decorate = interactive && std::io::stderr().is_terminal();
    let (mut workshop, notice) = Workshop::open(style, decorate);
    let mut input = Input::open(workshop.dir.join("history"), workshop.state.current().number);
    // After the line editor: it sets its own SIGINT handler when it starts, which ours
    // then wraps (during editing the terminal sends no signals; Ctrl-C is a key there).
    interrupt::install();
    if input.interactive() {
        println!(
            "{}\n",
            style.paint(
                "1",
                "Welcome to replicate: build a master-less replicated database, one exercise at a time."
            )
        );
        print!("{}", progress::list(&workshop.state));
        println!("\n`print` shows the current exercise, `help` lists the commands, Tab completes them.");
    }
    if let Some(notice) = notice {
        eprintln!("{notice}");
    }
    loop {
        interrupt::clear();
        let prompt = match input.interactive() {
            true => {
                let current = workshop.state.current();
                format!("replicate [{:02} {}] > ", current.number, current.slug)
            }
            false => String::new(),
        };
        match input.read(&prompt) {
            Line::Text(line) => {
                if dispatch(&mut workshop, &mut input, &line) == Flow::Quit {
                    break;
                }
            }
            Line::Interrupted => println!("(Ctrl-C: `quit` or Ctrl-D leaves the workshop.)"),
            Line::End => break,
        }
    }
    ExitCode::SUCCESS
}

/// Runs one command line.
fn dispatch(workshop: &mut Workshop, input: &mut Input, line: &str) -> Flow {
    let Some(words) = shlex::split(line) else {
        println!("The quotes in that line do not match up.");
        return Flow::Continue;
    };
    let Some((first, rest)) = words.split_first() else {
        return Flow::Continue;
    };
    let current = workshop.state.current();
    if first.chars().all(|c| c.is_ascii_digit()) {
        select(workshop, first);
        input.set_current(workshop.state.current().number);
        return Flow::Continue;
    }
    let Some(command) = commands::find(&first.to_lowercase()) else {
        print!("{}", commands::unknown(first));
        return Flow::Continue;
    };
    match command.name {
        "list" => print!("{}", progress::list(&workshop.state)),
        "select" => match rest.first() {
            Some(query) => select(workshop, query),
            None => println!("Which exercise? `select 2` or `select append-only-logs`; `list` shows them."),
        },
        "next" => workshop.step(true),
        "prev" => workshop.step(false),
        "print" => {
            let exercise = match rest.first().map(|q| course::find(q)) {
                None => current,
                Some(Ok(exercise)) => exercise,
                Some(Err(error)) => {
                    println!("{}", capitalise(&format!("{error:#}")));
                    return Flow::Continue;
                }
            };
            let _ = output::page(&child::shell_commands(&problem(exercise, workshop.style)));
        }
        "verify" => {
            // `verify`, `verify 3`, `verify 3 --seed 7`: the exercise, then options.
            let (exercise, options) = match rest.split_first() {
                Some((first, options)) if !first.starts_with('-') => match course::find(first) {
                    Ok(exercise) => (exercise, options),
                    Err(error) => {
                        println!("{}", capitalise(&format!("{error:#}")));
                        return Flow::Continue;
                    }
                },
                _ => (current, rest),
            };
            workshop.verify(exercise, options);
        }
        "run" => match rest.split_first() {
            Some((program, args)) => {
                run::run_program(workshop, current, program, args);
            }
            None => print!("{}", run::programs_of(current, None)),
        },
        // `hint`, `hint 2`, and the command line's `hint --level 2` (texts say it so).
        "hint" => match hint_level(rest) {
            Ok(level) => print!(
                "{}",
                child::shell_commands(&hint_and_save(workshop, current, level))
            ),
            Err(()) => println!("`hint` takes a level number, e.g. `hint 2`."),
        },
        "solution" => {
            let shown = match rest.first().map(|w| w.trim_start_matches('-')) {
                Some("diff") => solution::Shown::Diff,
                _ => solution::Shown::Full,
            };
            solution::show_solution(workshop, current, input, shown);
        }
        "reset" => {
            reset::reset_action(workshop, current, input);
        }
        "watch" => {
            let how_to_stop = input.how_to_stop();
            watch::watch(workshop, current, &mut || input.stop_requested(), how_to_stop);
        }
        "progress" => print!("{}", progress::progress(&workshop.state)),
        "room" => child::room(workshop, rest),
        "slides" => {
            let mut lines = input.lines();
            present_slides(workshop, current, rest.first().map(String::as_str), &mut lines);
        }
        "help" => match rest.first() {
            Some(name) => print!("{}", render::render(&commands::help_for(name), workshop.style)),
            None => print!("{}", commands::help()),
        },
        "quit" => {
            // `q` is also the presenter's key to leave the slides: one typed once too
            // often must not end the workshop.
            if input.confirm("Leave the workshop? Your progress is kept. [y/N]") {
                return Flow::Quit;
            }
            println!("Staying. (Ctrl-D leaves without asking.)");
        }
        "clear" => input.clear_screen(),
        other => println!("`{other}` is not wired in yet."),
    }
    input.set_current(workshop.state.current().number);
    Flow::Continue
}

fn select(workshop: &mut Workshop, query: &str) {
    match course::find(query) {
        Ok(exercise) => workshop.select(exercise),
        Err(error) => println!("{}", capitalise(&format!("{error:#}"))),
    }
}

/// The level a `hint` command asks for: none, `2`, `--level 2` or `-l 2`.
fn hint_level(words: &[String]) -> Result<Option<usize>, ()> {
    let number = match words {
        [] => return Ok(None),
        [level] => level,
        [flag, level] if flag == "--level" || flag == "-l" => level,
        _ => return Err(()),
    };
    number.parse().map(Some).map_err(|_| ())
}

/// `hint`, with the new level saved.
pub fn hint_and_save(workshop: &mut Workshop, exercise: &Exercise, level: Option<usize>) -> String {
    let text = hint::hint(&mut workshop.state, exercise, level, workshop.style);
    workshop.save();
    text
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
