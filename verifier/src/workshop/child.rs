//! `verify` in the shell runs as a child process, `verifier verify N`, so that Ctrl-C
//! stops it: the child is in the shell's process group (a terminal's Ctrl-C reaches
//! it), and the shell also sends it SIGINT itself. The child then kills every program
//! it started and exits; if it has not within a second and a half, it is killed.
//!
//! Its stdout passes through the shell line by line, in the shell's words: a command
//! line `cargo run -- verify 1` reads `verify 1` there, and the `Try:` advice is
//! wrapped to the terminal. Its stderr (build progress) goes straight to the terminal.

use super::{Workshop, interrupt};
use crate::course::Exercise;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a stopped verification may take to clean up before it is killed.
pub const GRACE: Duration = Duration::from_millis(1500);

/// How a verification in a child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    Passed,
    /// A check failed, or the code does not compile.
    Failed,
    /// A usage problem or a problem of the verifier itself.
    Error,
    /// Ctrl-C stopped it.
    Stopped,
}

/// Runs `verifier verify N ARGS…` and shows its report; Ctrl-C stops it.
pub fn verify(workshop: &Workshop, exercise: &Exercise, args: &[String]) -> Ran {
    let exe = match own_program() {
        Ok(exe) => exe,
        Err(e) => {
            println!("error: cannot find the verifier's own program: {e}");
            return Ran::Error;
        }
    };
    let mut child = match Command::new(exe)
        .arg("verify")
        .arg(exercise.number.to_string())
        .args(args)
        // The course is found from the current directory first: this one's.
        .current_dir(&workshop.root)
        .env("REPLICATE_ROOT", &workshop.root)
        .env("REPLICATE_STATE_DIR", &workshop.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            println!("error: cannot start the verification: {e}");
            return Ran::Error;
        }
    };
    let lines = match child.stdout.take() {
        Some(stdout) => lines_of(stdout),
        None => mpsc::channel().1,
    };
    let width = workshop.style.width;
    let show = |line: String| {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(in_shell_words(&line, width).as_bytes());
        let _ = out.flush();
    };
    let mut stopped_at: Option<Instant> = None;
    let status = loop {
        match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => show(line),
            Err(mpsc::RecvTimeoutError::Timeout | mpsc::RecvTimeoutError::Disconnected) => {}
        }
        // Ctrl-C first: a terminal's Ctrl-C may have ended the child already.
        if stopped_at.is_none() && interrupt::take() {
            stopped_at = Some(Instant::now());
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGINT);
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if stopped_at.is_some_and(|at| at.elapsed() > GRACE) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
    };
    // A program the verification started just as it was stopped may have escaped its
    // clean-up; the shell adopted it (a subreaper): it ends here.
    crate::runner::kill_orphans();
    // What it printed last, without waiting on a pipe someone else may hold.
    let deadline = Instant::now() + Duration::from_millis(300);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) => show(line),
            Err(_) => break,
        }
    }
    // 130: ended by SIGINT (128 + 2) that reached it and not us.
    if stopped_at.is_some() || status.and_then(|s| s.code()) == Some(130) {
        println!("Stopped (Ctrl-C): the verification and every program it started have ended.");
        return Ran::Stopped;
    }
    match status.and_then(|s| s.code()) {
        Some(0) => Ran::Passed,
        Some(1) => Ran::Failed,
        _ => Ran::Error,
    }
}

/// This verifier's own program. Rebuilt while the shell runs (`cargo build` in another
/// terminal), the old file is gone: the new one at the same path is used.
/// Runs `verifier room ARGS…` with the terminal, until it ends (Ctrl-C stops a peer).
pub fn room(workshop: &Workshop, args: &[String]) {
    let started = own_program().and_then(|exe| {
        Command::new(exe)
            .arg("room")
            .args(args)
            .current_dir(&workshop.root)
            .env("REPLICATE_ROOT", &workshop.root)
            .env("REPLICATE_STATE_DIR", &workshop.dir)
            .status()
    });
    if let Err(e) = started {
        println!("error: cannot start `room`: {e}");
    }
}

fn own_program() -> std::io::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let text = exe.to_string_lossy();
    match text.strip_suffix(" (deleted)") {
        Some(path) => Ok(path.into()),
        None => Ok(exe),
    }
}

/// Lines of a child's stdout, as they come, read on a thread.
fn lines_of(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&line).into_owned();
            line.clear();
            if sender.send(text).is_err() {
                break;
            }
        }
    });
    lines
}

/// A line of the verifier's output as the shell says it: `cargo run -- ` dropped from
/// command lines, and `Try:` advice wrapped to `width` columns.
pub fn in_shell_words(line: &str, width: usize) -> String {
    let line = shell_commands(line);
    match line.strip_prefix("Try: ") {
        Some(advice) => wrap(advice.trim_end(), "Try: ", "     ", width),
        None => line,
    }
}

/// `cargo run -- verify 1` becomes `verify 1`: the shell's command of the same name.
/// `cargo run -- hint 3` becomes `hint`, since the shell's `hint` takes a level, not an
/// exercise (it acts on the current one).
pub fn shell_commands(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("cargo run -- ") {
        out.push_str(&rest[..at]);
        rest = &rest[at + "cargo run -- ".len()..];
        if let Some(after) = rest.strip_prefix("hint ") {
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 {
                out.push_str("hint");
                rest = &after[digits..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `text` wrapped at spaces to `width` columns, the first line behind `first`, the
/// others behind `rest`; a word longer than a line stays whole.
pub fn wrap(text: &str, first: &str, rest: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = crate::text::columns(&line) + 1 + crate::text::columns(word);
        if !empty && len > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_read_as_the_shell_says_them() {
        assert_eq!(
            shell_commands("Seed: 7 (replay the same run: cargo run -- verify 3 --seed 7)"),
            "Seed: 7 (replay the same run: verify 3 --seed 7)"
        );
        assert_eq!(
            shell_commands("Well done! Next: `cargo run -- print 2` (append-only logs)."),
            "Well done! Next: `print 2` (append-only logs)."
        );
        assert_eq!(
            shell_commands("Stuck? `cargo run -- hint 3` gives a nudge; `--level 2` says more."),
            "Stuck? `hint` gives a nudge; `--level 2` says more."
        );
        assert_eq!(shell_commands("$ cargo run -- verify 3\n"), "$ verify 3\n");
        assert_eq!(shell_commands("cargo run -- hint x"), "hint x");
    }

    #[test]
    fn try_lines_are_wrapped_with_a_hanging_indent() {
        let advice =
            "Try: make `get` print the value stored by the last `put` of that key, then run it again";
        let wrapped = in_shell_words(advice, 40);
        insta::assert_snapshot!(wrapped, @r"
        Try: make `get` print the value stored
             by the last `put` of that key, then
             run it again
        ");
        assert!(wrapped.lines().all(|l| l.chars().count() <= 40));
        assert_eq!(in_shell_words("Other line\n", 10), "Other line\n");
    }
}
