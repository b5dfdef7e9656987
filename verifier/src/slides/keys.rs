//! Single keys for the terminal presenter: → or Space for the next slide, with no Enter.
//!
//! The terminal is put in raw mode (crossterm) for as long as a [`RawMode`] guard lives,
//! and restored when it is dropped: on `q`, on an error, on a panic that unwinds, and
//! by the runner's signal thread when SIGTERM or SIGHUP ends the verifier. Raw
//! mode also stops the terminal from turning `\n` into a new line at the left edge, so
//! the screens are written through [`CrLf`]. Without a terminal the presenter reads
//! commands line by line instead (see [`super::present`]).

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::io::{self, Write};

/// The terminal in raw mode until this is dropped, or until a signal (SIGTERM,
/// SIGHUP) ends the verifier: the runner's signal thread then restores it too.
pub struct RawMode {
    _on_signal: crate::runner::UndoGuard,
}

impl RawMode {
    pub fn enable() -> io::Result<RawMode> {
        crossterm::terminal::enable_raw_mode()?;
        let on_signal = crate::runner::undo_on_signal_exit(|| {
            let _ = crossterm::terminal::disable_raw_mode();
        });
        Ok(RawMode {
            _on_signal: on_signal,
        })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// Writes through to `W`, each `\n` as `\r\n`: what a terminal in raw mode needs.
pub struct CrLf<W: Write>(pub W);

impl<W: Write> Write for CrLf<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        for (i, byte) in buf.iter().enumerate() {
            if *byte == b'\n' {
                self.0.write_all(&buf[start..i])?;
                self.0.write_all(b"\r\n")?;
                start = i + 1;
            }
        }
        self.0.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// What a key means to the presenter: the command it stands for (the same words the
/// line-by-line presenter reads), or `None` for a key that only edits `digits` (a
/// slide number being typed) or means nothing.
pub fn command_for(key: KeyEvent, digits: &mut String) -> Option<String> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let control = key.modifiers.contains(KeyModifiers::CONTROL);
    let command = match key.code {
        KeyCode::Char('c' | 'd') if control => "q",
        KeyCode::Char(c) if c.is_ascii_digit() => {
            digits.push(c);
            return None;
        }
        KeyCode::Backspace if !digits.is_empty() => {
            digits.pop();
            return None;
        }
        KeyCode::Enter if !digits.is_empty() => return Some(std::mem::take(digits)),
        KeyCode::Enter | KeyCode::Right | KeyCode::Down | KeyCode::PageDown | KeyCode::Char(' ') => "n",
        KeyCode::Left | KeyCode::Up | KeyCode::PageUp | KeyCode::Backspace => "p",
        KeyCode::Home => "f",
        KeyCode::End => "l",
        KeyCode::Esc => "q",
        KeyCode::Char(c) => match c.to_ascii_lowercase() {
            c @ ('n' | 'p' | 'f' | 'l' | 's' | 'd' | 'q' | 'h' | '?') => {
                digits.clear();
                return Some(c.to_string());
            }
            _ => return None,
        },
        _ => return None,
    };
    digits.clear();
    Some(command.to_string())
}

/// Waits for the next key that means a command; `digits` shows what is being typed.
pub fn read_command(digits: &mut String, out: &mut impl Write) -> io::Result<String> {
    loop {
        if let Event::Key(key) = event::read()? {
            let before = digits.clone();
            if let Some(command) = command_for(key, digits) {
                return Ok(command);
            }
            if *digits != before {
                // Redraw the prompt with the number typed so far.
                write!(out, "\r\x1b[K> {digits}")?;
                out.flush()?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn keys_stand_for_the_presenters_commands() {
        let mut digits = String::new();
        let mut command = |k| command_for(k, &mut digits);
        assert_eq!(command(key(KeyCode::Right)).as_deref(), Some("n"));
        assert_eq!(command(key(KeyCode::Char(' '))).as_deref(), Some("n"));
        assert_eq!(command(key(KeyCode::Enter)).as_deref(), Some("n"));
        assert_eq!(command(key(KeyCode::Left)).as_deref(), Some("p"));
        assert_eq!(command(key(KeyCode::Home)).as_deref(), Some("f"));
        assert_eq!(command(key(KeyCode::End)).as_deref(), Some("l"));
        assert_eq!(command(key(KeyCode::Char('S'))).as_deref(), Some("s"));
        assert_eq!(command(key(KeyCode::Esc)).as_deref(), Some("q"));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(command(ctrl_c).as_deref(), Some("q"));
        assert_eq!(command(key(KeyCode::Char('x'))), None);
    }

    #[test]
    fn a_number_then_enter_jumps() {
        let mut digits = String::new();
        assert_eq!(command_for(key(KeyCode::Char('1')), &mut digits), None);
        assert_eq!(command_for(key(KeyCode::Char('2')), &mut digits), None);
        assert_eq!(command_for(key(KeyCode::Backspace), &mut digits), None);
        assert_eq!(command_for(key(KeyCode::Char('3')), &mut digits), None);
        assert_eq!(
            command_for(key(KeyCode::Enter), &mut digits).as_deref(),
            Some("13")
        );
        assert!(digits.is_empty());
        // Another key forgets a number half typed.
        command_for(key(KeyCode::Char('4')), &mut digits);
        assert_eq!(
            command_for(key(KeyCode::Right), &mut digits).as_deref(),
            Some("n")
        );
        assert!(digits.is_empty());
    }

    #[test]
    fn raw_mode_lines_end_with_a_carriage_return() {
        let mut out = CrLf(Vec::new());
        out.write_all(b"a\nb\n\nc").unwrap();
        assert_eq!(out.0, b"a\r\nb\r\n\r\nc");
    }
}
