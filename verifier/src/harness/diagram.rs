//! A sequence diagram of a wired run, for the terminal: one lane per process, an
//! arrow per message with its short decoded form, marks where a stream closed, a
//! process ended or the time ran out — the moment of the failure set apart.
//!
//! People read a picture of a conversation faster than a list of lines. The diagram
//! fits the terminal by *display* width (a CJK character or an emoji takes two
//! columns), and stays short: past `max_lines`, the events in the middle are elided
//! ("… 1,990 more events …"), keeping the start and what led to the failure.

use crate::harness::timeline::{Stamped, Timeline, Waiting, What};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The time column: `  12.345 ` (seconds).
const TIME: usize = 9;
/// The narrowest gap between two lanes, and room kept right of the last for notes.
const MIN_GAP: usize = 12;
const NOTES: usize = 24;

/// Draws the timeline in at most `max_lines` lines, none wider than `width` columns.
pub fn render(timeline: &Timeline, width: usize, max_lines: usize) -> Vec<String> {
    let lanes = &timeline.lanes;
    let width = width.max(TIME + MIN_GAP + 8);
    let region = width - TIME;
    let gap = match lanes.len() {
        0 | 1 => MIN_GAP,
        n => ((region.saturating_sub(NOTES.min(region / 3))) / (n - 1)).clamp(MIN_GAP, 60),
    };
    let layout = Layout { lanes, gap, region };
    let mut lines = vec![layout.header()];
    let failure = failure_point(&timeline.events);
    let keep = max_lines.saturating_sub(2).max(4);
    let events: Vec<(usize, &Stamped)> = timeline.events.iter().enumerate().collect();
    let (head, tail, elided) = if events.len() <= keep {
        (events.as_slice(), &[][..], 0)
    } else {
        // Keep the first few and the run-up to the failure (or the end).
        let first = (keep / 4).max(2);
        let end = failure.map_or(events.len(), |f| (f + keep).min(events.len()));
        let start = end.saturating_sub(keep - first - 1).max(first);
        (
            &events[..first],
            &events[start..end],
            start - first + (events.len() - end),
        )
    };
    for (index, event) in head {
        lines.extend(layout.rows(*index, event, failure));
    }
    if elided > 0 {
        lines.push(fit(
            &format!("{:>TIME$}… {} more events …", "", thousands(elided)),
            width,
        ));
        for (index, event) in tail {
            lines.extend(layout.rows(*index, event, failure));
        }
    }
    lines.truncate(max_lines.max(1));
    lines
        .into_iter()
        .map(|line| fit(line.trim_end(), width))
        .collect()
}

/// The event where things went wrong: the first time limit, else the first ending
/// other than a clean exit.
fn failure_point(events: &[Stamped]) -> Option<usize> {
    events
        .iter()
        .position(|e| matches!(e.what, What::TimeLimit { .. }))
        .or_else(|| {
            events.iter().position(|e| match &e.what {
                What::Ended { how } => how != "exited with code 0",
                _ => false,
            })
        })
}

struct Layout<'a> {
    lanes: &'a [String],
    gap: usize,
    region: usize,
}

impl Layout<'_> {
    fn x(&self, lane: &str) -> Option<usize> {
        self.lanes.iter().position(|l| l == lane).map(|i| i * self.gap)
    }

    fn header(&self) -> String {
        let mut cells = Cells::new(self.region);
        for (i, lane) in self.lanes.iter().enumerate() {
            cells.put(i * self.gap, &fit(lane, self.gap.saturating_sub(1)));
        }
        format!("{:>w$} {}", "time s", cells.join(), w = TIME - 1)
    }

    /// The row of one event (two when it is the failure point: a rule first).
    fn rows(&self, index: usize, event: &Stamped, failure: Option<usize>) -> Vec<String> {
        let mut rows = Vec::new();
        if failure == Some(index) {
            let label = match event.what {
                What::TimeLimit { .. } => " the time limit ran out ",
                _ => " failure ",
            };
            rows.push(format!("{:>TIME$}▼{label}{}", "", "─".repeat(8)));
        }
        let time = format!("{:>w$.3} ", event.at_us as f64 / 1e6, w = TIME - 1);
        let mut cells = Cells::new(self.region);
        for lane in self.lanes {
            if let Some(x) = self.x(lane) {
                cells.put(x, "│");
            }
        }
        let note = match &event.what {
            What::Sent {
                to,
                raw,
                shown,
                forwarded,
                ..
            } => {
                let label = shown.as_deref().unwrap_or(raw);
                let label = if *forwarded {
                    label.to_string()
                } else {
                    format!("{label} (dropped)")
                };
                match (self.x(&event.lane), self.x(to)) {
                    (Some(from), Some(to)) => {
                        self.arrow(&mut cells, from, to, &label);
                        None
                    }
                    _ => Some(format!("{} → {to}: {label}", event.lane)),
                }
            }
            other => {
                let (mark, text) = describe(other);
                match self.x(&event.lane) {
                    Some(x) => {
                        cells.put(x, mark);
                        self.note_beside(&mut cells, x, &text);
                        None
                    }
                    None => Some(format!("{mark} {}: {text}", event.lane)),
                }
            }
        };
        let mut row = time + &cells.join();
        if let Some(note) = note {
            let used = row.trim_end().width();
            let start = self.x(self.lanes.last().map_or("", String::as_str)).unwrap_or(0) + TIME + 3;
            row = format!(
                "{}{}{note}",
                row.trim_end(),
                " ".repeat(start.saturating_sub(used).max(2))
            );
        }
        rows.push(row);
        rows
    }

    /// A note beside a lane's mark: to its right, or to its left for the last lane.
    fn note_beside(&self, cells: &mut Cells, x: usize, text: &str) {
        let last = self.lanes.len().saturating_sub(1) * self.gap;
        if x < last || self.lanes.len() < 2 {
            cells.put(x + 2, &fit(text, self.gap.saturating_sub(3)));
        } else {
            let text = fit(text, self.gap.saturating_sub(3));
            cells.put(x - 1 - text.width(), &text);
        }
    }

    /// `├── label ──▶│` from one lane to another, either way.
    fn arrow(&self, cells: &mut Cells, from: usize, to: usize, label: &str) {
        let (left, right) = (from.min(to), from.max(to));
        for x in left + 1..right {
            cells.put(x, "─");
        }
        if from < to {
            cells.put(from, "├");
            cells.put(to - 1, "▶");
        } else {
            cells.put(from, "┤");
            cells.put(to + 1, "◀");
        }
        let room = (right - left).saturating_sub(5);
        if room > 0 {
            cells.put(left + 3, &format!(" {} ", fit(label, room.saturating_sub(2))));
        }
    }
}

/// The mark on a lane and the note beside it, for an event that is not a message.
fn describe(what: &What) -> (&'static str, String) {
    match what {
        What::Started { command } => ("●", format!("started `{command}`")),
        What::Closed => ("╳", "closed its output (EOF)".into()),
        What::Cut => ("✂", "the verifier cut the stream".into()),
        What::Killed => ("✖", "killed by the verifier (SIGKILL)".into()),
        What::Ended { how } => ("■", how.clone()),
        What::TimeLimit { waiting, output_open } => {
            let doing = match waiting {
                Waiting::Reading => "waiting to read",
                Waiting::Writing => "blocked writing (pipe full)",
                Waiting::Working => "still working",
                Waiting::Sleeping => "sleeping",
                Waiting::Unknown => "still running",
            };
            let output = if *output_open { ", output open" } else { "" };
            ("⧗", format!("{doing}{output}"))
        }
        What::Sent { .. } => ("→", String::new()),
    }
}

/// A row of terminal columns; a wide character fills two.
struct Cells(Vec<String>);

impl Cells {
    fn new(width: usize) -> Cells {
        Cells(vec![" ".to_string(); width])
    }

    /// Writes `text` from column `x` on, cut at the row's end.
    fn put(&mut self, x: usize, text: &str) {
        let mut x = x;
        for c in text.chars() {
            let w = c.width().unwrap_or(0);
            if w == 0 {
                continue;
            }
            if x + w > self.0.len() {
                break;
            }
            self.0[x] = c.to_string();
            if w == 2 {
                self.0[x + 1] = String::new();
            }
            x += w;
        }
    }

    fn join(&self) -> String {
        self.0.concat()
    }
}

/// `text` cut to at most `width` display columns, with `…` where it was cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `1990` → `1,990`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64, lane: &str, what: What) -> Stamped {
        Stamped {
            at_us: ms * 1000,
            lane: lane.into(),
            what,
        }
    }

    fn sent(ms: u64, lane: &str, shown: &str) -> Stamped {
        let to = if lane == "A" { "B" } else { "A" };
        at(
            ms,
            lane,
            What::Sent {
                to: to.into(),
                raw: "{}".into(),
                shown: Some(shown.into()),
                forwarded: true,
            },
        )
    }

    /// The no-close bug: both sides said `end`, neither closed, both waited.
    fn never_closed(entries: usize) -> Timeline {
        let mut events = vec![
            at(
                0,
                "A",
                What::Started {
                    command: "replicate alice.db".into(),
                },
            ),
            at(
                1,
                "B",
                What::Started {
                    command: "replicate 日本.db".into(),
                },
            ),
            sent(20, "A", "handshake peer#1 {peer#1: 3}"),
            sent(21, "B", "handshake peer#2 {}"),
        ];
        for n in 0..entries {
            events.push(sent(
                22 + n as u64,
                "A",
                &format!("entry <peer#1, {}, \"héllo 🌍 世界\">", n + 1),
            ));
        }
        let t = 30 + entries as u64;
        events.extend([
            sent(t, "A", &format!("end ({entries} sent)")),
            sent(t + 1, "B", "end (0 sent)"),
            at(
                5000,
                "A",
                What::TimeLimit {
                    waiting: Waiting::Reading,
                    output_open: true,
                },
            ),
            at(
                5000,
                "B",
                What::TimeLimit {
                    waiting: Waiting::Reading,
                    output_open: true,
                },
            ),
            at(
                5001,
                "A",
                What::Ended {
                    how: "timed out after 5 s".into(),
                },
            ),
            at(
                5001,
                "B",
                What::Ended {
                    how: "timed out after 5 s".into(),
                },
            ),
        ]);
        Timeline {
            lanes: vec!["A".into(), "B".into()],
            events,
            relayed: true,
        }
    }

    fn widest(lines: &[String]) -> usize {
        lines.iter().map(|l| l.width()).max().unwrap_or(0)
    }

    #[test]
    fn a_short_run_at_80_columns() {
        let lines = render(&never_closed(3), 80, 40);
        assert!(widest(&lines) <= 80);
        insta::assert_snapshot!(lines.join("\n"));
    }

    #[test]
    fn a_long_run_at_44_columns_is_elided_around_the_failure() {
        let lines = render(&never_closed(2000), 44, 40);
        assert!(lines.len() <= 40, "{} lines", lines.len());
        assert!(widest(&lines) <= 44, "{}", lines.join("\n"));
        assert!(lines.iter().any(|l| l.contains("more events")));
        assert!(lines.iter().any(|l| l.contains("the time limit ran out")));
        insta::assert_snapshot!(lines.join("\n"));
    }

    #[test]
    fn fits_by_display_width() {
        assert_eq!(fit("日本語のテキスト", 7), "日本語…");
        assert_eq!(fit("short", 10), "short");
        assert_eq!(thousands(1990), "1,990");
    }
}
