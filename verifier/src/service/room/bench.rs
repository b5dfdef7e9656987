//! `bench room`: a whole class on this machine. N learners join one room and run the
//! reference peer of exercise 04 through it; the teacher starts rounds of "one entry
//! each". Measured: how long each round takes to converge across the room, how long
//! the board takes to answer while it does, and what the room costs in memory and CPU.
//! Figures to read, never a verdict.
//!
//! The room runs in this process (so its memory and CPU are this process's, plus the
//! bench's own small share); every learner's agent and peer is a process of its own.

use super::client;
use super::topology::Topology;
use super::{Control, Host};
use crate::course::{self, Side};
use anyhow::Context as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the whole class may take to be in the room, and a round to converge.
const SETTLE_WITHIN: Duration = Duration::from_secs(180);

/// The learners' processes, killed with their groups however the bench ends.
struct Class(Vec<Child>);

impl Drop for Class {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let group = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
        }
    }
}

/// Runs the bench; the report.
pub fn run(root: &Path, learners: usize, rounds: usize, progress: &dyn Fn(&str)) -> anyhow::Result<String> {
    progress("building the reference peer of 04");
    let exercise = course::find("4")?;
    let built = crate::harness::build::build(root, &exercise.buildable(Side::Reference), &|_| {})
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let peer = built
        .programs
        .command("peer")
        .context("the reference has no peer")?;
    let peer = shlex::try_join(peer.iter().map(String::as_str)).context("the peer's command line")?;
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let host = Host::start(loopback, loopback, Topology::Random, 1)?;
    let folders = tempfile::tempdir()?;
    let exe = std::env::current_exe()?;
    progress(&format!("{learners} learners join and start their peers"));
    let mut class = Class(Vec::new());
    for n in 1..=learners {
        let membership = client::join(
            &host.room.to_string(),
            &host.code,
            &format!("learner{n:02}"),
            None,
        )?;
        let state = folders.path().join(format!("learner{n:02}"));
        membership.save(&state)?;
        let child = Command::new(&exe)
            .args(["room", "peer", "4", "--program", &peer])
            .current_dir(root)
            .env("REPLICATE_STATE_DIR", &state)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("cannot start a learner's peer")?;
        class.0.push(child);
    }
    let started = Instant::now();
    while host.state().mesh.peers.len() < learners {
        anyhow::ensure!(
            started.elapsed() < SETTLE_WITHIN,
            "the class did not get into the room in time"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let everyone_in = started.elapsed();
    let cpu_before = cpu_time();
    let clock_before = Instant::now();
    let mut report = format!(
        "A room of {learners} reference peers of 04 (random tree), on this machine:\n  all peers in the mesh after {:.1} s\n",
        everyone_in.as_secs_f64()
    );
    let mut latencies: Vec<Duration> = Vec::new();
    let mut size = 0;
    for round in 1..=rounds {
        progress(&format!("round {round}: one entry each"));
        host.control(Control::Round).map_err(anyhow::Error::msg)?;
        let asked = Instant::now();
        let converged_ms = loop {
            let (took, body) = board_state(host.board)?;
            latencies.push(took);
            size = body.len();
            let state = host.state();
            if let Some(ms) = state.mesh.round.as_ref().and_then(|r| r.converged_ms) {
                break ms;
            }
            anyhow::ensure!(
                asked.elapsed() < SETTLE_WITHIN,
                "round {round} did not converge in time"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        report.push_str(&format!(
            "  round {round}: the room converged in {:.2} s ({} entries everywhere)\n",
            converged_ms as f64 / 1000.0,
            learners * round
        ));
    }
    let busy = cpu_time().saturating_sub(cpu_before);
    let wall = clock_before.elapsed();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or_default()
    };
    report.push_str(&format!(
        "  the board's /state ({size} bytes) answered in {:.1} ms (median), {:.1} ms (slowest of {}); \
         the page polls it every 500 ms, and peers' heads reach it within 200 ms\n",
        at(0.5).as_secs_f64() * 1000.0,
        at(1.0).as_secs_f64() * 1000.0,
        latencies.len()
    ));
    report.push_str(&format!(
        "  the room used {:.2} s of CPU in {:.1} s of rounds ({:.0}% of one core); memory: {} now, {} at most\n",
        busy.as_secs_f64(),
        wall.as_secs_f64(),
        100.0 * busy.as_secs_f64() / wall.as_secs_f64().max(0.001),
        status_field("VmRSS"),
        status_field("VmHWM")
    ));
    drop(class);
    Ok(report)
}

/// One GET of the board's state over HTTP, timed.
fn board_state(board: SocketAddr) -> anyhow::Result<(Duration, String)> {
    let asked = Instant::now();
    let mut stream = TcpStream::connect(board)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(b"GET /state HTTP/1.1\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok((asked.elapsed(), answer))
}

/// CPU time of this process so far (user and system).
fn cpu_time() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_SELF).map_or(Duration::ZERO, |usage| {
        let (user, system) = (usage.user_time(), usage.system_time());
        let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
        Duration::from_micros(micros(user) + micros(system))
    })
}

/// A line of /proc/self/status, e.g. `VmRSS` → "12345 kB".
fn status_field(name: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(&format!("{name}:")))
                .map(|l| l[name.len() + 1..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}
