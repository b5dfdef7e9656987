//! The environment an untrusted process starts with: an allow-list, not the
//! verifier's own.
//!
//! Whatever the verifier was started with (a CI's tokens, a teacher's paths, the
//! variables cargo sets for tests) is not the business of a learner's program or of
//! a build of a learner's code: `env!`, `option_env!` and `/proc/self/environ` could
//! copy it into a report. So a contained run starts from nothing and gets only what
//! running needs: `PATH` (to find tools and interpreters), `HOME` (its working folder),
//! `LANG` (a fixed UTF-8 locale), `TMPDIR` (inside its sandbox), then whatever the
//! invocation names itself (a build adds the toolchain's variables).

use std::path::Path;
use std::process::Command;

/// The locale every contained run gets, whatever the verifier's is.
pub const LANG: &str = "C.UTF-8";

/// Clears `command`'s environment and sets the allow-list: `PATH` as the verifier
/// has it, `HOME` at `cwd`, `LANG`, and `TMPDIR` when the run has one. The
/// invocation's own variables are set after this, and win.
pub(super) fn allow_list(command: &mut Command, cwd: &Path, tmp: Option<&Path>) {
    command.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command.env("HOME", cwd).env("LANG", LANG);
    if let Some(tmp) = tmp {
        command.env("TMPDIR", tmp);
    }
}
