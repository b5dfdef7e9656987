//! Copying a folder as `cp -r` does: what a check does to a learner's database
//! directory, what the benchmark does to a prepared one, and what `reset` does to
//! back up an exercise.
//!
//! The folder may hold what a learner's program left there, so the copy trusts
//! nothing in it: only folders, regular files and symbolic links (as links) are
//! copied; a FIFO, a socket or a device node is skipped and named (opening a FIFO
//! would wait for a writer for ever); a regular file is opened without blocking and
//! without following a link, and checked to be one once open; and the whole copy
//! has a deadline.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The longest a copy may take (a database folder copies in milliseconds).
pub const COPY_DEADLINE: Duration = Duration::from_secs(60);

/// What a copy left out because it is not a folder, a file or a link.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Each skipped entry (relative to the folder copied) and what it is.
    pub skipped: Vec<(PathBuf, &'static str)>,
}

impl Copied {
    /// "fifo (a FIFO), s (a socket)": the skipped entries, for a report.
    pub fn skipped_list(&self) -> Option<String> {
        let named: Vec<String> = self
            .skipped
            .iter()
            .map(|(path, kind)| format!("{} ({kind})", path.display()))
            .collect();
        (!named.is_empty()).then(|| named.join(", "))
    }
}

/// Copies the folder `from` to `to`, recursively, symbolic links as links; any
/// entry named in `leave_out` (at any depth, `target` say) is not copied, nor is a
/// special file (listed in the result). Fails after [`COPY_DEADLINE`].
pub fn copy_tree(from: &Path, to: &Path, leave_out: &[&str]) -> io::Result<Copied> {
    let mut copy = Copy {
        root: from.to_path_buf(),
        leave_out,
        deadline: Instant::now() + COPY_DEADLINE,
        copied: Copied::default(),
    };
    copy.folder(from, to)?;
    Ok(copy.copied)
}

struct Copy<'a> {
    root: PathBuf,
    leave_out: &'a [&'a str],
    deadline: Instant,
    copied: Copied,
}

impl Copy<'_> {
    fn folder(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            self.in_time()?;
            let entry = entry?;
            let name = entry.file_name();
            if self.leave_out.iter().any(|left| name == *left) {
                continue;
            }
            // The type of the entry itself (never followed), without opening it.
            let kind = entry.file_type()?;
            let destination = to.join(&name);
            if kind.is_dir() {
                self.folder(&entry.path(), &destination)?;
            } else if kind.is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &destination)?;
            } else if kind.is_file() {
                self.file(&entry.path(), &destination)?;
            } else {
                self.skip(&entry.path(), special(&kind));
            }
        }
        Ok(())
    }

    /// Copies one regular file, opened without blocking or following a link: what
    /// is there by the time it is opened may differ from what was listed.
    fn file(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        let flags = (nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_NOFOLLOW).bits();
        let mut source = OpenOptions::new().read(true).custom_flags(flags).open(from)?;
        let meta = source.metadata()?;
        if !meta.is_file() {
            self.skip(from, special(&meta.file_type()));
            return Ok(());
        }
        let mut destination = File::create(to)?;
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            self.in_time()?;
            match source.read(&mut buffer)? {
                0 => break,
                n => destination.write_all(&buffer[..n])?,
            }
        }
        destination.set_permissions(std::fs::Permissions::from_mode(meta.permissions().mode()))
    }

    fn skip(&mut self, path: &Path, kind: &'static str) {
        let relative = path.strip_prefix(&self.root).unwrap_or(path).to_path_buf();
        self.copied.skipped.push((relative, kind));
    }

    fn in_time(&self) -> io::Result<()> {
        match Instant::now() < self.deadline {
            true => Ok(()),
            false => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("copying took more than {} s", COPY_DEADLINE.as_secs()),
            )),
        }
    }
}

/// What a special file is, in words.
fn special(kind: &std::fs::FileType) -> &'static str {
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_files_folders_and_links_and_leaves_out_what_is_named() -> io::Result<()> {
        let from = tempfile::tempdir()?;
        std::fs::create_dir_all(from.path().join("db/blobs"))?;
        std::fs::write(from.path().join("db/conf"), "c")?;
        std::fs::write(from.path().join("db/blobs/1"), "b")?;
        std::fs::create_dir_all(from.path().join("db/target/debug"))?;
        std::fs::write(from.path().join("db/target/debug/x"), "x")?;
        std::os::unix::fs::symlink("conf", from.path().join("db/link"))?;
        let to = tempfile::tempdir()?;
        let copied = copy_tree(&from.path().join("db"), &to.path().join("copy"), &["target"])?;
        let copy = to.path().join("copy");
        assert_eq!(std::fs::read_to_string(copy.join("conf"))?, "c");
        assert_eq!(std::fs::read_to_string(copy.join("blobs/1"))?, "b");
        assert_eq!(std::fs::read_link(copy.join("link"))?, Path::new("conf"));
        assert!(!copy.join("target").exists());
        assert_eq!(copied, Copied::default());
        Ok(())
    }

    #[test]
    fn keeps_a_files_permissions() -> io::Result<()> {
        let from = tempfile::tempdir()?;
        let script = from.path().join("run.sh");
        std::fs::write(&script, "#!/bin/sh\n")?;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o751))?;
        let to = tempfile::tempdir()?;
        copy_tree(from.path(), to.path(), &[])?;
        let mode = std::fs::metadata(to.path().join("run.sh"))?.permissions().mode();
        assert_eq!(mode & 0o777, 0o751);
        Ok(())
    }

    #[test]
    fn skips_and_names_a_fifo_and_a_socket_without_waiting() -> io::Result<()> {
        let from = tempfile::tempdir()?;
        std::fs::create_dir(from.path().join("db"))?;
        nix::unistd::mkfifo(&from.path().join("db/fifo"), nix::sys::stat::Mode::S_IRWXU)?;
        let _listening = std::os::unix::net::UnixListener::bind(from.path().join("db/sock"))?;
        std::fs::write(from.path().join("db/data"), "d")?;
        let to = tempfile::tempdir()?;
        let copied = copy_tree(from.path(), to.path(), &[])?;
        let mut skipped = copied.skipped.clone();
        skipped.sort();
        assert_eq!(
            skipped,
            [
                (PathBuf::from("db/fifo"), "a FIFO"),
                (PathBuf::from("db/sock"), "a socket")
            ]
        );
        assert!(!to.path().join("db/fifo").exists());
        assert_eq!(std::fs::read_to_string(to.path().join("db/data"))?, "d");
        Ok(())
    }
}
