//! A spinner on stderr while cargo builds, so a first build of several minutes does
//! not look like a hang: the phase, a turning mark and the seconds so far.
//!
//! It draws only when asked to (the shell asks when stderr is a terminal and input
//! is interactive); otherwise it is inert and prints nothing at all. A dozen lines by
//! hand, rather than a progress-bar crate, keep the dependency tree small.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// A running spinner; dropping it (or [`Spinner::stop`]) erases its line.
pub struct Spinner {
    running: Arc<AtomicBool>,
    phase: Arc<Mutex<String>>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    /// Starts spinning with `phase` (e.g. `Building ex02-append-only-logs`), or does
    /// nothing when `draw` is false.
    pub fn start(phase: &str, draw: bool) -> Spinner {
        let running = Arc::new(AtomicBool::new(draw));
        let phase = Arc::new(Mutex::new(phase.to_string()));
        let thread = draw.then(|| {
            let running = running.clone();
            let phase = phase.clone();
            thread::spawn(move || spin(&phase, &running))
        });
        Spinner {
            running,
            phase,
            thread,
        }
    }

    /// Replaces the text beside the turning mark (e.g. how far a build has come).
    pub fn set_message(&self, message: &str) {
        if let Ok(mut phase) = self.phase.lock() {
            *phase = message.to_string();
        }
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

fn spin(phase: &Mutex<String>, running: &AtomicBool) {
    let started = Instant::now();
    let mut frame = 0;
    let mut stderr = std::io::stderr();
    while running.load(Ordering::SeqCst) {
        let seconds = started.elapsed().as_secs();
        let phase = phase.lock().map(|p| p.clone()).unwrap_or_default();
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
