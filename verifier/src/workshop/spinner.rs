//! A spinner on stderr while cargo builds, so a first build of several minutes does
//! not look like a hang: the phase, a turning mark and the seconds so far.
//!
//! It draws only when asked to (the shell asks when stderr is a terminal and input
//! is interactive); otherwise it is inert and prints nothing at all. A dozen lines by
//! hand, rather than a progress-bar crate, keep the dependency tree small.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// A running spinner; dropping it (or [`Spinner::stop`]) erases its line.
pub struct Spinner {
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    /// Starts spinning with `phase` (e.g. `Building ex02-append-only-logs`), or does
    /// nothing when `draw` is false.
    pub fn start(phase: &str, draw: bool) -> Spinner {
        let running = Arc::new(AtomicBool::new(draw));
        let thread = draw.then(|| {
            let running = running.clone();
            let phase = phase.to_string();
            thread::spawn(move || spin(&phase, &running))
        });
        Spinner { running, thread }
    }

    pub fn stop(self) {}
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn spin(phase: &str, running: &AtomicBool) {
    let started = Instant::now();
    let mut frame = 0;
    let mut stderr = std::io::stderr();
    while running.load(Ordering::SeqCst) {
        let seconds = started.elapsed().as_secs();
        let _ = write!(
            stderr,
            "\r\x1b[2K{} {phase} … {seconds} s",
            FRAMES[frame % FRAMES.len()]
        );
        let _ = stderr.flush();
        frame += 1;
        thread::sleep(Duration::from_millis(100));
    }
    let _ = write!(stderr, "\r\x1b[2K");
    let _ = stderr.flush();
}
