//! What the verifier is waiting for: the programs running right now, each with the
//! line the transcript shows and when it started. A [`Spawned`](super::Spawned)
//! holds an [`Entry`] for its whole life, so a check that seems stuck can say which
//! programs it waits on (`verify` prints that every ten seconds).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static RUNNING: Mutex<Vec<(u64, String, Instant)>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(0);

/// One running program in the list; dropping it takes it out.
pub(super) struct Entry(u64);

impl Entry {
    pub(super) fn new(shown: String) -> Entry {
        let id = NEXT.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut running) = RUNNING.lock() {
            running.push((id, shown, Instant::now()));
        }
        Entry(id)
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if let Ok(mut running) = RUNNING.lock() {
            running.retain(|(id, _, _)| *id != self.0);
        }
    }
}

/// The programs running now, oldest first: each as shown, and for how long.
pub fn running_programs() -> Vec<(String, Duration)> {
    RUNNING
        .lock()
        .map(|running| {
            running
                .iter()
                .map(|(_, shown, started)| (shown.clone(), started.elapsed()))
                .collect()
        })
        .unwrap_or_default()
}

/// "waiting for `append x` (running for 12 s), `read` (3 s)", or that nothing runs.
pub fn waiting_for() -> String {
    let running = running_programs();
    if running.is_empty() {
        return "no program of the check is running (the verifier itself is busy)".to_string();
    }
    let named: Vec<String> = running
        .iter()
        .map(|(shown, running)| {
            format!(
                "`{shown}` (running for {})",
                super::seconds(Duration::from_secs(running.as_secs()))
            )
        })
        .collect();
    format!("waiting for {}", named.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_a_program_while_its_entry_lives() {
        let entry = Entry::new("append 'waiting test'".into());
        assert!(
            waiting_for().contains("`append 'waiting test'` (running for 0 s)"),
            "{}",
            waiting_for()
        );
        drop(entry);
        assert!(!waiting_for().contains("waiting test"));
    }
}
