//! Reading a program's output line by line, with a cap on a line.
//!
//! A line is only a line once its `\n` arrives: a reader that waits for it keeps
//! everything before it, so a program that prints hundreds of MiB without a newline
//! would grow the verifier by as much. [`Lines`] keeps at most [`MAX_LINE`] bytes of a
//! line; a longer one ends the reading with [`Next::TooLong`] (and, for a program's
//! own stdout, the run's ending says so), never memory. Every line the verifier reads
//! from a program or through a relay goes through here.

use super::{Ending, OutputStream};
use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};

/// The longest line the verifier reads from a program (its `\n` not counted).
pub const MAX_LINE: usize = 1 << 20;

/// A program's output, read line by line, no line longer than a cap.
pub struct Lines<R> {
    reader: BufReader<R>,
    line: Vec<u8>,
    cap: usize,
    /// Where a line too long is told, as the ending of the program that printed it.
    flood: Option<(Flood, OutputStream)>,
    ended: bool,
}

/// What [`Lines::next_line`] read.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A line, with its `\n` (the last line of a stream may have none).
    Line(&'a [u8]),
    /// The end of the stream (or an error reading it).
    End,
    /// A line longer than the cap (in bytes) began: nothing more is read.
    TooLong(usize),
}

/// How [`Lines::each`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The stream ended.
    End,
    /// The callback said stop.
    Stopped,
    /// A line longer than the cap (in bytes) began.
    TooLong(usize),
}

impl<R: Read> Lines<R> {
    /// Lines of `source`, each at most [`MAX_LINE`] bytes.
    pub fn new(source: R) -> Lines<R> {
        Lines::with_cap(source, MAX_LINE)
    }

    /// Lines of `source`, each at most `cap` bytes.
    pub fn with_cap(source: R, cap: usize) -> Lines<R> {
        Lines {
            reader: BufReader::new(source),
            line: Vec::new(),
            cap,
            flood: None,
            ended: false,
        }
    }

    /// A line too long also becomes the ending of the program whose `stream` this is.
    pub(super) fn telling(mut self, flood: Flood, stream: OutputStream) -> Lines<R> {
        self.flood = Some((flood, stream));
        self
    }

    /// The next line. After [`Next::End`] or [`Next::TooLong`] it is always `End`.
    pub fn next_line(&mut self) -> Next<'_> {
        if self.ended {
            return Next::End;
        }
        self.line.clear();
        let limit = self.cap as u64 + 1;
        match (&mut self.reader).take(limit).read_until(b'\n', &mut self.line) {
            Ok(0) | Err(_) => {
                self.ended = true;
                Next::End
            }
            Ok(_) if self.line.len() > self.cap && !self.line.ends_with(b"\n") => {
                self.ended = true;
                self.line = Vec::new();
                if let Some((flood, stream)) = &self.flood {
                    flood.raise(Ending::LineTooLong(self.cap, *stream));
                }
                Next::TooLong(self.cap)
            }
            Ok(_) => Next::Line(&self.line),
        }
    }

    /// Hands each line, without its `\n`, to `on_line` until the stream ends, a line
    /// is too long, or `on_line` returns false.
    pub fn each(&mut self, mut on_line: impl FnMut(&[u8]) -> bool) -> Stop {
        loop {
            match self.next_line() {
                Next::End => return Stop::End,
                Next::TooLong(cap) => return Stop::TooLong(cap),
                Next::Line(line) => {
                    if !on_line(without_newline(line)) {
                        return Stop::Stopped;
                    }
                }
            }
        }
    }
}

/// The bytes after the lines read so far, as they come (what was buffered first).
impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(buf)
    }
}

/// A line without its `\n` (and a `\r` before it is kept: it is the program's).
pub fn without_newline(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// The words for a line too long: "printed a line of more than 1 MiB without a newline".
pub fn too_long(cap: usize) -> String {
    format!(
        "printed a line of more than {} without a newline",
        super::bytes(cap)
    )
}

/// The flood flag shared by a program's captures and line readers: how the program
/// overflowed what the verifier reads (too much output, a line too long). The first
/// to overflow wins.
#[derive(Debug, Clone, Default)]
pub(super) struct Flood(Arc<Mutex<Option<Ending>>>);

impl Flood {
    pub(super) fn raise(&self, ending: Ending) {
        if let Ok(mut flooded) = self.0.lock() {
            flooded.get_or_insert(ending);
        }
    }

    pub(super) fn ending(&self) -> Option<Ending> {
        self.0.lock().ok().and_then(|flooded| *flooded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_up_to_the_cap_and_stops_at_a_longer_one() {
        let mut input = b"one\n".to_vec();
        input.extend(vec![b'x'; 8]);
        input.push(b'\n');
        input.extend(vec![b'y'; 9]);
        input.extend(b"\nnever read\n");
        let mut lines = Lines::with_cap(&input[..], 8);
        assert_eq!(lines.next_line(), Next::Line(b"one\n"));
        assert_eq!(lines.next_line(), Next::Line(b"xxxxxxxx\n"));
        assert_eq!(lines.next_line(), Next::TooLong(8));
        assert_eq!(lines.next_line(), Next::End);
    }

    #[test]
    fn the_last_line_may_lack_its_newline() {
        let mut seen = Vec::new();
        let stop = Lines::new(&b"a\nb"[..]).each(|line| {
            seen.push(line.to_vec());
            true
        });
        assert_eq!(stop, Stop::End);
        assert_eq!(seen, [b"a".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn an_endless_line_is_not_kept_in_memory() {
        // Far more than the cap, never a newline: the reader stops at cap + 1 bytes.
        let endless = std::io::repeat(b'z').take(64 << 20);
        let mut lines = Lines::with_cap(endless, 1 << 10);
        assert_eq!(lines.next_line(), Next::TooLong(1 << 10));
        assert_eq!(
            too_long(MAX_LINE),
            "printed a line of more than 1 MiB without a newline"
        );
    }

    #[test]
    fn a_line_too_long_becomes_the_programs_ending() {
        let flood = Flood::default();
        let mut lines = Lines::with_cap(&b"0123456789"[..], 4).telling(flood.clone(), OutputStream::Stdout);
        assert_eq!(lines.each(|_| true), Stop::TooLong(4));
        assert_eq!(flood.ending(), Some(Ending::LineTooLong(4, OutputStream::Stdout)));
    }
}
