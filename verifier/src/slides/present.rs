//! The terminal presenter: one slide per screen.
//!
//! On a terminal (stdin and stdout both) it reads single keys ([`super::keys`]): → or
//! Space next, ← previous, a number and Enter to jump; the screen is cleared between
//! slides and titles are bold. Otherwise it reads commands line by line, which keeps it
//! scriptable: `printf 'n\nq\n' | verifier slides 3` shows two screens and quits, as
//! plain text with no control codes at all, the same on every run.

use super::{Deck, Fences, Slide, keys};
use crate::runner::{self, Invocation, Limits};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How a demo runs: its time limit and output cap. Demos are the teacher's own commands
/// (often `cargo run`), so no operating-system limits beyond those.
pub const DEMO_LIMITS: Limits = Limits {
    timeout: Duration::from_secs(120),
    max_output: 1 << 20,
    resources: None,
};

/// How the screen is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Clear the screen and use bold and colour (only on a terminal).
    pub ansi: bool,
    /// Columns to wrap text to.
    pub width: usize,
}

impl Style {
    /// Plain text, wrapped to `width` columns.
    pub fn plain(width: usize) -> Style {
        Style {
            ansi: false,
            width: width.clamp(20, 400),
        }
    }

    /// The style for this process: ANSI only when both stdin and stdout are a terminal;
    /// the width of the terminal, else `$COLUMNS`, else 80.
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        let stdout_tty = io::stdout().is_terminal();
        let ansi = stdout_tty && io::stdin().is_terminal();
        let from_terminal = match stdout_tty {
            true => terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)),
            false => None,
        };
        let width = from_terminal
            .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()))
            .unwrap_or(80);
        Style {
            ansi,
            ..Style::plain(width)
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        match self.ansi {
            true => format!("\x1b[{code}m{text}\x1b[0m"),
            false => text.to_string(),
        }
    }
}

/// The keys, one item each: single keys on a terminal (`ansi`), else commands.
fn key_items(total: usize, ansi: bool) -> [String; 7] {
    if ansi {
        return [
            "→/Space next".into(),
            "← previous".into(),
            format!("1-{total} Enter jump"),
            "f/l first/last".into(),
            "s notes".into(),
            "d demo".into(),
            "q quit".into(),
        ];
    }
    [
        "Enter/n next".into(),
        "p previous".into(),
        format!("1-{total} jump"),
        "f/l first/last".into(),
        "s notes".into(),
        "d demo".into(),
        "q quit".into(),
    ]
}

/// The keys on one line, for the help message.
fn keys(total: usize, ansi: bool) -> String {
    key_items(total, ansi).join("  ")
}

/// The keys for the footer, as many per line as fit in `width`.
fn footer(total: usize, width: usize, ansi: bool) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in key_items(total, ansi) {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 2 + item.chars().count() <= width => {
                line.push_str("  ");
                line.push_str(&item);
            }
            _ => lines.push(item),
        }
    }
    lines
}

/// What a command asks the presenter to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// Draw the current slide (it changed, or the notes or a demo's output did).
    Show,
    /// Say one line, and stay on the screen.
    Say(String),
    /// Run the current slide's demo, then draw the slide with its output.
    Demo,
    Quit,
}

/// A deck being presented.
pub struct Presenter<'a> {
    deck: &'a Deck,
    /// The slide shown, counting from 0.
    current: usize,
    notes: bool,
    /// The output of the demo last run, and the slide it belongs to.
    demo_output: Option<(usize, String)>,
    /// Where demos run: the repository root.
    root: PathBuf,
    style: Style,
}

impl<'a> Presenter<'a> {
    /// Starts at the first slide; `notes` shows the speaker notes from the start.
    pub fn new(deck: &'a Deck, root: &Path, style: Style, notes: bool) -> Presenter<'a> {
        Presenter {
            deck,
            current: 0,
            notes,
            demo_output: None,
            root: root.to_path_buf(),
            style,
        }
    }

    /// Presents the deck: single keys when the style says a terminal is there, else
    /// commands read line by line from `input`.
    pub fn present(&mut self, input: impl BufRead, out: &mut impl Write) -> io::Result<()> {
        match self.style.ansi {
            true => self.run_keys(out),
            false => self.run(input, out),
        }
    }

    /// Shows the first slide, then obeys single keys until `q`; the terminal is back in
    /// its normal mode afterwards, however this ends.
    pub fn run_keys(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.deck.slides.is_empty() {
            return writeln!(out, "The deck {} has no slides.", self.deck.title);
        }
        let _raw = keys::RawMode::enable()?;
        let mut out = keys::CrLf(out);
        out.write_all(self.screen().as_bytes())?;
        self.prompt(&mut out)?;
        let mut digits = String::new();
        loop {
            let command = keys::read_command(&mut digits, &mut out)?;
            if !self.obey(&command, &mut out)? {
                // Leave the prompt's line for whatever comes next.
                return writeln!(out);
            }
        }
    }

    /// Shows the first slide, then obeys commands from `input` until `q` or its end.
    pub fn run(&mut self, input: impl BufRead, out: &mut impl Write) -> io::Result<()> {
        if self.deck.slides.is_empty() {
            return writeln!(out, "The deck {} has no slides.", self.deck.title);
        }
        out.write_all(self.screen().as_bytes())?;
        self.prompt(out)?;
        for line in input.lines() {
            if !self.obey(&line?, out)? {
                return Ok(());
            }
        }
        // The end of the input quits, like `q`.
        if self.style.ansi {
            writeln!(out)?;
        }
        Ok(())
    }

    /// Carries out one command and shows what it did; false when it was `q`.
    fn obey(&mut self, command: &str, out: &mut impl Write) -> io::Result<bool> {
        match self.command(command) {
            Action::Show => out.write_all(self.screen().as_bytes())?,
            Action::Say(message) => {
                writeln!(out, "{message}")?;
                if !self.style.ansi {
                    // As after a screen: a blank line before what comes next.
                    writeln!(out)?;
                }
            }
            Action::Demo => {
                if self.style.ansi {
                    writeln!(
                        out,
                        "Running the demo (up to {})…",
                        runner::seconds(DEMO_LIMITS.timeout)
                    )?;
                    out.flush()?;
                }
                self.run_demo();
                out.write_all(self.screen().as_bytes())?;
            }
            Action::Quit => return Ok(false),
        }
        self.prompt(out)?;
        Ok(true)
    }

    fn prompt(&self, out: &mut impl Write) -> io::Result<()> {
        if self.style.ansi {
            write!(out, "> ")?;
        }
        out.flush()
    }

    fn slide(&self) -> &'a Slide {
        &self.deck.slides[self.current]
    }

    fn total(&self) -> usize {
        self.deck.slides.len()
    }

    fn go(&mut self, index: usize) -> Action {
        if index != self.current {
            self.demo_output = None;
        }
        self.current = index;
        Action::Show
    }

    fn command(&mut self, line: &str) -> Action {
        let command = line.trim().to_lowercase();
        let total = self.total();
        match command.as_str() {
            "" | "n" | "next" => match self.current + 1 < total {
                true => self.go(self.current + 1),
                false => Action::Say(format!(
                    "This is the last slide ({total}/{total}): q quits, f goes back to the first."
                )),
            },
            "p" | "prev" | "previous" => match self.current {
                0 => Action::Say("This is the first slide.".into()),
                current => self.go(current - 1),
            },
            "f" | "first" => self.go(0),
            "l" | "last" => self.go(total - 1),
            "s" | "notes" => {
                self.notes = !self.notes;
                Action::Show
            }
            "d" | "demo" => match self.slide().demo {
                Some(_) => Action::Demo,
                None => Action::Say("This slide has no demo.".into()),
            },
            "q" | "quit" | "exit" => Action::Quit,
            "h" | "?" | "help" => Action::Say(keys(total, self.style.ansi)),
            number if number.chars().all(|c| c.is_ascii_digit()) => match number.parse::<usize>() {
                Ok(n) if (1..=total).contains(&n) => self.go(n - 1),
                _ => Action::Say(format!(
                    "There is no slide {number}: the slides are 1 to {total}."
                )),
            },
            _ => Action::Say(format!(
                "Unknown command `{}`. {}",
                line.trim(),
                keys(total, self.style.ansi)
            )),
        }
    }

    /// Runs the current slide's demo from the repository root and keeps its output.
    fn run_demo(&mut self) {
        if let Some(command) = &self.slide().demo {
            self.demo_output = Some((self.current, run_demo(command, &self.root)));
        }
    }

    /// The current slide as one screen of text.
    pub fn screen(&self) -> String {
        let style = &self.style;
        let width = style.width;
        let slide = self.slide();
        let mut screen = String::new();
        if style.ansi {
            // Clear the screen and move to its top left corner.
            screen.push_str("\x1b[2J\x1b[H");
        }
        let header = format!(
            "{} — slide {}/{}",
            self.deck.title,
            self.current + 1,
            self.total()
        );
        screen.push_str(&style.paint("2", &header));
        screen.push_str("\n\n");
        for line in wrap(&slide.title, width) {
            screen.push_str(&style.paint("1", &line));
            screen.push('\n');
        }
        let underline = "=".repeat(slide.title.chars().count().min(width));
        screen.push_str(&style.paint("1", &underline));
        screen.push_str("\n\n");
        if !slide.body.is_empty() {
            screen.push_str(&render_markdown(&slide.body, style));
            screen.push('\n');
        }
        if let Some(command) = &slide.demo {
            let ran = self
                .demo_output
                .as_ref()
                .filter(|(index, _)| *index == self.current);
            let hint = if ran.is_some() {
                "d runs it again"
            } else {
                "d runs it"
            };
            for line in wrap(&format!("Demo: {command}   ({hint})"), width) {
                screen.push_str(&style.paint("1", &line));
                screen.push('\n');
            }
            if let Some((_, output)) = ran {
                screen.push_str(&style.paint("36", output.trim_end()));
                screen.push('\n');
            }
            screen.push('\n');
        }
        if self.notes {
            screen.push_str(&style.paint("1;33", "Notes:"));
            screen.push('\n');
            match slide.notes.is_empty() {
                true => screen.push_str("(this slide has no notes)\n"),
                false => screen.push_str(&render_markdown(&slide.notes, style)),
            }
            screen.push('\n');
        }
        screen.push_str(&style.paint("2", &"-".repeat(width)));
        screen.push('\n');
        for line in footer(self.total(), width, style.ansi) {
            screen.push_str(&style.paint("2", &line));
            screen.push('\n');
        }
        if !style.ansi {
            // Plain output has no screens to clear: a blank line separates them.
            screen.push('\n');
        }
        screen
    }
}

/// Runs a demo command with `sh -c` in `root`, under [`DEMO_LIMITS`], and returns
/// what to show: the command, its stdout and stderr, and how it ended if not well.
pub fn run_demo(command: &str, root: &Path) -> String {
    let invocation = Invocation {
        program: "demo".into(),
        args: vec![command.to_string()],
        argv: vec!["sh".into(), "-c".into(), command.to_string()],
        cwd: root.to_path_buf(),
        env: Vec::new(),
    };
    let mut shown = format!("$ {command}\n");
    match runner::run(&invocation, None, &DEMO_LIMITS) {
        Ok(finished) => {
            for stream in [&finished.stdout, &finished.stderr] {
                let text = String::from_utf8_lossy(stream).replace("\r\n", "\n");
                shown.push_str(&text);
                if !text.is_empty() && !text.ends_with('\n') {
                    shown.push('\n');
                }
            }
            if !finished.ending.success() {
                shown.push_str(&format!("[the demo {}]\n", finished.ending.describe()));
            }
        }
        Err(error) => shown.push_str(&format!(
            "[the demo could not start in {}: {error}]\n",
            root.display()
        )),
    }
    shown
}

/// Markdown for the terminal: code blocks verbatim (without their fence lines,
/// indented by two spaces), every other line wrapped to the width on its own.
fn render_markdown(text: &str, style: &Style) -> String {
    let mut fences = Fences::default();
    let mut shown = String::new();
    for (i, line) in text.lines().enumerate() {
        let open_before = fences.open.is_some();
        let outside = fences.outside(line, i + 1);
        if outside {
            for wrapped in wrap(line, style.width) {
                shown.push_str(&wrapped);
                shown.push('\n');
            }
        } else if open_before && fences.open.is_some() {
            // A line of code.
            shown.push_str(&style.paint("36", &format!("  {line}")));
            shown.push('\n');
        }
        // Otherwise a fence line, which is left out.
    }
    shown
}

/// Wraps one line to `width` columns at spaces. A list item's continuation lines are
/// indented under its text; a word longer than the width stays whole on its own line.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let columns = crate::text::columns;
    if columns(line) <= width {
        return vec![line.to_string()];
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    let hanging = indent + list_marker(&line[indent..]);
    let pad = " ".repeat(hanging.min(width / 2));
    let mut lines = Vec::new();
    let mut current = line[..indent].to_string();
    let mut current_len = indent;
    let mut empty = true;
    for word in line[indent..].split(' ').filter(|w| !w.is_empty()) {
        let len = columns(word);
        if !empty && current_len + 1 + len > width {
            lines.push(std::mem::replace(&mut current, pad.clone()));
            current_len = pad.len();
            empty = true;
        }
        if !empty {
            current.push(' ');
            current_len += 1;
        }
        current.push_str(word);
        current_len += len;
        empty = false;
    }
    lines.push(current);
    lines
}

/// The length of a list marker at the start of `text` (`- `, `* `, `+ `, `12. `, `3) `),
/// or 0.
fn list_marker(text: &str) -> usize {
    if ["- ", "* ", "+ "].iter().any(|m| text.starts_with(m)) {
        return 2;
    }
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let rest = &text[digits..];
    match digits > 0 && digits <= 9 && (rest.starts_with(". ") || rest.starts_with(") ")) {
        true => digits + 2,
        false => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deck() -> Deck {
        super::super::parse(
            Path::new("01-t.md"),
            "# Tiny\ns\n---\n## First\nA line.\n```\n  code --- kept   as is\n```\nNotes:\nSay it.\n---\n## Second\nDemo: echo hello-from-demo; echo oops >&2; exit 3\n",
        )
        .unwrap()
    }

    #[test]
    fn wrapping_keeps_short_lines_and_indents_list_items() {
        assert_eq!(wrap("short line", 20), ["short line"]);
        assert_eq!(wrap("", 20), [""]);
        assert_eq!(
            wrap("- a list item that is far too long", 16),
            ["- a list item", "  that is far", "  too long"]
        );
        assert_eq!(
            wrap("12. numbered item goes on", 14),
            ["12. numbered", "    item goes", "    on"]
        );
        assert_eq!(wrap("  indented text here", 12), ["  indented", "  text here"]);
        assert_eq!(
            wrap("a supercalifragilistic b", 10),
            ["a", "supercalifragilistic", "b"]
        );
    }

    #[test]
    fn the_footer_wraps_between_keys() {
        assert_eq!(footer(16, 80, false), [keys(16, false)]);
        assert_eq!(
            footer(16, 40, false),
            [
                "Enter/n next  p previous  1-16 jump",
                "f/l first/last  s notes  d demo  q quit"
            ]
        );
        // On a terminal, the keys themselves.
        assert_eq!(
            footer(16, 80, true)[0],
            "→/Space next  ← previous  1-16 Enter jump  f/l first/last  s notes  d demo"
        );
    }

    #[test]
    fn plain_screens_have_no_control_codes() {
        let deck = deck();
        let presenter = Presenter::new(&deck, Path::new("/"), Style::plain(40), true);
        let screen = presenter.screen();
        assert!(!screen.contains('\x1b'), "{screen}");
        assert!(
            screen.starts_with("Tiny — slide 1/2\n\nFirst\n=====\n\nA line.\n    code --- kept   as is\n")
        );
        assert!(screen.contains("Notes:\nSay it.\n"), "{screen}");
        let ansi = Presenter::new(
            &deck,
            Path::new("/"),
            Style {
                ansi: true,
                width: 40,
            },
            false,
        )
        .screen();
        assert!(ansi.starts_with("\x1b[2J\x1b[H"), "{ansi:?}");
        assert!(!ansi.contains("Say it."));
    }

    #[test]
    fn commands_move_and_never_crash() {
        let deck = deck();
        let mut presenter = Presenter::new(&deck, Path::new("/"), Style::plain(80), false);
        let mut out = Vec::new();
        presenter
            .run("p\nn\n\n7\nzz\nf\nl\ns\nd\nq\nn\n".as_bytes(), &mut out)
            .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("This is the first slide.\n"), "{out}");
        assert!(out.contains("This is the last slide (2/2): q quits"), "{out}");
        assert!(
            out.contains("There is no slide 7: the slides are 1 to 2.\n"),
            "{out}"
        );
        assert!(out.contains("Unknown command `zz`. Enter/n next"), "{out}");
        assert!(out.contains("$ echo hello-from-demo; echo oops >&2; exit 3\nhello-from-demo\noops\n[the demo exited with code 3]\n"), "{out}");
        // After `q`, nothing more.
        assert!(out.ends_with("q quit\n\n"), "{out}");
    }

    #[test]
    fn a_slide_without_a_demo_says_so() {
        let deck = deck();
        let mut presenter = Presenter::new(&deck, Path::new("/"), Style::plain(80), false);
        let mut out = Vec::new();
        presenter.run("d\n".as_bytes(), &mut out).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .ends_with("This slide has no demo.\n\n")
        );
    }
}
