//! Slide decks for teachers: the deck model, the parser, and where decks live.
//!
//! A deck is one markdown file, `slides/NN-name.md`:
//!
//! ```text
//! # Deck title
//! One summary line. Leads into exercise 3.
//! ---
//! ## First slide
//! Markdown body.
//! Demo: cargo run -q -- list
//! Notes:
//! Speaker notes, until the end of the slide.
//! ---
//! ## Second slide
//! ```
//!
//! The summary's last sentence declares the exercises the deck leads into: "Leads into
//! exercise 3." or "Leads into exercises 2 and 3."; the workshop's `slides` finds an
//! exercise's deck by it ([`for_exercise`]). A deck that leads into no exercise (the
//! introduction) says nothing of the kind.
//!
//! Slides are separated by a line that is exactly `---` (a `---` inside a code fence
//! does not count). `Demo:` and `Notes:` are recognised on lines of their own, outside
//! code fences. Trailing whitespace, CRLF line ends and a byte-order mark are tolerated;
//! a missing title is a [`ParseError`] naming the file and line.
//!
//! [`present`] shows a deck in the terminal, one slide per screen; [`html`] exports
//! decks as a self-contained static site.

pub mod html;
pub mod keys;
pub mod present;

use anyhow::{Context as _, anyhow, bail};
use std::fmt;
use std::path::{Path, PathBuf};

/// One deck: a talk of a few slides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deck {
    /// The file's name without `.md`, e.g. `03-append-only-logs`.
    pub stem: String,
    /// The number its file name starts with, e.g. 3 for `03-append-only-logs`.
    pub number: Option<u32>,
    /// The text of the `# ` line.
    pub title: String,
    /// The line(s) between the title and the first `---`, joined by spaces.
    pub summary: String,
    /// The exercises the summary's last sentence says it leads into.
    pub exercises: Vec<u32>,
    pub slides: Vec<Slide>,
}

/// One slide of a deck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slide {
    /// The text of the `## ` line.
    pub title: String,
    /// The markdown body, without the title, the `Demo:` line and the notes; trimmed
    /// of blank lines at both ends.
    pub body: String,
    /// The shell command of a `Demo:` line, run from the repository root.
    pub demo: Option<String>,
    /// The speaker notes (markdown), empty if the slide has none.
    pub notes: String,
    /// The line of the `## ` title in the file, counting from 1.
    pub line: usize,
}

/// A deck file that does not follow the format: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub file: PathBuf,
    /// The line, counting from 1.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// A code fence that is open: its character and length, and where it opened.
#[derive(Debug, Clone, Copy)]
struct Fence {
    marker: char,
    len: usize,
    line: usize,
}

impl Fence {
    /// A line that opens a fence: up to three spaces, then three or more backticks
    /// or tildes.
    fn opening(line: &str, number: usize) -> Option<Fence> {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent > 3 {
            return None;
        }
        let rest = &line[indent..];
        let marker = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
        let len = rest.chars().take_while(|c| *c == marker).count();
        // A backtick fence's info string may not contain backticks.
        let info = &rest[len..];
        (len >= 3 && !(marker == '`' && info.contains('`'))).then_some(Fence {
            marker,
            len,
            line: number,
        })
    }

    /// Whether `line` closes this fence: the same character, at least as many, and
    /// nothing after them.
    fn closed_by(&self, line: &str) -> bool {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        let len = rest.chars().take_while(|c| *c == self.marker).count();
        indent <= 3 && len >= self.len && rest[len * self.marker.len_utf8()..].trim().is_empty()
    }
}

/// Tracks code fences line by line.
#[derive(Debug, Default)]
struct Fences {
    open: Option<Fence>,
}

impl Fences {
    /// Feeds one line; returns true if the line is markdown outside any fence (not a
    /// fence line, not code).
    fn outside(&mut self, line: &str, number: usize) -> bool {
        match self.open {
            Some(fence) => {
                if fence.closed_by(line) {
                    self.open = None;
                }
                false
            }
            None => match Fence::opening(line, number) {
                Some(fence) => {
                    self.open = Some(fence);
                    false
                }
                None => true,
            },
        }
    }
}

/// The number a deck's file name starts with: `03-append-only-logs` is 3.
pub fn number_of(stem: &str) -> Option<u32> {
    let digits: String = stem.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The exercises a summary's last sentence declares: "Leads into exercise 3." gives
/// `[3]`, "Leads into exercises 2 and 3." `[2, 3]`; any other last sentence none.
pub fn declared_exercises(summary: &str) -> Vec<u32> {
    let summary = summary.trim();
    let Some(at) = summary.rfind("Leads into exercise") else {
        return vec![];
    };
    let sentence = &summary[at + "Leads into exercise".len()..];
    let Some(list) = sentence.strip_suffix('.') else {
        return vec![];
    };
    let list = list.strip_prefix('s').unwrap_or(list);
    let words: Vec<&str> = list
        .split([' ', ','])
        .filter(|w| !w.is_empty() && *w != "and")
        .collect();
    let numbers: Vec<u32> = words.iter().filter_map(|w| w.parse().ok()).collect();
    match numbers.len() == words.len() {
        true => numbers,
        // Not a plain list of numbers ("the planned exercise 8"): no declaration.
        false => vec![],
    }
}

/// The deck that leads into `exercise`: among the decks that declare it, the one whose
/// number is the exercise's, else the first.
pub fn for_exercise(decks: &[Deck], exercise: u32) -> Option<&Deck> {
    let declaring: Vec<&Deck> = decks.iter().filter(|d| d.exercises.contains(&exercise)).collect();
    declaring
        .iter()
        .find(|d| d.number == Some(exercise))
        .or(declaring.first())
        .copied()
}

/// Parses a deck's text; `file` names it in errors and gives the deck its stem.
pub fn parse(file: &Path, text: &str) -> Result<Deck, ParseError> {
    let error = |line: usize, message: String| ParseError {
        file: file.to_path_buf(),
        line,
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // (line number, text without line end and trailing whitespace)
    let lines: Vec<(usize, &str)> = text
        .lines()
        .map(str::trim_end)
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .collect();

    let mut rest = lines.iter().copied().skip_while(|(_, l)| l.is_empty());
    let title = match rest.next() {
        Some((_, line)) if line.starts_with("# ") && !line[2..].trim().is_empty() => line[2..].trim(),
        Some((number, _)) => {
            return Err(error(
                number,
                "a deck starts with its title: `# Deck title`".into(),
            ));
        }
        None => {
            return Err(error(
                1,
                "the file is empty; a deck starts with `# Deck title`".into(),
            ));
        }
    };
    let mut summary = Vec::new();
    let mut separator = None;
    for (number, line) in rest.by_ref() {
        if line == "---" {
            separator = Some(number);
            break;
        }
        if !line.is_empty() {
            summary.push(line.trim());
        }
    }
    let Some(separator) = separator else {
        let last = lines.last().map_or(1, |(n, _)| *n);
        return Err(error(
            last,
            "no `---` after the title and summary: a deck needs at least one slide".into(),
        ));
    };

    // Split into slides on `---` outside code fences; each chunk keeps the line of the
    // `---` before it, to point at an empty slide.
    let mut chunks: Vec<(usize, Vec<(usize, &str)>)> = vec![(separator, Vec::new())];
    let mut fences = Fences::default();
    for (number, line) in rest {
        let outside = fences.outside(line, number);
        if outside && line == "---" {
            chunks.push((number, Vec::new()));
        } else if let Some((_, chunk)) = chunks.last_mut() {
            chunk.push((number, line));
        }
    }
    if let Some(fence) = fences.open {
        return Err(error(
            fence.line,
            format!(
                "this code fence is never closed (close it with a line of {})",
                fence.marker.to_string().repeat(fence.len)
            ),
        ));
    }
    // A `---` at the very end of the file leaves an empty chunk: harmless.
    if chunks.len() > 1
        && chunks
            .last()
            .is_some_and(|(_, c)| c.iter().all(|(_, l)| l.is_empty()))
    {
        chunks.pop();
    }

    let mut slides = Vec::new();
    for (separator, chunk) in chunks {
        slides.push(parse_slide(separator, &chunk, &error)?);
    }
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let summary = summary.join(" ");
    Ok(Deck {
        number: number_of(&stem),
        stem,
        title: title.to_string(),
        exercises: declared_exercises(&summary),
        summary,
        slides,
    })
}

fn parse_slide(
    separator: usize,
    chunk: &[(usize, &str)],
    error: &impl Fn(usize, String) -> ParseError,
) -> Result<Slide, ParseError> {
    let mut lines = chunk.iter().copied().skip_while(|(_, l)| l.is_empty());
    let (line, title) = match lines.next() {
        Some((number, text)) => match text.strip_prefix("## ").map(str::trim) {
            Some(title) if !title.is_empty() => (number, title),
            _ => {
                return Err(error(
                    number,
                    "a slide starts with its title: `## Slide title`".into(),
                ));
            }
        },
        None => {
            return Err(error(
                separator,
                "an empty slide: remove this `---` or give the slide a `## Slide title`".into(),
            ));
        }
    };
    let mut body = Vec::new();
    let mut notes = Vec::new();
    let mut demo: Option<String> = None;
    let mut in_notes = false;
    let mut fences = Fences::default();
    for (number, text) in lines {
        if in_notes {
            notes.push(text);
            continue;
        }
        let outside = fences.outside(text, number);
        if outside && text == "Notes:" {
            in_notes = true;
        } else if let Some(command) = text.strip_prefix("Demo:").filter(|_| outside) {
            let command = command.trim();
            if command.is_empty() {
                return Err(error(number, "`Demo:` needs a shell command after it".into()));
            }
            if demo.is_some() {
                return Err(error(number, "a slide has one `Demo:` line at most".into()));
            }
            demo = Some(command.to_string());
        } else {
            body.push(text);
        }
    }
    Ok(Slide {
        title: title.to_string(),
        body: trim_blank_lines(&body),
        demo,
        notes: trim_blank_lines(&notes),
        line,
    })
}

/// Joins lines, leaving out blank lines at the start and end.
fn trim_blank_lines(lines: &[&str]) -> String {
    let start = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
    let end = lines.iter().rposition(|l| !l.is_empty()).map_or(start, |i| i + 1);
    lines[start..end].join("\n")
}

/// Reads and parses one deck file. A deck that does not follow the format is a
/// [`ParseError`] inside the error (`downcast_ref` finds it).
pub fn load(file: &Path) -> anyhow::Result<Deck> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(parse(file, &text)?)
}

/// The deck files of a folder (`*.md`), in file-name order.
pub fn deck_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let cannot = || format!("cannot read the deck folder {}", dir.display());
    let entries = std::fs::read_dir(dir).with_context(cannot)?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.with_context(cannot)?.path();
        if path.extension().is_some_and(|e| e == "md") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Finds the deck a learner or teacher means: a number (`3`), a file stem
/// (`03-append-only-logs`) or a part of the name (`append`), among deck files.
pub fn find<'a>(files: &'a [PathBuf], query: &str) -> anyhow::Result<&'a PathBuf> {
    let stem = |file: &PathBuf| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let query = query.trim();
    let names = || files.iter().map(stem).collect::<Vec<_>>().join(", ");
    if files.is_empty() {
        bail!("there are no decks (no .md files) in the deck folder");
    }
    if !query.is_empty() && query.chars().all(|c| c.is_ascii_digit()) {
        let wanted: Option<u32> = query.parse().ok();
        let numbered: Vec<&PathBuf> = files
            .iter()
            .filter(|f| wanted.is_some() && number_of(&stem(f)) == wanted)
            .collect();
        // Two decks of one number (while one replaces another): the one that leads
        // into that exercise.
        let declaring = || {
            numbered
                .iter()
                .copied()
                .find(|f| load(f).is_ok_and(|d| wanted.is_some_and(|n| d.exercises.contains(&n))))
        };
        return match numbered.as_slice() {
            [] => Err(anyhow!("there is no deck {query}; the decks are: {}", names())),
            [file] => Ok(file),
            [first, ..] => Ok(declaring().unwrap_or(first)),
        };
    }
    if let Some(file) = files.iter().find(|f| stem(f) == query) {
        return Ok(file);
    }
    let lower = query.to_lowercase();
    let matches: Vec<&PathBuf> = files
        .iter()
        .filter(|f| !lower.is_empty() && stem(f).to_lowercase().contains(&lower))
        .collect();
    match matches.as_slice() {
        [file] => Ok(file),
        [] => bail!(
            "there is no deck named like `{query}`; the decks are: {}",
            names()
        ),
        several => bail!(
            "`{query}` matches several decks: {}; be more precise",
            several.iter().map(|f| stem(f)).collect::<Vec<_>>().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deck(text: &str) -> Result<Deck, ParseError> {
        parse(Path::new("slides/07-test.md"), text)
    }

    const SMALL: &str = "# A deck\nWhat it is about.\n---\n## One\n\nBody one.\n\nNotes:\nSay one.\n---\n## Two\nBody two.\nDemo: echo hi\nNotes:\nSay two.\nMore.\n";

    #[test]
    fn a_small_deck() {
        let d = deck(SMALL).unwrap();
        assert_eq!(d.stem, "07-test");
        assert_eq!(d.number, Some(7));
        assert_eq!(d.title, "A deck");
        assert_eq!(d.summary, "What it is about.");
        assert_eq!(d.slides.len(), 2);
        assert_eq!(d.slides[0].title, "One");
        assert_eq!(d.slides[0].body, "Body one.");
        assert_eq!(d.slides[0].notes, "Say one.");
        assert_eq!(d.slides[0].demo, None);
        assert_eq!(d.slides[0].line, 4);
        assert_eq!(d.slides[1].body, "Body two.");
        assert_eq!(d.slides[1].demo.as_deref(), Some("echo hi"));
        assert_eq!(d.slides[1].notes, "Say two.\nMore.");
        assert_eq!(d.slides[1].line, 11);
    }

    #[test]
    fn crlf_and_trailing_whitespace_change_nothing() {
        let messy: String = SMALL.lines().map(|l| format!("{l}  \t\r\n")).collect();
        assert_eq!(deck(&messy).unwrap(), deck(SMALL).unwrap());
        let bom = format!("\u{feff}{SMALL}");
        assert_eq!(deck(&bom).unwrap(), deck(SMALL).unwrap());
    }

    #[test]
    fn a_rule_inside_a_fence_does_not_split() {
        let text = "# D\ns\n---\n## Fenced\n```\nabove\n---\nNotes:\nDemo: no\n```\n~~~~\n```\n---\n~~~~\nNotes:\nn\n---\n## Next\nx\n";
        let d = deck(text).unwrap();
        assert_eq!(d.slides.len(), 2);
        assert_eq!(
            d.slides[0].body,
            "```\nabove\n---\nNotes:\nDemo: no\n```\n~~~~\n```\n---\n~~~~"
        );
        assert_eq!(d.slides[0].demo, None);
        assert_eq!(d.slides[0].notes, "n");
        assert_eq!(d.slides[1].title, "Next");
    }

    #[test]
    fn a_longer_fence_is_closed_only_by_as_many_backticks() {
        let text = "# D\ns\n---\n## A\n````md\n```\n---\n```\n````\n---\n## B\n";
        let d = deck(text).unwrap();
        assert_eq!(d.slides.len(), 2);
        assert_eq!(d.slides[0].body, "````md\n```\n---\n```\n````");
    }

    #[test]
    fn notes_take_everything_to_the_end_of_the_slide() {
        let text =
            "# D\ns\n---\n## A\nbody\nNotes:\n\nfirst\nDemo: not a demo\n```\ncode\n```\n\n---\n## B\n";
        let s = &deck(text).unwrap().slides[0];
        assert_eq!(s.body, "body");
        assert_eq!(s.demo, None);
        assert_eq!(s.notes, "first\nDemo: not a demo\n```\ncode\n```");
    }

    #[test]
    fn a_slide_without_notes_or_body() {
        let d = deck("# D\ns\n---\n## Only a title\n---\n").unwrap();
        assert_eq!(d.slides.len(), 1);
        assert_eq!(d.slides[0].body, "");
        assert_eq!(d.slides[0].notes, "");
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = deck("Deck title\n---\n## A\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "slides/07-test.md:1: a deck starts with its title: `# Deck title`"
        );
        let e = deck("# D\ns\n---\n## A\nx\n---\n\nNo title here\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (8, "a slide starts with its title: `## Slide title`")
        );
        let e = deck("# D\ns\n---\n### A\n").unwrap_err();
        assert_eq!(e.line, 4);
        let e = deck("# D\nsummary, and no slides\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("`---`"), "{e}");
        let e = deck("# D\ns\n---\n## A\n```\nnever closed\n---\n## B\n").unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.message.contains("never closed"), "{e}");
        let e = deck("# D\ns\n---\n## A\nDemo:\n").unwrap_err();
        assert_eq!(e.line, 5);
        let e = deck("# D\ns\n---\n## A\nDemo: a\nDemo: b\n").unwrap_err();
        assert_eq!(e.line, 6);
        let e = deck("# D\ns\n---\n## A\n---\n---\n## C\n").unwrap_err();
        assert!(e.message.contains("empty slide"), "{e}");
        assert_eq!(e.line, 5);
        let e = deck("").unwrap_err();
        assert_eq!(e.line, 1);
        let e = deck("#   \n").unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn find_by_number_stem_or_part() {
        let files: Vec<PathBuf> = [
            "00-intro.md",
            "03-append-only-logs.md",
            "04-gossip.md",
            "10-logs-again.md",
        ]
        .iter()
        .map(|n| Path::new("/d").join(n))
        .collect();
        let stem =
            |r: anyhow::Result<&PathBuf>| r.unwrap().file_stem().unwrap().to_string_lossy().into_owned();
        assert_eq!(stem(find(&files, "3")), "03-append-only-logs");
        assert_eq!(stem(find(&files, "03")), "03-append-only-logs");
        assert_eq!(stem(find(&files, "0")), "00-intro");
        assert_eq!(stem(find(&files, "10")), "10-logs-again");
        assert_eq!(stem(find(&files, "03-append-only-logs")), "03-append-only-logs");
        assert_eq!(stem(find(&files, "APPEND")), "03-append-only-logs");
        let error = |query: &str| find(&files, query).unwrap_err().to_string();
        assert!(error("7").starts_with("there is no deck 7;"));
        assert!(error("logs").contains("matches several decks"));
        assert!(error("nope").contains("00-intro, 03-append-only-logs"));
        assert!(find(&files, "").is_err());
        assert!(find(&[], "1").is_err());
    }

    #[test]
    fn the_last_sentence_declares_the_exercises() {
        assert_eq!(declared_exercises("Logs. Leads into exercise 3."), [3]);
        assert_eq!(declared_exercises("Leads into exercises 2 and 3."), [2, 3]);
        assert_eq!(
            declared_exercises("Leads into exercises 8, 9 and 10."),
            [8, 9, 10]
        );
        assert!(declared_exercises("What we build.").is_empty());
        assert!(declared_exercises("Leads into the planned exercise 8.").is_empty());
        assert!(declared_exercises("Leads into exercise 3 and more.").is_empty());
        assert!(declared_exercises("Leads into exercise 3").is_empty());
    }

    #[test]
    fn an_exercise_finds_the_deck_that_declares_it() {
        let deck = |file: &str, summary: &str| {
            parse(Path::new(file), &format!("# T\n{summary}\n---\n## S\nx\n")).unwrap()
        };
        let decks = [
            deck("02-logs.md", "Logs. Leads into exercises 2 and 3."),
            deck("03-replicate.md", "Sync. Leads into exercise 3."),
            deck("07-old.md", "Old. Leads into the planned exercise 8."),
            deck("07-siblings.md", "Siblings. Leads into exercise 7."),
        ];
        let stem = |n| for_exercise(&decks, n).map(|d| d.stem.as_str());
        assert_eq!(stem(2), Some("02-logs"));
        assert_eq!(stem(3), Some("03-replicate"));
        assert_eq!(stem(7), Some("07-siblings"));
        assert_eq!(stem(8), None);
    }

    /// Every exercise of the course has its deck: the one numbered like it, declaring it.
    #[test]
    fn every_exercise_has_its_deck() {
        let dir = crate::service::root::default_root().join("slides");
        let files = deck_files(&dir).unwrap();
        let decks: Vec<Deck> = files.iter().map(|f| load(f).unwrap()).collect();
        for exercise in crate::course::COURSE {
            let deck = for_exercise(&decks, exercise.number)
                .unwrap_or_else(|| panic!("no deck declares exercise {}", exercise.number));
            assert_eq!(
                deck.number,
                Some(exercise.number),
                "{}: deck numbers equal exercise numbers",
                deck.stem
            );
            let found = find(&files, &exercise.number.to_string()).unwrap();
            assert_eq!(found.file_stem().unwrap().to_string_lossy(), deck.stem);
        }
        let intro = decks
            .iter()
            .find(|d| d.number == Some(0))
            .expect("an introduction, deck 00");
        assert!(
            intro.exercises.is_empty(),
            "the introduction leads into no one exercise"
        );
    }

    /// Every deck of the course parses, is a real talk, and helps its presenter.
    #[test]
    fn every_course_deck_parses_and_has_notes() {
        let dir = crate::service::root::default_root().join("slides");
        let files = deck_files(&dir).unwrap();
        assert!(
            files.len() >= 10,
            "expected the course's decks in {}",
            dir.display()
        );
        for file in &files {
            let deck = load(file).unwrap_or_else(|e| panic!("{e}"));
            let name = file.display();
            assert!(
                deck.number.is_some(),
                "{name}: the file name starts with the deck's number"
            );
            assert!(!deck.summary.is_empty(), "{name}: a deck has a summary line");
            assert!(
                deck.slides.len() >= 8,
                "{name}: {} slides; a deck has 8 at least",
                deck.slides.len()
            );
            for slide in &deck.slides {
                let at = format!("{name}:{}", slide.line);
                assert!(!slide.title.is_empty(), "{at}: the slide has no title");
                assert!(
                    !slide.body.is_empty() || slide.demo.is_some(),
                    "{at}: the slide shows nothing"
                );
                assert!(!slide.notes.is_empty(), "{at}: the slide has no speaker notes");
            }
        }
    }
}
