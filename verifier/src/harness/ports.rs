//! Ports for programs to listen on, collision-free by construction.
//!
//! A check tells each server or node which port to listen on. If two programs are
//! told the same port, the second cannot listen, and the learner is blamed for what
//! the harness did. Picking "a port that is free right now" is not enough: between
//! the pick and the program's bind, another pick (in this process, in a test running
//! beside it, in another verifier on the same machine) can choose it too.
//!
//! So a port is *leased*, and a lease is exclusive by construction:
//! - it comes from below the kernel's ephemeral range, which no outgoing connection
//!   and no `bind(0)` ever takes (relays listen on ports the kernel picks, from that
//!   range, so the two can never meet);
//! - it is locked: an exclusive `flock` on `/tmp/replicate-ports/PORT`, held while the
//!   lease lives. The lock is per open file, so it excludes another lease in this
//!   process as surely as one in another verifier, and the kernel drops it when a
//!   verifier dies, however it dies;
//! - it is bindable when leased (no other program on the machine holds it).
//!
//! A check keeps its leases until it ends ([`crate::harness::trial::Trial::port`]),
//! after its programs are stopped. Which port is picked is not one of the check's
//! random choices: ports never appear in transcripts, so they need no seed.

use std::fs::{File, OpenOptions};
use std::io;
use std::net::TcpListener;
use std::path::PathBuf;

/// How many ports are tried before giving up (the range holds some 20,000).
const ATTEMPTS: usize = 2_000;

/// A port held for one program to listen on; free for others again when dropped.
#[derive(Debug)]
pub struct PortLease {
    port: u16,
    /// Holds the lock; closing it releases the lease.
    _lock: File,
}

impl PortLease {
    /// Leases a port nobody else holds or has leased.
    pub fn take() -> io::Result<PortLease> {
        let (low, high) = range();
        let folder = lock_folder()?;
        for _ in 0..ATTEMPTS {
            let port = fastrand::u16(low..high);
            if let Some(lease) = try_lease(&folder, port)? {
                return Ok(lease);
            }
        }
        Err(io::Error::other(format!(
            "no free port between {low} and {high} after {ATTEMPTS} tries (is the machine out of ports?)"
        )))
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Leases `port` if nobody holds it: locked by no other lease, bound by no program.
fn try_lease(folder: &std::path::Path, port: u16) -> io::Result<Option<PortLease>> {
    let path = folder.join(port.to_string());
    let lock = match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
    {
        Ok(file) => file,
        // Made by another user and not writable for us: a lock on it works read-only.
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => File::open(&path)?,
        Err(e) => return Err(e),
    };
    share_with_other_users(&path);
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    // Leased by nobody else; is some other program listening there?
    if TcpListener::bind(("127.0.0.1", port)).is_err() {
        return Ok(None);
    }
    Ok(Some(PortLease { port, _lock: lock }))
}

/// The ports leases come from: below the ephemeral range, above the well-known ones.
fn range() -> (u16, u16) {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low = 10_000.min(ephemeral_start / 2).max(1024);
    (low, ephemeral_start.max(low + 1))
}

/// One folder of lock files for every verifier on the machine, whatever its `TMPDIR`
/// (tests and learners set their own): `/tmp/replicate-ports`.
fn lock_folder() -> io::Result<PathBuf> {
    let root = match cfg!(unix) && std::path::Path::new("/tmp").is_dir() {
        true => PathBuf::from("/tmp"),
        false => std::env::temp_dir(),
    };
    let folder = root.join("replicate-ports");
    std::fs::create_dir_all(&folder)?;
    share_with_other_users(&folder);
    Ok(folder)
}

/// Lets other users' verifiers lock here too (a folder like /tmp: sticky, open to all).
fn share_with_other_users(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match path.is_dir() {
            true => 0o1777,
            false => 0o666,
        };
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o7777 != mode
        {
            // Only the owner can change it; others find it as its owner left it.
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Whether some process that is not `ours` listens on `port` right now: used when a
/// program says it could not listen on the port it was given, to tell the machine's
/// fault from the program's (one of the check's own programs listening on another's
/// port is the program's fault).
pub fn taken_by_a_stranger(port: u16, ours: &[u32]) -> bool {
    if TcpListener::bind(("127.0.0.1", port)).is_ok() {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        match listening_pids(port) {
            Some(pids) if !pids.is_empty() => !pids
                .iter()
                .any(|pid| ours.contains(pid) || ours_marker().contains(pid)),
            // Nobody we can see: not one of ours (they run as we do, so we would see them).
            _ => true,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = ours;
        true
    }
}

/// Stands for "a process in one of this verifier's cgroups" among holders (pid 0 is
/// never a process that holds a socket).
#[cfg(target_os = "linux")]
fn ours_marker() -> [u32; 1] {
    [0]
}

/// The processes (and their process groups) holding a socket that listens on `port`,
/// as far as /proc lets us see: `Some(pids and groups)`, `None` if /proc cannot tell.
#[cfg(target_os = "linux")]
fn listening_pids(port: u16) -> Option<Vec<u32>> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEXIP:HEXPORT; state 0A is LISTEN; inode is field 9.
            let (Some(local), Some(state), Some(inode)) = (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            let listens_here = local
                .rsplit(':')
                .next()
                .and_then(|hex| u16::from_str_radix(hex, 16).ok())
                == Some(port);
            if listens_here && *state == "0A" {
                inodes.push(format!("socket:[{inode}]"));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let mut holders = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| inodes.iter().any(|inode| target.as_os_str() == inode.as_str()));
        if holds {
            // A process in one of this verifier's run cgroups is one of ours, whatever
            // its process group (it may have left the group with setsid).
            let cgroups = std::fs::read_to_string(entry.path().join("cgroup")).unwrap_or_default();
            if cgroups.contains(&format!("/replicate-{}-", std::process::id())) {
                holders.extend(ours_marker());
                continue;
            }
            holders.push(pid);
            if let Ok(group) = nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(pid as i32))) {
                holders.push(group.as_raw() as u32);
            }
        }
    }
    Some(holders)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn leases_are_exclusive_while_they_live() -> io::Result<()> {
        // Far more leases than a check ever takes, all at once: never one port twice.
        let leases: Vec<PortLease> = (0..200).map(|_| PortLease::take()).collect::<io::Result<_>>()?;
        let ports: HashSet<u16> = leases.iter().map(PortLease::port).collect();
        assert_eq!(ports.len(), leases.len());
        let (low, high) = range();
        assert!(ports.iter().all(|p| (low..high).contains(p)));
        Ok(())
    }

    #[test]
    fn a_leased_port_cannot_be_leased_again_until_dropped() -> io::Result<()> {
        let folder = lock_folder()?;
        let lease = PortLease::take()?;
        let port = lease.port();
        assert!(try_lease(&folder, port)?.is_none(), "leased twice: {port}");
        drop(lease);
        // Free again (unless a concurrent test took it meanwhile, which is fine too).
        let again = try_lease(&folder, port)?;
        assert!(again.is_none_or(|l| l.port() == port));
        Ok(())
    }

    #[test]
    fn a_port_some_program_listens_on_is_not_leased() -> io::Result<()> {
        let folder = lock_folder()?;
        let lease = PortLease::take()?;
        let port = lease.port();
        drop(lease);
        let _listener = TcpListener::bind(("127.0.0.1", port))?;
        assert!(try_lease(&folder, port)?.is_none());
        Ok(())
    }

    #[test]
    fn a_listener_of_ours_is_told_from_a_strangers() -> io::Result<()> {
        let lease = PortLease::take()?;
        let port = lease.port();
        assert!(!taken_by_a_stranger(port, &[]), "nobody listens yet");
        let _listener = TcpListener::bind(("127.0.0.1", port))?;
        let me = std::process::id();
        assert!(!taken_by_a_stranger(port, &[me]), "this process is ours");
        assert!(taken_by_a_stranger(port, &[1]), "this process is not pid 1");
        Ok(())
    }
}
