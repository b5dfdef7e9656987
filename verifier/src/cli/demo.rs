//! `verifier demo replicate|gossip`: the reference solutions at work, for a teacher's
//! live demo (the slides name these commands) or a curious learner.

use super::usage_error;
use crate::build::build;
use crate::course::replication::wire;
use crate::course::{self, Side};
use crate::duplex::{self, Event, Fault, Mode};
use crate::redact::Redactor;
use crate::runner::{self, Invocation, Limits, Spawned, Stderr, Stdin, Stdout, Wiring};
use crate::trial::{Programs, free_port};
use crate::verify::default_root;
use clap::{Args, ValueEnum};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;
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
}

pub fn run(args: DemoArgs) -> ExitCode {
    let result = match args.demo {
        Demo::Replicate => replicate(),
        Demo::Gossip => gossip(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => usage_error(&format!("the demo could not run: {message}")),
    }
}

/// Builds a reference solution, quietly.
fn reference(slug: &str) -> Result<Programs, String> {
    let exercise = course::find(slug)?;
    eprintln!(
        "(building the reference solution of exercise {} …)",
        exercise.number
    );
    build(&default_root(), exercise, Side::Reference)
        .map(|built| built.programs)
        .map_err(|e| format!("{e:?}"))
}

fn invocation(programs: &Programs, program: &str, args: &[&str], dir: &Path) -> Result<Invocation, String> {
    let command = programs
        .command(program)
        .ok_or(format!("no program `{program}`"))?;
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
fn show(programs: &Programs, program: &str, args: &[&str], dir: &Path) -> Result<(), String> {
    let invocation = invocation(programs, program, args, dir)?;
    println!("$ {}", invocation.short_line());
    let finished = runner::run(&invocation, None, &Limits::default()).map_err(|e| e.to_string())?;
    print!("{}", String::from_utf8_lossy(&finished.stdout));
    if !finished.ending.success() {
        println!("({})", finished.ending.describe());
    }
    Ok(())
}

fn replicate() -> Result<(), String> {
    let programs = reference("replicate")?;
    let dir = tempfile::Builder::new()
        .prefix("replicate-demo-")
        .tempdir()
        .map_err(|e| e.to_string())?;
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
    let redactor = Mutex::new(Redactor::new());
    let observer = move |event: &Event| {
        if let Ok(mut redactor) = redactor.lock() {
            println!(
                "{}  {}",
                event.direction.arrow(),
                wire::decode(&event.raw).show(&mut redactor)
            );
        }
    };
    let mode = Mode::Relay {
        fault: Fault::None,
        observer: Some(Box::new(observer)),
    };
    let stderr = [Stderr::Forwarded("A| ".into()), Stderr::Forwarded("B| ".into())];
    let outcome = duplex::run(&a, &b, mode, stderr, &Limits::default()).map_err(|e| e.to_string())?;
    println!("(A {}; B {})", outcome.a.describe(), outcome.b.describe());
    println!("\n# Both hold both logs now (peer#1 is Alice's id, peer#2 Bob's).");
    show(&programs, "read", &["--db", "alice.db"], dir)?;
    show(&programs, "read", &["--db", "bob.db"], dir)?;
    Ok(())
}

/// How long the gossip demo lets entries travel before it shows what each peer printed.
const GOSSIP_TIME: Duration = Duration::from_millis(1500);

fn gossip() -> Result<(), String> {
    let programs = reference("gossip")?;
    let dir = tempfile::Builder::new()
        .prefix("replicate-demo-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let dir = dir.path();
    let ports: Vec<String> = (0..3)
        .map(|_| {
            free_port()
                .map(|port| port.to_string())
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
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
        let mut peer = Spawned::start(&invocation, wiring, &limits).map_err(|e| e.to_string())?;
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
