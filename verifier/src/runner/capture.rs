//! Output capture: each pipe is read on a thread, at most a cap kept; a program that
//! writes more raises the flood flag and is stopped.

use super::lines::{Flood, Lines, Next, without_newline};
use super::{Ending, OutputStream};
use std::io::Read;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Reads one pipe on a thread, keeping at most `cap` bytes and raising the flood
/// flag (with the stream's name) when the program writes more.
pub(super) struct Capture {
    kept: Arc<Mutex<Vec<u8>>>,
    done: Option<mpsc::Receiver<()>>,
}

/// How long to wait for a pipe to close once the group is dead. A process that
/// escaped the group could hold it open forever; then what was read so far is kept.
const DRAIN_GRACE: Duration = Duration::from_millis(500);

impl Capture {
    pub(super) fn start<R: Read + Send + 'static>(
        pipe: R,
        cap: usize,
        stream: OutputStream,
        flood: Flood,
    ) -> Capture {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let (sender, done) = mpsc::channel();
        let shared = kept.clone();
        thread::spawn(move || {
            read_capped(pipe, cap, &shared, || flood.raise(Ending::Flooded(cap, stream)));
            let _ = sender.send(());
        });
        Capture {
            kept,
            done: Some(done),
        }
    }

    pub(super) fn empty() -> Capture {
        Capture {
            kept: Arc::default(),
            done: None,
        }
    }

    pub(super) fn finish(self) -> Vec<u8> {
        if let Some(done) = self.done {
            let _ = done.recv_timeout(DRAIN_GRACE);
        }
        self.kept.lock().map(|kept| kept.clone()).unwrap_or_default()
    }
}

fn read_capped<R: Read>(mut pipe: R, cap: usize, kept: &Mutex<Vec<u8>>, flooded: impl Fn()) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let Ok(mut kept) = kept.lock() else { return };
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
                if n > room {
                    flooded();
                }
            }
        }
    }
}

/// Copies lines from a pipe to our stderr, each behind `prefix`, until end-of-file
/// or a line too long (which stops the copy: the program's next write fails).
pub(super) fn forward_lines<R: Read>(pipe: R, prefix: &str, flood: Flood) {
    let mut lines = Lines::new(pipe).telling(flood, OutputStream::Stderr);
    while let Next::Line(line) = lines.next_line() {
        let text = String::from_utf8_lossy(without_newline(line));
        eprintln!("{prefix}{}", text.trim_end_matches('\r'));
    }
}
