//! The text engine: Markdown as terminal text (problem texts, hints, help), wrapped to
//! the terminal's width by display width, and [`columns`], the one measure of how wide
//! a text is on a terminal, for everything that fits text to a width.
//!
//! Paragraphs are wrapped at spaces; headings are emphasised (bold on a terminal,
//! underlined with `=` or `-` in plain text); list items get a bullet or number and a
//! hanging indent; block quotes a bar; code blocks are kept verbatim, indented and never
//! wrapped; inline code keeps its backticks so it can be copied as it reads. Tables
//! become aligned columns. Plain text (no colour) has no control codes at all.
//!
//! Why one file over 500 lines: the block pass (paragraphs, lists, code, tables) and the
//! inline pass (emphasis, code spans, links) share one wrapping state and one width; in
//! two files they would only hand it back and forth. About a sixth of it is tests.

use pulldown_cmark::{Alignment, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// How to render: the width to wrap to and whether to use ANSI colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub width: usize,
    pub colour: bool,
}

impl Style {
    /// Plain text, `width` columns wide.
    pub fn plain(width: usize) -> Style {
        Style {
            width: width.clamp(30, 400),
            colour: false,
        }
    }

    /// For this process's stdout: the terminal's width (at most 100 columns, which
    /// reads better) and colours, when stdout is a terminal and `NO_COLOR` is unset;
    /// otherwise 80 columns of plain text.
    pub fn for_stdout() -> Style {
        use std::io::IsTerminal;
        if !std::io::stdout().is_terminal() {
            return Style::plain(80);
        }
        let width = terminal_size::terminal_size().map_or(80, |(w, _)| usize::from(w.0));
        Style {
            width: width.saturating_sub(1).clamp(30, 100),
            colour: std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// `text` in the ANSI style `code` (e.g. `1` bold, `32` green) when colours are on.
    pub fn paint(&self, code: &str, text: &str) -> String {
        match self.colour {
            true => format!("\x1b[{code}m{text}\x1b[0m"),
            false => text.to_string(),
        }
    }
}

/// Renders markdown for the terminal.
pub fn render(markdown: &str, style: Style) -> String {
    let mut renderer = Renderer::new(style);
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(markdown, options) {
        renderer.event(event);
    }
    renderer.finish()
}

/// How a piece of inline text looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Look {
    strong: bool,
    emphasis: bool,
    code: bool,
    link: bool,
}

impl Look {
    fn ansi(self) -> String {
        let mut codes = Vec::new();
        if self.strong {
            codes.push("1");
        }
        if self.emphasis {
            codes.push("3");
        }
        if self.code {
            codes.push("36");
        }
        if self.link {
            codes.push("4");
        }
        codes.join(";")
    }
}

/// A word: what wrapping never splits (text between spaces, or one code span).
#[derive(Debug, Clone, Default)]
struct Word {
    pieces: Vec<(String, Look)>,
}

impl Word {
    fn width(&self) -> usize {
        self.pieces.iter().map(|(text, _)| columns(text)).sum()
    }

    fn is_empty(&self) -> bool {
        self.pieces.iter().all(|(text, _)| text.is_empty())
    }

    fn push(&mut self, text: &str, look: Look) {
        match self.pieces.last_mut() {
            Some((last, last_look)) if *last_look == look => last.push_str(text),
            _ => self.pieces.push((text.to_string(), look)),
        }
    }

    fn show(&self, style: Style) -> String {
        self.pieces
            .iter()
            .map(|(text, look)| match look.ansi().as_str() {
                "" => text.clone(),
                codes => style.paint(codes, text),
            })
            .collect()
    }

    fn plain(&self) -> String {
        self.pieces.iter().map(|(text, _)| text.as_str()).collect()
    }
}

/// Inline text being collected: words, and forced line breaks between them.
#[derive(Debug, Default)]
struct Inline {
    words: Vec<Option<Word>>,
    current: Word,
}

impl Inline {
    /// Adds text, splitting at whitespace (unless `keep` says it is one unit).
    fn text(&mut self, text: &str, look: Look, keep: bool) {
        if keep {
            self.current.push(text, look);
            return;
        }
        let mut parts = text.split(char::is_whitespace).peekable();
        while let Some(part) = parts.next() {
            if !part.is_empty() {
                self.current.push(part, look);
            }
            if parts.peek().is_some() {
                self.space();
            }
        }
    }

    fn space(&mut self) {
        if !self.current.is_empty() {
            self.words.push(Some(std::mem::take(&mut self.current)));
        }
    }

    fn line_break(&mut self) {
        self.space();
        self.words.push(None);
    }

    fn take(&mut self) -> Vec<Option<Word>> {
        self.space();
        std::mem::take(&mut self.words)
    }

    fn is_empty(&self) -> bool {
        self.current.is_empty() && self.words.is_empty()
    }
}

/// A block that prefixes the lines inside it: a list item or a block quote.
#[derive(Debug)]
struct Container {
    /// The prefix of its first line (a bullet) and of the others (the hanging indent).
    first: String,
    rest: String,
    used: bool,
}

/// A list being rendered: the next number, if it is numbered.
#[derive(Debug)]
struct List {
    next: Option<u64>,
}

/// A table being collected: rows of cells, each cell as words.
#[derive(Debug, Default)]
struct Table {
    alignments: Vec<Alignment>,
    rows: Vec<Vec<Vec<Word>>>,
    head_rows: usize,
}

/// A cell's words as one unbreakable word (for the aligned layout).
fn joined(words: &[Word]) -> Word {
    let mut cell = Word::default();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            cell.push(" ", Look::default());
        }
        for (text, look) in &word.pieces {
            cell.push(text, *look);
        }
    }
    cell
}

struct Renderer {
    style: Style,
    out: Vec<String>,
    inline: Inline,
    look: Look,
    containers: Vec<Container>,
    lists: Vec<List>,
    heading: Option<HeadingLevel>,
    code: Option<String>,
    links: Vec<String>,
    table: Option<Table>,
    in_head: bool,
}

impl Renderer {
    fn new(style: Style) -> Renderer {
        Renderer {
            style,
            out: Vec::new(),
            inline: Inline::default(),
            look: Look::default(),
            containers: Vec::new(),
            lists: Vec::new(),
            heading: None,
            code: None,
            links: Vec::new(),
            table: None,
            in_head: false,
        }
    }

    fn event(&mut self, event: Event) {
        if let Some(code) = &mut self.code {
            match event {
                Event::Text(text) => code.push_str(&text),
                Event::End(TagEnd::CodeBlock) => self.end_code_block(),
                _ => {}
            }
            return;
        }
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.inline.text(&text, self.look, false),
            Event::Code(code) => {
                // Short code stays on one line; a long span may wrap at its spaces.
                let look = Look {
                    code: true,
                    ..self.look
                };
                let short = columns(&code) <= 30;
                self.inline.text(&format!("`{code}`"), look, short);
            }
            Event::InlineMath(text) | Event::DisplayMath(text) => self.inline.text(&text, self.look, true),
            Event::Html(html) | Event::InlineHtml(html) => self.inline.text(&html, self.look, false),
            Event::SoftBreak => self.inline.space(),
            Event::HardBreak => self.inline.line_break(),
            Event::Rule => {
                self.block_gap();
                let rule = "─".repeat(self.style.width.min(40));
                self.out.push(self.style.paint("2", &rule));
            }
            Event::TaskListMarker(done) => {
                self.inline
                    .text(if done { "[x]" } else { "[ ]" }, self.look, true)
            }
            Event::FootnoteReference(name) => self.inline.text(&format!("[{name}]"), self.look, true),
        }
    }

    fn start(&mut self, tag: Tag) {
        match tag {
            Tag::Paragraph => {
                self.flush();
                self.block_gap();
            }
            Tag::Heading { level, .. } => {
                self.flush();
                self.block_gap();
                self.heading = Some(level);
            }
            Tag::BlockQuote(_) => {
                self.flush();
                self.block_gap();
                self.containers.push(Container {
                    first: "│ ".into(),
                    rest: "│ ".into(),
                    used: false,
                });
            }
            Tag::CodeBlock(_) => {
                self.flush();
                self.block_gap();
                self.code = Some(String::new());
            }
            Tag::List(start) => {
                self.flush();
                if self.lists.is_empty() {
                    self.block_gap();
                }
                self.lists.push(List { next: start });
            }
            Tag::Item => {
                self.flush();
                let bullet = match self.lists.last_mut() {
                    Some(List { next: Some(n) }) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "• ".to_string(),
                };
                let indent = " ".repeat(columns(&bullet));
                self.containers.push(Container {
                    first: bullet,
                    rest: indent,
                    used: false,
                });
            }
            Tag::Emphasis => self.look.emphasis = true,
            Tag::Strong => self.look.strong = true,
            Tag::Strikethrough => {}
            Tag::Link { dest_url, .. } => {
                self.look.link = true;
                self.links.push(dest_url.to_string());
            }
            Tag::Image { dest_url, .. } => {
                self.inline.text("[image: ", self.look, true);
                self.links.push(dest_url.to_string());
            }
            Tag::Table(alignments) => {
                self.flush();
                self.block_gap();
                self.table = Some(Table {
                    alignments,
                    ..Table::default()
                });
            }
            Tag::TableHead => self.in_head = true,
            Tag::TableRow => {
                if let Some(table) = &mut self.table {
                    table.rows.push(Vec::new());
                }
            }
            Tag::TableCell => {
                if let Some(table) = &mut self.table
                    && self.in_head
                    && table.rows.is_empty()
                {
                    table.rows.push(Vec::new());
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.flush(),
            TagEnd::Heading(_) => self.end_heading(),
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
            }
            TagEnd::Item => {
                self.flush();
                self.containers.pop();
            }
            TagEnd::Emphasis => self.look.emphasis = false,
            TagEnd::Strong => self.look.strong = false,
            TagEnd::Link => {
                self.look.link = false;
                if let Some(url) = self.links.pop() {
                    let text = self.inline.current.plain();
                    if !url.starts_with('#') && text != url {
                        self.inline.text(&format!(" ({url})"), self.look, false);
                    }
                }
            }
            TagEnd::Image => {
                self.links.pop();
                self.inline.text("]", self.look, true);
            }
            TagEnd::TableCell => {
                let words: Vec<Word> = self.inline.take().into_iter().flatten().collect();
                if let Some(row) = self.table.as_mut().and_then(|t| t.rows.last_mut()) {
                    row.push(words);
                }
            }
            TagEnd::TableHead => {
                self.in_head = false;
                if let Some(table) = &mut self.table {
                    table.head_rows = table.rows.len();
                }
            }
            TagEnd::Table => self.end_table(),
            _ => {}
        }
    }

    /// A blank line before a block, except at the very start and inside list items
    /// (lists stay compact).
    fn block_gap(&mut self) {
        let in_item = !self.lists.is_empty();
        if !in_item && self.out.last().is_some_and(|l| !l.is_empty()) {
            self.out.push(String::new());
        }
    }

    /// The prefix for the next line: each container's bullet on its first line, its
    /// hanging indent after that.
    fn prefix(&mut self) -> String {
        let mut prefix = String::new();
        for container in &mut self.containers {
            prefix.push_str(if container.used {
                &container.rest
            } else {
                &container.first
            });
            container.used = true;
        }
        prefix
    }

    /// Wraps the collected inline text into lines.
    fn flush(&mut self) {
        if self.inline.is_empty() {
            return;
        }
        let words = self.inline.take();
        let mut line = String::new();
        let mut used = 0;
        let mut started = false;
        for word in words {
            let Some(word) = word else {
                self.emit(std::mem::take(&mut line));
                used = 0;
                started = false;
                continue;
            };
            let width = word.width();
            let room = self.style.width.saturating_sub(self.prefix_width());
            if started && used + 1 + width > room {
                self.emit(std::mem::take(&mut line));
                used = 0;
                started = false;
            }
            if started {
                line.push(' ');
                used += 1;
            }
            line.push_str(&word.show(self.style));
            used += width;
            started = true;
        }
        if started {
            self.emit(line);
        }
    }

    fn prefix_width(&self) -> usize {
        self.containers
            .iter()
            .map(|c| columns(if c.used { &c.rest } else { &c.first }))
            .sum()
    }

    fn emit(&mut self, line: String) {
        let prefix = self.prefix();
        self.out.push(format!("{prefix}{line}").trim_end().to_string());
    }

    fn end_heading(&mut self) {
        let level = self.heading.take();
        let words: Vec<Word> = self.inline.take().into_iter().flatten().collect();
        let text = words.iter().map(Word::plain).collect::<Vec<_>>().join(" ");
        let prefix = self.prefix();
        if self.style.colour {
            let code = match level {
                Some(HeadingLevel::H1) => "1;4",
                Some(HeadingLevel::H2) => "1;33",
                _ => "1",
            };
            self.out
                .push(format!("{prefix}{}", self.style.paint(code, &text)));
            return;
        }
        self.out.push(format!("{prefix}{text}"));
        let underline = match level {
            Some(HeadingLevel::H1) => Some('='),
            Some(HeadingLevel::H2) => Some('-'),
            _ => None,
        };
        if let Some(mark) = underline {
            let width = columns(&text).min(self.style.width);
            self.out
                .push(format!("{prefix}{}", mark.to_string().repeat(width)));
        }
    }

    fn end_code_block(&mut self) {
        let code = self.code.take().unwrap_or_default();
        for line in code.trim_end_matches('\n').lines() {
            let prefix = self.prefix();
            let shown = match line.is_empty() {
                true => String::new(),
                false => format!("    {}", self.style.paint("36", line)),
            };
            self.out.push(format!("{prefix}{shown}").trim_end().to_string());
        }
    }

    fn end_table(&mut self) {
        let Some(table) = self.table.take() else {
            return;
        };
        let rows: Vec<Vec<Word>> = table
            .rows
            .iter()
            .map(|row| row.iter().map(|c| joined(c)).collect())
            .collect();
        let columns_count = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; columns_count];
        for row in &rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.width());
            }
        }
        let total: usize = 2 + widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        if total > self.style.width.saturating_sub(self.prefix_width()) {
            self.narrow_table(&table);
            return;
        }
        for (r, row) in rows.iter().enumerate() {
            let mut line = String::from("  ");
            for (i, width) in widths.iter().enumerate() {
                let cell = row.get(i).cloned().unwrap_or_default();
                let pad = width.saturating_sub(cell.width());
                let shown = match r < table.head_rows {
                    true => self.style.paint("1", &cell.plain()),
                    false => cell.show(self.style),
                };
                let right = table.alignments.get(i) == Some(&Alignment::Right);
                match right {
                    true => line.push_str(&format!("{}{shown}", " ".repeat(pad))),
                    false => line.push_str(&format!("{shown}{}", " ".repeat(pad))),
                }
                if i + 1 < widths.len() {
                    line.push_str("  ");
                }
            }
            let prefix = self.prefix();
            self.out.push(format!("{prefix}{}", line.trim_end()));
            if r + 1 == table.head_rows {
                let rule = format!("  {}", "─".repeat(total - 2));
                self.out.push(format!("{prefix}{}", self.style.paint("2", &rule)));
            }
        }
    }

    /// A table too wide for the terminal: one block per row, its first cell as the
    /// title and each other cell as `heading: value`, wrapped.
    fn narrow_table(&mut self, table: &Table) {
        let head = table
            .rows
            .get(..table.head_rows)
            .and_then(|h| h.last())
            .cloned()
            .unwrap_or_default();
        for (r, row) in table.rows.iter().enumerate().skip(table.head_rows) {
            if r > table.head_rows {
                self.out.push(String::new());
            }
            let title = row.first().map(|c| joined(c)).unwrap_or_default();
            let line = format!("  {}", title.show(self.style));
            let prefix = self.prefix();
            self.out.push(format!("{prefix}{line}"));
            for (i, cell) in row.iter().enumerate().skip(1) {
                let mut words = Vec::new();
                if let Some(heading) = head.get(i) {
                    let mut label = joined(heading);
                    label.push(":", Look::default());
                    label.pieces = label
                        .pieces
                        .into_iter()
                        .map(|(t, l)| (t, Look { emphasis: true, ..l }))
                        .collect();
                    words.push(Some(label));
                }
                words.extend(cell.iter().cloned().map(Some));
                self.containers.push(Container {
                    first: "    ".into(),
                    rest: "      ".into(),
                    used: false,
                });
                self.inline.words = words;
                self.flush();
                self.containers.pop();
            }
        }
    }

    fn finish(mut self) -> String {
        self.flush();
        while self.out.last().is_some_and(|l| l.is_empty()) {
            self.out.pop();
        }
        let mut text = self.out.join("\n");
        text.push('\n');
        text
    }
}

/// The columns a text takes on a terminal: its display width (a CJK character takes
/// two, a combining accent none), not counting ANSI colour codes.
pub fn columns(text: &str) -> usize {
    use unicode_width::UnicodeWidthStr;
    let mut count = 0;
    let mut rest = text;
    while let Some(start) = rest.find('\x1b') {
        count += rest[..start].width();
        rest = match rest[start..].find('m') {
            Some(end) => &rest[start + end + 1..],
            None => "",
        };
    }
    count + rest.width()
}

/// Escapes text for HTML content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(markdown: &str, width: usize) -> String {
        render(markdown, Style::plain(width))
    }

    #[test]
    fn counts_display_columns_not_characters() {
        assert_eq!(columns("abc"), 3);
        assert_eq!(columns("日本語"), 6, "wide characters take two columns");
        assert_eq!(columns("e\u{301}te\u{301}"), 3, "combining accents take none");
        assert_eq!(columns("\x1b[1mbold\x1b[0m 日"), 7, "colour codes take none");
    }

    #[test]
    fn wraps_wide_and_combining_text_by_its_display_width() {
        let text = "日本語の文 日本語の文 日本語の文 e\u{301}te\u{301} e\u{301}te\u{301}";
        let shown = plain(text, 30);
        for line in shown.lines() {
            assert!(columns(line) <= 30, "{line:?} is {} columns", columns(line));
        }
        assert_eq!(shown.lines().next(), Some("日本語の文 日本語の文"));
    }

    #[test]
    fn wraps_paragraphs_to_the_width() {
        let text = plain(
            "one two three four five six seven eight nine ten eleven twelve",
            30,
        );
        for line in text.lines() {
            assert!(line.len() <= 30, "{line:?}");
        }
        assert_eq!(text.lines().count(), 3);
    }

    #[test]
    fn underlines_headings_in_plain_text() {
        let text = plain(
            "# 02 · Append-only logs\n\nIntro.\n\n## What you write\n\nMore.",
            80,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "02 · Append-only logs");
        assert_eq!(lines[1], "=====================");
        assert_eq!(lines[5], "What you write");
        assert_eq!(lines[6], "--------------");
    }

    #[test]
    fn keeps_code_blocks_verbatim_and_unwrapped() {
        let long = "x".repeat(120);
        let text = plain(&format!("Intro.\n\n```\nkey   = peer | 0x00\n{long}\n```\n"), 40);
        assert!(text.contains("    key   = peer | 0x00"));
        assert!(text.contains(&format!("    {long}")));
    }

    #[test]
    fn keeps_inline_code_and_indents_lists() {
        let text = plain(
            "- `append` takes one or more entries and appends them in order to the log of this database.\n- `read` prints.",
            40,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("• `append` takes"), "{text}");
        assert!(lines[1].starts_with("  "), "{text}");
        assert!(lines.iter().any(|l| l.starts_with("• `read` prints.")), "{text}");
    }

    #[test]
    fn numbers_ordered_lists_and_quotes_with_a_bar() {
        let text = plain("1. first\n2. second\n\n> **Bob:** hello", 40);
        assert!(text.contains("1. first\n2. second"), "{text}");
        assert!(text.contains("│ Bob: hello"), "{text}");
    }

    #[test]
    fn aligns_tables() {
        let text = plain(
            "| program | usage |\n|---|---|\n| `append` | `append ENTRY...` |\n",
            80,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "  program   usage");
        assert!(lines[1].starts_with("  ───"));
        assert_eq!(lines[2], "  `append`  `append ENTRY...`");
    }

    #[test]
    fn plain_text_has_no_control_codes_and_colour_does() {
        let markdown = "# Title\n\nSome **bold** and `code`.";
        assert!(!plain(markdown, 80).contains('\x1b'));
        let coloured = render(
            markdown,
            Style {
                width: 80,
                colour: true,
            },
        );
        assert!(coloured.contains("\x1b[1m"));
        assert_eq!(
            columns(coloured.lines().last().unwrap_or_default()),
            "Some bold and `code`.".len()
        );
    }

    #[test]
    fn puts_a_table_too_wide_for_the_terminal_in_blocks() {
        let text = plain(
            "| program | usage | prints |\n|---|---|---|\n| `append` | `append ENTRY...` | one record per entry appended to the log of this database |\n| `read` | `read` | the log |\n",
            40,
        );
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
        assert!(
            text.starts_with("  `append`\n    usage: `append ENTRY...`\n    prints: one record per entry"),
            "{text}"
        );
        assert!(
            text.contains("\n\n  `read`\n    usage: `read`\n    prints: the log"),
            "{text}"
        );
    }

    #[test]
    fn shows_link_targets() {
        let text = plain("See [the docs](https://docs.rs/sled).", 80);
        assert_eq!(text.trim(), "See the docs (https://docs.rs/sled).");
    }
}
