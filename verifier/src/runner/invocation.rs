//! What to run: the command as the learner knows it, and as it is really started.

use super::quote;
use std::path::PathBuf;

/// A command to run: what the learner sees (`program` and `args`) and how it is
/// really started (`argv`, which may be a path to a cargo-built binary or a
/// user-given command such as `python3 append.py`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The program's name in the exercise, e.g. `append`.
    pub program: String,
    /// The arguments the check passes.
    pub args: Vec<String>,
    /// The real command line: the program's command followed by `args`.
    pub argv: Vec<String>,
    /// The working directory.
    pub cwd: PathBuf,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

impl Invocation {
    /// `append 'hello world'`: the line shown in transcripts and snapshots.
    pub fn short_line(&self) -> String {
        quote(std::iter::once(self.program.as_str()).chain(self.args.iter().map(String::as_str)))
    }

    /// The exact command line used, with the real executable, for failure reports.
    pub fn exact_line(&self) -> String {
        let env = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", quote([v.as_str()])));
        let argv = quote(self.argv.iter().map(String::as_str));
        env.chain(std::iter::once(argv)).collect::<Vec<_>>().join(" ")
    }

    /// The program's own command: `argv` without the arguments the check added
    /// (`python3 append.py` of `python3 append.py hello`).
    pub fn command(&self) -> &[String] {
        let own = self.argv.len().saturating_sub(self.args.len());
        &self.argv[..own]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_short_and_the_exact_line() {
        let inv = Invocation {
            program: "append".into(),
            args: vec!["hello world".into()],
            argv: vec!["python3".into(), "a.py".into(), "hello world".into()],
            cwd: PathBuf::from("/tmp"),
            env: vec![("SEED".into(), "1 2".into())],
        };
        assert_eq!(inv.short_line(), "append 'hello world'");
        assert_eq!(inv.exact_line(), "SEED='1 2' python3 a.py 'hello world'");
        assert_eq!(inv.command(), ["python3", "a.py"]);
    }
}
