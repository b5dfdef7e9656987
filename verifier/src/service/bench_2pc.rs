//! Benchmarks of exercise 10: committed writes per second and commit latency of the
//! reference solution, on the workload the original `level-2pc` was measured with
//! (three local nodes, `--min-consensus 2`, every put sent to node 1, 100-byte
//! values, fresh databases), and a run of many seeded fault schedules.
//!
//! Figures, not verdicts, and ours only: the original's figures on another day or
//! another machine are not comparable. The comparison is measured side by side, in the
//! same session and alternating (`../shared/anchors/level-2pc/run.sh bench`), and
//! reported with its date and load in the README's Benchmarks section.

use crate::course::{self, Side};
use crate::harness::build::{BUILD_TIMEOUT, Profile, build_in};
use crate::harness::ports::PortLease;
use crate::harness::trial::{Context, Programs, Trial};
use crate::runner::{Invocation, Limits, Spawned, Stderr, Stdout, Wiring};
use anyhow::{Context as _, bail};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Puts of the sequential run.
    pub sequential: usize,
    /// Writes in flight in the concurrent run.
    pub in_flight: usize,
    /// How long the concurrent run lasts.
    pub duration: Duration,
    /// Repetitions (fresh databases each); the median is shown.
    pub repeat: usize,
}

impl Default for Load {
    fn default() -> Self {
        Load {
            sequential: 2_000,
            in_flight: 32,
            duration: Duration::from_secs(10),
            repeat: 3,
        }
    }
}

/// One run's figures.
#[derive(Debug, Clone, Copy)]
struct Run {
    per_second: f64,
    median: Duration,
    p99: Duration,
}

/// Measures the reference solution with and without fsync, and prints the report.
pub fn throughput(root: &Path, load: Load, progress: &dyn Fn(&str)) -> anyhow::Result<String> {
    let programs = build(root, progress)?;
    let node = programs
        .command("node")
        .context("the reference has no `node`")?
        .to_vec();
    let mut measured = Vec::new();
    for fsync in [true, false] {
        let setting = match fsync {
            true => {
                "fsynced (every vote, decision and ack waits for a flush; one flush per round of changes: group commit)"
            }
            false => "unsynced (--no-fsync: the original's setting, leveldb's default)",
        };
        progress(setting);
        let mut sequential = Vec::new();
        let mut concurrent = Vec::new();
        for _ in 0..load.repeat.max(1) {
            sequential.push(measure(&node, fsync, 1, Workload::Count(load.sequential))?);
            concurrent.push(measure(
                &node,
                fsync,
                load.in_flight,
                Workload::For(load.duration),
            )?);
        }
        measured.push((setting, middle(sequential), middle(concurrent)));
    }
    Ok(report(load, &machine_load(), &measured))
}

/// The report: our figures only, for each setting the sequential and the concurrent run.
fn report(load: Load, machine: &str, measured: &[(&str, Run, Run)]) -> String {
    let mut out = String::new();
    out.push_str(
        "two-phase commit, 3 local nodes, --min-consensus 2, every put to node 1, 100-byte values\n",
    );
    out.push_str(&format!(
        "machine: {machine} (noisy figures on a shared machine)\n"
    ));
    for (setting, s, c) in measured {
        out.push_str(&format!("{setting}:\n"));
        out.push_str(&format!(
            "  sequential ({} puts)   {:>7.0} commits/s   latency median {:.2} ms, p99 {:.2} ms\n",
            load.sequential,
            s.per_second,
            ms(s.median),
            ms(s.p99)
        ));
        out.push_str(&format!(
            "  {} in flight, {} s   {:>7.0} commits/s   latency median {:.2} ms, p99 {:.2} ms\n",
            load.in_flight,
            load.duration.as_secs(),
            c.per_second,
            ms(c.median),
            ms(c.p99)
        ));
    }
    out.push_str(&format!(
        "(medians of {} runs, fresh databases each; reference solution of exercise 10, release build; \
         beside the original: run ../shared/anchors/level-2pc/run.sh bench alternately with this, \
         as the README's Benchmarks section does)\n",
        load.repeat
    ));
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The load average and the number of cores, for the report (figures are noisy when
/// other work shares the machine).
fn machine_load() -> String {
    let cores = thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    match std::fs::read_to_string("/proc/loadavg") {
        Ok(line) => {
            let averages: Vec<&str> = line.split_whitespace().take(3).collect();
            format!("{cores} cores, load average {} at the end", averages.join(" "))
        }
        Err(_) => format!("{cores} cores"),
    }
}

/// Runs `count` seeded fault schedules on the reference solution and reports how many
/// showed a partial write (none should).
pub fn schedules(root: &Path, count: u64, seed: u64, progress: &dyn Fn(&str)) -> anyhow::Result<String> {
    let exercise = course::find("two-phase-commit")?;
    let programs = build(root, progress)?;
    let context = Context::for_reference(exercise, programs, root, Limits::default());
    let mut failed = Vec::new();
    let started = Instant::now();
    for n in 0..count {
        let seed = seed + n;
        let dir = tempfile::Builder::new()
            .prefix("replicate-2pc-schedule-")
            .tempdir()?;
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work)?;
        let mut trial = Trial::new(&context, &work, seed);
        if let Err(failure) = course::e10_two_phase_commit::schedule(&mut trial, 12) {
            progress(&format!("seed {seed}: {}", failure.summary));
            failed.push((seed, failure.summary));
        }
        if (n + 1) % 10 == 0 {
            progress(&format!("{} of {count} schedules", n + 1));
        }
    }
    let mut out = format!(
        "{count} seeded schedules of 12 steps (writes, kills and cuts, some while a write is in flight) on 3 reference nodes, seeds {seed}..{}: {} showed a partial write or failed, in {:.0} s\n",
        seed + count,
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    for (seed, summary) in failed {
        out.push_str(&format!("  seed {seed}: {summary}\n"));
    }
    Ok(out)
}

fn build(root: &Path, progress: &dyn Fn(&str)) -> anyhow::Result<Programs> {
    let exercise = course::find("two-phase-commit")?;
    progress("building the reference solution of exercise 10 (release)");
    build_in(
        root,
        &exercise.buildable(Side::Reference),
        Profile::Release,
        BUILD_TIMEOUT,
        &|_| {},
    )
    .map(|built| built.programs)
    .context("the reference solution")
}

enum Workload {
    Count(usize),
    For(Duration),
}

/// Starts three nodes on fresh databases, runs the workload against node 1 from
/// `clients` connections, and stops them.
fn measure(node: &[String], fsync: bool, clients: usize, workload: Workload) -> anyhow::Result<Run> {
    let dir = tempfile::Builder::new()
        .prefix("replicate-2pc-bench-")
        .tempdir()?;
    let leases: Vec<PortLease> = (0..3)
        .map(|_| PortLease::take())
        .collect::<std::io::Result<_>>()?;
    let ports: Vec<u16> = leases.iter().map(PortLease::port).collect();
    let limits = Limits {
        timeout: Duration::from_secs(3600),
        resources: None,
        ..Limits::default()
    };
    let mut nodes = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let mut args: Vec<String> = vec![
            "--db".into(),
            format!("n{i}.db"),
            "--port".into(),
            port.to_string(),
            "--min-consensus".into(),
            "2".into(),
        ];
        for (j, peer) in ports.iter().enumerate() {
            if j != i {
                args.extend(["--peer".into(), format!("127.0.0.1:{peer}")]);
            }
        }
        if !fsync {
            args.push("--no-fsync".into());
        }
        let invocation = Invocation {
            program: "node".into(),
            argv: node.iter().cloned().chain(args.iter().cloned()).collect(),
            args,
            cwd: dir.path().to_path_buf(),
            env: Vec::new(),
        };
        // Events are read and dropped as they come: a node must never wait for its reader.
        let wiring = Wiring {
            stdout: Stdout::Piped,
            stderr: Stderr::Forwarded(format!("n{i}| ")),
            ..Wiring::default()
        };
        let mut spawned = Spawned::start(&invocation, wiring, &limits)?;
        if let Some(mut events) = spawned.take_stdout() {
            thread::spawn(move || std::io::copy(&mut events, &mut std::io::sink()));
        }
        nodes.push(spawned);
    }
    let address = format!("127.0.0.1:{}", ports[0]);
    // Ready when a write commits.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut client) = Client::connect(&address)
            && client.put("warm-up", "x").is_ok_and(|committed| committed)
        {
            break;
        }
        if Instant::now() >= deadline {
            bail!("the nodes did not commit a first write within 20 s");
        }
        thread::sleep(Duration::from_millis(50));
    }
    let value = "v".repeat(100);
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(Mutex::new(0usize));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let (address, value, latencies, failures, stop) = (
                address.clone(),
                value.clone(),
                latencies.clone(),
                failures.clone(),
                stop.clone(),
            );
            let count = match workload {
                Workload::Count(n) => n,
                Workload::For(_) => usize::MAX,
            };
            thread::spawn(move || {
                let Ok(mut client) = Client::connect(&address) else {
                    return;
                };
                let mut mine = Vec::new();
                let mut i = 0;
                while i < count && !stop.load(Ordering::SeqCst) {
                    let key = format!("c{c}-k{i}");
                    let began = Instant::now();
                    match client.put(&key, &value) {
                        Ok(true) => mine.push(began.elapsed()),
                        _ => {
                            if let Ok(mut f) = failures.lock() {
                                *f += 1;
                            }
                        }
                    }
                    i += 1;
                }
                if let Ok(mut all) = latencies.lock() {
                    all.extend(mine);
                }
            })
        })
        .collect();
    if let Workload::For(duration) = workload {
        thread::sleep(duration);
        stop.store(true, Ordering::SeqCst);
    }
    for worker in workers {
        let _ = worker.join();
    }
    let elapsed = started.elapsed();
    drop(nodes);
    let mut all = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    all.sort();
    let failed = failures.lock().map(|f| *f).unwrap_or(0);
    if all.is_empty() {
        bail!("no write committed ({failed} failed)");
    }
    Ok(Run {
        per_second: all.len() as f64 / elapsed.as_secs_f64(),
        median: all[all.len() / 2],
        p99: all[(all.len() * 99 / 100).min(all.len() - 1)],
    })
}

fn middle(mut runs: Vec<Run>) -> Run {
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    runs[runs.len() / 2]
}

/// A client connection that sends puts one at a time.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(address: &str) -> std::io::Result<Client> {
        let stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Client {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// Whether the put committed.
    fn put(&mut self, key: &str, value: &str) -> std::io::Result<bool> {
        let request = serde_json::json!({"type": "put", "key": key, "value": value});
        self.writer.write_all(format!("{request}\n").as_bytes())?;
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(line.contains("\"committed\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_prints_our_figures_and_says_where_the_comparison_lives() {
        let run = |per_second, median_us, p99_us| Run {
            per_second,
            median: Duration::from_micros(median_us),
            p99: Duration::from_micros(p99_us),
        };
        let measured = [("unsynced", run(1_500.0, 650, 1_200), run(9_000.0, 3_400, 9_000))];
        let report = report(Load::default(), "2 cores, load average 1.0 0.5 0.2", &measured);
        assert_eq!(
            report,
            "two-phase commit, 3 local nodes, --min-consensus 2, every put to node 1, 100-byte values\n\
             machine: 2 cores, load average 1.0 0.5 0.2 (noisy figures on a shared machine)\n\
             unsynced:\n\
             \x20 sequential (2000 puts)      1500 commits/s   latency median 0.65 ms, p99 1.20 ms\n\
             \x20 32 in flight, 10 s      9000 commits/s   latency median 3.40 ms, p99 9.00 ms\n\
             (medians of 3 runs, fresh databases each; reference solution of exercise 10, release build; \
             beside the original: run ../shared/anchors/level-2pc/run.sh bench alternately with this, \
             as the README's Benchmarks section does)\n"
        );
    }
}
