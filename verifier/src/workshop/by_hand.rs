//! A program fed by hand from the terminal (`run` on a terminal): what the learner
//! types goes to its stdin, what it prints comes back as it is printed.
//!
//! The terminal is read only while the program runs, and only whole lines that are
//! already there (the terminal is in line mode between prompts): a thread polls it
//! ten times a second and stops when asked, so the next line typed after the program
//! ended is the shell's again, not swallowed by a reader left behind.

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::process::{ChildStdin, ChildStdout};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// The two copying threads; [`Relay::stop`] ends them.
pub struct Relay {
    stop: Arc<AtomicBool>,
    input: Option<JoinHandle<()>>,
    output: Option<JoinHandle<()>>,
}

impl Relay {
    pub fn start(stdin: Option<ChildStdin>, stdout: Option<ChildStdout>) -> Relay {
        let stop = Arc::new(AtomicBool::new(false));
        let input = stdin.map(|to| {
            let stop = stop.clone();
            std::thread::spawn(move || typed_lines(to, &stop))
        });
        let output = stdout.map(|from| std::thread::spawn(move || copy_out(from)));
        Relay { stop, input, output }
    }

    /// Stops reading the terminal and waits for the program's last output (the
    /// program has ended, so its stdout reaches end-of-file).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(input) = self.input.take() {
            let _ = input.join();
        }
        if let Some(output) = self.output.take() {
            let _ = output.join();
        }
    }
}

/// Copies what the learner types to the program, until Ctrl-D (end of input), the
/// program closing its stdin, or `stop`.
fn typed_lines(mut to: ChildStdin, stop: &AtomicBool) {
    let terminal = std::io::stdin();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(terminal.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(100u16)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        }
        match nix::unistd::read(terminal.as_fd(), &mut buf) {
            // Ctrl-D: the program reads end-of-file (`to` is dropped).
            Ok(0) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).and_then(|()| to.flush()).is_err() {
                    return;
                }
            }
            Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {}
            Err(_) => return,
        }
    }
}

/// Shows the program's stdout as it comes.
fn copy_out(mut from: ChildStdout) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            return;
        }
        let mut out = std::io::stdout().lock();
        if out.write_all(&buf[..n]).and_then(|()| out.flush()).is_err() {
            return;
        }
    }
}
