//! Linux's /proc and prctl: the verifier adopts orphans (child subreaper), finds
//! its children, and finds the unlinked files a run's processes hold open.

/// Makes this process a child subreaper; false where the kernel refused.
pub fn become_subreaper() -> bool {
    nix::sys::prctl::set_child_subreaper(true).is_ok()
}

/// The pids whose parent is `parent`, from /proc.
pub fn children_of(parent: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

/// The parent of `pid`: `pid (comm) state ppid …`, where comm may hold spaces and
/// parentheses.
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// Bytes of disk taken by the regular files on device `dev` that the processes of
/// process group `group` hold open although no folder lists them any more: unlinked
/// (`/path (deleted)`) or made with `O_TMPFILE` (`/path/#123 (deleted)`). Each file
/// counts once, however many descriptors hold it.
pub fn unlinked_bytes(group: i32, dev: u64) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut bytes = 0;
    let pids = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| group_of(*pid) == Some(group));
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let gone = std::fs::read_link(fd.path())
                .is_ok_and(|target| target.to_string_lossy().ends_with(" (deleted)"));
            // The magic link leads to the file itself, unlinked or not.
            let Ok(meta) = std::fs::metadata(fd.path()) else {
                continue;
            };
            if gone && meta.is_file() && meta.dev() == dev && seen.insert(meta.ino()) {
                bytes += meta.blocks() * 512;
            }
        }
    }
    bytes
}

/// The process group of `pid`: the third field after `(comm)` in /proc/PID/stat.
fn group_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(2)?.parse().ok()
}
