//! A copy of the course's source at a stable scratch path, with its own target dir.
//!
//! Three jobs need to build the course's packages from sources other than the work tree
//! as it stands: the course's own tests check the stubs *as committed* (a learner's
//! solved `exercises/` must not turn them red), `grade` builds a learner's `src/` trees
//! inside a trusted copy of the course, and the mutation suite builds a reference
//! solution with a known bug patched in. Each one assembles a set of [`Files`] (the
//! workspace from the work tree, parts of it from git `HEAD`, trees put in place) and
//! writes it to a [`CourseCopy`] named for the job: `target/course-copies/NAME/`.
//!
//! The path is stable and files whose content did not change are left untouched, so
//! cargo's fingerprints (which look at modification times) keep every rebuild
//! incremental. One holder at a time: a copy is locked while its [`CourseCopy`] lives.
//!
//! Every copy the course makes builds in a `target/` of its own ([`CourseCopy::write`]),
//! which starts with copies of the dependencies compiled for the course
//! ([`super::seed`]), so it compiles nothing but the course's own crates. A copy that
//! built in the course's target directory instead ([`CourseCopy::write_sharing_target`])
//! would share more, but wrongly: cargo names a workspace package's files by its path
//! *relative to the workspace*, so a copy's `ex05-kv-store` (a stub) and the course's
//! own (the same relative path) write the same `libex05_kv_store-HASH.rlib`, and binaries
//! share `target/debug/NAME`. Both were seen: a mutated solution judged by the course's
//! binaries, and the workspace's doc tests linking a stub's library. A submission being
//! graded needs a target of its own anyway: untrusted build scripts write there.

use super::seed::seed_dependencies;
use super::target_dir::{CONFIG, config_building_in, target_dir};
use crate::runner::{Invocation, Limits, run};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// The files of the workspace a copy needs to build any of its packages.
const WORKSPACE: [&str; 6] = [
    "Cargo.toml",
    "Cargo.lock",
    "exercises",
    "solutions",
    "verifier",
    "workspace-hack",
];

/// Folders never copied from a work tree: build output and the workshop's state.
const SKIPPED: [&str; 3] = ["target", ".git", ".replicate"];

/// Why a copy could not be made.
#[derive(Debug)]
pub enum CopyError {
    /// The course is not a git checkout (or git is missing): `HEAD` cannot be read.
    NoGit(String),
    /// Reading or writing files failed.
    Io(std::io::Error),
}

impl fmt::Display for CopyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyError::NoGit(why) => write!(f, "cannot read git HEAD: {why}"),
            CopyError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CopyError {}

impl From<std::io::Error> for CopyError {
    fn from(e: std::io::Error) -> Self {
        CopyError::Io(e)
    }
}

/// One file's content and whether it is executable.
#[derive(Debug, Clone, PartialEq, Eq)]
struct File {
    bytes: Vec<u8>,
    executable: bool,
}

/// A set of files by path relative to the course root: what a copy will hold.
#[derive(Debug, Clone, Default)]
pub struct Files {
    files: BTreeMap<PathBuf, File>,
    /// Entries of the folders read that were not taken, and why.
    refused: Vec<Refused>,
}

/// The largest file read from a folder: source files are far smaller, and a file of
/// a GiB (sparse, say) must not be read into memory to find that out.
pub const MAX_FILE: u64 = 1 << 20;

/// An entry of a folder that was not read, by path relative to the course root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub path: PathBuf,
    pub why: Refusal,
}

/// Why an entry was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A file larger than [`MAX_FILE`] (its size).
    TooLarge(u64),
    /// A symbolic link: it could point anywhere, the grader's files included.
    Link,
    /// A FIFO, socket or device: reading it could block or never end.
    Special,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match self.why {
            Refusal::TooLarge(size) => write!(
                f,
                "{path} ({}, over the {} limit)",
                crate::runner::bytes(size as usize),
                crate::runner::bytes(MAX_FILE as usize)
            ),
            Refusal::Link => write!(f, "{path} (a symbolic link)"),
            Refusal::Special => write!(f, "{path} (not a regular file: a FIFO, socket or device)"),
        }
    }
}

impl Files {
    /// The workspace as it is in the work tree of the course at `course`: its manifest,
    /// lock file and member folders (without build output).
    pub fn work_tree(course: &Path) -> Result<Files, CopyError> {
        Files::work_tree_without(course, &[])
    }

    /// [`Files::work_tree`] without the top-level folders in `skipped` (e.g.
    /// `exercises`, when it comes from elsewhere).
    pub fn work_tree_without(course: &Path, skipped: &[&str]) -> Result<Files, CopyError> {
        let mut files = Files::default();
        for top in WORKSPACE.iter().filter(|top| !skipped.contains(top)) {
            if course.join(top).exists() {
                files.read_into(&course.join(top), Path::new(top))?;
            }
        }
        Ok(files)
    }

    /// The files of a folder on disk (e.g. a learner's `src/`), by path relative to it.
    pub fn folder(dir: &Path) -> Result<Files, CopyError> {
        let mut files = Files::default();
        files.read_into(dir, Path::new(""))?;
        Ok(files)
    }

    /// What was found in the folders read but not taken: files over [`MAX_FILE`],
    /// symbolic links and special files, none of them opened. Paths are relative to
    /// the folder read, or to `under` after [`Files::replace`].
    pub fn refused(&self) -> &[Refused] {
        &self.refused
    }

    /// The files under `under` (relative to the course root, e.g. `exercises`) as
    /// committed at git `HEAD` of the checkout at `course`.
    pub fn git_head(course: &Path, under: &str) -> Result<Files, CopyError> {
        let listing = git(course, &["ls-tree", "-r", "-z", "HEAD", "--", under], None)?;
        let mut entries = Vec::new();
        for entry in listing.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let text = String::from_utf8_lossy(entry);
            // `<mode> <type> <object>\t<path>`
            let (meta, path) = text
                .split_once('\t')
                .ok_or_else(|| CopyError::NoGit(format!("unexpected `git ls-tree` line: {text}")))?;
            let fields: Vec<&str> = meta.split(' ').collect();
            if let [mode, "blob", object] = fields[..] {
                // Symbolic links (mode 120000) have no place in the course's packages.
                if mode.starts_with("100") {
                    entries.push((PathBuf::from(path), mode == "100755", object.to_string()));
                }
            }
        }
        let request: String = entries
            .iter()
            .map(|(_, _, object)| format!("{object}\n"))
            .collect();
        let contents = git(course, &["cat-file", "--batch"], Some(request.as_bytes()))?;
        let mut rest = &contents[..];
        let mut files = Files::default();
        for (path, executable, _) in entries {
            // `<object> blob <size>\n<content>\n`
            let header_end = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| CopyError::NoGit("`git cat-file` output ended early".into()))?;
            let header = String::from_utf8_lossy(&rest[..header_end]).to_string();
            let size: usize = header
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| CopyError::NoGit(format!("unexpected `git cat-file` header: {header}")))?;
            let body = rest
                .get(header_end + 1..header_end + 1 + size)
                .ok_or_else(|| CopyError::NoGit("`git cat-file` output ended early".into()))?;
            files.insert(path, body.to_vec(), executable)?;
            rest = rest.get(header_end + 2 + size..).unwrap_or(&[]);
        }
        Ok(files)
    }

    /// Replaces everything under `under` (a folder relative to the course root) with
    /// `with`, whose paths are relative to that folder.
    pub fn replace(&mut self, under: &Path, with: Files) {
        self.files.retain(|path, _| !path.starts_with(under));
        self.refused.retain(|refused| !refused.path.starts_with(under));
        for (path, file) in with.files {
            self.files.insert(under.join(path), file);
        }
        for refused in with.refused {
            self.refused.push(Refused {
                path: under.join(refused.path),
                ..refused
            });
        }
    }

    /// Replaces everything under `under` with what `other` holds there (both relative
    /// to the course root), e.g. `exercises` from [`Files::git_head`].
    pub fn replace_from(&mut self, under: &Path, other: &Files) {
        self.files.retain(|path, _| !path.starts_with(under));
        for (path, file) in &other.files {
            if path.starts_with(under) {
                self.files.insert(path.clone(), file.clone());
            }
        }
    }

    /// The text of one file, if it is there.
    pub fn text(&self, path: &Path) -> Option<String> {
        self.files
            .get(path)
            .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
    }

    /// Sets one file's content (a new file is not executable).
    pub fn set(&mut self, path: &Path, bytes: Vec<u8>) -> Result<(), CopyError> {
        let executable = self.files.get(path).is_some_and(|f| f.executable);
        self.insert(path.to_path_buf(), bytes, executable)
    }

    /// Leaves one file out of the set (as a learner who deleted it would).
    pub fn remove(&mut self, path: &Path) -> bool {
        self.files.remove(path).is_some()
    }

    /// Every path held, in order.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.keys().map(PathBuf::as_path)
    }

    /// The paths whose content here differs from `other`'s, or that `other` lacks:
    /// `(path, added)`, in order.
    pub fn changed_from(&self, other: &Files) -> Vec<(PathBuf, bool)> {
        self.files
            .iter()
            .filter_map(|(path, file)| match other.files.get(path) {
                None => Some((path.clone(), true)),
                Some(theirs) if theirs != file => Some((path.clone(), false)),
                Some(_) => None,
            })
            .collect()
    }

    /// Points every learner stub at the *reference* packages of the earlier exercises
    /// it builds on: in `exercises/NN-x/Cargo.toml`, a path dependency
    /// `{ package = "exMM-y", path = "../MM-y" }` becomes
    /// `{ package = "solMM-y", path = "../../solutions/MM-y" }`. A stub then fails (or
    /// not) on its own merits, not because the learner's earlier stub is unsolved.
    pub fn stubs_on_references(&mut self) -> Result<(), CopyError> {
        let manifests: Vec<PathBuf> = self
            .paths()
            .filter(|p| {
                p.starts_with("exercises") && p.ends_with("Cargo.toml") && p.components().count() == 3
            })
            .map(Path::to_path_buf)
            .collect();
        for manifest in manifests {
            let Some(text) = self.text(&manifest) else {
                continue;
            };
            let rewritten = on_references(&text);
            if rewritten != text {
                self.set(&manifest, rewritten.into_bytes())?;
            }
        }
        Ok(())
    }

    fn insert(&mut self, path: PathBuf, bytes: Vec<u8>, executable: bool) -> Result<(), CopyError> {
        // Paths come from git or a folder walk; still, nothing may point outside the copy.
        if !path.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(CopyError::Io(std::io::Error::other(format!(
                "refusing the path {} in a course copy",
                path.display()
            ))));
        }
        self.files.insert(path, File { bytes, executable });
        Ok(())
    }

    /// Reads `from` (a file or a folder, recursively) as `at`: regular files up to
    /// [`MAX_FILE`]; anything else is named in [`Files::refused`] without being opened.
    fn read_into(&mut self, from: &Path, at: &Path) -> Result<(), CopyError> {
        let meta = std::fs::symlink_metadata(from)?;
        let refusal = match meta.file_type() {
            kind if kind.is_file() && meta.len() > MAX_FILE => Some(Refusal::TooLarge(meta.len())),
            kind if kind.is_symlink() => Some(Refusal::Link),
            kind if !kind.is_file() && !kind.is_dir() => Some(Refusal::Special),
            _ => None,
        };
        if let Some(why) = refusal {
            self.refused.push(Refused {
                path: at.to_path_buf(),
                why,
            });
            return Ok(());
        }
        if meta.is_file() {
            let executable = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0;
            return self.insert(at.to_path_buf(), read_at_most(from, MAX_FILE)?, executable);
        }
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let name = entry.file_name();
            if SKIPPED.iter().any(|s| name == *s) {
                continue;
            }
            self.read_into(&entry.path(), &at.join(&name))?;
        }
        Ok(())
    }
}

/// A file's content, never more than `max` bytes of it (a file that grew since its
/// size was read is cut, not read on for ever).
fn read_at_most(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(max).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Rewrites the path dependencies of a stub's manifest to the reference packages.
fn on_references(manifest: &str) -> String {
    manifest
        .lines()
        .map(|line| {
            let (Some(start), Some(_)) = (line.find("package = \"ex"), line.find("path = \"../")) else {
                return line.to_string();
            };
            line[..start].to_string()
                + &line[start..]
                    .replacen("package = \"ex", "package = \"sol", 1)
                    .replacen("path = \"../", "path = \"../../solutions/", 1)
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if manifest.ends_with('\n') { "\n" } else { "" }
}

/// A course copy, locked for its holder: `<course>/target/course-copies/NAME/`.
#[derive(Debug)]
pub struct CourseCopy {
    root: PathBuf,
    _lock: nix::fcntl::Flock<std::fs::File>,
}

impl CourseCopy {
    /// Makes the copy named `name` of the course at `course` hold exactly `files`:
    /// changed files are rewritten, files no longer wanted are removed, the rest (and
    /// the copy's `target/`) is left as it was. Waits while another holder has it.
    /// The copy builds in its own `target/`, seeded with copies of the dependencies the
    /// course has compiled: for code that is not the course's.
    pub fn write(course: &Path, name: &str, files: &Files) -> Result<CourseCopy, CopyError> {
        CourseCopy::write_building_in(course, name, files, None)
    }

    /// Like [`CourseCopy::write`], but building in the course's target directory. Not
    /// used by the course: see the module's comment for why a copy's packages must not
    /// build there.
    pub fn write_sharing_target(course: &Path, name: &str, files: &Files) -> Result<CourseCopy, CopyError> {
        let shared = std::path::absolute(target_dir(course))?;
        CourseCopy::write_building_in(course, name, files, Some(&shared))
    }

    fn write_building_in(
        course: &Path,
        name: &str,
        files: &Files,
        shared: Option<&Path>,
    ) -> Result<CourseCopy, CopyError> {
        let copies = course.join("target").join("course-copies");
        std::fs::create_dir_all(&copies)?;
        let lock_file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(copies.join(format!("{name}.lock")))?;
        let lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, errno)| std::io::Error::from(errno))?;
        let root = copies.join(name);
        std::fs::create_dir_all(&root)?;
        let mut on_disk = Files::default();
        for top in WORKSPACE {
            if root.join(top).exists() {
                on_disk.read_into(&root.join(top), Path::new(top))?;
            }
        }
        for path in on_disk.files.keys().filter(|p| !files.files.contains_key(*p)) {
            std::fs::remove_file(root.join(path))?;
        }
        for (path, file) in &files.files {
            if on_disk.files.get(path) == Some(file) {
                continue;
            }
            let target = root.join(path);
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&target, &file.bytes)?;
            let mode = if file.executable { 0o755 } else { 0o644 };
            std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        }
        let config = root.join(CONFIG);
        match shared {
            Some(target) => {
                std::fs::create_dir_all(root.join(".cargo"))?;
                std::fs::write(&config, config_building_in(target))?;
            }
            None => {
                if config.exists() {
                    std::fs::remove_file(&config)?;
                }
                seed_dependencies(
                    &course.join("Cargo.lock"),
                    &target_dir(course),
                    &target_dir(&root),
                    "debug",
                )?;
            }
        }
        Ok(CourseCopy { root, _lock: lock })
    }

    /// The copy's root: build in it as in the course (`build(copy.root(), …)`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What a build of the copy needs to read: its manifests and package folders,
    /// not its `target/`.
    pub fn sources(&self) -> Vec<PathBuf> {
        WORKSPACE.iter().map(|top| self.root.join(top)).collect()
    }

    /// A target folder for a build of untrusted code in this copy, beside it (not
    /// inside, so no walk of the copy meets it), made fresh: see
    /// [`super::fresh_target`]. Its dependencies come from the trusted target of the
    /// course at `course`.
    pub fn fresh_target(&self, course: &Path) -> std::io::Result<PathBuf> {
        let mut name = self.root.file_name().unwrap_or_default().to_os_string();
        name.push(".target");
        super::fresh_target::fresh_target(
            &self.root.with_file_name(name),
            &target_dir(course),
            &course.join("Cargo.lock"),
        )
    }
}

/// Where the stubs the course tests check come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StubsFrom {
    /// `exercises/` as committed at git `HEAD`.
    GitHead,
    /// The work tree's `exercises/`, because `HEAD` could not be read (the reason).
    WorkTree(String),
}

impl fmt::Display for StubsFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StubsFrom::GitHead => write!(f, "the stubs as committed (git HEAD)"),
            StubsFrom::WorkTree(why) => write!(
                f,
                "the stubs as they are in exercises/ ({why}; a solved exercise there will look like a stub that passes)"
            ),
        }
    }
}

/// The course's files with `exercises/` as committed at git `HEAD` (or, without git,
/// as in the work tree, said in the second value); the rest from the work tree.
pub fn with_committed_stubs(course: &Path) -> Result<(Files, StubsFrom), CopyError> {
    match Files::git_head(course, "exercises") {
        Ok(head) => {
            let mut files = Files::work_tree_without(course, &["exercises"])?;
            files.replace_from(Path::new("exercises"), &head);
            Ok((files, StubsFrom::GitHead))
        }
        Err(CopyError::NoGit(why)) => Ok((Files::work_tree(course)?, StubsFrom::WorkTree(why))),
        Err(e) => Err(e),
    }
}

/// The copy the course's own tests check stubs in (`target/course-copies/stubs`):
/// [`with_committed_stubs`], every stub built against the reference packages of the
/// exercises before it, in the course's target directory.
pub fn committed_stubs(course: &Path) -> Result<(CourseCopy, StubsFrom), CopyError> {
    let (mut files, from) = with_committed_stubs(course)?;
    files.stubs_on_references()?;
    Ok((CourseCopy::write(course, "stubs", &files)?, from))
}

/// Runs git in the course, under the runner's timeout and process-group rules.
fn git(course: &Path, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, CopyError> {
    let invocation = Invocation {
        program: "git".into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        argv: std::iter::once("git")
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
        cwd: course.to_path_buf(),
        env: Vec::new(),
    };
    let limits = Limits {
        timeout: Duration::from_secs(60),
        max_output: 256 << 20,
        resources: None,
    };
    let finished =
        run(&invocation, input, &limits).map_err(|e| CopyError::NoGit(format!("cannot run git: {e}")))?;
    if !finished.ending.success() {
        let said = String::from_utf8_lossy(&finished.stderr).trim().to_string();
        return Err(CopyError::NoGit(format!(
            "`git {}` failed: {said}",
            args.join(" ")
        )));
    }
    Ok(finished.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stub_manifests_point_at_the_reference_packages() {
        let manifest = "[dependencies]\nanyhow = { workspace = true }\n\
                        logs = { package = \"ex02-append-only-logs\", path = \"../02-append-only-logs\" }\n";
        assert_eq!(
            on_references(manifest),
            "[dependencies]\nanyhow = { workspace = true }\n\
             logs = { package = \"sol02-append-only-logs\", path = \"../../solutions/02-append-only-logs\" }\n"
        );
    }

    #[test]
    fn a_copy_holds_exactly_its_files_and_leaves_unchanged_ones_alone() {
        let course = tempfile::tempdir().unwrap();
        let mut files = Files::default();
        files.set(Path::new("exercises/a.txt"), b"one".to_vec()).unwrap();
        files.set(Path::new("exercises/b.txt"), b"two".to_vec()).unwrap();
        let copy = CourseCopy::write(course.path(), "t", &files).unwrap();
        let a = copy.root().join("exercises/a.txt");
        let before = std::fs::metadata(&a).unwrap().modified().unwrap();
        drop(copy);
        std::thread::sleep(Duration::from_millis(20));
        files.replace(Path::new("exercises"), Files::default());
        files.set(Path::new("exercises/a.txt"), b"one".to_vec()).unwrap();
        let copy = CourseCopy::write(course.path(), "t", &files).unwrap();
        assert_eq!(std::fs::metadata(&a).unwrap().modified().unwrap(), before);
        assert!(!copy.root().join("exercises/b.txt").exists());
    }

    /// A course checkout with one stub committed and then solved in the work tree.
    fn solved_checkout(with_git: bool) -> tempfile::TempDir {
        let course = tempfile::tempdir().unwrap();
        let lib = course.path().join("exercises/01-leveldb/src/lib.rs");
        std::fs::create_dir_all(lib.parent().unwrap()).unwrap();
        std::fs::write(&lib, "// the stub\n").unwrap();
        if with_git {
            let git = |args: &[&str]| {
                let status = std::process::Command::new("git")
                    .args([
                        "-c",
                        "user.name=t",
                        "-c",
                        "user.email=t@t",
                        "-c",
                        "init.defaultBranch=main",
                    ])
                    .args(args)
                    .current_dir(course.path())
                    .stdout(std::process::Stdio::null())
                    .status()
                    .unwrap();
                assert!(status.success(), "git {args:?}");
            };
            git(&["init", "-q"]);
            git(&["add", "."]);
            git(&["commit", "-q", "-m", "stub"]);
        }
        std::fs::write(&lib, "// solved by the learner\n").unwrap();
        course
    }

    #[test]
    fn the_course_tests_see_the_committed_stub_not_the_solved_one() {
        let course = solved_checkout(true);
        let (files, from) = with_committed_stubs(course.path()).unwrap();
        assert_eq!(from, StubsFrom::GitHead);
        let lib = Path::new("exercises/01-leveldb/src/lib.rs");
        assert_eq!(files.text(lib).as_deref(), Some("// the stub\n"));
        let copy = CourseCopy::write(course.path(), "stubs", &files).unwrap();
        assert_eq!(
            std::fs::read_to_string(copy.root().join(lib)).unwrap(),
            "// the stub\n"
        );
        // The work tree is left as the learner has it.
        let solved = std::fs::read_to_string(course.path().join(lib)).unwrap();
        assert_eq!(solved, "// solved by the learner\n");
    }

    #[test]
    fn without_git_the_work_tree_is_used_and_said_so() {
        let course = solved_checkout(false);
        let (files, from) = with_committed_stubs(course.path()).unwrap();
        assert!(matches!(from, StubsFrom::WorkTree(_)), "{from:?}");
        assert!(from.to_string().contains("exercises/"));
        let lib = Path::new("exercises/01-leveldb/src/lib.rs");
        assert_eq!(files.text(lib).as_deref(), Some("// solved by the learner\n"));
    }

    #[test]
    fn a_copy_of_course_code_builds_in_the_course_target_and_another_in_its_own() {
        let course = tempfile::tempdir().unwrap();
        let mut files = Files::default();
        files
            .set(Path::new("Cargo.toml"), b"[workspace]\n".to_vec())
            .unwrap();
        let copy = CourseCopy::write_sharing_target(course.path(), "stubs", &files).unwrap();
        let root = copy.root().to_path_buf();
        if std::env::var_os("CARGO_TARGET_DIR").is_none() {
            assert_eq!(
                target_dir(&root),
                std::path::absolute(course.path().join("target")).unwrap()
            );
        }
        drop(copy);
        // The same copy written for code that is not the course's forgets the shared dir.
        let copy = CourseCopy::write(course.path(), "stubs", &files).unwrap();
        assert!(!copy.root().join(CONFIG).exists());
        if std::env::var_os("CARGO_TARGET_DIR").is_none() {
            assert_eq!(target_dir(copy.root()), root.join("target"));
        }
    }

    #[test]
    fn paths_that_leave_the_copy_are_refused() {
        let mut files = Files::default();
        assert!(files.set(Path::new("../escape"), Vec::new()).is_err());
        assert!(files.set(Path::new("/etc/passwd"), Vec::new()).is_err());
    }
}
