//! Benchmarks: figures, not verdicts.
//!
//! How fast is replication compared with the storage it sits on? The benchmark builds
//! the reference solution of exercise 03 optimised, and measures, with real processes
//! over real pipes:
//! - the *storage floor*: inserting the same N entries into a bare sled database,
//!   in a process of its own (as the sync runs in processes of their own), and, for
//!   comparison, inside the verifier's own, long-running process;
//! - a *full sync* of N entries from one log into an empty database;
//! - a *catch-up* of 10 new entries into a log of `small` and of `big` entries: its cost
//!   should grow with what is new, not with the size of the log.
//!
//! Why two floors: a fresh process pays for every page of memory it touches, and sled
//! touches some 100 MB while storing 100,000 entries (about 25,000 page faults, measured
//! with `perf stat`). A long-running process has those pages already. The sync can only
//! run in fresh processes, so its fair floor is the fresh one; the warm one shows what
//! the page faults cost.
//!
//! Test databases are written directly in the storage layout that exercise 02 fixes
//! (tree `log`, key = peer id, 0x00, seq as big-endian u64), which is much faster than
//! appending a million entries through processes.
//! It also measures the verifier's own overhead per program run, and the live case
//! of exercise 04 ([`gossip`]): an entry's latency through a line of gossip peers.

mod gossip;

pub use gossip::Latency;

use crate::course::{self, Side};
use crate::harness::build::{BUILD_TIMEOUT, Profile, build_in};
use crate::harness::duplex::{self, Mode};
use crate::runner::{Invocation, Limits, Stderr, run};
use anyhow::{Context as _, anyhow, bail};
use std::path::Path;
use std::time::{Duration, Instant};

/// The sizes to measure.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Entries in the full sync (and in the storage floor).
    pub sync: u64,
    /// The small log of the catch-up comparison.
    pub small: u64,
    /// The big log of the catch-up comparison.
    pub big: u64,
    /// Repetitions of each timed step; the median is reported.
    pub repeat: usize,
    /// Entries timed through the line of gossip peers, per log size (0: skip it).
    pub samples: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            sync: 100_000,
            small: 1_000,
            big: 1_000_000,
            repeat: 5,
            samples: 100,
        }
    }
}

/// The figures of one benchmark run.
#[derive(Debug, Clone)]
pub struct Figures {
    pub sizes: Sizes,
    /// The same inserts in a process of their own, start to exit.
    pub floor: Duration,
    /// The same inserts inside the verifier's own, warm process.
    pub floor_warm: Duration,
    pub full_sync: Duration,
    /// The median of the ratios full sync / floor, measured in triples.
    pub sync_ratio: f64,
    /// The median of the ratios full sync / warm floor.
    pub sync_ratio_warm: f64,
    /// Each round of the catch-up into the small and the big log: its time, and what
    /// sled alone took to open and close both databases just before (in a fresh
    /// process, as the sync's), a cost that grows with the database whatever the
    /// code on top does.
    pub catch_up_small: Vec<(Duration, Duration)>,
    pub catch_up_big: Vec<(Duration, Duration)>,
    pub spawn_direct: Duration,
    pub spawn_runner: Duration,
    /// Live gossip latency with logs of `small` and of `big` entries (if measured).
    pub gossip: Vec<Latency>,
}

impl Figures {
    /// The report, with each figure against its target.
    pub fn report(&self) -> String {
        let s = self.sizes;
        let ms = |d: Duration| format!("{:>9.1} ms", d.as_secs_f64() * 1000.0);
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
        let mut out = String::new();
        out.push_str(&format!(
            "storage floor: {} bare sled inserts + flush, own process  {}\n",
            s.sync,
            ms(self.floor)
        ));
        out.push_str(&format!(
            "  the same inserts in the verifier's warm process         {}\n",
            ms(self.floor_warm)
        ));
        out.push_str(&format!(
            "full sync of {} entries, two processes, pipes           {}  = {:.2}× the floor (target ≤ 1.3×), {:.2}× the warm floor\n",
            s.sync,
            ms(self.full_sync),
            self.sync_ratio,
            self.sync_ratio_warm
        ));
        let (small, big) = (&self.catch_up_small, &self.catch_up_big);
        let (catch_up_small, catch_up_big) = (median_pick(small, |r| r.0), median_pick(big, |r| r.0));
        out.push_str(&format!(
            "catch-up of 10 entries into a log of {:>9}    {}\n",
            s.small,
            ms(catch_up_small)
        ));
        out.push_str(&format!(
            "catch-up of 10 entries into a log of {:>9}    {}  = {:.2}× the small log (target ≤ 1.2×)\n",
            s.big,
            ms(catch_up_big),
            ratio(catch_up_big, catch_up_small)
        ));
        out.push_str(&format!(
            "  sled alone, opening and closing both databases at once, own process: {} and {}\n",
            ms(median_pick(small, |r| r.1)).trim(),
            ms(median_pick(big, |r| r.1)).trim()
        ));
        let above = |rounds: &[(Duration, Duration)]| {
            rounds
                .iter()
                .map(|(total, open)| format!("{:+.1}", (total.as_secs_f64() - open.as_secs_f64()) * 1000.0))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "  catch-up above that storage floor, each round (what replication itself costs; target ≤ 20 ms): \
             {} ms with the small log; {} ms with the big one\n",
            above(small),
            above(big)
        ));
        out.push_str(&format!(
            "one program run (/bin/true): std {} · verifier runner {}  = {:.2} ms overhead\n",
            ms(self.spawn_direct),
            ms(self.spawn_runner),
            (self.spawn_runner.as_secs_f64() - self.spawn_direct.as_secs_f64()) * 1000.0
        ));
        for latency in &self.gossip {
            out.push_str(&format!(
                "live gossip, 4 peers in a line holding {:>9} entries each: append on p1 → durable and printed on p4: median {}, p99 {}\n",
                latency.entries,
                ms(latency.median).trim(),
                ms(latency.p99).trim()
            ));
        }
        if let [small, big] = self.gossip.as_slice() {
            out.push_str(&format!(
                "  {:.2}× the median with the small logs (target: no growth with the log)\n",
                ratio(big.median, small.median)
            ));
        }
        out.push_str(&format!(
            "(medians of {} runs, gossip of {} entries; reference solutions of exercises 03 and 04, release builds)\n",
            s.repeat, s.samples
        ));
        out
    }
}

/// Runs the whole benchmark in a fresh temporary directory.
pub fn run_all(root: &Path, sizes: Sizes, progress: &dyn Fn(&str)) -> anyhow::Result<Figures> {
    let exercise = course::find("replicate")?;
    progress("building the reference solution of exercise 03 (release)");
    let package = exercise.buildable(Side::Reference);
    let built = build_in(root, &package, Profile::Release, BUILD_TIMEOUT, &|_| {})
        .context("the reference solution")?;
    let replicate = built
        .programs
        .command("replicate")
        .context("the reference solution has no `replicate`")?
        .to_vec();
    // Under the verifier's scratch root: removed even if the verifier is killed.
    let dir = crate::runner::scratch_dir("replicate-bench-")?;
    let dir = dir.path();

    // The floors and the sync alternate, so that all meet the same load on a busy
    // machine; the ratios reported are the medians of the ratios of each round.
    progress(&format!(
        "storage floors ({} inserts) and full sync, alternating",
        sizes.sync
    ));
    // The floor stores the very entries the sync moves: the same log id (keys of
    // the same length) and the same texts.
    let source_log = "aaaa000000000001";
    let source = dir.join("source");
    write_log(&source, source_log, source_log, 0, sizes.sync)?;
    let mut rounds = Vec::new();
    for i in 0..sizes.repeat.max(1) {
        let floor = floor_in_own_process(&dir.join(format!("floor-{i}")), source_log, sizes.sync)?;
        let db = dir.join(format!("floor-warm-{i}"));
        let started = Instant::now();
        write_log(&db, FLOOR_PEER, source_log, 0, sizes.sync)?;
        let floor_warm = started.elapsed();
        let empty = dir.join(format!("empty-{i}"));
        write_identity(&empty, &format!("bbbb00000000{i:04}"))?;
        let synced = sync(&replicate, &source, &empty)?;
        let held = count(&empty, source_log)?;
        if held != sizes.sync {
            bail!("the full sync stored {held} of {} entries", sizes.sync);
        }
        rounds.push((floor, floor_warm, synced));
    }
    let median_by = |pick: fn(&(Duration, Duration, Duration)) -> Duration| {
        let mut all: Vec<Duration> = rounds.iter().map(pick).collect();
        all.sort();
        median_of(&all)
    };
    let ratio_by = |pick: fn(&(Duration, Duration, Duration)) -> Duration| {
        let mut ratios: Vec<f64> = rounds
            .iter()
            .map(|round| round.2.as_secs_f64() / pick(round).as_secs_f64().max(1e-9))
            .collect();
        ratios.sort_by(f64::total_cmp);
        ratios[ratios.len() / 2]
    };
    let floor = median_by(|round| round.0);
    let floor_warm = median_by(|round| round.1);
    let full_sync = median_by(|round| round.2);
    let sync_ratio = ratio_by(|round| round.0);
    let sync_ratio_warm = ratio_by(|round| round.1);

    let mut catch_up = Vec::new();
    let log = "cccc000000000001";
    for size in [sizes.small, sizes.big] {
        progress(&format!("catch-up of 10 entries into a log of {size}"));
        let ahead = dir.join(format!("ahead-{size}"));
        let behind = dir.join(format!("behind-{size}"));
        write_log(&ahead, log, log, 0, size + 10)?;
        write_log(&behind, "dddd000000000001", log, 0, size)?;
        let mut head = size + 10;
        // Each round measures sled's open and close on the databases exactly as the
        // catch-up then finds them, then the catch-up: the pair meets the same state
        // of sled's files (its recovery on open depends on what was written since its
        // last snapshot) and the same load.
        let mut rounds = Vec::new();
        for _ in 0..sizes.repeat.max(1) {
            let open = open_in_own_process(&[&ahead, &behind])?;
            let elapsed = sync(&replicate, &ahead, &behind)?;
            let held = count(&behind, log)?;
            if held != head {
                bail!("the catch-up left {held} of {head} entries");
            }
            // Ten more for the next round: the log behind is again 10 short.
            write_log(&ahead, log, log, head, head + 10)?;
            head += 10;
            rounds.push((elapsed, open));
        }
        catch_up.push(rounds);
    }

    progress("the runner's overhead per program run");
    let (spawn_direct, spawn_runner) = spawn_overhead(sizes.repeat.max(20))?;

    let mut gossip = Vec::new();
    if sizes.samples > 0 {
        progress("building the reference solution of exercise 04 (release)");
        let exercise = course::find("gossip")?;
        let package = exercise.buildable(Side::Reference);
        let built = build_in(root, &package, Profile::Release, BUILD_TIMEOUT, &|_| {})
            .context("the reference solution of exercise 04")?;
        let peer = built
            .programs
            .command("peer")
            .context("the reference solution has no `peer`")?
            .to_vec();
        for size in [sizes.small, sizes.big] {
            progress(&format!(
                "live gossip: {} entries through 4 peers holding {size} each",
                sizes.samples
            ));
            gossip.push(gossip::measure(&peer, dir, size, sizes.samples)?);
        }
    }
    Ok(Figures {
        sizes,
        floor,
        floor_warm,
        full_sync,
        sync_ratio,
        sync_ratio_warm,
        catch_up_small: catch_up[0].clone(),
        catch_up_big: catch_up[1].clone(),
        spawn_direct,
        spawn_runner,
        gossip,
    })
}

/// The hidden subcommand that measures the storage floor in a process of its own.
pub const FLOOR_SUBCOMMAND: &str = "__bench-floor";

/// The identity of the floor's databases.
const FLOOR_PEER: &str = "f100r00000000001";

/// The hidden subcommand that opens and closes databases in a process of its own.
pub const OPEN_SUBCOMMAND: &str = "__bench-open";

/// Runs a hidden subcommand if this process was started as one: `verifier
/// __bench-floor DB LOG N` writes entries 1..=N of LOG into a new database DB;
/// `verifier __bench-open DB...` opens the databases at once (a thread each, as two
/// peers of a sync do) and closes them.
pub fn helper_main() -> Option<std::process::ExitCode> {
    // `args_os`: any command line (even one that is not UTF-8) reaches clap intact.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let (command, rest) = args.split_first()?;
    let (name, done) = if command == FLOOR_SUBCOMMAND {
        let [db, log, entries] = rest else {
            return None;
        };
        let (log, entries) = (log.to_string_lossy(), entries.to_string_lossy());
        let written = entries
            .parse()
            .map_err(|_| anyhow!("not a number of entries: {entries:?}"))
            .and_then(|n| Ok(write_log(Path::new(db), FLOOR_PEER, &log, 0, n)?));
        (FLOOR_SUBCOMMAND, written)
    } else if command == OPEN_SUBCOMMAND && !rest.is_empty() {
        let dbs: Vec<&Path> = rest.iter().map(Path::new).collect();
        (OPEN_SUBCOMMAND, open_and_close(&dbs))
    } else {
        return None;
    };
    Some(match done {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: {error:#}");
            std::process::ExitCode::FAILURE
        }
    })
}

/// Opens the databases at the same time, one thread each, then closes them.
fn open_and_close(dbs: &[&Path]) -> anyhow::Result<()> {
    let opened: Vec<sled::Result<sled::Db>> = std::thread::scope(|scope| {
        let opening: Vec<_> = dbs
            .iter()
            .map(|db| scope.spawn(move || open_when_free(db)))
            .collect();
        opening.into_iter().filter_map(|t| t.join().ok()).collect()
    });
    if opened.len() != dbs.len() {
        bail!("a thread opening a database panicked");
    }
    for db in opened {
        drop(db?);
    }
    Ok(())
}

/// The storage floor in a process of its own: from starting the process that
/// inserts `entries` entries of `log` into a new database at `db`, to its exit.
/// It is started by the same runner as the sync's processes, so that both pay
/// the same for starting.
fn floor_in_own_process(db: &Path, log: &str, entries: u64) -> anyhow::Result<Duration> {
    let args = [db.display().to_string(), log.to_string(), entries.to_string()];
    in_own_process(FLOOR_SUBCOMMAND, &args, db.parent().unwrap_or(db))
}

/// What sled alone takes to open and close the databases of a sync, measured as the
/// sync is: in a fresh process (which pays for every page it touches), on the
/// databases exactly as the sync will find them.
fn open_in_own_process(dbs: &[&Path]) -> anyhow::Result<Duration> {
    let args: Vec<String> = dbs.iter().map(|db| db.display().to_string()).collect();
    let cwd = dbs.first().and_then(|db| db.parent()).unwrap_or(Path::new("."));
    in_own_process(OPEN_SUBCOMMAND, &args, cwd)
}

/// Times the verifier's hidden `subcommand` in a process of its own, start to exit.
fn in_own_process(subcommand: &str, args: &[String], cwd: &Path) -> anyhow::Result<Duration> {
    let program = std::env::current_exe().context("cannot find the verifier's binary")?;
    let args: Vec<String> = std::iter::once(subcommand.to_string())
        .chain(args.iter().cloned())
        .collect();
    let invocation = Invocation {
        program: subcommand.into(),
        argv: std::iter::once(program.display().to_string())
            .chain(args.iter().cloned())
            .collect(),
        args,
        cwd: cwd.to_path_buf(),
        env: Vec::new(),
    };
    let started = Instant::now();
    let finished = run(&invocation, None, &unlimited())?;
    let elapsed = started.elapsed();
    if !finished.ending.success() {
        bail!(
            "the process of `{subcommand}` failed ({}): {}",
            finished.ending.describe(),
            String::from_utf8_lossy(&finished.stderr).trim()
        );
    }
    Ok(elapsed)
}

/// Measure the solution, not the leash: no resource limits, a generous timeout.
fn unlimited() -> Limits {
    Limits {
        timeout: Duration::from_secs(600),
        resources: None,
        ..Limits::default()
    }
}

/// The median of `times` measurements.
fn median(
    times: usize,
    mut measure: impl FnMut(usize) -> anyhow::Result<Duration>,
) -> anyhow::Result<Duration> {
    let mut all = Vec::new();
    for i in 0..times.max(1) {
        all.push(measure(i)?);
    }
    all.sort();
    Ok(median_of(&all))
}

/// The median of one figure of each round.
fn median_pick<T>(rounds: &[T], pick: impl Fn(&T) -> Duration) -> Duration {
    let mut all: Vec<Duration> = rounds.iter().map(pick).collect();
    all.sort();
    median_of(&all)
}

/// The median of sorted durations (zero for none).
fn median_of(sorted: &[Duration]) -> Duration {
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// Opens a database this process had open a moment ago. sled lets go of its lock
/// from a background thread shortly after the last handle is dropped, so an open
/// right after may find it still held: wait for it (up to 2 s).
fn open_when_free(db: &Path) -> sled::Result<sled::Db> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match sled::open(db) {
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            opened => return opened,
        }
    }
}

/// Writes a database whose identity is `own` and which holds `log`'s entries
/// `from + 1 ..= to`, in the layout of exercise 02.
fn write_log(db: &Path, own: &str, log: &str, from: u64, to: u64) -> sled::Result<()> {
    let database = open_when_free(db)?;
    database.open_tree("meta")?.insert("peer", own.as_bytes())?;
    let tree = database.open_tree("log")?;
    for seq in from + 1..=to {
        tree.insert(log_key(log, seq), format!("entry number {seq}").as_bytes())?;
    }
    database.flush()?;
    Ok(())
}

fn write_identity(db: &Path, own: &str) -> sled::Result<()> {
    write_log(db, own, own, 0, 0)
}

fn log_key(peer: &str, seq: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(peer.len() + 9);
    key.extend_from_slice(peer.as_bytes());
    key.push(0);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// How many entries of `log` a database holds.
fn count(db: &Path, log: &str) -> sled::Result<u64> {
    let database = open_when_free(db)?;
    let tree = database.open_tree("log")?;
    let mut prefix = log.as_bytes().to_vec();
    prefix.push(0);
    Ok(tree.scan_prefix(prefix).count() as u64)
}

/// Syncs two databases with two `replicate` processes wired by plain pipes.
fn sync(replicate: &[String], a: &Path, b: &Path) -> anyhow::Result<Duration> {
    let invocation = |db: &Path| Invocation {
        program: "replicate".into(),
        args: vec![db.display().to_string()],
        argv: replicate
            .iter()
            .cloned()
            .chain([db.display().to_string()])
            .collect(),
        cwd: db.parent().map(Path::to_path_buf).unwrap_or_default(),
        env: Vec::new(),
    };
    let limits = unlimited();
    let stderr = [Stderr::Captured, Stderr::Captured];
    let started = Instant::now();
    let outcome = duplex::run(&invocation(a), &invocation(b), Mode::Direct, stderr, &limits)?;
    let elapsed = started.elapsed();
    if !outcome.a.success() || !outcome.b.success() {
        bail!(
            "replicate failed: A {}, B {}: {}",
            outcome.a.describe(),
            outcome.b.describe(),
            String::from_utf8_lossy(&outcome.stderr_b)
        );
    }
    Ok(elapsed)
}

/// Median time of running `/bin/true` with std, and through the verifier's runner.
fn spawn_overhead(times: usize) -> anyhow::Result<(Duration, Duration)> {
    let direct = median(times, |_| {
        let started = Instant::now();
        std::process::Command::new("true").output()?;
        Ok(started.elapsed())
    })?;
    // A folder of its own, as a check gives: the runner measures what a run adds to
    // its folder, and a shared /tmp full of build trees would be walked every time.
    let folder = tempfile::Builder::new()
        .prefix("replicate-bench-run-")
        .tempdir_in(crate::runner::scratch_root()?)?;
    let invocation = Invocation {
        program: "true".into(),
        args: Vec::new(),
        argv: vec!["true".into()],
        cwd: folder.path().to_path_buf(),
        env: Vec::new(),
    };
    let runner = median(times, |_| {
        let started = Instant::now();
        run(&invocation, None, &Limits::default())?;
        Ok(started.elapsed())
    })?;
    Ok((direct, runner))
}
