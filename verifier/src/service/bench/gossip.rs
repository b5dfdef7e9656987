//! The live case: how long an entry takes to cross a line of gossip peers, and
//! whether that grows with the size of the logs they hold.
//!
//! Four reference peers (exercise 04, release build) in a line, p1–p2–p3–p4, each on a
//! database that already holds the same log of N entries (written directly in the
//! layout of exercise 02, then copied). A line typed on p1's stdin is appended there,
//! forwarded by p2 and p3, and printed by p4 once it is durable in p4's database (the
//! reference prints only what it has flushed). The latency is from the typing to that
//! print, one entry at a time; a live peer's work per entry is a range scan after a
//! head, so it must not depend on N.

use super::median_of;
use crate::harness::ports::PortLease;
use crate::runner::{Invocation, Limits, Spawned, Stderr, Stdin, Stdout, Wiring};
use anyhow::{Context as _, bail};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The log every peer holds before the measurement starts.
const SHARED_LOG: &str = "eeee000000000001";

/// Peers in the line.
const PEERS: usize = 4;

/// How long the network may take to start (each peer prints its whole database).
const START_TIMEOUT: Duration = Duration::from_secs(300);

/// How long one entry may take to cross the line.
const ENTRY_TIMEOUT: Duration = Duration::from_secs(30);

/// Latency of one entry through the line, for logs of `entries`.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub entries: u64,
    pub median: Duration,
    pub p99: Duration,
}

/// Measures `samples` entries, one at a time, through a line of peers holding
/// `entries` each. `peer` is the command of the reference `peer`.
pub fn measure(peer: &[String], dir: &Path, entries: u64, samples: usize) -> anyhow::Result<Latency> {
    let dbs: Vec<std::path::PathBuf> = (0..PEERS)
        .map(|i| dir.join(format!("gossip-{entries}-p{}", i + 1)))
        .collect();
    super::write_log(&dbs[0], &own_id(0), SHARED_LOG, 0, entries)?;
    for (i, db) in dbs.iter().enumerate().skip(1) {
        crate::harness::tree::copy_tree(&dbs[0], db, &[]).context("cannot copy a database")?;
        super::write_log(db, &own_id(i), SHARED_LOG, entries, entries)?;
    }
    let leases: Vec<PortLease> = (0..PEERS)
        .map(|_| PortLease::take())
        .collect::<std::io::Result<_>>()?;
    let ports: Vec<u16> = leases.iter().map(PortLease::port).collect();
    let mut peers = Vec::new();
    let mut arrivals = None;
    for i in 0..PEERS {
        let mut args = vec![
            "--db".to_string(),
            dbs[i].display().to_string(),
            "--port".to_string(),
            ports[i].to_string(),
        ];
        if i > 0 {
            args.extend(["--connect".to_string(), format!("127.0.0.1:{}", ports[i - 1])]);
        }
        let (process, seen) = start(peer, dir, args, i == PEERS - 1)?;
        if seen.is_some() {
            arrivals = seen;
        }
        peers.push(process);
    }
    let arrivals = arrivals.context("the last peer's output is not watched")?;
    let mut stdin = peers[0].take_stdin().context("cannot type on p1's stdin")?;
    let mut cross = |text: &str, timeout: Duration| -> anyhow::Result<Duration> {
        let started = Instant::now();
        writeln!(stdin, "{text}")
            .and_then(|()| stdin.flush())
            .context("p1 no longer reads its stdin")?;
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            match arrivals.recv_timeout(left) {
                Ok((seen, at)) if seen == text => return Ok(at.duration_since(started)),
                Ok(_) => {}
                Err(_) => bail!("{text:?} did not reach p4 within {} s", timeout.as_secs()),
            }
        }
    };
    // The first entry waits for every peer to start, print its database and connect.
    cross("bench warm-up", START_TIMEOUT)?;
    let mut times = Vec::with_capacity(samples);
    for n in 0..samples.max(1) {
        times.push(cross(&format!("bench {n}"), ENTRY_TIMEOUT)?);
    }
    drop(peers);
    times.sort();
    let p99 = times[(times.len() * 99).div_ceil(100).saturating_sub(1)];
    Ok(Latency {
        entries,
        median: median_of(&times),
        p99,
    })
}

/// A peer id for peer `i` of the line.
fn own_id(i: usize) -> String {
    format!("{:016x}", 0xaaaa_0000_0000_0000_u64 + i as u64)
}

/// Starts one peer; if `watched`, also returns the entries it prints that the bench
/// typed (`bench …`), with the moment each was read.
#[allow(clippy::type_complexity)]
fn start(
    peer: &[String],
    dir: &Path,
    args: Vec<String>,
    watched: bool,
) -> anyhow::Result<(Spawned, Option<mpsc::Receiver<(String, Instant)>>)> {
    let invocation = Invocation {
        program: "peer".into(),
        argv: peer.iter().cloned().chain(args.iter().cloned()).collect(),
        args,
        cwd: dir.to_path_buf(),
        env: Vec::new(),
    };
    let wiring = Wiring {
        stdin: Stdin::Piped,
        stdout: Stdout::Piped,
        stderr: Stderr::Captured,
    };
    let limits = Limits {
        timeout: Duration::from_secs(3600),
        resources: None,
        ..Limits::default()
    };
    let mut process = Spawned::start(&invocation, wiring, &limits).context("cannot start a peer")?;
    let stdout = process.take_stdout().context("cannot read a peer's stdout")?;
    let (sender, receiver) = mpsc::channel();
    // Every peer's stdout is drained (a million records on start), the last one's read.
    std::thread::spawn(move || {
        let mut reader = BufReader::with_capacity(1 << 20, stdout);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            if watched && line.windows(15).any(|w| w == br#""entry":"bench "#) {
                let at = Instant::now();
                let entry = serde_json::from_slice::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v.get("entry")?.as_str().map(str::to_string));
                if let Some(entry) = entry
                    && sender.send((entry, at)).is_err()
                {
                    break;
                }
            }
            line.clear();
        }
    });
    Ok((process, watched.then_some(receiver)))
}
