//! `watch`: verify the exercise again every time the learner saves a file.
//!
//! File events come from the operating system (notify's native watcher); where it
//! cannot start, a poller compares the folder every second instead. Events are
//! filtered (build output in `target/`, editor swap and backup files) and debounced:
//! an editor's save is often several events, and a verification starts only once the
//! folder has been quiet for 300 ms. Changes made during a verification are not lost:
//! they start the next one. Ctrl-C (or whatever `stop` watches) ends it.
//!
//! The folders of the earlier exercises it is built on ([`super::deps`]) are watched
//! too: `watch 3` verifies again after a save in `exercises/02-*`.

use super::{Outcome, Workshop, deps};
use crate::course::{Exercise, Side};
use anyhow::Context as _;
use notify::{Config, Event, EventKind, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the folder must be quiet before a verification starts.
pub const QUIET: Duration = Duration::from_millis(300);
/// How often the poller (the fallback) looks at the folder.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Set this environment variable to poll even where native events work.
pub const POLL_VAR: &str = "REPLICATE_WATCH_POLL";

/// Whether a change to `path` (relative to the exercise's folder) is a learner's edit:
/// not build output, version control or an editor's swap, backup or lock file.
pub fn relevant(path: &Path) -> bool {
    let ignored_dir = path.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some("target" | ".git" | ".idea" | ".vscode")
        )
    });
    if ignored_dir {
        return false;
    }
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return true;
    };
    let editor_file = name.ends_with(".swp")
        || name.ends_with(".swo")
        || name.ends_with(".swx")
        || name.ends_with('~')
        || name.ends_with(".tmp")
        || name.ends_with(".bak")
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || name == "4913"
        || name == ".DS_Store";
    !editor_file
}

/// Whether an event is a change (not just a file being opened or read).
pub fn is_change(kind: &EventKind) -> bool {
    !matches!(kind, EventKind::Access(_))
}

/// Collects changed paths and says when the folder has been quiet long enough.
#[derive(Debug)]
pub struct Debounce {
    quiet: Duration,
    changed: BTreeSet<PathBuf>,
    last: Option<Instant>,
}

impl Debounce {
    pub fn new(quiet: Duration) -> Debounce {
        Debounce {
            quiet,
            changed: BTreeSet::new(),
            last: None,
        }
    }

    /// Notes a change at `now`; the quiet period starts again.
    pub fn add(&mut self, path: PathBuf, now: Instant) {
        self.changed.insert(path);
        self.last = Some(now);
    }

    /// The paths changed, once the folder has been quiet for the quiet period.
    pub fn due(&mut self, now: Instant) -> Option<Vec<PathBuf>> {
        let last = self.last?;
        if now.duration_since(last) < self.quiet {
            return None;
        }
        self.last = None;
        Some(std::mem::take(&mut self.changed).into_iter().collect())
    }
}

/// A started watcher: native, or the poller.
struct Started {
    _watcher: Box<dyn Watcher>,
    /// Why it polls, when it does.
    polling: Option<String>,
}

fn start(dirs: &[PathBuf], sender: mpsc::Sender<notify::Result<Event>>) -> anyhow::Result<Started> {
    let forced = std::env::var_os(POLL_VAR).is_some_and(|v| !v.is_empty() && v != "0");
    let native_error = match forced {
        true => format!("{POLL_VAR} is set"),
        false => {
            let native =
                RecommendedWatcher::new(sender.clone(), Config::default()).and_then(|w| watch_all(w, dirs));
            match native {
                Ok(watcher) => {
                    return Ok(Started {
                        _watcher: Box::new(watcher),
                        polling: None,
                    });
                }
                Err(e) => format!("file events are not available: {e}"),
            }
        }
    };
    let config = Config::default().with_poll_interval(POLL_INTERVAL);
    let poller = PollWatcher::new(sender, config).and_then(|w| watch_all(w, dirs));
    let poller = poller.with_context(|| format!("cannot watch {}", shown_dirs(dirs)))?;
    Ok(Started {
        _watcher: Box::new(poller),
        polling: Some(native_error),
    })
}

/// `watcher` watching every folder of `dirs`, recursively.
fn watch_all<W: Watcher>(mut watcher: W, dirs: &[PathBuf]) -> notify::Result<W> {
    for dir in dirs {
        watcher.watch(dir, RecursiveMode::Recursive)?;
    }
    Ok(watcher)
}

fn shown_dirs(dirs: &[PathBuf]) -> String {
    let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    names.join(", ")
}

/// A changed path as the learner reads it: relative to the exercise's folder when it is
/// in it (`src/lib.rs`), else to the repository root (`exercises/02-…/src/lib.rs`);
/// `None` when it is no learner's edit (see [`relevant`]).
fn changed_path(path: &Path, own: &Path, dirs: &[PathBuf], root: &Path) -> Option<PathBuf> {
    let dir = dirs.iter().find(|d| path.starts_with(d))?;
    let inside = path.strip_prefix(dir).ok()?;
    if !relevant(inside) {
        return None;
    }
    match dir == own {
        true => Some(inside.to_path_buf()),
        false => Some(path.strip_prefix(root).unwrap_or(path).to_path_buf()),
    }
}

/// Verifies `exercise`, then again after every saved change, until `stop` says so.
/// `stop` is asked about ten times a second; `how_to_stop` tells the learner how.
pub fn watch(
    workshop: &mut Workshop,
    exercise: &'static Exercise,
    stop: &mut dyn FnMut() -> bool,
    how_to_stop: &str,
) -> Outcome {
    let folder = exercise.dir(Side::Learner);
    let dir = workshop.root.join(&folder);
    let earlier = match deps::path_dependencies(&workshop.root, &dir) {
        Ok(earlier) => earlier,
        Err(error) => {
            println!("(Watching {folder}/ only: {error:#}.)");
            vec![]
        }
    };
    let dirs: Vec<PathBuf> = std::iter::once(dir.clone())
        .chain(earlier.iter().cloned())
        .collect();
    let (sender, events) = mpsc::channel();
    let started = match start(&dirs, sender) {
        Ok(started) => started,
        Err(error) => {
            println!("error: {error:#}");
            return Outcome::Error;
        }
    };
    let also: Vec<String> = earlier
        .iter()
        .map(|d| format!("{}/", workshop.shown(d)))
        .collect();
    let also = match also.is_empty() {
        true => String::new(),
        false => format!(" and {}, which it is built on", also.join(", ")),
    };
    println!(
        "Watching {folder}/{also}: every save verifies exercise {} again ({how_to_stop}).",
        exercise.number
    );
    if let Some(why) = &started.polling {
        println!(
            "(Looking for changes every {} s: {why}.)",
            POLL_INTERVAL.as_secs()
        );
    }
    println!("[watch] first verification");
    workshop.verify(exercise, &[]);
    println!("[watch] waiting for changes…");
    let mut debounce = Debounce::new(QUIET);
    loop {
        if stop() {
            println!("Stopped watching.");
            return Outcome::Passed;
        }
        match events.recv_timeout(Duration::from_millis(100)) {
            Ok(Ok(event)) if is_change(&event.kind) => {
                for path in event.paths {
                    if let Some(changed) = changed_path(&path, &dir, &dirs, &workshop.root) {
                        debounce.add(changed, Instant::now());
                    }
                }
            }
            Ok(Ok(_)) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(Err(e)) => eprintln!("(watch: {e})"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                println!("error: the file watcher stopped");
                return Outcome::Error;
            }
        }
        if let Some(changed) = debounce.due(Instant::now()) {
            let names: Vec<String> = changed.iter().map(|p| p.display().to_string()).collect();
            let shown = match names.len() {
                1..=3 => names.join(", "),
                n => format!("{} and {} more", names[..2].join(", "), n - 2),
            };
            println!("[watch] {shown} changed: verifying again");
            workshop.verify(exercise, &[]);
            println!("[watch] waiting for changes…");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_build_output_and_editor_files() {
        assert!(relevant(Path::new("src/lib.rs")));
        assert!(relevant(Path::new("src/bin/append.rs")));
        assert!(relevant(Path::new("Cargo.toml")));
        assert!(!relevant(Path::new("target/debug/append")));
        assert!(!relevant(Path::new("src/.lib.rs.swp")));
        assert!(!relevant(Path::new("src/lib.rs~")));
        assert!(!relevant(Path::new("src/4913")));
        assert!(!relevant(Path::new("src/.#lib.rs")));
        assert!(!relevant(Path::new("src/#lib.rs#")));
    }

    #[test]
    fn waits_for_quiet_and_merges_changes() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut debounce = Debounce::new(ms(300));
        assert_eq!(debounce.due(start), None);
        debounce.add("src/lib.rs".into(), start);
        debounce.add("src/lib.rs".into(), start + ms(100));
        debounce.add("src/bin/read.rs".into(), start + ms(200));
        assert_eq!(debounce.due(start + ms(400)), None, "quiet only since 200 ms");
        let due = debounce.due(start + ms(500));
        assert_eq!(
            due,
            Some(vec![
                PathBuf::from("src/bin/read.rs"),
                PathBuf::from("src/lib.rs")
            ])
        );
        assert_eq!(debounce.due(start + ms(900)), None, "nothing new");
    }

    #[test]
    fn opening_a_file_is_no_change() {
        use notify::event::{AccessKind, ModifyKind};
        assert!(!is_change(&EventKind::Access(AccessKind::Any)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Any)));
    }
}
