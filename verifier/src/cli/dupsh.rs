//! `verifier dupsh CMD1 CMD2`: wire two commands into each other, for trying a
//! replication protocol by hand.
//!
//! A's stdout feeds B's stdin and B's stdout feeds A's stdin. Their stderr comes through
//! with an `A| ` or `B| ` prefix. With `--transcript`, every message is shown as it
//! crosses, decoded and with ids redacted. Unlike the original dupsh, the exit status
//! tells what happened: A's code if it failed, else B's (a signal is 128 + its number,
//! a time-out 124).

use super::parse_seconds;
use crate::course::replication::wire;
use crate::harness::duplex::{self, Event, Fault, Mode};
use crate::harness::redact::Redactor;
use crate::runner::{Ending, Invocation, Limits, Stderr};
use clap::Args;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct DupshArgs {
    /// The first command (A), e.g. "target/debug/replicate a.db" (a line with shell syntax runs in `sh -c`).
    a: String,
    /// The second command (B).
    b: String,
    /// Show every message as it crosses, decoded: `A → B  handshake peer#1 {peer#1: 3}`.
    #[arg(long)]
    transcript: bool,
    /// Seconds both commands may run before they are killed.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = parse_seconds)]
    timeout: f64,
}

pub fn run(args: DupshArgs) -> ExitCode {
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(e) => return super::usage_error(&format!("cannot read the current directory: {e}")),
    };
    let command = |name: &str, line: &str| Invocation {
        program: name.to_string(),
        args: vec![line.to_string()],
        argv: argv_of(line),
        cwd: cwd.clone(),
        env: Vec::new(),
    };
    let (a, b) = (command("A", &args.a), command("B", &args.b));
    let mode = match args.transcript {
        false => Mode::Direct,
        true => {
            let redactor = Mutex::new(Redactor::new());
            let observer = move |event: &Event| {
                if let Ok(mut redactor) = redactor.lock() {
                    let line = wire::decode(&event.raw).show(&mut redactor);
                    println!("{}  {line}", event.direction.arrow());
                }
            };
            Mode::Relay {
                fault: Fault::None,
                observer: Some(Box::new(observer)),
            }
        }
    };
    let limits = Limits {
        timeout: Duration::from_secs_f64(args.timeout),
        // What crosses is not captured here, only each line: allow long ones.
        max_output: 64 << 20,
        // Your own commands, run by hand: only the wall-clock limit applies.
        resources: None,
    };
    let stderr = [Stderr::Forwarded("A| ".into()), Stderr::Forwarded("B| ".into())];
    match duplex::run(&a, &b, mode, stderr, &limits) {
        Ok(outcome) => {
            eprintln!("dupsh: A {}; B {}", outcome.a.describe(), outcome.b.describe());
            ExitCode::from(status(outcome.a).or(status(outcome.b)).unwrap_or(0))
        }
        Err(e) => super::usage_error(&format!("cannot start the commands: {e}")),
    }
}

/// How to start a command line. A simple one (words and quotes only) is started
/// directly: a shell in between would keep the pipes open after the command closes
/// its output (dash does not replace itself with the last command), and the other
/// side would never see end-of-file. Anything else goes to `sh -c`.
fn argv_of(line: &str) -> Vec<String> {
    let special = |c: char| "|&;<>()$`\\*?[]{}~!#\n".contains(c);
    match shlex::split(line) {
        Some(words) if !words.is_empty() && !line.contains(special) => words,
        _ => vec!["sh".into(), "-c".into(), line.to_string()],
    }
}

/// The exit status that reports an ending, if it is a failure.
fn status(ending: Ending) -> Option<u8> {
    let code = match ending {
        Ending::Exited(0) => return None,
        Ending::Exited(code) => code,
        Ending::Signalled(signal) => 128 + signal,
        Ending::TimedOut(_) => 124,
        Ending::Flooded(..) | Ending::LineTooLong(..) | Ending::OverLimit(_) => 1,
    };
    Some(code.clamp(1, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_lines_run_directly_and_shell_lines_in_sh() {
        assert_eq!(argv_of("replicate 'a b.db'"), vec!["replicate", "a b.db"]);
        assert_eq!(argv_of("cd x && replicate a.db")[..2], ["sh", "-c"]);
        assert_eq!(argv_of("replicate $HOME/a.db")[..2], ["sh", "-c"]);
    }
}
