//! `verifier demo replicate|gossip|clocks|merkle-dag`: the reference solutions at work, for a teacher's
//! live demo (the slides name these commands) or a curious learner.

use super::error_exit;
use crate::course::replication::wire::{self, Direction, Line, Message};
use crate::course::{self, Side};
use crate::harness::build::build;
use crate::harness::duplex::{self, Event, Fault, Mode};
use crate::harness::ports::PortLease;
use crate::harness::redact::Redactor;
use crate::harness::trial::Programs;
use crate::runner::{self, Invocation, Limits, Spawned, Stderr, Stdin, Stdout, Wiring};
use crate::service::root::default_root;
use anyhow::anyhow;
use clap::{Args, ValueEnum};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Which demo to run.
    #[arg(value_enum)]
    demo: Demo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Demo {
    /// Two logs replicating through dupsh, with the transcript of the protocol.
    Replicate,
    /// Three live peers in a line over TCP: entries travel from end to end.
    Gossip,
    /// Exercise 08's flaw: equal clocks and no resolver, two peers that never agree.
    Clocks,
    /// The lesson that hung, replayed with exercise 9: two logs with no common node
    /// replicate fully; a copied database directory is refused as two writers.
    MerkleDag,
    /// Two-phase commit: the coordinator killed between the phases (exercise 10).
    TwoPhaseCommit,
}

pub fn run(args: DemoArgs) -> ExitCode {
    let result = match args.demo {
        Demo::Replicate => replicate(),
        Demo::Gossip => gossip(),
        Demo::Clocks => clocks(),
        Demo::MerkleDag => merkle_dag(),
        Demo::TwoPhaseCommit => super::demo_2pc::run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error_exit(&error.context("the demo could not run")),
    }
}

/// Builds a reference solution, quietly.
fn reference(slug: &str) -> anyhow::Result<Programs> {
    let exercise = course::find(slug)?;
    eprintln!(
        "(building the reference solution of exercise {} …)",
        exercise.number
    );
    let built = build(&default_root(), &exercise.buildable(Side::Reference), &|_| {})?;
    Ok(built.programs)
}

fn invocation(programs: &Programs, program: &str, args: &[&str], dir: &Path) -> anyhow::Result<Invocation> {
    let command = programs
        .command(program)
        .ok_or_else(|| anyhow!("no program `{program}`"))?;
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    Ok(Invocation {
        program: program.to_string(),
        argv: command.iter().cloned().chain(args.iter().cloned()).collect(),
        args,
        cwd: dir.to_path_buf(),
        env: Vec::new(),
    })
}

/// Runs one program and shows the command and its output, as in a terminal.
fn show(programs: &Programs, program: &str, args: &[&str], dir: &Path) -> anyhow::Result<()> {
    let invocation = invocation(programs, program, args, dir)?;
    println!("$ {}", invocation.short_line());
    let finished = runner::run(&invocation, None, &Limits::default())?;
    print!("{}", String::from_utf8_lossy(&finished.stdout));
    if !finished.ending.success() {
        println!("({})", finished.ending.describe());
    }
    Ok(())
}

fn replicate() -> anyhow::Result<()> {
    let programs = reference("replicate")?;
    // Under the verifier's scratch root: removed even if the verifier is killed.
    let dir = crate::runner::scratch_dir("replicate-demo-")?;
    let dir = dir.path();
    println!("# Alice and Bob each append to their own log.");
    show(
        &programs,
        "append",
        &["--db", "alice.db", "hello from alice", "alice again"],
        dir,
    )?;
    show(&programs, "append", &["--db", "bob.db", "hello from bob"], dir)?;
    println!("\n# Now they replicate: A's stdout feeds B's stdin and back (dupsh).");
    println!("$ verifier dupsh --transcript 'replicate alice.db' 'replicate bob.db'");
    let a = invocation(&programs, "replicate", &["alice.db"], dir)?;
    let b = invocation(&programs, "replicate", &["bob.db"], dir)?;
    let redactor = Arc::new(Mutex::new(Redactor::new()));
    // Whose id each handshake carried, as it crossed: A is Alice, B is Bob.
    let ids = Arc::new(Mutex::new(Handshakes::default()));
    let observer = {
        let (redactor, ids) = (redactor.clone(), ids.clone());
        move |event: &Event| {
            let line = wire::decode(&event.raw);
            if let (Line::Message(Message::Handshake { peer, .. }), Ok(mut ids)) = (&line, ids.lock()) {
                match event.direction {
                    Direction::AtoB => ids.a = Some(peer.clone()),
                    Direction::BtoA => ids.b = Some(peer.clone()),
                }
            }
            if let Ok(mut redactor) = redactor.lock() {
                println!("{}  {}", event.direction.arrow(), line.show(&mut redactor));
            }
        }
    };
    run_watched(&a, &b, Box::new(observer))?;
    let names = match (redactor.lock(), ids.lock()) {
        (Ok(redactor), Ok(ids)) => {
            let known = |id: &Option<String>| id.as_deref().and_then(|id| redactor.known("peer", id));
            who_is_who(known(&ids.a), known(&ids.b))
        }
        _ => String::new(),
    };
    println!("\n# Both hold both logs now{names}.");
    show(&programs, "read", &["--db", "alice.db"], dir)?;
    show(&programs, "read", &["--db", "bob.db"], dir)?;
    Ok(())
}

/// The ids that crossed in each direction's handshake.
#[derive(Debug, Default)]
struct Handshakes {
    a: Option<String>,
    b: Option<String>,
}

/// ` (peer#2 is Alice's id, peer#1 Bob's)`: the placeholders each got in the transcript,
/// which numbers them in the order they were first seen, so either may be first.
fn who_is_who(alice: Option<String>, bob: Option<String>) -> String {
    match (alice, bob) {
        (Some(alice), Some(bob)) => format!(" ({alice} is Alice's id, {bob} Bob's)"),
        (Some(alice), None) => format!(" ({alice} is Alice's id)"),
        (None, Some(bob)) => format!(" ({bob} is Bob's id)"),
        (None, None) => String::new(),
    }
}

/// How long the gossip demo lets entries travel before it shows what each peer printed.
const GOSSIP_TIME: Duration = Duration::from_millis(1500);

fn gossip() -> anyhow::Result<()> {
    let programs = reference("gossip")?;
    // Under the verifier's scratch root: removed even if the verifier is killed.
    let dir = crate::runner::scratch_dir("replicate-demo-")?;
    let dir = dir.path();
    // Held until the demo ends: no other program is told these ports meanwhile.
    let leases: Vec<PortLease> = (0..3).map(|_| PortLease::take()).collect::<Result<_, _>>()?;
    let ports: Vec<String> = leases.iter().map(|lease| lease.port().to_string()).collect();
    println!("# Three peers in a line: p1 – p2 – p3 (p1 and p3 never meet).");
    let limits = Limits {
        timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let printed = std::sync::Arc::new(Mutex::new(Vec::<String>::new()));
    let mut peers = Vec::new();
    for (index, port) in ports.iter().enumerate() {
        let name = format!("p{}", index + 1);
        let db = format!("{name}.db");
        let connect = index
            .checked_sub(1)
            .map(|previous| format!("127.0.0.1:{}", ports[previous]));
        let mut args = vec!["--db", db.as_str(), "--port", port.as_str()];
        if let Some(address) = &connect {
            args.extend(["--connect", address.as_str()]);
        }
        let invocation = invocation(&programs, "peer", &args, dir)?;
        println!("$ {} &", invocation.short_line());
        let wiring = Wiring {
            stdin: Stdin::Piped,
            stdout: Stdout::Piped,
            stderr: Stderr::Forwarded(format!("{name}| ")),
        };
        let mut peer = Spawned::start(&invocation, wiring, &limits)?;
        if let Some(stdout) = peer.take_stdout() {
            let printed = printed.clone();
            let name = name.clone();
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Ok(mut printed) = printed.lock() {
                        printed.push(format!("{name} printed {line}"));
                    }
                }
            });
        }
        peers.push(peer);
    }
    for (index, text) in [(0, "hello from p1"), (2, "hello from p3")] {
        println!("p{} < {text}", index + 1);
        if let Some(mut stdin) = peers[index].take_stdin() {
            // A peer goes on serving after its input ends, so stdin may close now.
            let _ = writeln!(stdin, "{text}").and_then(|_| stdin.flush());
        }
    }
    thread::sleep(GOSSIP_TIME);
    drop(peers);
    println!();
    if let Ok(printed) = printed.lock() {
        for line in printed.iter() {
            println!("{line}");
        }
    }
    Ok(())
}

/// Two `serve`s and pulls without a resolver: alice and bob keep different values.
fn clocks() -> anyhow::Result<()> {
    let programs = reference("logical-clocks")?;
    let dir = tempfile::Builder::new().prefix("replicate-demo-").tempdir()?;
    let dir = dir.path();
    println!("# Alice and Bob each write k once, without pulling first: both clocks are 1.");
    show(&programs, "put", &["--db", "alice.db", "k", "from alice"], dir)?;
    show(&programs, "put", &["--db", "bob.db", "k", "from bob"], dir)?;
    let mut servers = Vec::new();
    let mut addresses = Vec::new();
    let mut leases = Vec::new();
    for db in ["alice.db", "bob.db"] {
        let lease = PortLease::take()?;
        let port = lease.port().to_string();
        leases.push(lease);
        let invocation = invocation(&programs, "serve", &["--db", db, "--port", &port], dir)?;
        println!("$ {} &", invocation.short_line());
        servers.push(Spawned::start(
            &invocation,
            Wiring::default(),
            &Limits::default(),
        )?);
        let address = format!("127.0.0.1:{port}");
        while std::net::TcpStream::connect(&address).is_err() {
            thread::sleep(Duration::from_millis(20));
        }
        addresses.push(address);
    }
    println!("\n# They pull from each other, twice, as the original did without a resolver.");
    for _ in 0..2 {
        show(
            &programs,
            "pull",
            &["--db", "alice.db", "--from", &addresses[1], "--no-resolver"],
            dir,
        )?;
        show(
            &programs,
            "pull",
            &["--db", "bob.db", "--from", &addresses[0], "--no-resolver"],
            dir,
        )?;
    }
    drop(servers);
    show(&programs, "get", &["--db", "alice.db", "k"], dir)?;
    show(&programs, "get", &["--db", "bob.db", "k"], dir)?;
    println!("\n# Different for ever: every pull brings an equal clock, and each keeps its own.");
    Ok(())
}

/// Runs one program of exercise 9 and shows its nodes with placeholders for the
/// hashes (`<node#2, [node#1], "world", log#1, 2>`).
fn show_nodes(
    programs: &Programs,
    args: (&str, &[&str]),
    dir: &Path,
    redactor: &Mutex<Redactor>,
) -> anyhow::Result<()> {
    let (program, args) = args;
    let invocation = invocation(programs, program, args, dir)?;
    let finished = runner::run(&invocation, None, &Limits::default())?;
    let mut redactor = redactor.lock().map_err(|e| anyhow!("{e}"))?;
    let shown: Vec<String> = invocation
        .args
        .iter()
        .map(|arg| redactor.known_any(arg).unwrap_or_else(|| arg.clone()))
        .collect();
    println!("$ {program} {}", runner::quote(shown.iter().map(String::as_str)));
    let parsed = crate::harness::records::parse_output(&finished.stdout, &course::e09_merkle_dag::NODE);
    for record in &parsed.records {
        println!("{}", redactor.show(record));
    }
    if !finished.ending.success() {
        println!(
            "({}) {}",
            finished.ending.describe(),
            String::from_utf8_lossy(&finished.stderr).trim()
        );
    }
    Ok(())
}

/// Two `replicate` of exercise 9 through the relay, with the messages shown as they cross.
fn dag_sync(
    programs: &Programs,
    dbs: [&str; 2],
    dir: &Path,
    redactor: &Mutex<Redactor>,
) -> anyhow::Result<()> {
    println!("$ verifier dupsh 'replicate {}' 'replicate {}'", dbs[0], dbs[1]);
    let a = invocation(programs, "replicate", &[dbs[0]], dir)?;
    let b = invocation(programs, "replicate", &[dbs[1]], dir)?;
    let redactor = Mutex::new(redactor.lock().map_err(|e| anyhow!("{e}"))?.clone());
    let observer = move |event: &Event| {
        if let Ok(mut redactor) = redactor.lock() {
            let line = course::e09_merkle_dag::show_line(&event.raw, &mut redactor);
            println!("{}  {line}", event.direction.arrow());
        }
    };
    run_watched(&a, &b, Box::new(observer))?;
    Ok(())
}

fn merkle_dag() -> anyhow::Result<()> {
    let programs = reference("merkle-dag")?;
    let dir = tempfile::Builder::new().prefix("replicate-demo-").tempdir()?;
    let dir = dir.path();
    let r = Mutex::new(Redactor::new());
    println!("# Cause 1? \"No common root.\" Two databases, no node in common:");
    show_nodes(&programs, ("add", &["log.db", "hello"]), dir, &r)?;
    show_nodes(&programs, ("add", &["log.db", "world"]), dir, &r)?;
    show_nodes(&programs, ("add", &["log2.db", "hi"]), dir, &r)?;
    println!();
    dag_sync(&programs, ["log.db", "log2.db"], dir, &r)?;
    println!("\n# Both logs are in log.db: two heads, and one add merges them.");
    show_nodes(&programs, ("list", &["log.db"]), dir, &r)?;
    show_nodes(&programs, ("heads", &["log.db"]), dir, &r)?;
    show_nodes(&programs, ("add", &["log.db", "both logs, merged"]), dir, &r)?;
    println!("\n# Cause 2: copy a database directory, then write to both copies.");
    println!("$ cp -r log.db log3.db");
    crate::harness::tree::copy_tree(&dir.join("log.db"), &dir.join("log3.db"), &[])?;
    show_nodes(&programs, ("add", &["log.db", "from the original"]), dir, &r)?;
    show_nodes(&programs, ("add", &["log3.db", "from the copy"]), dir, &r)?;
    println!();
    dag_sync(&programs, ["log.db", "log3.db"], dir, &r)?;
    println!("\n# Refused, and nothing lost: each copy still holds its own node #4.");
    show_nodes(&programs, ("heads", &["log.db"]), dir, &r)?;
    show_nodes(&programs, ("heads", &["log3.db"]), dir, &r)?;
    Ok(())
}

/// Runs two peers through the relay, `observer` seeing every message as it passes,
/// their stderr shown prefixed `A| ` and `B| `; prints how each ended.
fn run_watched(a: &Invocation, b: &Invocation, observer: duplex::Observer) -> anyhow::Result<()> {
    let mode = Mode::Relay {
        fault: Fault::None,
        observer: Some(observer),
    };
    let stderr = [Stderr::Forwarded("A| ".into()), Stderr::Forwarded("B| ".into())];
    let outcome = duplex::run(a, b, mode, stderr, &Limits::default())?;
    println!("(A {}; B {})", outcome.a.describe(), outcome.b.describe());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_handshakes_whichever_arrived_first() {
        let name = |s: &str| Some(s.to_string());
        assert_eq!(
            who_is_who(name("peer#1"), name("peer#2")),
            " (peer#1 is Alice's id, peer#2 Bob's)"
        );
        assert_eq!(
            who_is_who(name("peer#2"), name("peer#1")),
            " (peer#2 is Alice's id, peer#1 Bob's)"
        );
        assert_eq!(who_is_who(None, None), "");
    }
}
