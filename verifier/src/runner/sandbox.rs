//! The sandbox: which files an untrusted process may read and write. This file only
//! describes it; the kernel enforces it (Landlock on Linux, applied by the launcher
//! in the child just before it execs the program). Where it cannot be applied,
//! every report says "not isolated: …".
//!
//! A learner's program may read the system (libraries, interpreters, /proc), its own
//! executable (that one file, not the folder it is in: reference binaries are
//! beside it) and what its command line names (a script and its folder), and may
//! write only its working folder, where `TMPDIR` points too. Everything else — the
//! course checkout, `target/`, the snapshots, other checks' folders, `$HOME` — is
//! out of its reach. A build of untrusted code may read the system's programs and
//! libraries, the toolchain, the registry's sources and the course copy's sources,
//! and write only its target folder. Nobody may make a device node,
//! and sockets and FIFOs only where it may write. A networked program may bind
//! and connect only the TCP ports its check gave it ([`NetworkPolicy`]).

use super::Invocation;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a sandboxed process may touch. Paths that do not exist are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sandbox {
    /// Folders and files it may read and execute.
    pub read: Vec<PathBuf>,
    /// Folders it may read, write, create and delete in.
    pub write: Vec<PathBuf>,
    /// Files it may read and write but not replace (`/dev/null`, lock files).
    pub files: Vec<PathBuf>,
    /// The temporary folder it gets as `TMPDIR` (made before it starts).
    pub tmp: Option<PathBuf>,
    /// The TCP ports it may bind and connect to; `None`: any (network not isolated).
    #[serde(default)]
    pub network: Option<NetworkPolicy>,
}

/// The TCP ports a networked program may use: its own to listen on, and those of its
/// check's relays and servers to dial. Every other bind or connect is refused, so it
/// can reach neither another run nor a neighbour behind its relay's back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkPolicy {
    pub bind: Vec<u16>,
    pub connect: Vec<u16>,
}

/// What every program needs to run at all: libraries, interpreters, configuration,
/// the kernel's views of itself, and a few devices.
const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc",
    "/proc",
    "/sys",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
    "/dev/full",
];

/// What a build needs of the system: programs (the linker), libraries, the dynamic
/// loader's configuration, the kernel's views of itself and randomness. No `/etc`
/// beyond the loader's files, no `/dev/zero`.
const BUILD_SYSTEM_READ: &[&str] = &[
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/proc",
    "/sys",
    "/dev/urandom",
    "/dev/random",
];

/// Where the Rust toolchain and cargo's registry are, for this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    /// `CARGO_HOME`, else `~/.cargo`.
    pub cargo_home: Option<PathBuf>,
    /// `RUSTUP_HOME`, else `~/.rustup`.
    pub rustup_home: Option<PathBuf>,
}

impl Toolchain {
    pub fn of_this_process() -> Toolchain {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let from_env = |var: &str, default: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(default)))
        };
        Toolchain {
            cargo_home: from_env("CARGO_HOME", ".cargo"),
            rustup_home: from_env("RUSTUP_HOME", ".rustup"),
        }
    }
}

/// Devices every program may write to.
const SYSTEM_FILES: &[&str] = &["/dev/null"];

impl Sandbox {
    /// The system, read-only, and nothing else.
    pub fn system() -> Sandbox {
        let existing = |paths: &[&str]| -> Vec<PathBuf> {
            paths.iter().map(PathBuf::from).filter(|p| p.exists()).collect()
        };
        Sandbox {
            read: existing(SYSTEM_READ),
            files: existing(SYSTEM_FILES),
            ..Sandbox::default()
        }
    }

    /// The sandbox of a learner's program: the system, its executable (`executable`,
    /// already resolved), the paths its own command names, read-only; its working
    /// folder writable, with `TMPDIR` inside.
    pub fn for_program(invocation: &Invocation, executable: &Path) -> Sandbox {
        let mut sandbox = Sandbox::system();
        sandbox.allow_executable(
            executable,
            invocation.command().first().is_some_and(|c| !c.contains('/')),
        );
        for word in invocation.command().iter().skip(1) {
            let path = invocation.cwd.join(word);
            if path.is_file() {
                sandbox.read.push(path.clone());
                // A script's modules and data live beside it.
                if let Some(folder) = path.parent() {
                    sandbox.read.push(folder.to_path_buf());
                }
            } else if path.is_dir() {
                sandbox.read.push(path);
            }
        }
        sandbox.write.push(invocation.cwd.clone());
        sandbox.tmp = Some(invocation.cwd.join(".tmp"));
        sandbox
    }

    /// The sandbox of a build of untrusted code (cargo, rustc, build scripts, proc
    /// macros): the system's programs and libraries (not `/etc`, so no `/etc/shadow`,
    /// and no `/dev/zero` to read for ever), the toolchain (`RUSTUP_HOME`) and the
    /// registry's sources (`CARGO_HOME/registry`, not its configuration or
    /// credentials), and `sources` (the copy's manifests and source folders, not its
    /// `target/`), read-only; `target_dir` writable, with `TMPDIR` inside. Crates are
    /// not downloaded in here: build offline, from a registry the trusted build filled.
    pub fn for_build(sources: &[PathBuf], target_dir: &Path) -> Sandbox {
        let existing = |paths: &[&str]| -> Vec<PathBuf> {
            paths.iter().map(PathBuf::from).filter(|p| p.exists()).collect()
        };
        let mut sandbox = Sandbox {
            read: existing(BUILD_SYSTEM_READ),
            files: existing(SYSTEM_FILES),
            ..Sandbox::default()
        };
        let toolchain = Toolchain::of_this_process();
        sandbox.read.extend(toolchain.rustup_home);
        if let Some(cargo_home) = &toolchain.cargo_home {
            for shared in ["bin", "registry", "git"] {
                sandbox.read.push(cargo_home.join(shared));
            }
            // Cargo locks its package cache even when it downloads nothing.
            for lock in [".package-cache", ".package-cache-mutate", ".global-cache"] {
                sandbox.files.push(cargo_home.join(lock));
            }
        }
        sandbox.read.extend(sources.iter().cloned());
        sandbox.write.push(target_dir.to_path_buf());
        sandbox.tmp = Some(target_dir.join("tmp"));
        sandbox
    }

    /// Read access to an executable: the file itself, and for an installed tool
    /// (found on `PATH`, or in a `bin/` folder) the installation above it, where an
    /// interpreter keeps its libraries. A program built by cargo gets its one file.
    fn allow_executable(&mut self, executable: &Path, on_path: bool) {
        let mut add = |exe: &Path| {
            self.read.push(exe.to_path_buf());
            let folder = exe.parent();
            let installed = on_path || folder.is_some_and(|f| f.ends_with("bin"));
            if let Some(prefix) = folder.and_then(Path::parent).filter(|_| installed) {
                self.read.push(prefix.to_path_buf());
            }
        };
        add(executable);
        if let Ok(real) = executable.canonicalize()
            && real != executable
        {
            add(&real);
        }
    }

    /// Every path, dropping those that do not exist (Landlock needs an open file).
    pub(super) fn existing(paths: &[PathBuf]) -> impl Iterator<Item = &PathBuf> {
        paths.iter().filter(|p| p.exists())
    }
}

/// Finds the executable a command starts: a path (relative to `cwd`), or a name
/// looked up on `PATH`. `None` if there is no such executable file.
pub fn resolve_executable(program: &str, cwd: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = cwd.join(program);
        return executable(&path).then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| cwd.join(dir).join(program))
        .find(|candidate| executable(candidate))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation(argv: &[&str], args: usize, cwd: &Path) -> Invocation {
        Invocation {
            program: "append".into(),
            args: argv[argv.len() - args..].iter().map(|s| s.to_string()).collect(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            cwd: cwd.to_path_buf(),
            env: vec![],
        }
    }

    #[test]
    fn a_built_program_may_read_its_own_file_only() -> std::io::Result<()> {
        let course = tempfile::tempdir()?;
        let bins = course.path().join("target/replicate-bins/ex02");
        std::fs::create_dir_all(&bins)?;
        let exe = bins.join("append");
        std::fs::write(&exe, "")?;
        let work = course.path().join("work");
        std::fs::create_dir(&work)?;
        let exe_arg = exe.to_string_lossy().into_owned();
        let sandbox = Sandbox::for_program(&invocation(&[&exe_arg, "hello"], 1, &work), &exe);
        assert!(sandbox.read.contains(&exe));
        assert!(
            !sandbox
                .read
                .iter()
                .any(|p| p == &bins || bins.starts_with(p) && p != Path::new("/"))
        );
        assert_eq!(sandbox.write, vec![work.clone()]);
        assert_eq!(sandbox.tmp, Some(work.join(".tmp")));
        Ok(())
    }

    #[test]
    fn a_script_may_read_its_folder_and_an_interpreter_its_installation() -> std::io::Result<()> {
        let place = tempfile::tempdir()?;
        let python = place.path().join("python/bin/python3");
        let script = place.path().join("scripts/append.py");
        std::fs::create_dir_all(python.parent().unwrap_or(place.path()))?;
        std::fs::create_dir_all(script.parent().unwrap_or(place.path()))?;
        std::fs::write(&python, "")?;
        std::fs::write(&script, "")?;
        let (py, sc) = (python.to_string_lossy(), script.to_string_lossy());
        let sandbox = Sandbox::for_program(&invocation(&[&py, &sc, "x"], 1, place.path()), &python);
        assert!(sandbox.read.contains(&place.path().join("python")));
        assert!(sandbox.read.contains(&place.path().join("scripts")));
        Ok(())
    }
}
