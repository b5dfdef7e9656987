//! Diagnoses drawn from what was observed, not from the name of the check that failed.
//!
//! A check knows what it tried ("sync two peers", "2,000 entries each way", "within the
//! budget"); when two programs hang on each other, the check's guess at the cause can
//! be wrong in three different ways for one bug. The timeline of the run says what
//! actually happened: who sent `end`, whose output reached end-of-file, and what each
//! side still running was doing when the time ran out (reading, writing into a full
//! pipe, working). The cause found there leads the report, before any advice.

use crate::harness::timeline::{Timeline, Waiting, What};

/// What the timeline shows went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A side said its last word (or waited to read) with its output still open, and
    /// the other side waited for that output's end-of-file.
    NeverClosed,
    /// A side was blocked writing into a full pipe: the side at the other end had
    /// stopped reading (both, in a deadlock).
    StoppedReading,
    /// A side exited, not cleanly, before it sent `end`.
    ExitedEarly,
    /// At the time limit a side was still working, not waiting on a pipe: the time
    /// went into its own work.
    Working,
}

/// A cause, said for the learner: the first line, evidence, and what to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub cause: Cause,
    pub summary: String,
    pub details: Vec<String>,
    pub advice: Option<String>,
}

impl Diagnosis {
    /// Whether the cause is certain enough to replace the check's first line (working
    /// slowly only adds a line: the check's own judgement of speed stands).
    pub fn leads(&self) -> bool {
        self.cause != Cause::Working
    }
}

/// What the diagnosis needs to know besides the timeline: how to call each lane
/// (`A (`replicate alice.db`)`), the time limit as said, and which lines are the
/// protocol's last word (`end`), if the protocol has one.
pub struct Sides<'a> {
    pub names: &'a [(&'a str, String)],
    pub limit: String,
    pub is_last_word: &'a dyn Fn(&str) -> bool,
}

impl Sides<'_> {
    fn name<'n>(&'n self, lane: &'n str) -> &'n str {
        self.names
            .iter()
            .find(|(l, _)| *l == lane)
            .map_or(lane, |(_, name)| name.as_str())
    }
}

const CLOSE_ADVICE: &str = "Once you have sent `end`, close your output at once (flush, then close fd 1; in Rust, dropping Stdout does not close it: point fd 1 at /dev/null, as the scaffolding's stream.rs does). The other side reads until end-of-file, then exits.";

/// The cause the timeline shows, if it shows one.
pub fn diagnose(timeline: &Timeline, sides: &Sides) -> Option<Diagnosis> {
    never_closed(timeline, sides)
        .or_else(|| stopped_reading(timeline, sides))
        .or_else(|| exited_early(timeline, sides))
        .or_else(|| working(timeline, sides))
}

/// Whether the messages were observed (a relayed run); plain pipes show none.
fn relayed(timeline: &Timeline) -> bool {
    timeline.relayed
}

fn never_closed(timeline: &Timeline, sides: &Sides) -> Option<Diagnosis> {
    let relayed = relayed(timeline);
    let waiting_to_read = |lane: &str| matches!(timeline.at_time_limit(lane), Some((Waiting::Reading, _)));
    // Whoever still ran without working or writing was waiting for something.
    let idle = |lane: &str| {
        matches!(
            timeline.at_time_limit(lane),
            Some((Waiting::Reading | Waiting::Sleeping | Waiting::Unknown, _))
        )
    };
    let open: Vec<&str> = timeline
        .lanes
        .iter()
        .map(String::as_str)
        .filter(|lane| {
            let held_open =
                matches!(timeline.at_time_limit(lane), Some((_, true))) && !timeline.closed_in_time(lane);
            let said_all = match relayed {
                true => timeline.sent_by(lane).any(|line| (sides.is_last_word)(line)),
                false => waiting_to_read(lane),
            };
            held_open && said_all
        })
        .collect();
    let first = *open.first()?;
    // Someone must have been waiting for that end-of-file.
    let waiter = timeline
        .lanes
        .iter()
        .map(String::as_str)
        .find(|lane| *lane != first && idle(lane))?;
    let summary = match (open.as_slice(), relayed) {
        ([_], true) => format!(
            "{} did not close its output after sending `end`: {} waited for end-of-file until the time limit ({})",
            sides.name(first),
            sides.name(waiter),
            sides.limit
        ),
        ([_, second, ..], true) => format!(
            "{} did not close its output after sending `end`, nor did {}: each waited for the other's end-of-file until the time limit ({})",
            sides.name(first),
            sides.name(second),
            sides.limit
        ),
        ([_], false) => format!(
            "{} did not close its output: at the time limit ({}) it was waiting to read with its output still open, and {} was waiting for it",
            sides.name(first),
            sides.limit,
            sides.name(waiter)
        ),
        (_, false) | ([], _) => format!(
            "{} did not close its output, nor did {}: at the time limit ({}) both were waiting to read, each for the other's end-of-file",
            sides.name(first),
            sides.name(waiter),
            sides.limit
        ),
    };
    let mut details = vec!["Observed at the time limit: its output (fd 1) was still an open pipe, and no end-of-file had come out of it.".to_string()];
    if !relayed {
        details.push(
            "(Plain pipes: the messages were not recorded. If a side never sent `end`, that comes first.)"
                .to_string(),
        );
    }
    Some(Diagnosis {
        cause: Cause::NeverClosed,
        summary,
        details,
        advice: Some(CLOSE_ADVICE.to_string()),
    })
}

fn stopped_reading(timeline: &Timeline, sides: &Sides) -> Option<Diagnosis> {
    let writing: Vec<&str> = timeline
        .lanes
        .iter()
        .map(String::as_str)
        .filter(|lane| matches!(timeline.at_time_limit(lane), Some((Waiting::Writing, _))))
        .collect();
    let first = *writing.first()?;
    let other = timeline
        .lanes
        .iter()
        .map(String::as_str)
        .find(|lane| *lane != first)?;
    let summary = match writing.as_slice() {
        [_, second, ..] => format!(
            "deadlocked: {} and {} were both blocked writing into a full pipe at the time limit ({}), and neither was reading",
            sides.name(first),
            sides.name(second),
            sides.limit
        ),
        _ => format!(
            "{} stopped reading: {} was blocked writing to it at the time limit ({}), the pipe between them full",
            sides.name(other),
            sides.name(first),
            sides.limit
        ),
    };
    Some(Diagnosis {
        cause: Cause::StoppedReading,
        summary,
        details: vec!["A pipe holds about 64 KiB; a writer blocks once it is full, until the reader reads.".to_string()],
        advice: Some("Read while you write: one thread sends (handshake, diff, end) while another receives, and the main thread waits for both.".to_string()),
    })
}

fn exited_early(timeline: &Timeline, sides: &Sides) -> Option<Diagnosis> {
    if !relayed(timeline) {
        return None;
    }
    timeline.lanes.iter().find_map(|lane| {
        let how = timeline.of(lane).find_map(|what| match what {
            What::Ended { how } => Some(how.clone()),
            What::TimeLimit { .. } => Some(String::new()),
            _ => None,
        })?;
        let said_end = timeline.sent_by(lane).any(|line| (sides.is_last_word)(line));
        let killed = timeline.of(lane).any(|what| matches!(what, What::Killed));
        let cut = timeline.events.iter().any(|e| matches!(e.what, What::Cut));
        if how.is_empty() || how == "exited with code 0" || said_end || killed || cut {
            return None;
        }
        Some(Diagnosis {
            cause: Cause::ExitedEarly,
            summary: format!("{} {how} before it sent `end`", sides.name(lane)),
            details: vec!["The other side was left waiting for the rest of the session.".to_string()],
            advice: None,
        })
    })
}

fn working(timeline: &Timeline, sides: &Sides) -> Option<Diagnosis> {
    let lanes = || timeline.lanes.iter().map(String::as_str);
    let busy = lanes().find(|lane| matches!(timeline.at_time_limit(lane), Some((Waiting::Working, _))))?;
    let line = match lanes().find(|lane| matches!(timeline.at_time_limit(lane), Some((Waiting::Reading, _))))
    {
        Some(waiter) => format!(
            "Observed at the time limit: {} was still working, and {} was waiting for it to write.",
            sides.name(busy),
            sides.name(waiter)
        ),
        None => format!(
            "Observed at the time limit: {} was still working, not waiting on the other side: the time goes into its own work.",
            sides.name(busy)
        ),
    };
    Some(Diagnosis {
        cause: Cause::Working,
        summary: String::new(),
        details: vec![line],
        advice: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::timeline::Recorder;

    fn names() -> Vec<(&'static str, String)> {
        vec![
            ("A", "A (`replicate alice.db`)".into()),
            ("B", "B (`replicate bob.db`)".into()),
        ]
    }

    fn diagnose_with_end(timeline: &Timeline) -> Option<Diagnosis> {
        let names = names();
        let is_end = |line: &str| line.contains("\"end\"");
        diagnose(
            timeline,
            &Sides {
                names: &names,
                limit: "5 s".into(),
                is_last_word: &is_end,
            },
        )
    }

    fn sent(recorder: &Recorder, lane: &str, raw: &str) {
        let to = if lane == "A" { "B" } else { "A" };
        recorder.record(
            lane,
            What::Sent {
                to: to.into(),
                raw: raw.into(),
                shown: None,
                forwarded: true,
            },
        );
    }

    fn at_limit(recorder: &Recorder, lane: &str, waiting: Waiting, output_open: bool) {
        recorder.record(lane, What::TimeLimit { waiting, output_open });
    }

    const END: &str = r#"{"type":"end","sent":0}"#;

    #[test]
    fn a_side_that_said_end_and_kept_its_output_open() {
        let r = Recorder::new(&["A", "B"]);
        sent(&r, "A", END);
        sent(&r, "B", END);
        r.record("B", What::Closed);
        at_limit(&r, "A", Waiting::Reading, true);
        at_limit(&r, "B", Waiting::Reading, false);
        let d = diagnose_with_end(&r.timeline()).expect("a diagnosis");
        assert_eq!(d.cause, Cause::NeverClosed);
        assert!(d.leads());
        assert_eq!(
            d.summary,
            "A (`replicate alice.db`) did not close its output after sending `end`: B (`replicate bob.db`) waited for end-of-file until the time limit (5 s)"
        );
    }

    #[test]
    fn both_sides_kept_their_output_open() {
        let r = Recorder::new(&["A", "B"]);
        sent(&r, "A", END);
        sent(&r, "B", END);
        at_limit(&r, "A", Waiting::Reading, true);
        at_limit(&r, "B", Waiting::Reading, true);
        let d = diagnose_with_end(&r.timeline()).expect("a diagnosis");
        assert!(
            d.summary
                .contains("did not close its output after sending `end`, nor did B"),
            "{}",
            d.summary
        );
        // Over plain pipes nothing is recorded but the states at the time limit.
        let r = Recorder::unrelayed(&["A", "B"]);
        at_limit(&r, "A", Waiting::Reading, true);
        at_limit(&r, "B", Waiting::Reading, true);
        let d = diagnose_with_end(&r.timeline()).expect("a diagnosis");
        assert!(
            d.summary
                .starts_with("A (`replicate alice.db`) did not close its output, nor did B"),
            "{}",
            d.summary
        );
    }

    #[test]
    fn a_side_that_sleeps_after_end_with_its_output_open() {
        let r = Recorder::new(&["A", "B"]);
        sent(&r, "A", END);
        sent(&r, "B", END);
        at_limit(&r, "A", Waiting::Sleeping, true);
        at_limit(&r, "B", Waiting::Sleeping, true);
        let d = diagnose_with_end(&r.timeline()).expect("a diagnosis");
        assert_eq!(d.cause, Cause::NeverClosed);
    }

    #[test]
    fn a_close_before_the_time_limit_is_not_a_missing_close() {
        let r = Recorder::new(&["A", "B"]);
        sent(&r, "A", END);
        r.record("A", What::Closed);
        at_limit(&r, "A", Waiting::Reading, false);
        at_limit(&r, "B", Waiting::Reading, true);
        // B never sent `end`: it is not a missing close, and nobody wrote into a full pipe.
        assert_eq!(diagnose_with_end(&r.timeline()), None);
    }

    #[test]
    fn sides_that_wait_to_read_before_saying_anything_did_not_fail_to_close() {
        // Relayed: nobody sent `end`, so an open output is no missing close.
        let r = Recorder::new(&["A", "B"]);
        at_limit(&r, "A", Waiting::Reading, true);
        at_limit(&r, "B", Waiting::Reading, true);
        assert_eq!(diagnose_with_end(&r.timeline()), None);
    }

    #[test]
    fn writers_blocked_on_full_pipes() {
        let r = Recorder::new(&["A", "B"]);
        at_limit(&r, "A", Waiting::Writing, true);
        at_limit(&r, "B", Waiting::Writing, true);
        let d = diagnose_with_end(&r.timeline()).expect("a diagnosis");
        assert_eq!(d.cause, Cause::StoppedReading);
        assert!(
            d.summary
                .starts_with("deadlocked: A (`replicate alice.db`) and B"),
            "{}",
            d.summary
        );
        let r = Recorder::new(&["A", "B"]);
        at_limit(&r, "A", Waiting::Writing, true);
        at_limit(&r, "B", Waiting::Working, true);
        let d = diagnose_with_end(&r.timeline()).expect("a diagnosis");
        assert!(
            d.summary.starts_with("B (`replicate bob.db`) stopped reading: A"),
            "{}",
            d.summary
        );
    }

    #[test]
    fn an_early_exit_and_slow_work() {
        let r = Recorder::new(&["A", "B"]);
        sent(&r, "A", r#"{"type":"handshake"}"#);
        r.record(
            "A",
            What::Ended {
                how: "exited with code 101".into(),
            },
        );
        at_limit(&r, "B", Waiting::Reading, true);
        let d = diagnose_with_end(&r.timeline()).expect("a diagnosis");
        assert_eq!(
            d.summary,
            "A (`replicate alice.db`) exited with code 101 before it sent `end`"
        );
        let r = Recorder::new(&["A", "B"]);
        at_limit(&r, "A", Waiting::Working, true);
        at_limit(&r, "B", Waiting::Reading, true);
        let d = diagnose_with_end(&r.timeline()).expect("a diagnosis");
        assert_eq!(d.cause, Cause::Working);
        assert!(!d.leads());
        assert!(
            d.details[0].contains("B (`replicate bob.db`) was waiting for it"),
            "{:?}",
            d.details
        );
    }

    /// Real programs over plain pipes, observed by the verifier: the shapes of the
    /// three classic bugs, each diagnosed from what the run showed.
    mod observed {
        use super::*;
        use crate::harness::duplex::{self, Mode};
        use crate::runner::{Invocation, Limits, Stderr};
        use std::time::Duration;

        fn sh(script: &str) -> Invocation {
            Invocation {
                program: "sh".into(),
                args: vec![],
                argv: vec!["sh".into(), "-c".into(), script.into()],
                cwd: std::env::temp_dir(),
                env: vec![],
            }
        }

        fn observe(a: &str, b: &str) -> Option<Diagnosis> {
            let limits = Limits {
                timeout: Duration::from_millis(1500),
                max_output: 1 << 20,
                ..Limits::default()
            };
            let out = duplex::run(
                &sh(a),
                &sh(b),
                Mode::Direct,
                [Stderr::Captured, Stderr::Captured],
                &limits,
            )
            .expect("both start");
            diagnose_with_end(&out.timeline)
        }

        #[test]
        fn sending_everything_before_reading_deadlocks_on_full_pipes() {
            if !cfg!(target_os = "linux") {
                return;
            }
            // 256 KiB each way, nothing read until it is all written.
            let writes_first = "head -c 262144 /dev/zero; cat >/dev/null";
            let d = observe(writes_first, writes_first).expect("a diagnosis");
            assert_eq!(d.cause, Cause::StoppedReading, "{d:?}");
            assert!(d.summary.starts_with("deadlocked: "), "{}", d.summary);
        }

        #[test]
        fn waiting_for_end_of_file_with_the_output_open() {
            if !cfg!(target_os = "linux") {
                return;
            }
            let holds_open = "echo done; while read line; do :; done";
            let d = observe(holds_open, holds_open).expect("a diagnosis");
            assert_eq!(d.cause, Cause::NeverClosed, "{d:?}");
            assert!(d.summary.contains("did not close its output"), "{}", d.summary);
        }

        #[test]
        fn busy_with_its_own_work_while_the_other_waits() {
            if !cfg!(target_os = "linux") {
                return;
            }
            let busy = "while :; do :; done";
            let waits = "exec 1>/dev/null; read line";
            let d = observe(busy, waits).expect("a diagnosis");
            assert_eq!(d.cause, Cause::Working, "{d:?}");
            assert!(!d.leads());
            assert!(
                d.details[0].contains("A (`replicate alice.db`) was still working"),
                "{:?}",
                d.details
            );
        }
    }
}
