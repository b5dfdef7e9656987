//! A timeline of a wired run: what each process did, and when, as the verifier saw it.
//!
//! Programs wired to each other (two peers through a relay or plain pipes) fail in
//! ways a transcript cannot show: a side that sent `end` but kept its output open, a
//! side blocked writing into a pipe nobody reads. So every wire program feeds a
//! [`Recorder`] with timed events — starts, every message each way, the end of each
//! stream, cuts, kills, exits, and what a process was doing when the time ran out — and
//! diagnoses, diagrams and `timeline.html` are all drawn from the one [`Timeline`].

use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What a process was doing at the moment the time limit ran out (read from
/// `/proc/PID/task/*/wchan` on Linux, before it was killed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// Blocked reading a pipe: waiting for input.
    Reading,
    /// Blocked writing a pipe: the pipe was full, its reader was not reading.
    Writing,
    /// Sleeping (a timer), waiting on nothing the other side could give it.
    Sleeping,
    /// None of these: computing, or waiting on the disk.
    Working,
    /// The verifier could not tell (not Linux, or the process was gone).
    Unknown,
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum What {
    /// The process started: the command, as shown to the learner.
    Started { command: String },
    /// A line the process wrote to `to` (the line without its `\n`, lossily decoded);
    /// `shown` is the protocol's short form when a decoder knows it; `forwarded` is
    /// false when the relay dropped it (the stream had been cut).
    Sent {
        to: String,
        raw: String,
        shown: Option<String>,
        forwarded: bool,
    },
    /// Its output reached end-of-file: it closed it (or exited).
    Closed,
    /// The verifier cut the stream: nothing more forwarded, every input closed.
    Cut,
    /// The verifier killed it on purpose (an injected fault).
    Killed,
    /// The time limit ran out while it still ran: what it was doing, and whether its
    /// output (fd 1) was still open.
    TimeLimit { waiting: Waiting, output_open: bool },
    /// It ended: `exited with code 0`, `was killed by SIGKILL`, … (the ending, described).
    Ended { how: String },
}

/// One event, stamped with the time since the run started and the process (lane) it
/// belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stamped {
    /// Microseconds since the run started.
    pub at_us: u64,
    pub lane: String,
    #[serde(flatten)]
    pub what: What,
}

/// Everything recorded of one run: the lanes in order, the events in time order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeline {
    pub lanes: Vec<String>,
    pub events: Vec<Stamped>,
    /// Whether the messages were observed (a relay between the programs); over plain
    /// pipes only starts, exits and the states at the time limit are.
    pub relayed: bool,
}

impl Timeline {
    /// The events of one lane.
    pub fn of<'a>(&'a self, lane: &'a str) -> impl Iterator<Item = &'a What> + 'a {
        self.events
            .iter()
            .filter(move |e| e.lane == lane)
            .map(|e| &e.what)
    }

    /// The lines a lane sent, in order.
    pub fn sent_by<'a>(&'a self, lane: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.of(lane).filter_map(|what| match what {
            What::Sent { raw, .. } => Some(raw.as_str()),
            _ => None,
        })
    }

    /// Whether the lane's output reached end-of-file before the lane was stopped at the
    /// time limit (a close at the kill itself does not count).
    pub fn closed_in_time(&self, lane: &str) -> bool {
        for what in self.of(lane) {
            match what {
                What::Closed => return true,
                What::TimeLimit { .. } => return false,
                _ => {}
            }
        }
        false
    }

    /// What the lane was doing when the time ran out, if it still ran then.
    pub fn at_time_limit(&self, lane: &str) -> Option<(Waiting, bool)> {
        self.of(lane).find_map(|what| match what {
            What::TimeLimit { waiting, output_open } => Some((*waiting, *output_open)),
            _ => None,
        })
    }

    /// Fills in the protocol's short form of every message (`handshake peer#1 {…}`).
    pub fn decode_with(&mut self, mut shown: impl FnMut(&str) -> String) {
        for event in &mut self.events {
            if let What::Sent {
                raw, shown: short, ..
            } = &mut event.what
            {
                *short = Some(shown(raw));
            }
        }
    }

    /// The timeline as JSON (for `timeline.html` and for tools).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// Records events from several threads (a relay has one per direction).
#[derive(Debug, Clone)]
pub struct Recorder {
    started: Instant,
    timeline: Arc<Mutex<Timeline>>,
}

impl Recorder {
    /// A recorder whose clock starts now, with these lanes (`A`, `B`, `n1`, …).
    pub fn new(lanes: &[&str]) -> Recorder {
        Recorder::with(lanes, true)
    }

    /// A recorder that sees no messages (programs wired by plain pipes).
    pub fn unrelayed(lanes: &[&str]) -> Recorder {
        Recorder::with(lanes, false)
    }

    fn with(lanes: &[&str], relayed: bool) -> Recorder {
        Recorder {
            started: Instant::now(),
            timeline: Arc::new(Mutex::new(Timeline {
                lanes: lanes.iter().map(|l| l.to_string()).collect(),
                events: Vec::new(),
                relayed,
            })),
        }
    }

    pub fn record(&self, lane: &str, what: What) {
        let at_us = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        if let Ok(mut timeline) = self.timeline.lock() {
            timeline.events.push(Stamped {
                at_us,
                lane: lane.to_string(),
                what,
            });
        }
    }

    /// What was recorded so far, in time order.
    pub fn timeline(&self) -> Timeline {
        let mut timeline = self.timeline.lock().map(|t| t.clone()).unwrap_or_default();
        // Threads stamp, then take the lock: the order of pushes may differ slightly.
        timeline.events.sort_by_key(|e| e.at_us);
        timeline
    }
}

/// What a running process group is doing, from the kernel's wait channel of each
/// thread of each of its processes, and whether one of them still holds its fd 1 open
/// on a pipe; `None` when the group is gone. Only Linux tells.
pub fn probe(group: i32) -> Option<(Waiting, bool)> {
    let members = members_of(group);
    if members.is_empty() {
        return None;
    }
    let (mut reading, mut writing, mut working, mut sleeping) = (false, false, false, false);
    let mut output_open = false;
    for pid in members {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Ok(channel) = std::fs::read_to_string(task.path().join("wchan")) else {
                continue;
            };
            let channel = channel.trim();
            // `pipe_write`, `anon_pipe_write`, `pipe_read`, `hrtimer_nanosleep`, …
            if channel.contains("pipe_write") {
                writing = true;
            } else if channel.contains("pipe_read") {
                reading = true;
            } else if channel.contains("sleep") {
                sleeping = true;
            } else if !channel.starts_with("futex")
                && !channel.starts_with("do_wait")
                && !channel.contains("poll")
            {
                working = true;
            }
        }
        output_open |= std::fs::read_link(format!("/proc/{pid}/fd/1"))
            .is_ok_and(|target| target.to_string_lossy().starts_with("pipe:"));
    }
    let waiting = if writing {
        Waiting::Writing
    } else if working {
        Waiting::Working
    } else if reading {
        Waiting::Reading
    } else if sleeping {
        Waiting::Sleeping
    } else {
        Waiting::Unknown
    };
    Some((waiting, output_open))
}

/// The processes of a process group (`/proc/PID/stat`'s fifth field).
fn members_of(group: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                // After `(comm)`, which may hold spaces: state, ppid, pgrp.
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(2)?.parse::<i32>().ok())
                    == Some(group)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(raw: &str) -> What {
        What::Sent {
            to: "B".into(),
            raw: raw.into(),
            shown: None,
            forwarded: true,
        }
    }

    #[test]
    fn a_close_counts_only_before_the_time_limit() {
        let recorder = Recorder::new(&["A", "B"]);
        recorder.record("A", sent("hello"));
        recorder.record(
            "A",
            What::TimeLimit {
                waiting: Waiting::Reading,
                output_open: true,
            },
        );
        recorder.record("A", What::Closed);
        recorder.record("B", What::Closed);
        let timeline = recorder.timeline();
        assert!(!timeline.closed_in_time("A"));
        assert!(timeline.closed_in_time("B"));
        assert_eq!(timeline.sent_by("A").collect::<Vec<_>>(), vec!["hello"]);
        assert_eq!(timeline.at_time_limit("A"), Some((Waiting::Reading, true)));
        assert_eq!(timeline.at_time_limit("B"), None);
    }

    #[test]
    fn serialises_as_flat_json_events() {
        let recorder = Recorder::new(&["A"]);
        recorder.record("A", sent("{\"type\":\"end\",\"sent\":0}"));
        let mut timeline = recorder.timeline();
        timeline.decode_with(|_| "end (0 sent)".into());
        let json: serde_json::Value = serde_json::from_str(&timeline.to_json()).expect("JSON");
        assert_eq!(json["lanes"], serde_json::json!(["A"]));
        let event = &json["events"][0];
        assert_eq!(event["kind"], "sent");
        assert_eq!(event["lane"], "A");
        assert_eq!(event["shown"], "end (0 sent)");
        assert!(event["at_us"].is_u64());
    }

    #[test]
    fn a_probe_sees_a_process_blocked_reading_with_its_output_open() {
        use std::os::unix::process::CommandExt;
        use std::process::{Command, Stdio};
        let mut child = Command::new("sh")
            .args(["-c", "read line"])
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sh starts");
        let pid = i32::try_from(child.id()).expect("a pid");
        // Give it a moment to block in its read.
        let mut seen = None;
        for _ in 0..50 {
            std::thread::sleep(std::time::Duration::from_millis(20));
            seen = probe(pid);
            if seen == Some((Waiting::Reading, true)) {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        if cfg!(target_os = "linux") {
            assert_eq!(seen, Some((Waiting::Reading, true)));
        }
    }
}
