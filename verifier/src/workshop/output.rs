//! Long output that behaves: shown through a pager on a terminal, written plainly
//! into a pipe, and never a panic when the reader goes away.
//!
//! The pager is `$PAGER` (split like a shell would), or `less -R` when it is unset.
//! `less` gets `LESS=FRX` unless the learner set `LESS`, as git does: one screen of
//! text is printed and the pager quits at once. When stdout is no terminal there is
//! no pager at all. A reader that stops early (`verifier solution 2 | head -1`) is
//! normal: the rest is dropped and the command still succeeds, as `cat` would.
//!
//! The pager is spawned as a child, as git does, rather than through the `pager` crate
//! (which forks this whole process into the pager's input: the shell with it) or
//! `minus` (a full-screen pager of its own, not the one the learner chose).

use std::io::{self, IsTerminal, Write};
use std::process::{Command, Stdio};

/// The variable that names the pager.
pub const PAGER_VAR: &str = "PAGER";

/// Writes `text` to stdout; a closed pipe ends the writing quietly. Any other error is
/// returned.
pub fn write_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    quiet_pipe(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// A broken pipe is no error for output: the reader has all it wanted.
pub fn quiet_pipe(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Shows `text`: through the pager when stdout is a terminal, else written as it is.
pub fn page(text: &str) -> io::Result<()> {
    if !io::stdout().is_terminal() {
        return write_stdout(text);
    }
    let Some(argv) = pager_command(std::env::var(PAGER_VAR).ok().as_deref()) else {
        return write_stdout(text);
    };
    match spawn_pager(&argv, text) {
        Ok(()) => Ok(()),
        // No such pager (or it would not start): the text is still shown.
        Err(_) => write_stdout(text),
    }
}

/// The pager's command words: `$PAGER` split like a shell would, `less -R` when it is
/// unset or empty, none when it is `cat` (paging switched off).
pub fn pager_command(pager: Option<&str>) -> Option<Vec<String>> {
    let words = match pager.map(str::trim).filter(|p| !p.is_empty()) {
        Some(pager) => shlex::split(pager).filter(|w| !w.is_empty())?,
        None => vec!["less".to_string(), "-R".to_string()],
    };
    (words[0] != "cat").then_some(words)
}

/// Runs the pager with `text` on its stdin and waits for the learner to leave it.
fn spawn_pager(argv: &[String], text: &str) -> io::Result<()> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty pager command"))?;
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::piped());
    if std::env::var_os("LESS").is_none() {
        command.env("LESS", "FRX");
    }
    let mut child = command.spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        // The learner may quit the pager before it has read everything.
        let _ = quiet_pipe(stdin.write_all(text.as_bytes()));
    }
    child.wait().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn less_unless_the_learner_names_another_pager() {
        let words = |w: &[&str]| Some(w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(pager_command(None), words(&["less", "-R"]));
        assert_eq!(pager_command(Some("  ")), words(&["less", "-R"]));
        assert_eq!(pager_command(Some("most -s")), words(&["most", "-s"]));
        assert_eq!(pager_command(Some("'my pager' -x")), words(&["my pager", "-x"]));
        assert_eq!(pager_command(Some("cat")), None);
        assert_eq!(pager_command(Some("'unbalanced")), None);
    }

    #[test]
    fn a_closed_pipe_is_no_error() {
        let broken = io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(quiet_pipe(Err(broken)).is_ok());
        let other = io::Error::from(io::ErrorKind::PermissionDenied);
        assert!(quiet_pipe(Err(other)).is_err());
    }
}
