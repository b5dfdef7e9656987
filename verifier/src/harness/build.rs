//! Building: cargo compiles the learner's package (or the reference one) and tells us,
//! in its JSON messages, where each program's executable is.
//!
//! Reference solutions build into their own target directory (`target/solutions`):
//! stub and solution share binary names on purpose. Exercises share names too (`read`
//! is in 02, 03 and 04), and cargo puts every binary at `target/debug/NAME`, where the
//! last build wins. So each build runs under a lock, and its executables are then
//! hard-linked to a place of their own, `target/replicate-bins/PACKAGE/NAME`, before
//! another build can replace them.

use crate::course::{Exercise, Side};
use crate::harness::trial::Programs;
use crate::runner::{Invocation, Limits, run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a build produced no programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// The code does not compile: the compiler's errors, rendered as cargo shows them.
    Compile(String),
    /// Cargo could not be run, or the package lacks a program the exercise needs.
    Harness(String),
}

/// What a successful build gives.
#[derive(Debug, Clone)]
pub struct Built {
    pub programs: Programs,
    /// Warnings the compiler gave for the package itself (not its dependencies).
    pub warnings: usize,
}

/// A first build compiles every dependency; on a 2-core machine that can take minutes.
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Builds the programs of an exercise on one side, in the dev profile.
pub fn build(root: &Path, exercise: &Exercise, side: Side) -> Result<Built, BuildError> {
    build_in(root, exercise, side, Profile::Dev)
}

/// Which cargo profile to build with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Quick to build: what learners iterate with.
    Dev,
    /// Optimised: what benchmarks measure.
    Release,
}

/// Builds the programs of an exercise on one side, in the given profile.
pub fn build_in(root: &Path, exercise: &Exercise, side: Side, profile: Profile) -> Result<Built, BuildError> {
    let package = exercise.package(side);
    let mut args: Vec<String> = ["build", "--bins", "--message-format=json", "--package"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(package.clone());
    if profile == Profile::Release {
        args.push("--release".into());
    }
    if side == Side::Reference {
        args.push("--target-dir".into());
        args.push(root.join("target").join("solutions").display().to_string());
    }
    // The lock belongs to the directory cargo really builds in: two checkouts that
    // share one (CARGO_TARGET_DIR) share its `target/debug/NAME` files too.
    let building_in = match (side, std::env::var_os("CARGO_TARGET_DIR")) {
        (Side::Learner, Some(dir)) => root.join(dir),
        _ => root.join("target"),
    };
    let _lock = BuildLock::acquire(&building_in)
        .map_err(|e| BuildError::Harness(format!("cannot lock the build directory: {e}")))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let invocation = Invocation {
        program: "cargo".into(),
        argv: std::iter::once(cargo).chain(args.iter().cloned()).collect(),
        args,
        cwd: root.to_path_buf(),
        env: vec![("CARGO_TERM_COLOR".into(), "never".into())],
    };
    // Cargo and rustc are trusted tools that need more than a learner's program.
    let limits = Limits {
        timeout: BUILD_TIMEOUT,
        max_output: 256 << 20,
        resources: None,
    };
    let finished = run(&invocation, None, &limits)
        .map_err(|e| BuildError::Harness(format!("could not run cargo: {e}")))?;
    let messages = Messages::read(&finished.stdout, &package);
    if !finished.ending.success() {
        let mut shown = messages.errors.join("\n");
        if shown.trim().is_empty() {
            // Not a compile error (a missing package, a broken Cargo.toml): cargo says why.
            shown = String::from_utf8_lossy(&finished.stderr).trim().to_string();
        }
        return Err(BuildError::Compile(shown));
    }
    let mut programs = Programs::new();
    let own = root
        .join("target")
        .join("replicate-bins")
        .join(&package)
        .join(match profile {
            Profile::Dev => "debug",
            Profile::Release => "release",
        });
    for program in exercise.programs {
        let path = messages.executables.iter().find(|(name, _)| name == program.name);
        match path {
            Some((_, path)) => {
                let path = keep(path, &own.join(program.name))
                    .map_err(|e| BuildError::Harness(format!("cannot keep {}: {e}", path.display())))?;
                programs.set(program.name, vec![path.display().to_string()]);
            }
            None => {
                return Err(BuildError::Harness(format!(
                    "the package {package} has no program `{}`: add src/bin/{}.rs",
                    program.name, program.name
                )));
            }
        }
    }
    Ok(Built {
        programs,
        warnings: messages.warnings,
    })
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
