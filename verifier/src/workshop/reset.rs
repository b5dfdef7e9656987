//! `reset`: put an exercise's original stub back, from git, after a backup.
//!
//! The stub comes from the first of `origin/HEAD`, `origin/main` and `HEAD` that has
//! the exercise's folder (so a learner who committed their work still gets the
//! course's stub back). Everything is read from git before anything is touched; then
//! the learner's folder is copied to `.replicate/backups/NN-name-<time>/`, and only
//! then are its contents replaced. No git, no repository, no such folder in any of
//! those commits: a clear error and nothing changed.

use super::{Ask, Outcome, Workshop};
use crate::course::{Exercise, Side};
use crate::harness::tree::copy_tree;
use anyhow::{anyhow, bail};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// The commits a stub is restored from, first match wins.
pub const REFS: [&str; 3] = ["origin/HEAD", "origin/main", "HEAD"];

/// What a reset did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The commit (one of [`REFS`]) the stub came from.
    pub from: String,
    /// How many files the stub has.
    pub files: usize,
    /// Where the learner's folder was copied to (`None`: there was no folder).
    pub backup: Option<PathBuf>,
}

/// One file of the stub, as git has it.
struct Blob {
    /// Relative to the exercise's folder.
    path: PathBuf,
    bytes: Vec<u8>,
    executable: bool,
}

/// Restores `exercises/NN-name/` under `root` from git, backing it up under `backups`.
pub fn reset(root: &Path, exercise: &Exercise, backups: &Path) -> anyhow::Result<Restored> {
    let folder = exercise.dir(Side::Learner);
    let (from, blobs) = stub_from_git(root, &folder)?;
    let target = root.join(&folder);
    let backup = match target.exists() {
        true => {
            let backup = backup_path(backups, &exercise.dir_name());
            // `target/` is left out: cargo can make it again.
            copy_tree(&target, &backup, &["target"]).map_err(|e| {
                anyhow!(
                    "cannot back up {folder} to {}: {e}; nothing was changed",
                    backup.display()
                )
            })?;
            Some(backup)
        }
        false => None,
    };
    let replaced = replace_contents(&target, &blobs);
    replaced.map_err(|e| match &backup {
        Some(backup) => anyhow!(
            "restoring {folder} failed part way: {e}. Your files are in {}",
            backup.display()
        ),
        None => anyhow!("restoring {folder} failed: {e}"),
    })?;
    Ok(Restored {
        from,
        files: blobs.len(),
        backup,
    })
}

/// The stub's files from the first ref that has the folder.
fn stub_from_git(root: &Path, folder: &str) -> anyhow::Result<(String, Vec<Blob>)> {
    git(root, &["rev-parse", "--is-inside-work-tree"]).map_err(|e| match e {
        GitError::Missing => {
            anyhow!("git is not installed, so the original stub cannot be restored; nothing was changed")
        }
        GitError::Failed(_) => anyhow!(
            "{} is not a git repository, so the original stub cannot be restored; nothing was changed",
            root.display()
        ),
    })?;
    // The course may be a subfolder of a larger repository: git paths start at its top.
    let prefix = git(root, &["rev-parse", "--show-prefix"]).map_err(|e| e.describe("git rev-parse"))?;
    let full = format!("{}{folder}", String::from_utf8_lossy(&prefix).trim());
    for reference in REFS {
        let commit = format!("{reference}^{{commit}}");
        if git(root, &["rev-parse", "--verify", "--quiet", &commit]).is_err() {
            continue;
        }
        let listing = git(
            root,
            &["ls-tree", "-r", "-z", "--full-tree", reference, "--", &full],
        )
        .map_err(|e| e.describe(&format!("git ls-tree {reference}")))?;
        let entries = parse_ls_tree(&listing);
        if entries.is_empty() {
            continue;
        }
        let mut blobs = Vec::new();
        for (mode, path) in entries {
            let relative = Path::new(&path)
                .strip_prefix(&full)
                .map_err(|_| anyhow!("git listed {path}, outside {full}"))?
                .to_path_buf();
            if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
                bail!("git listed an unsafe path {path}; nothing was changed");
            }
            let bytes = git(root, &["show", &format!("{reference}:{path}")])
                .map_err(|e| e.describe(&format!("git show {reference}:{path}")))?;
            blobs.push(Blob {
                path: relative,
                bytes,
                executable: mode == "100755",
            });
        }
        return Ok((reference.to_string(), blobs));
    }
    bail!(
        "none of {} has {folder}, so there is no stub to restore; nothing was changed",
        REFS.join(", ")
    )
}

/// `(mode, path)` of each blob in `git ls-tree -r -z` output (symlinks and submodules left out).
fn parse_ls_tree(listing: &[u8]) -> Vec<(String, String)> {
    listing
        .split(|&b| b == 0)
        .filter_map(|entry| {
            let entry = String::from_utf8_lossy(entry);
            let (meta, path) = entry.split_once('\t')?;
            let mut fields = meta.split(' ');
            let (mode, kind) = (fields.next()?, fields.next()?);
            (kind == "blob" && mode.starts_with("100")).then(|| (mode.to_string(), path.to_string()))
        })
        .collect()
}

enum GitError {
    Missing,
    Failed(String),
}

impl GitError {
    fn describe(self, what: &str) -> anyhow::Error {
        match self {
            GitError::Missing => anyhow!("git is not installed; nothing was changed"),
            GitError::Failed(why) => anyhow!("{what} failed: {why}; nothing was changed"),
        }
    }
}

/// Runs git in `root` and returns its stdout.
fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => GitError::Missing,
            _ => GitError::Failed(e.to_string()),
        })?;
    match output.status.success() {
        true => Ok(output.stdout),
        false => Err(GitError::Failed(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        )),
    }
}

/// `backups/02-append-only-logs-20250101-120000`, with `-2`, `-3`… if that exists.
fn backup_path(backups: &Path, name: &str) -> PathBuf {
    let base = format!("{name}-{}", timestamp(SystemTime::now()));
    let mut path = backups.join(&base);
    let mut n = 2;
    while path.exists() {
        path = backups.join(format!("{base}-{n}"));
        n += 1;
    }
    path
}

/// `YYYYMMDD-HHMMSS` in UTC.
fn timestamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Empties `folder` and writes the stub's files into it.
fn replace_contents(folder: &Path, blobs: &[Blob]) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        match entry.file_type()?.is_dir() {
            true => std::fs::remove_dir_all(entry.path())?,
            false => std::fs::remove_file(entry.path())?,
        }
    }
    for blob in blobs {
        let path = folder.join(&blob.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &blob.bytes)?;
        if blob.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(())
}

/// The shell's and the subcommand's `reset`: asks, resets, says where the backup is.
pub fn reset_action(workshop: &Workshop, exercise: &Exercise, ask: &mut dyn Ask) -> Outcome {
    let folder = exercise.dir(Side::Learner);
    let question = format!(
        "Reset {folder}/ to the original stub? Your files are copied to {}/ first. [y/N]",
        workshop.shown(&workshop.backups_dir())
    );
    if !ask.confirm(&question) {
        println!("Nothing was changed.");
        return Outcome::Passed;
    }
    match reset(&workshop.root, exercise, &workshop.backups_dir()) {
        Ok(restored) => {
            println!(
                "Restored {folder}/ as in {} ({} files).",
                restored.from, restored.files
            );
            if let Some(backup) = restored.backup {
                println!("Your previous files are in {}/", workshop.shown(&backup));
            }
            Outcome::Passed
        }
        Err(error) => {
            println!("error: {error:#}");
            Outcome::Error
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_civil_time() {
        let time = UNIX_EPOCH + std::time::Duration::from_secs(1_709_210_096);
        assert_eq!(timestamp(time), "20240229-123456");
        assert_eq!(timestamp(UNIX_EPOCH), "19700101-000000");
    }

    #[test]
    fn reads_ls_tree_listings() {
        let listing = b"100644 blob abc\texercises/01-leveldb/Cargo.toml\x00100755 blob def\texercises/01-leveldb/run.sh\x00120000 blob 123\texercises/01-leveldb/link\x00";
        assert_eq!(
            parse_ls_tree(listing),
            vec![
                (
                    "100644".to_string(),
                    "exercises/01-leveldb/Cargo.toml".to_string()
                ),
                ("100755".to_string(), "exercises/01-leveldb/run.sh".to_string()),
            ]
        );
    }
}
