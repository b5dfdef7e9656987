//! The disk cap: how much a run adds to its working folder, watched while it runs
//! (RLIMIT_FSIZE caps one file; this caps them all). What is counted: every file
//! under the folder, however deep, and the files its processes hold open unlinked
//! or made with `O_TMPFILE` (Linux: found through /proc/PID/fd). A watcher thread measures the
//! folder every [`PERIOD`] and stops the program's group once it holds more than the
//! cap beyond what it held when the run started (a check's own inputs, earlier
//! runs' data), so a program can overshoot by at most what it writes in one period.

use nix::dir::Dir;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag, fstatat};
use nix::unistd::Pid;
use std::ffi::CString;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// How often the folder is measured.
const PERIOD: Duration = Duration::from_millis(100);

/// A watcher of one run's folder; stops when dropped.
pub(super) struct DiskWatch {
    stop: Arc<AtomicBool>,
    full: Arc<AtomicBool>,
}

impl DiskWatch {
    pub(super) fn start(dir: PathBuf, cap: u64, group: Pid) -> DiskWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let full = Arc::new(AtomicBool::new(false));
        let (stopped, filled) = (stop.clone(), full.clone());
        thread::spawn(move || {
            let limit = usage(&dir).saturating_add(cap);
            while !stopped.load(Ordering::SeqCst) {
                if usage(&dir).saturating_add(unlinked(&dir, group)) > limit {
                    filled.store(true, Ordering::SeqCst);
                    super::kill_group(group);
                    return;
                }
                thread::sleep(PERIOD);
            }
        });
        DiskWatch { stop, full }
    }

    /// Whether the folder went over the cap (and the program was stopped for it).
    pub(super) fn full(&self) -> bool {
        self.full.load(Ordering::SeqCst)
    }
}

impl Drop for DiskWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Bytes of disk the files under `dir` take (allocated blocks: a sparse file counts
/// what it really uses). Symbolic links are not followed; folders deeper than
/// PATH_MAX are walked all the same (each opened relative to its parent).
pub(super) fn usage(dir: &Path) -> u64 {
    let mut bytes = 0;
    walk(dir, |stat| {
        bytes += stat.st_blocks as u64 * 512;
        true
    });
    bytes
}

/// Bytes of disk taken by files that the run's processes (its process group) hold
/// open after unlinking them, or made with `O_TMPFILE`, on the folder's filesystem:
/// space no walk of the folder sees.
pub(super) fn unlinked(dir: &Path, group: Pid) -> u64 {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(dir) {
            Ok(meta) => super::linux::procfs::unlinked_bytes(group.as_raw(), meta.dev()),
            Err(_) => 0,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (dir, group);
        0
    }
}

/// Whether some file under `dir` is at least `cap` bytes long (it reached the
/// file-size limit: its writer was refused there).
pub(super) fn file_at_cap(dir: &Path, cap: u64) -> bool {
    let mut found = false;
    walk(dir, |stat| {
        let regular = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG;
        found = regular && stat.st_size as u64 >= cap;
        !found
    });
    found
}

/// Calls `visit` with every entry under `dir` (not `dir` itself), until it returns
/// false. A folder is opened relative to its parent, never by its full path, and
/// a parent is closed once its last pending folder is opened: no path grows past
/// PATH_MAX, and the descriptors held stay within the nesting of the branches.
fn walk(dir: &Path, mut visit: impl FnMut(&FileStat) -> bool) {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let Ok(root) = Dir::open(dir, flags, Mode::empty()) else {
        return;
    };
    let mut pending: Vec<Rc<Dir>> = vec![Rc::new(root)];
    let mut to_open: Vec<(Rc<Dir>, CString)> = Vec::new();
    loop {
        let mut folder = match pending.pop() {
            Some(folder) => folder,
            None => match to_open.pop() {
                Some((parent, name)) => {
                    match Dir::openat(parent.as_fd(), name.as_c_str(), flags, Mode::empty()) {
                        Ok(folder) => Rc::new(folder),
                        Err(_) => continue,
                    }
                }
                None => return,
            },
        };
        let names: Vec<CString> = match Rc::get_mut(&mut folder) {
            Some(listing) => listing
                .iter()
                .flatten()
                .map(|entry| entry.file_name().to_owned())
                .filter(|name| name.as_bytes() != b"." && name.as_bytes() != b"..")
                .collect(),
            None => continue,
        };
        for name in names {
            let Ok(stat) = fstatat(folder.as_fd(), name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW) else {
                continue;
            };
            if !visit(&stat) {
                return;
            }
            if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR {
                to_open.push((folder.clone(), name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_what_files_take_and_finds_a_file_at_the_cap() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("sub"))?;
        std::fs::write(dir.path().join("sub/a"), vec![1u8; 100_000])?;
        std::os::unix::fs::symlink("/usr", dir.path().join("link"))?;
        let used = usage(dir.path());
        assert!((100_000..200_000).contains(&used), "{used}");
        assert!(file_at_cap(dir.path(), 100_000));
        assert!(!file_at_cap(dir.path(), 100_001));
        Ok(())
    }

    #[test]
    fn counts_files_deeper_than_path_max() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        // 40 levels of 200-byte names: 8,000 bytes of path, past PATH_MAX (4,096).
        let name = "d".repeat(200);
        let mut deep = dir.path().to_path_buf();
        let directory = OFlag::O_RDONLY | OFlag::O_DIRECTORY;
        let mut folder = Dir::open(dir.path(), directory, Mode::empty())?;
        for _ in 0..40 {
            nix::sys::stat::mkdirat(folder.as_fd(), name.as_str(), Mode::S_IRWXU)?;
            folder = Dir::openat(folder.as_fd(), name.as_str(), directory, Mode::empty())?;
            deep.push(&name);
        }
        let file = nix::fcntl::openat(
            folder.as_fd(),
            "big",
            OFlag::O_WRONLY | OFlag::O_CREAT,
            Mode::S_IRWXU,
        )?;
        std::io::Write::write_all(&mut std::fs::File::from(file), &vec![1u8; 300_000])?;
        assert!(deep.as_os_str().len() > 4096);
        let used = usage(dir.path());
        assert!(used >= 300_000, "{used}");
        assert!(file_at_cap(dir.path(), 300_000));
        Ok(())
    }
}
