//! The disk cap: how much a run adds to its working folder, watched while it runs
//! (RLIMIT_FSIZE caps one file; this caps them all). A watcher thread measures the
//! folder every [`PERIOD`] and stops the program's group once it holds more than the
//! cap beyond what it held when the run started (a check's own inputs, earlier
//! runs' data), so a program can overshoot by at most what it writes in one period.

use nix::unistd::Pid;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
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
                if usage(&dir) > limit {
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
/// what it really uses). Symbolic links are not followed.
pub(super) fn usage(dir: &Path) -> u64 {
    walk(dir).map(|m| m.blocks() * 512).sum()
}

/// Whether some file under `dir` is at least `cap` bytes long (it reached the
/// file-size limit: its writer was refused there).
pub(super) fn file_at_cap(dir: &Path, cap: u64) -> bool {
    walk(dir).any(|m| m.is_file() && m.len() >= cap)
}

fn walk(dir: &Path) -> impl Iterator<Item = std::fs::Metadata> {
    let mut pending = vec![dir.to_path_buf()];
    std::iter::from_fn(move || {
        let dir = pending.pop()?;
        let entries: Vec<std::fs::Metadata> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let meta = entry.path().symlink_metadata().ok()?;
                if meta.is_dir() {
                    pending.push(entry.path());
                }
                Some(meta)
            })
            .collect();
        Some(entries)
    })
    .flatten()
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
}
