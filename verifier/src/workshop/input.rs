//! Where the shell's commands come from: a line editor on a terminal (history, Tab
//! completion), or plain lines from a pipe or file (no prompt, nothing drawn), which is
//! how the shell is scripted and tested.
//!
//! Both also answer yes/no questions and tell a running `watch` when to stop: Ctrl-C,
//! and from a pipe also the next line or the end of input.

use super::completion::Completion;
use super::{Ask, interrupt};
use rustyline::Editor;
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use std::collections::VecDeque;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// What reading a command gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Text(String),
    /// Ctrl-C at the prompt.
    Interrupted,
    /// Ctrl-D, or the end of the input.
    End,
}

/// The source of commands.
pub enum Input {
    Terminal {
        editor: Box<Editor<Completion, FileHistory>>,
        history: PathBuf,
        current: Arc<AtomicU32>,
    },
    Script(Script),
}

/// Lines from a pipe, read on a thread so a `watch` can notice them without blocking.
pub struct Script {
    lines: mpsc::Receiver<String>,
    pending: VecDeque<String>,
    ended: bool,
}

impl Script {
    pub fn from_stdin() -> Script {
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Script {
            lines,
            pending: VecDeque::new(),
            ended: false,
        }
    }

    fn next(&mut self) -> Option<String> {
        if let Some(line) = self.pending.pop_front() {
            return Some(line);
        }
        if self.ended {
            return None;
        }
        let line = self.lines.recv().ok();
        self.ended = line.is_none();
        line
    }
}

impl Input {
    /// A line editor when stdin is a terminal (history in `history`), else plain lines.
    pub fn open(history: PathBuf, current: u32) -> Input {
        if !std::io::stdin().is_terminal() {
            return Input::Script(Script::from_stdin());
        }
        let config = Config::builder()
            .completion_type(CompletionType::List)
            .auto_add_history(false)
            .max_history_size(1000)
            .map(|b| b.build());
        let current = Arc::new(AtomicU32::new(current));
        let editor = config.and_then(Editor::with_config);
        match editor {
            Ok(mut editor) => {
                editor.set_helper(Some(Completion {
                    current: current.clone(),
                }));
                let _ = editor.load_history(&history);
                Input::Terminal {
                    editor: Box::new(editor),
                    history,
                    current,
                }
            }
            Err(e) => {
                eprintln!("(the line editor could not start: {e}; reading plain lines)");
                Input::Script(Script::from_stdin())
            }
        }
    }

    pub fn interactive(&self) -> bool {
        matches!(self, Input::Terminal { .. })
    }

    /// Tells completion which exercise is current.
    pub fn set_current(&mut self, number: u32) {
        if let Input::Terminal { current, .. } = self {
            current.store(number, Ordering::Relaxed);
        }
    }

    /// The next command line.
    pub fn read(&mut self, prompt: &str) -> Line {
        match self {
            Input::Script(script) => script.next().map_or(Line::End, Line::Text),
            Input::Terminal { editor, history, .. } => match editor.readline(prompt) {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = editor.add_history_entry(line.as_str());
                        if let Some(dir) = history.parent() {
                            let _ = std::fs::create_dir_all(dir);
                        }
                        let _ = editor.save_history(history);
                    }
                    Line::Text(line)
                }
                Err(ReadlineError::Interrupted) => Line::Interrupted,
                Err(ReadlineError::Eof) => Line::End,
                Err(e) => {
                    eprintln!("error: cannot read the terminal: {e}");
                    Line::End
                }
            },
        }
    }

    /// Whether a running `watch` should stop: Ctrl-C; from a pipe, also another line
    /// (which is then the next command) or the end of input. (On a terminal only Ctrl-C:
    /// polling a terminal for a line can report one that a read then waits for.)
    pub fn stop_requested(&mut self) -> bool {
        if interrupt::take() {
            return true;
        }
        match self {
            Input::Terminal { .. } => false,
            Input::Script(script) => {
                if script.ended || !script.pending.is_empty() {
                    return true;
                }
                match script.lines.recv_timeout(Duration::ZERO) {
                    Ok(line) => {
                        script.pending.push_back(line);
                        true
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => false,
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        script.ended = true;
                        true
                    }
                }
            }
        }
    }

    /// The input as plain lines, for the slide presenter (which reads lines itself).
    pub fn lines(&mut self) -> Box<dyn BufRead + '_> {
        match self {
            Input::Terminal { .. } => Box::new(std::io::stdin().lock()),
            Input::Script(script) => Box::new(std::io::BufReader::new(ScriptReader {
                script,
                rest: Vec::new(),
            })),
        }
    }

    /// `clear`: wipes a terminal's screen; from a pipe there is no screen to clear.
    pub fn clear_screen(&mut self) {
        if let Input::Terminal { editor, .. } = self {
            let _ = editor.clear_screen();
        }
    }

    /// How a learner stops a watch, for the message that starts it.
    pub fn how_to_stop(&self) -> &'static str {
        match self {
            Input::Terminal { .. } => "Ctrl-C stops",
            Input::Script(_) => "the end of input stops",
        }
    }
}

impl Ask for Input {
    fn confirm(&mut self, question: &str) -> bool {
        let answer = match self {
            Input::Script(script) => {
                println!("{question}");
                script.next()
            }
            Input::Terminal { editor, .. } => editor.readline(&format!("{question} ")).ok(),
        };
        answer.is_some_and(|a| is_yes(&a))
    }
}

/// `y` or `yes`, in any case.
pub fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}

/// Asks on stdin, for the subcommands (`verifier reset 2` without `--yes`).
pub struct StdinAsk;

impl Ask for StdinAsk {
    fn confirm(&mut self, question: &str) -> bool {
        use std::io::Write;
        match std::io::stdin().is_terminal() {
            true => print!("{question} "),
            false => println!("{question}"),
        }
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        match std::io::stdin().lock().read_line(&mut answer) {
            Ok(n) if n > 0 => is_yes(&answer),
            _ => false,
        }
    }
}

/// Reads a script's lines as bytes, one line per `read`, so that whoever reads it never
/// takes more lines than it uses: the rest stay for the shell.
struct ScriptReader<'a> {
    script: &'a mut Script,
    rest: Vec<u8>,
}

impl std::io::Read for ScriptReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.rest.is_empty() {
            match self.script.next() {
                Some(line) => self.rest = format!("{line}\n").into_bytes(),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.rest.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest.drain(..n);
        Ok(n)
    }
}
