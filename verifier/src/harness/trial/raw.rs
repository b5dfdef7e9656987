//! Raw conversations: the relay and the scripted peer without any protocol.
//!
//! [`Trial::sync`] and [`Trial::converse`] decode exercise 03's protocol. An
//! exercise with a protocol of its own uses these instead: the lines that
//! crossed come back as bytes, and the exercise's module decodes, judges and
//! shows them. Runs are still recorded for the report, and programs still get
//! their limits, process groups and the check that they stayed in their
//! directory.

use super::{Failure, RunLog, Trial, shown_line};
use crate::harness::duplex::{self, Direction, Fault, Mode};
use crate::harness::redact::Redactor;
use crate::runner::{Ending, Invocation, Stderr, run, seconds};
use std::time::Duration;

use super::Peer;

/// Two peers wired through the relay: how each ended and every line that crossed.
#[derive(Debug, Clone)]
pub struct RawRun {
    pub a: Ending,
    pub b: Ending,
    pub stderr_a: String,
    pub stderr_b: String,
    /// Every line, in arrival order: its direction, its bytes (without `\n`), and
    /// whether it was forwarded (false: dropped after a fault).
    pub lines: Vec<(Direction, Vec<u8>, bool)>,
    pub fault_fired: bool,
    /// From starting both to both ending.
    pub elapsed: Duration,
}

/// One peer fed a script by the verifier: how it ended, its stdout lines, its stderr.
#[derive(Debug, Clone)]
pub struct RawTalk {
    pub ending: Ending,
    pub lines: Vec<Vec<u8>>,
    pub stderr: String,
}

impl Trial<'_> {
    /// Runs A and B wired through the relay (with a fault, or [`Fault::None`]).
    /// Adds nothing to the transcript; a peer that hangs is killed at the time
    /// limit and reported as such in the endings.
    pub fn relay_raw(&mut self, a: &Peer, b: &Peer, fault: Fault) -> Result<RawRun, Failure> {
        let inv_a = self.invocation(a.who, a.program, &a.args)?;
        let inv_b = self.invocation(b.who, b.program, &b.args)?;
        let mode = Mode::Relay {
            fault,
            observer: None,
        };
        let stderr = [Stderr::Captured, Stderr::Captured];
        let outcome = duplex::run(&inv_a, &inv_b, mode, stderr, &self.limits())
            .map_err(|e| Failure::harness(format!("could not start the two peers: {e}")))?;
        let run = RawRun {
            a: outcome.a,
            b: outcome.b,
            stderr_a: String::from_utf8_lossy(&outcome.stderr_a).into_owned(),
            stderr_b: String::from_utf8_lossy(&outcome.stderr_b).into_owned(),
            lines: outcome
                .events
                .into_iter()
                .map(|e| (e.direction, e.raw, e.forwarded))
                .collect(),
            fault_fired: outcome.fault_fired,
            elapsed: outcome.elapsed,
        };
        for (invocation, ending, stderr) in
            [(inv_a, run.a, outcome.stderr_a), (inv_b, run.b, outcome.stderr_b)]
        {
            self.runs.push(RunLog {
                invocation,
                ending,
                stderr,
            });
        }
        self.stayed_inside(a.program)?;
        Ok(run)
    }

    /// Runs one peer with `input` on its stdin (then end-of-file). A hang, a crash
    /// or a flood fails the check; any exit code is returned.
    pub fn converse_raw(&mut self, peer: &Peer, input: &[u8]) -> Result<RawTalk, Failure> {
        let invocation = self.invocation(peer.who, peer.program, &peer.args)?;
        let finished = run(&invocation, Some(input), &self.limits())
            .map_err(|e| Failure::could_not_start(&invocation, e))?;
        self.runs.push(RunLog {
            invocation,
            ending: finished.ending,
            stderr: finished.stderr.clone(),
        });
        self.stayed_inside(peer.program)?;
        match finished.ending {
            Ending::TimedOut(limit) => {
                return Err(self
                    .misbehaved(&format!("Timed out after {} while waiting for `{}` to exit", seconds(limit), peer.program))
                    .detail("The verifier sent its messages and closed the stream: a peer must notice end-of-file and exit."));
            }
            Ending::Exited(_) => {}
            ending => return Err(self.misbehaved(&format!("`{}` {}", peer.program, ending.describe()))),
        }
        Ok(RawTalk {
            ending: finished.ending,
            lines: finished
                .stdout
                .split(|&b| b == b'\n')
                .filter(|line| !line.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
            stderr: String::from_utf8_lossy(&finished.stderr).into_owned(),
        })
    }

    /// The invocation as a transcript shows it: arguments that are ids printed
    /// earlier (a node key passed to `get`, say) become their placeholders.
    pub(super) fn with_known_ids_redacted(&self, invocation: &Invocation) -> Invocation {
        let mut shown = invocation.clone();
        for arg in &mut shown.args {
            if let Some(placeholder) = self.redactor.known_any(arg) {
                *arg = placeholder;
            }
        }
        shown
    }

    /// The command line of a peer as the transcript shows it.
    pub fn peer_line(&self, peer: &Peer) -> String {
        self.invocation(peer.who, peer.program, &peer.args)
            .map(|invocation| shown_line(peer.who, &invocation))
            .unwrap_or_else(|_| peer.program.to_string())
    }

    /// Adds a line to the transcript as it is (no `# `).
    pub fn show(&mut self, line: impl Into<String>) {
        self.transcript.push(line.into());
    }

    /// The trial's redactor, to show ids of a protocol as placeholders.
    pub fn redactor(&mut self) -> &mut Redactor {
        &mut self.redactor
    }

    /// Replaces what the report shows as having crossed the wire.
    pub fn set_wire(&mut self, lines: Vec<String>) {
        self.wire = lines;
    }
}
