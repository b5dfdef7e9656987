//! The life of one run: started in a process group of its own (and, when untrusted,
//! contained by the launcher), its streams wired, waited for within its limits,
//! and ended — killed with its whole group and cgroup when dropped, so no path out
//! of a check (success, failure, a harness bug) leaves anything running.

use super::capture::{Capture, forward_lines};
use super::contain::{Contained, contain};
use super::disk::{DiskWatch, file_at_cap};
use super::ending::{Observed, ending_of, over_limit};
use super::lines::Flood;
use super::lines::Lines;
use super::sandbox::NetworkPolicy;
use super::waiting::Entry;
use super::{Ending, Invocation, Limits, OutputStream, Resources, Sandbox, environment, reaper};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::io::{self, PipeReader, PipeWriter};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How a program's standard streams are connected.
#[derive(Debug, Default)]
pub struct Wiring {
    pub stdin: Stdin,
    pub stdout: Stdout,
    pub stderr: Stderr,
}

/// Where a program's stdin comes from.
#[derive(Debug, Default)]
pub enum Stdin {
    /// Closed: the program reads end-of-file at once.
    #[default]
    Closed,
    /// A pipe the verifier writes to ([`Spawned::take_stdin`]).
    Piped,
    /// The read end of a pipe whose writer is elsewhere (another program's stdout).
    From(PipeReader),
}

/// Where a program's stdout goes.
#[derive(Debug, Default)]
pub enum Stdout {
    /// Captured (up to the output cap) and returned when the program ends.
    #[default]
    Captured,
    /// A pipe the verifier reads from ([`Spawned::take_stdout`]).
    Piped,
    /// The write end of a pipe whose reader is elsewhere (another program's stdin).
    To(PipeWriter),
}

/// Where a program's stderr goes.
#[derive(Debug, Default)]
pub enum Stderr {
    /// Captured (up to the output cap) and returned when the program ends.
    #[default]
    Captured,
    /// Copied line by line to the verifier's own stderr, each line behind a prefix.
    Forwarded(String),
}

/// What a finished run left behind.
#[derive(Debug, Clone)]
pub struct Finished {
    pub ending: Ending,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Some process of its group was still alive after it exited (and was killed).
    pub left_running: bool,
    pub elapsed: Duration,
}

/// A started program. Dropping it kills its whole process group.
pub struct Spawned {
    child: Child,
    group: Pid,
    started: Instant,
    stdout: Option<Capture>,
    stderr: Capture,
    flood: Flood,
    resources: Option<Resources>,
    cwd: PathBuf,
    cgroup: Option<super::platform::RunCgroup>,
    disk: Option<DiskWatch>,
    status: Option<ExitStatus>,
    /// In the list of what the verifier waits for, while it lives.
    _waiting: Entry,
}

impl Spawned {
    /// Starts the program in a new process group, its streams connected as `wiring`
    /// says. With resources in `limits` it is untrusted: contained and sandboxed.
    pub fn start(invocation: &Invocation, wiring: Wiring, limits: &Limits) -> io::Result<Spawned> {
        Spawned::start_contained(invocation, wiring, limits, None)
    }

    /// Like [`Spawned::start`], in the given sandbox (a build of untrusted code).
    pub fn start_in(
        invocation: &Invocation,
        wiring: Wiring,
        limits: &Limits,
        sandbox: &Sandbox,
    ) -> io::Result<Spawned> {
        Spawned::start_contained(invocation, wiring, limits, Some(sandbox))
    }

    /// Like [`Spawned::start`], for a networked program: where the sandbox applies,
    /// it may bind and connect only the TCP ports `network` names.
    pub fn start_networked(
        invocation: &Invocation,
        wiring: Wiring,
        limits: &Limits,
        network: &NetworkPolicy,
    ) -> io::Result<Spawned> {
        Spawned::start_contained_with(invocation, wiring, limits, None, Some(network))
    }

    fn start_contained(
        invocation: &Invocation,
        wiring: Wiring,
        limits: &Limits,
        sandbox: Option<&Sandbox>,
    ) -> io::Result<Spawned> {
        Spawned::start_contained_with(invocation, wiring, limits, sandbox, None)
    }

    fn start_contained_with(
        invocation: &Invocation,
        wiring: Wiring,
        limits: &Limits,
        sandbox: Option<&Sandbox>,
        network: Option<&NetworkPolicy>,
    ) -> io::Result<Spawned> {
        let Contained { argv, tmp, cgroup } =
            contain(invocation, limits.resources.as_ref(), sandbox, network)?;
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
        let mut command = std::process::Command::new(program);
        // An untrusted run (resources to cap, or a sandbox) sees none of the
        // verifier's environment; a trusted tool keeps it.
        if limits.resources.is_some() || sandbox.is_some() {
            environment::allow_list(&mut command, &invocation.cwd, tmp.as_deref());
        }
        command
            .args(args)
            .current_dir(&invocation.cwd)
            .envs(invocation.env.iter().map(|(k, v)| (k, v)))
            .stdin(match wiring.stdin {
                Stdin::Closed => Stdio::null(),
                Stdin::Piped => Stdio::piped(),
                Stdin::From(pipe) => Stdio::from(pipe),
            })
            .stdout(match wiring.stdout {
                Stdout::Captured | Stdout::Piped => Stdio::piped(),
                Stdout::To(ref pipe) => Stdio::from(pipe.try_clone()?),
            })
            .stderr(Stdio::piped())
            // Group id = the child's pid: one killpg reaches it and all it starts.
            .process_group(0);
        let mut child = command.spawn()?;
        reaper::register(child.id() as i32);
        // The command holds the parent's copies of pipe ends given to the child:
        // drop them, or a reader would never see end-of-file.
        drop(command);
        let capture_stdout = matches!(wiring.stdout, Stdout::Captured);
        drop(wiring.stdout);
        let group = Pid::from_raw(child.id() as i32);
        let flood = Flood::default();
        let stdout = match capture_stdout {
            true => child
                .stdout
                .take()
                .map(|out| Capture::start(out, limits.max_output, OutputStream::Stdout, flood.clone())),
            false => None,
        };
        let stderr_pipe = child
            .stderr
            .take()
            .ok_or_else(|| io::Error::other("stderr was not piped"))?;
        let stderr = match wiring.stderr {
            Stderr::Captured => Capture::start(
                stderr_pipe,
                limits.max_output,
                OutputStream::Stderr,
                flood.clone(),
            ),
            Stderr::Forwarded(prefix) => {
                let flood = flood.clone();
                thread::spawn(move || forward_lines(stderr_pipe, &prefix, flood));
                Capture::empty()
            }
        };
        let disk = limits
            .resources
            .map(|r| DiskWatch::start(invocation.cwd.clone(), r.disk, group));
        Ok(Spawned {
            child,
            group,
            started: Instant::now(),
            stdout,
            stderr,
            flood,
            resources: limits.resources,
            cwd: invocation.cwd.clone(),
            cgroup,
            disk,
            status: None,
            _waiting: Entry::new(invocation.short_line()),
        })
    }

    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    /// The stdout pipe of a program started with [`Stdout::Piped`], for a relay.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// The stdout of a program started with [`Stdout::Piped`], line by line: a line
    /// longer than [`MAX_LINE`](super::MAX_LINE) ends the reading and becomes the
    /// program's ending ([`Ending::LineTooLong`]).
    pub fn take_stdout_lines(&mut self) -> Option<Lines<ChildStdout>> {
        let stdout = self.child.stdout.take()?;
        Some(Lines::new(stdout).telling(self.flood.clone(), OutputStream::Stdout))
    }

    /// How the program ended, if it has: exited, or flooded its captured output.
    /// Never waits.
    pub fn ending(&mut self) -> Option<Ending> {
        // A line too long is not read, so the program's next write fails and it may
        // exit of that first: the line is what ended it.
        if let Some(line @ Ending::LineTooLong(..)) = self.flood.ending() {
            return Some(line);
        }
        if let Some(status) = self.poll() {
            return Some(ending_of(status));
        }
        self.flood.ending()
    }

    fn poll(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits until the program exits, the deadline passes or it floods its output.
    /// Returns the ending without killing anything.
    pub fn wait_until(&mut self, deadline: Instant, limit: Duration) -> Ending {
        let mut backoff = Backoff::new();
        loop {
            if let Some(ending) = self.ending() {
                return ending;
            }
            if !backoff.pause_until(deadline) {
                return Ending::TimedOut(limit);
            }
        }
    }

    /// Waits for the end (within `timeout` of the start), then kills the group and
    /// collects everything captured.
    pub fn finish(mut self, timeout: Duration) -> Finished {
        let ending = self.wait_until(self.started + timeout, timeout);
        self.collect(ending)
    }

    /// Kills the group now and collects what was captured, with the given ending.
    pub fn collect(mut self, ending: Ending) -> Finished {
        let elapsed = self.started.elapsed();
        let exited = self.status.is_some();
        let mut left_running = exited && group_alive(self.group);
        left_running |= exited && self.cgroup.as_ref().is_some_and(|c| !c.pids().is_empty());
        self.kill_group();
        left_running |= reaper::kill_orphans();
        let stdout = self.stdout.take().map(Capture::finish).unwrap_or_default();
        let stderr = std::mem::replace(&mut self.stderr, Capture::empty()).finish();
        let ending = match self.resources {
            Some(resources) => over_limit(ending, self.observed(&resources), &resources).unwrap_or(ending),
            None => ending,
        };
        Finished {
            ending,
            stdout,
            stderr,
            left_running,
            elapsed,
        }
    }

    /// What the verifier saw of the run's limits: cgroup counters, the folder.
    fn observed(&self, resources: &Resources) -> Observed {
        let cgroup = self.cgroup.as_ref();
        Observed {
            oom_killed: cgroup.is_some_and(|c| c.oom_killed()),
            fork_refused: cgroup.is_some_and(|c| c.fork_refused()),
            disk_full: self.disk.as_ref().is_some_and(DiskWatch::full),
            file_at_cap: file_at_cap(&self.cwd, resources.file_size),
        }
    }

    /// The process group id, to signal the program from elsewhere (a fault injector).
    pub fn group(&self) -> Pid {
        self.group
    }

    /// Kills the whole group now (the program and everything it started).
    pub fn kill(&mut self) {
        self.kill_group();
    }

    fn kill_group(&mut self) {
        kill_group(self.group);
        if self.status.is_none() {
            self.status = self.child.wait().ok();
        }
        // Processes that left the group are still in the run's cgroup.
        if let Some(cgroup) = &self.cgroup {
            cgroup.kill_all();
        }
        reaper::unregister(self.group.as_raw());
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Polling with a growing pause: quick to notice a fast exit, cheap on a slow one.
pub struct Backoff {
    pause: Duration,
}

impl Backoff {
    pub fn new() -> Self {
        Backoff {
            pause: Duration::from_micros(200),
        }
    }

    /// Sleeps a little (never past `deadline`); false once the deadline has passed.
    pub fn pause_until(&mut self, deadline: Instant) -> bool {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        thread::sleep(self.pause.min(deadline - now));
        self.pause = (self.pause * 2).min(Duration::from_millis(5));
        true
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

/// Kills a whole process group at once (SIGKILL); an already empty group is fine.
pub fn kill_group(group: Pid) {
    let _ = killpg(group, Signal::SIGKILL);
}

/// Whether any process is left in the group (signal 0 only checks).
fn group_alive(group: Pid) -> bool {
    killpg(group, None).is_ok()
}
