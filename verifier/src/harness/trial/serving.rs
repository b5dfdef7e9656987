//! Servers a check talks to over short-lived TCP connections: a learner's
//! long-running `serve` program, a relay that cuts an answer after so many lines,
//! and a server the verifier plays itself, answering from a script.
//!
//! Ports change on every run, so command lines show servers by name: a check
//! runs `pull --from` through [`Trial::run_shown`], which replaces an address
//! by its name in the transcript.

use super::{Failure, Outcome, RunLog, Trial, Who};
use crate::runner::lines::Next;
use crate::runner::{
    Ending, Invocation, Limits, Lines, NetworkPolicy, Spawned, Stderr, Stdin, Stdout, Wiring, kill_group,
};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// CPU time a server may use over a whole check (it mostly waits).
const SERVER_CPU: Duration = Duration::from_secs(30);

/// A long-running program that listens on a port: `PROGRAM --db DB --port PORT`.
pub struct Server {
    name: String,
    who: Who,
    program: String,
    db: String,
    port: u16,
    process: Option<Spawned>,
    invocation: Option<Invocation>,
}

impl Server {
    /// Starts `program` on `db` at a free port and waits until it accepts a
    /// connection (closing it at once, before any request).
    pub fn start(
        trial: &mut Trial,
        who: Who,
        program: &str,
        db: &str,
        name: &str,
    ) -> Result<Server, Failure> {
        let mut server = Server {
            name: name.to_string(),
            who,
            program: program.to_string(),
            db: db.to_string(),
            port: 0,
            process: None,
            invocation: None,
        };
        server.launch(trial)?;
        Ok(server)
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The name the transcript shows instead of the address.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process group, for a relay that kills the server mid-answer.
    pub fn group(&self) -> Option<Pid> {
        self.process.as_ref().map(Spawned::group)
    }

    fn launch(&mut self, trial: &mut Trial) -> Result<(), Failure> {
        self.port = trial.port()?;
        let port = self.port.to_string();
        let invocation = trial.invocation(self.who, &self.program, &["--db", &self.db, "--port", &port])?;
        let who = match self.who {
            Who::Tested => "",
            Who::Reference => "[reference] ",
        };
        trial.transcript.push(format!(
            "$ {who}{} --db {} --port PORT &   ({})",
            self.program, self.db, self.name
        ));
        let wiring = Wiring {
            stdin: Stdin::Closed,
            stdout: Stdout::Captured,
            stderr: Stderr::Captured,
        };
        let limits = Limits {
            timeout: Duration::from_secs(3600),
            resources: trial
                .context
                .limits
                .resources
                .map(|r| crate::runner::Resources { cpu: SERVER_CPU, ..r }),
            ..trial.context.limits
        };
        let network = NetworkPolicy {
            bind: vec![self.port],
            connect: vec![],
        };
        let process = Spawned::start_networked(&invocation, wiring, &limits, &network)
            .map_err(|e| Failure::could_not_start(&invocation, e))?;
        self.process = Some(process);
        self.invocation = Some(invocation);
        let patience = trial.limits().timeout;
        let deadline = Instant::now() + patience;
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(ending) = self.process.as_mut().and_then(Spawned::ending) {
                self.stop(trial);
                return Err(Failure::new(format!(
                    "`{}` {} instead of listening on its --port",
                    self.program,
                    ending.describe()
                ))
                .detail("A server runs until it is killed: bind 127.0.0.1:PORT, then answer one connection after another."));
            }
            if Instant::now() >= deadline {
                self.stop(trial);
                return Err(Failure::new(format!(
                    "`{}` did not accept connections on its --port within {}",
                    self.program,
                    crate::runner::seconds(patience)
                ))
                .detail(
                    "Listen on 127.0.0.1:PORT (the number after --port) as soon as the program starts.",
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the server with SIGKILL.
    pub fn kill(&mut self, trial: &mut Trial) {
        trial.note(&format!("the verifier kills {} with SIGKILL", self.name));
        self.stop(trial);
    }

    /// Starts a stopped server again on its database, at a new port.
    pub fn start_again(&mut self, trial: &mut Trial) -> Result<(), Failure> {
        trial.note(&format!(
            "{} starts again on the same database, at a new port",
            self.name
        ));
        self.launch(trial)
    }

    /// Stops the server, keeping its stderr for the report.
    pub fn stop(&mut self, trial: &mut Trial) {
        if let (Some(mut process), Some(invocation)) = (self.process.take(), self.invocation.take()) {
            // A server that ended by itself keeps its own ending.
            let ending = process.ending().unwrap_or(Ending::Signalled(9));
            let finished = process.collect(ending);
            trial.runs.push(RunLog {
                invocation,
                ending: finished.ending,
                stderr: finished.stderr,
            });
        }
    }

    /// A failure if the server is no longer running.
    pub fn alive(&mut self, trial: &mut Trial) -> Result<(), Failure> {
        let Some(ending) = self.process.as_mut().and_then(Spawned::ending) else {
            return Ok(());
        };
        self.stop(trial);
        if let Some(taken) = Failure::if_port_was_taken(&self.name, self.port, &[]) {
            return Err(taken);
        }
        Err(Failure::new(format!("`{}` ({}) {} while it should be serving", self.program, self.name, ending.describe()))
            .detail("A server answers one pull after another until it is killed; a bad request ends that connection, not the program."))
    }
}

impl<'a> Trial<'a> {
    /// Runs a program of `who` (any exit code), showing each address in
    /// `names` as its name in the transcript.
    pub fn run_shown(
        &mut self,
        who: Who,
        program: &str,
        args: &[&str],
        names: &[(&str, &str)],
    ) -> Result<Outcome, Failure> {
        let mark = self.transcript.len();
        let outcome = self.run_by(who, program, args);
        if let Some(line) = self.transcript.get_mut(mark) {
            for (address, name) in names {
                *line = line.replace(address, name);
            }
        }
        outcome
    }
}

/// Where a [`CutRelay`] stops: after `lines` whole lines of the answer, plus
/// `extra` bytes of the next one (an unfinished line).
#[derive(Debug, Clone, Copy)]
pub struct Cut {
    pub lines: usize,
    pub extra: usize,
}

/// A relay to a server that passes the client's bytes on, and the server's
/// answer only up to a [`Cut`]; then (optionally) kills the server's process
/// group and closes both sides.
pub struct CutRelay {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl CutRelay {
    pub fn start(target: u16, cut: Cut, kill: Option<Pid>) -> std::io::Result<CutRelay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let relay = CutRelay {
            port: listener.local_addr()?.port(),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let stop = relay.stop.clone();
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        thread::spawn(move || relay_cut(client, target, cut, kill));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(relay)
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for CutRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn relay_cut(client: TcpStream, target: u16, cut: Cut, kill: Option<Pid>) {
    let _ = client.set_nonblocking(false);
    let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
        return;
    };
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut server_out);
    });
    // A line longer than MAX_LINE is not read: nothing more is relayed.
    let mut answer = Lines::new(&server);
    let mut client_out = &client;
    let mut whole = true;
    for _ in 0..cut.lines {
        match answer.next_line() {
            Next::Line(line) if client_out.write_all(line).is_ok() => {}
            _ => {
                whole = false;
                break;
            }
        }
    }
    let mut extra = vec![0u8; cut.extra];
    if whole && answer.read_exact(&mut extra).is_ok() {
        let _ = client_out.write_all(&extra);
    }
    let _ = client_out.flush();
    if let Some(group) = kill {
        kill_group(group);
    }
    let _ = server.shutdown(Shutdown::Both);
    let _ = client.shutdown(Shutdown::Both);
}

/// A server the verifier plays: it says `hello`, reads one request line, keeps
/// it, and answers with what `answer` makes of it.
pub struct ScriptedServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

type Answer = dyn Fn(&str) -> Vec<u8> + Send + Sync;

impl ScriptedServer {
    pub fn start(hello: String, answer: Box<Answer>) -> std::io::Result<ScriptedServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let server = ScriptedServer {
            port: listener.local_addr()?.port(),
            requests: Arc::default(),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (stop, requests) = (server.stop.clone(), server.requests.clone());
        let answer: Arc<Answer> = Arc::from(answer);
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (hello, answer, requests) = (hello.clone(), answer.clone(), requests.clone());
                        thread::spawn(move || play(client, &hello, &*answer, &requests));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(server)
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The request lines received so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn play(client: TcpStream, hello: &str, answer: &Answer, requests: &Mutex<Vec<String>>) {
    let _ = client.set_nonblocking(false);
    let _ = client.set_read_timeout(Some(Duration::from_secs(5)));
    let mut out = &client;
    if writeln!(out, "{hello}").is_err() {
        return;
    }
    let mut line = Vec::new();
    let mut input = BufReader::new(&client).take(1 << 20);
    if input.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
        return; // A knock, or a client that gave up.
    }
    let request = String::from_utf8_lossy(&line).trim_end().to_string();
    if let Ok(mut requests) = requests.lock() {
        requests.push(request.clone());
    }
    let _ = out.write_all(&answer(&request));
    let _ = out.flush();
    let _ = client.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_relay_passes_whole_lines_then_part_of_the_next() -> std::io::Result<()> {
        let target = TcpListener::bind("127.0.0.1:0")?;
        let port = target.local_addr()?.port();
        thread::spawn(move || {
            if let Ok((mut server, _)) = target.accept() {
                let _ = server.write_all(b"one\ntwo\nthree\nfour\n");
                thread::sleep(Duration::from_millis(200));
            }
        });
        let relay = CutRelay::start(port, Cut { lines: 2, extra: 3 }, None)?;
        let mut client = TcpStream::connect(relay.address())?;
        client.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut received = Vec::new();
        client.read_to_end(&mut received)?;
        assert_eq!(received, b"one\ntwo\nthr");
        Ok(())
    }

    #[test]
    fn a_scripted_server_keeps_the_requests_it_answers() -> std::io::Result<()> {
        let server = ScriptedServer::start(
            "hi".into(),
            Box::new(|request| format!("you said {request}\n").into_bytes()),
        )?;
        let client = TcpStream::connect(server.address())?;
        client.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut reader = BufReader::new(&client);
        let mut hello = String::new();
        reader.read_line(&mut hello)?;
        assert_eq!(hello, "hi\n");
        (&client).write_all(b"pull\n")?;
        let mut answer = String::new();
        reader.read_line(&mut answer)?;
        assert_eq!(answer, "you said pull\n");
        assert_eq!(server.requests(), vec!["pull".to_string()]);
        Ok(())
    }
}
