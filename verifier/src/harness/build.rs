//! Building: cargo compiles a package of the course and tells us, in its JSON
//! messages, where each program's executable is.
//!
//! Every package — learner stubs and reference solutions alike — builds in the one
//! target directory of the workspace, so each dependency (sled, tokio, …) is compiled
//! once. Binary names repeat on purpose (a stub and its solution share them; `read` is
//! in several exercises) and cargo puts every binary at `target/debug/NAME`, where the
//! last build wins. So each build runs under a lock, and its executables are then
//! hard-linked to a place of their own, `target/replicate-bins/PACKAGE/NAME`, before
//! another build can replace them. The course's trusted copies build in the same
//! target directory and keep their executables in their own `target/replicate-bins/`
//! (see [`super::target_dir`]).
//!
//! Someone else's code (a submission being graded) is the exception: it builds in a
//! fresh target folder of its own ([`Trust::Untrusted`]), in the build sandbox, from a
//! cleared environment, under [`BUILD_RESOURCES`].
//!
//! A first build compiles every dependency, which takes minutes on a small machine:
//! the build reports each crate as cargo finishes it, so nobody stares at a silent
//! screen.

use crate::runner::{Invocation, Limits, Resources, Sandbox, Spawned, Stdout, Toolchain, Wiring};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The commands that start each program of an exercise: `append` → `[".../append"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Programs {
    commands: BTreeMap<String, Vec<String>>,
}

impl Programs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how `program` is started: an executable and any leading arguments.
    pub fn set(&mut self, program: &str, command: Vec<String>) {
        self.commands.insert(program.to_string(), command);
    }

    pub fn command(&self, program: &str) -> Option<&[String]> {
        self.commands.get(program).map(Vec::as_slice)
    }
}

/// What to build: a cargo package and the programs (binaries) it must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The cargo package name, e.g. `ex02-append-only-logs`.
    pub name: String,
    /// The binaries an exercise needs from it.
    pub programs: Vec<String>,
}

/// Why a build produced no programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// The code does not compile: the compiler's errors, rendered as cargo shows them.
    Compile(String),
    /// The package compiles but lacks a program the exercise needs (`src/bin/NAME.rs`).
    MissingProgram { package: String, program: String },
    /// The build ran out of time (a `build.rs` that never ends, a stuck lock).
    TimedOut(Duration),
    /// A build of untrusted code ran into one of [`BUILD_RESOURCES`].
    OverLimit(crate::runner::Limit),
    /// Cargo could not be run or its results could not be kept: the verifier's problem.
    Harness(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Compile(errors) => write!(f, "the code does not compile:\n{errors}"),
            BuildError::MissingProgram { package, program } => write!(
                f,
                "the package {package} has no program `{program}`: add src/bin/{program}.rs"
            ),
            BuildError::TimedOut(limit) => write!(
                f,
                "the build was still running after {} and was stopped",
                crate::runner::seconds(*limit)
            ),
            BuildError::OverLimit(limit) => write!(
                f,
                "the build was stopped: the compiler {} (`include_bytes!` of something endless, or a constant of many GiB?)",
                crate::runner::Ending::OverLimit(*limit).describe()
            ),
            BuildError::Harness(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for BuildError {}

/// What a successful build gives.
#[derive(Debug, Clone)]
pub struct Built {
    pub programs: Programs,
    /// Warnings the compiler gave for the package itself (not its dependencies).
    pub warnings: usize,
}

/// How far a build has come: told after every crate cargo finishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub package: String,
    /// Crates compiled (or found fresh) so far.
    pub crates: usize,
    /// The crate just finished.
    pub last: String,
    pub elapsed: Duration,
}

impl Progress {
    /// `Building ex03-replicate: 57 crates (sled), 43 s`.
    pub fn line(&self) -> String {
        format!(
            "Building {}: {} crates ({}), {} s",
            self.package,
            self.crates,
            self.last,
            self.elapsed.as_secs()
        )
    }
}

/// How often a build says how far it has come, even when cargo is quiet.
const HEARTBEAT: Duration = Duration::from_secs(2);

/// A first build compiles every dependency; on a 2-core machine that takes minutes.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Which cargo profile to build with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Quick to build: what learners iterate with.
    Dev,
    /// Optimised: what benchmarks measure.
    Release,
}

/// Builds a package's programs in the dev profile, telling `progress` as it goes.
pub fn build(root: &Path, package: &Package, progress: &dyn Fn(&Progress)) -> Result<Built, BuildError> {
    build_in(root, package, Profile::Dev, BUILD_TIMEOUT, progress)
}

/// Whose code a build compiles, which decides whether cargo runs in a sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The course's own code, or a learner's on their own machine.
    Trusted,
    /// A submission being graded: rustc reads its code, so `include_bytes!`, `env!`
    /// and build scripts run inside the build sandbox, confined as [`Confined`] says,
    /// from a cleared environment, under [`BUILD_RESOURCES`], with no downloads.
    Untrusted(Confined),
}

/// Where a build of untrusted code may read and write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confined {
    /// The sources it reads: a course copy's manifests and package folders (not the
    /// copy's own `target/`).
    pub sources: Vec<PathBuf>,
    /// The fresh target folder it builds in (see [`super::fresh_target`]).
    pub target: PathBuf,
}

/// The caps on a build of untrusted code, as on a program: all of cargo, rustc and
/// the linker together in the memory and process counts; each process's CPU time and
/// file size. `include_bytes!` of something endless or a constant of many GiB ends as
/// a named verdict, not as the machine's OOM killer at work.
pub const BUILD_RESOURCES: Resources = Resources {
    cpu: Duration::from_secs(10 * 60),
    memory: 3 << 30,
    file_size: 1 << 30,
    disk: u64::MAX,
    processes: 512,
};

/// Builds a package's programs in the given profile within `timeout`.
pub fn build_in(
    root: &Path,
    package: &Package,
    profile: Profile,
    timeout: Duration,
    progress: &dyn Fn(&Progress),
) -> Result<Built, BuildError> {
    build_as(root, package, profile, timeout, &Trust::Trusted, progress)
}

/// Builds a package's programs, sandboxed when its code is not trusted.
pub fn build_as(
    root: &Path,
    package: &Package,
    profile: Profile,
    timeout: Duration,
    trust: &Trust,
    progress: &dyn Fn(&Progress),
) -> Result<Built, BuildError> {
    let name = &package.name;
    let mut args: Vec<String> = ["build", "--bins", "--message-format=json", "--package"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(name.clone());
    if profile == Profile::Release {
        args.push("--release".into());
    }
    if let Trust::Untrusted(_) = trust {
        // The sandbox has no network: every dependency must already be fetched.
        args.push("--offline".into());
    }
    // The lock belongs to the directory cargo really builds in: two checkouts that
    // share one (CARGO_TARGET_DIR, a course copy) share its `target/debug/NAME` files too.
    let building_in = match trust {
        Trust::Untrusted(confined) => confined.target.clone(),
        Trust::Trusted => super::target_dir::target_dir(root),
    };
    let _lock = BuildLock::acquire(&building_in)
        .map_err(|e| BuildError::Harness(format!("cannot lock the build directory: {e}")))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut env = vec![("CARGO_TERM_COLOR".to_string(), "never".to_string())];
    if let Trust::Untrusted(confined) = trust {
        env.extend(untrusted_build_env(&confined.target));
    }
    let invocation = Invocation {
        program: "cargo".into(),
        argv: std::iter::once(cargo).chain(args.iter().cloned()).collect(),
        args,
        cwd: root.to_path_buf(),
        env,
    };
    let limits = Limits {
        timeout,
        max_output: 256 << 20,
        // Cargo and rustc building trusted code are tools that need more than a
        // learner's program; building untrusted code, they are capped like one.
        resources: match trust {
            Trust::Trusted => None,
            Trust::Untrusted(_) => Some(BUILD_RESOURCES),
        },
    };
    let wiring = Wiring {
        stdout: Stdout::Piped,
        ..Wiring::default()
    };
    let started = match trust {
        Trust::Trusted => Spawned::start(&invocation, wiring, &limits),
        Trust::Untrusted(confined) => {
            let sandbox = Sandbox::for_build(&confined.sources, &confined.target);
            Spawned::start_in(&invocation, wiring, &limits, &sandbox)
        }
    };
    let mut cargo = started.map_err(|e| BuildError::Harness(format!("could not run cargo: {e}")))?;
    let stdout = cargo
        .take_stdout()
        .ok_or_else(|| BuildError::Harness("cargo's stdout was not piped".into()))?;
    // Cargo's messages arrive on a thread; this one watches the clock.
    let (lines, arriving) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            if lines.send(std::mem::take(&mut line)).is_err() {
                return;
            }
        }
    });
    let started = Instant::now();
    let deadline = started + timeout;
    let mut output = Vec::new();
    let mut crates = 0;
    let mut last = String::from("starting");
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // A sign of life at least every few seconds, even while one crate (sled, say)
        // takes a minute to compile.
        match arriving.recv_timeout(left.min(HEARTBEAT)) {
            Ok(line) => {
                if let Some(finished) = artifact_crate(&line) {
                    crates += 1;
                    last = finished;
                    progress(&Progress {
                        package: name.clone(),
                        crates,
                        last: last.clone(),
                        elapsed: started.elapsed(),
                    });
                }
                output.extend_from_slice(&line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                progress(&Progress {
                    package: name.clone(),
                    crates,
                    last: last.clone(),
                    elapsed: started.elapsed(),
                });
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = cargo.collect(crate::runner::Ending::TimedOut(timeout));
                return Err(BuildError::TimedOut(timeout));
            }
        }
    }
    let finished = cargo.finish(deadline.saturating_duration_since(started));
    let messages = Messages::read(&output, name);
    if !finished.ending.success() {
        match finished.ending {
            crate::runner::Ending::TimedOut(_) => return Err(BuildError::TimedOut(timeout)),
            crate::runner::Ending::OverLimit(limit) => return Err(BuildError::OverLimit(limit)),
            _ => {}
        }
        let mut shown = messages.errors.join("\n");
        if shown.trim().is_empty() {
            // Not a compile error (a missing package, a broken Cargo.toml): cargo says why.
            shown = String::from_utf8_lossy(&finished.stderr).trim().to_string();
        }
        return Err(BuildError::Compile(shown));
    }
    let mut programs = Programs::new();
    let own = super::target_dir::kept_bins(root, name).join(match profile {
        Profile::Dev => "debug",
        Profile::Release => "release",
    });
    for program in &package.programs {
        let path = messages.executables.iter().find(|(built, _)| built == program);
        match path {
            Some((_, path)) => {
                let path = keep(path, &own.join(program))
                    .map_err(|e| BuildError::Harness(format!("cannot keep {}: {e}", path.display())))?;
                programs.set(program, vec![path.display().to_string()]);
            }
            None => {
                return Err(BuildError::MissingProgram {
                    package: name.clone(),
                    program: program.clone(),
                });
            }
        }
    }
    Ok(Built {
        programs,
        warnings: messages.warnings,
    })
}

/// What a build of untrusted code needs in its environment besides the runner's
/// allow-list (`PATH`, `LANG`, `TMPDIR`): the toolchain's homes, said explicitly (its
/// `HOME` is its target folder), the toolchain rustup chose for the grader, and where
/// to build.
fn untrusted_build_env(target: &Path) -> Vec<(String, String)> {
    let toolchain = Toolchain::of_this_process();
    let shown = |path: &Path| path.display().to_string();
    let mut env = vec![
        ("HOME".to_string(), shown(target)),
        ("CARGO_TARGET_DIR".to_string(), shown(target)),
        ("CARGO_NET_OFFLINE".to_string(), "true".to_string()),
    ];
    env.extend(
        toolchain
            .cargo_home
            .map(|home| ("CARGO_HOME".to_string(), shown(&home))),
    );
    env.extend(
        toolchain
            .rustup_home
            .map(|home| ("RUSTUP_HOME".to_string(), shown(&home))),
    );
    env.extend(
        std::env::var("RUSTUP_TOOLCHAIN")
            .ok()
            .map(|toolchain| ("RUSTUP_TOOLCHAIN".to_string(), toolchain)),
    );
    env
}

/// The crate a `compiler-artifact` message reports finished, if the line is one.
fn artifact_crate(line: &[u8]) -> Option<String> {
    let message: Value = serde_json::from_slice(line).ok()?;
    if message["reason"].as_str()? != "compiler-artifact" {
        return None;
    }
    message["target"]["name"].as_str().map(str::to_string)
}

/// Gives a freshly built executable a path of its own (a hard link to the same file,
/// or a copy where links are not possible), which later builds do not touch.
fn keep(built: &Path, own: &Path) -> std::io::Result<PathBuf> {
    if let Some(dir) = own.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(own);
    if std::fs::hard_link(built, own).is_err() {
        std::fs::copy(built, own)?;
    }
    Ok(own.to_path_buf())
}

/// An exclusive lock on `target/.replicate-build.lock`, held from a build's start
/// until its executables are kept: builds of several checks, tests or terminals
/// take turns instead of overwriting each other's binaries.
struct BuildLock {
    _lock: nix::fcntl::Flock<std::fs::File>,
}

impl BuildLock {
    fn acquire(target: &Path) -> std::io::Result<BuildLock> {
        std::fs::create_dir_all(target)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(target.join(".replicate-build.lock"))?;
        let lock = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, errno)| std::io::Error::from(errno))?;
        Ok(BuildLock { _lock: lock })
    }
}

/// What cargo's JSON messages say about one package's build.
#[derive(Debug, Default)]
struct Messages {
    executables: Vec<(String, PathBuf)>,
    errors: Vec<String>,
    warnings: usize,
}

impl Messages {
    fn read(stdout: &[u8], package: &str) -> Messages {
        let mut messages = Messages::default();
        for line in stdout.split(|&b| b == b'\n') {
            let Ok(message) = serde_json::from_slice::<Value>(line) else {
                continue;
            };
            match message["reason"].as_str() {
                Some("compiler-artifact") => {
                    let name = message["target"]["name"].as_str();
                    if let (Some(name), Some(path)) = (name, message["executable"].as_str()) {
                        messages.executables.push((name.to_string(), PathBuf::from(path)));
                    }
                }
                Some("compiler-message") => {
                    let ours = message["package_id"]
                        .as_str()
                        .is_some_and(|id| is_package(id, package));
                    let rendered = message["message"]["rendered"].as_str().unwrap_or("");
                    match message["message"]["level"].as_str() {
                        Some("error") => messages.errors.push(rendered.trim_end().to_string()),
                        Some("warning") if ours => messages.warnings += 1,
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        messages
    }
}

/// Whether a cargo package id (`path+file:///…#name@0.1.0`) names `package`.
fn is_package(id: &str, package: &str) -> bool {
    id.contains(&format!("#{package}@")) || id.contains(&format!("/{package}#"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_past_its_time_is_stopped_and_says_so() {
        let root = crate::service::root::default_root();
        let package = Package {
            name: "sol01-leveldb".into(),
            programs: vec!["put".into()],
        };
        let built = build_in(&root, &package, Profile::Dev, Duration::from_millis(1), &|_| {});
        assert_eq!(built.err(), Some(BuildError::TimedOut(Duration::from_millis(1))));
        assert_eq!(
            BuildError::TimedOut(Duration::from_secs(1200)).to_string(),
            "the build was still running after 1200 s and was stopped"
        );
    }

    #[test]
    fn reads_executables_errors_and_warnings() {
        let out = br#"{"reason":"compiler-artifact","target":{"name":"append","kind":["bin"]},"executable":"/t/debug/append"}
{"reason":"compiler-artifact","target":{"name":"ex02","kind":["lib"]},"executable":null}
{"reason":"compiler-message","package_id":"path+file:///r/exercises/02-append-only-logs#ex02-append-only-logs@0.1.0","message":{"level":"warning","rendered":"warning: unused"}}
{"reason":"compiler-message","package_id":"path+file:///r/exercises/02-append-only-logs#ex02-append-only-logs@0.1.0","message":{"level":"error","rendered":"error[E0308]: mismatched types\n"}}
not json at all
"#;
        let m = Messages::read(out, "ex02-append-only-logs");
        assert_eq!(
            m.executables,
            vec![("append".to_string(), PathBuf::from("/t/debug/append"))]
        );
        assert_eq!(m.errors, vec!["error[E0308]: mismatched types"]);
        assert_eq!(m.warnings, 1);
    }
}

#[cfg(test)]
#[path = "build_untrusted_tests.rs"]
mod untrusted_tests;
