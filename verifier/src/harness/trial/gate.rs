//! A gate: a TCP relay for a protocol of JSON lines, which the verifier can cut,
//! heal, and tell to *hold* messages of some types.
//!
//! Like the byte relay of [`super::network`], a gate stands between a dialling node and
//! the node it dials. Unlike it, the gate reads what the dialler sends line by line,
//! so it can keep back, say, every `commit` while letting `prepare` pass: that is how
//! a check kills a node exactly between the two phases of a commit, on every run, with
//! no race. Held lines are sent on when released, or lost when the link is cut.
//! Answers (from the dialled node back to the dialler) always pass.

use crate::runner::Lines;
use crate::runner::lines::Next;
use std::collections::BTreeSet;
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Longest line a gate inspects; a longer one passes whole, unheld.
const MAX_INSPECTED: usize = 1 << 20;

#[derive(Default)]
struct State {
    open: bool,
    /// Message types (`"type"` field) held back rather than forwarded.
    hold: BTreeSet<String>,
    /// Lines held, with the stream each was going to.
    held: Vec<(TcpStream, Vec<u8>)>,
    connections: Vec<TcpStream>,
}

/// One gate, listening on its own port and forwarding to `target`.
pub struct Gate {
    pub port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Gate {
    pub fn start(target: u16) -> std::io::Result<Gate> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let state = Arc::new(Mutex::new(State {
            open: true,
            ..State::default()
        }));
        let gate = Gate {
            port: listener.local_addr()?.port(),
            state: state.clone(),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let stop = gate.stop.clone();
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((inbound, _)) => {
                        let open = state.lock().map(|s| s.open).unwrap_or(false);
                        if open {
                            splice(inbound, target, &state);
                        }
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Ok(gate)
    }

    /// Closes every connection, drops held lines, refuses new connections.
    pub fn cut(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.open = false;
            state.held.clear();
            for connection in state.connections.drain(..) {
                let _ = connection.shutdown(Shutdown::Both);
            }
        }
    }

    pub fn heal(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.open = true;
        }
    }

    /// From now on, keeps back lines whose `"type"` is one of `types`.
    pub fn hold(&self, types: &[&str]) {
        if let Ok(mut state) = self.state.lock() {
            state.hold = types.iter().map(|t| t.to_string()).collect();
        }
    }

    /// Stops holding; lines held so far are dropped (`forward` false) or sent on.
    pub fn release(&self, forward: bool) {
        if let Ok(mut state) = self.state.lock() {
            state.hold.clear();
            for (mut stream, line) in state.held.drain(..) {
                if forward {
                    let _ = stream.write_all(&line);
                }
            }
        }
    }

    /// How many lines are held right now.
    pub fn held(&self) -> usize {
        self.state.lock().map(|s| s.held.len()).unwrap_or(0)
    }

    /// The `"type"` of every line held right now, in the order they came.
    pub fn held_types(&self) -> Vec<String> {
        self.state
            .lock()
            .map(|s| s.held.iter().filter_map(|(_, line)| kind_of(line)).collect())
            .unwrap_or_default()
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.cut();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.stop();
    }
}

fn splice(inbound: TcpStream, target: u16, state: &Arc<Mutex<State>>) {
    let _ = inbound.set_nonblocking(false);
    let Ok(outbound) = TcpStream::connect(("127.0.0.1", target)) else {
        return; // The dialled node is down: the dialler will try again.
    };
    let _ = outbound.set_nodelay(true);
    let _ = inbound.set_nodelay(true);
    let (Ok(inbound_copy), Ok(outbound_copy), Ok(in_kept), Ok(out_kept)) = (
        inbound.try_clone(),
        outbound.try_clone(),
        inbound.try_clone(),
        outbound.try_clone(),
    ) else {
        return;
    };
    if let Ok(mut state) = state.lock() {
        state.connections.extend([in_kept, out_kept]);
    }
    let state = state.clone();
    thread::spawn(move || forward_lines(inbound, outbound_copy, &state));
    thread::spawn(move || {
        let (mut from, mut to) = (outbound, inbound_copy);
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

/// Dialler → dialled, line by line, holding what the gate says to hold.
fn forward_lines(from: TcpStream, mut to: TcpStream, state: &Mutex<State>) {
    // A line longer than MAX_LINE is not read: the connection closes.
    let mut lines = Lines::new(&from);
    while let Next::Line(line) = lines.next_line() {
        let line = line.to_vec();
        let kind = kind_of(&line);
        let held = match state.lock() {
            Ok(mut state) => match kind {
                Some(kind) if state.hold.contains(&kind) => match to.try_clone() {
                    Ok(stream) => {
                        state.held.push((stream, line.clone()));
                        true
                    }
                    Err(_) => false,
                },
                _ => false,
            },
            Err(_) => break,
        };
        if !held && to.write_all(&line).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// The `"type"` of a JSON line, if it is one the gate inspects.
fn kind_of(line: &[u8]) -> Option<String> {
    (line.len() <= MAX_INSPECTED)
        .then(|| serde_json::from_slice::<serde_json::Value>(line).ok())
        .flatten()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::time::Instant;

    /// Waits (at most 5 s) until `done` holds.
    fn eventually(done: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if done() {
                return true;
            }
            thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn held_lines_are_named_by_type_and_sent_on_when_released() {
        let target = TcpListener::bind("127.0.0.1:0").unwrap();
        let gate = Gate::start(target.local_addr().unwrap().port()).unwrap();
        gate.hold(&["commit", "abort"]);
        let mut dialler = TcpStream::connect(("127.0.0.1", gate.port)).unwrap();
        let (arrived, _) = target.accept().unwrap();
        dialler
            .write_all(b"{\"type\":\"commit\",\"txid\":\"t\"}\n{\"type\":\"prepare\",\"txid\":\"u\"}\n")
            .unwrap();
        let mut lines = BufReader::new(arrived).lines();
        let first = lines.next().unwrap().unwrap();
        assert!(
            first.contains("prepare"),
            "the prepare passes, the commit is held: {first}"
        );
        assert!(eventually(|| gate.held() == 1));
        assert_eq!(gate.held_types(), ["commit"]);
        gate.release(true);
        let second = lines.next().unwrap().unwrap();
        assert!(second.contains("commit"), "{second}");
        assert!(gate.held_types().is_empty());
    }
}
