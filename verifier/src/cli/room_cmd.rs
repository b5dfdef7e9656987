//! `verifier room …`: the classroom. `host` opens a room and its board, `join` makes
//! this workshop a member (its `verify` reports to the room from then on), `peer N`
//! runs your peer for exercise N in the room's mesh.

use super::{error_exit, usage_error};
use crate::course::{self, COURSE, Side};
use crate::harness::build::build;
use crate::service::Outcome;
use crate::service::room::agent::{self, PeerPlan};
use crate::service::room::client::{self, Membership};
use crate::service::room::protocol::{Report, Verdict};
use crate::service::room::topology::Topology;
use crate::service::room::{Host, lan_address};
use crate::service::root::default_root;
use crate::workshop::state::state_dir;
use clap::{Args, Subcommand};
use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

/// The room's port when `--listen` does not say.
const ROOM_PORT: u16 = 7878;
/// The board's port when `--board` does not say.
const BOARD_PORT: u16 = 7879;

#[derive(Args, Debug)]
pub struct RoomArgs {
    #[command(subcommand)]
    command: RoomCommand,
}

#[derive(Subcommand, Debug)]
enum RoomCommand {
    /// Open a room for a class: prints the join code and the address learners type.
    Host(HostArgs),
    /// Join a room: from now on every `verify` reports its verdict there (never code).
    Join(JoinArgs),
    /// Run your peer for exercise N in the room's mesh, linked to the neighbours it assigns.
    Peer(PeerArgs),
}

#[derive(Args, Debug)]
struct HostArgs {
    /// Where learners connect (default: this machine's LAN address, port 7878).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// Where the board is served (default: 127.0.0.1:7879, this machine only).
    #[arg(long, value_name = "ADDR:PORT")]
    board: Option<SocketAddr>,
    /// The mesh's first topology: ring, tree or random.
    #[arg(long, default_value = "ring")]
    topology: Topology,
    /// The seed of a random topology (to replay a room).
    #[arg(long)]
    seed: Option<u64>,
}

#[derive(Args, Debug)]
struct JoinArgs {
    /// The room's address, as the teacher shows it, e.g. 192.168.1.20:7878.
    address: String,
    /// The join code the teacher shows.
    code: String,
    /// Your name on the board.
    #[arg(long)]
    name: String,
    /// Join as someone new (forget the identity kept from an earlier join).
    #[arg(long)]
    new: bool,
}

#[derive(Args, Debug)]
struct PeerArgs {
    /// An exercise with a live `peer` program, e.g. `4`.
    exercise: String,
    /// Run the reference solution's peer instead of yours.
    #[arg(long, conflicts_with = "program")]
    solution: bool,
    /// Run this command as the peer instead of building it (any language).
    #[arg(long, value_name = "COMMAND")]
    program: Option<String>,
}

pub fn run(args: RoomArgs) -> ExitCode {
    match args.command {
        RoomCommand::Host(args) => host(args),
        RoomCommand::Join(args) => join(args),
        RoomCommand::Peer(args) => peer(args),
    }
}

fn host(args: HostArgs) -> ExitCode {
    let listen = match args.listen {
        Some(listen) => listen,
        None => match lan_address() {
            Some(ip) => SocketAddr::new(ip, ROOM_PORT),
            None => {
                eprintln!(
                    "Note: this machine has no LAN address; the room listens on 127.0.0.1 (this machine only)."
                );
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), ROOM_PORT)
            }
        },
    };
    let board = args
        .board
        .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), BOARD_PORT));
    let seed = args
        .seed
        .unwrap_or_else(crate::harness::verdict::Settings::random_seed);
    let host = match Host::start(listen, board, args.topology, seed) {
        Ok(host) => host,
        Err(error) => return error_exit(&error),
    };
    println!("The room is open (topology {:?}, seed {seed}).", args.topology);
    println!("  Join code:      {}", host.code);
    println!(
        "  Learners type:  cargo run -- room join {} {} --name THEIR-NAME",
        host.room, host.code
    );
    println!("  The board:      http://{}/", host.board);
    println!(
        "  Your controls:  http://{}/#secret={}   (keep this link to yourself)",
        host.board, host.secret
    );
    println!("Ctrl-C closes the room.");
    host.wait();
    ExitCode::SUCCESS
}

fn join(args: JoinArgs) -> ExitCode {
    let dir = state_dir(&default_root());
    let earlier = match args.new {
        true => None,
        false => Membership::load(&dir),
    };
    let membership = match client::join(&args.address, &args.code, &args.name, earlier.as_ref()) {
        Ok(membership) => membership,
        Err(error) => return error_exit(&error),
    };
    if let Err(error) = membership.save(&dir) {
        return error_exit(&error);
    }
    let again = earlier.is_some_and(|e| e.learner == membership.learner && e.room == membership.room);
    println!(
        "{} the room at {} as {} (learner {}). Every `verify` now reports its verdict there (never your code).",
        if again { "Back in" } else { "Joined" },
        membership.room,
        membership.name,
        membership.learner
    );
    ExitCode::SUCCESS
}

/// Reports a verification to the room this workshop joined, if any: best effort, a
/// one-line note when it does not get through, never a change to `verify`'s result.
pub fn report_verify(exercise: u32, outcome: Outcome, passed: usize, total: usize, seed: u64) {
    let Some(membership) = Membership::load(&state_dir(&default_root())) else {
        return;
    };
    let verdict = match outcome {
        Outcome::Passed => Verdict::Passed,
        Outcome::Failed => Verdict::Failed,
        Outcome::Error => Verdict::Error,
    };
    let report = Report {
        exercise,
        verdict,
        passed: passed as u32,
        total: total as u32,
        seed,
    };
    if let Err(error) = client::report(&membership, report) {
        eprintln!("(room: this verify was not reported: {error:#})");
    }
}

fn peer(args: PeerArgs) -> ExitCode {
    let exercise = match course::find(&args.exercise) {
        Ok(exercise) => exercise,
        Err(error) => return error_exit(&error),
    };
    if exercise.program("peer").is_none() {
        let live: Vec<String> = COURSE
            .iter()
            .filter(|e| e.program("peer").is_some())
            .map(|e| format!("{:02}", e.number))
            .collect();
        return usage_error(&format!(
            "exercise {:02} has no live `peer` program; these have: {}",
            exercise.number,
            live.join(", ")
        ));
    }
    let root = default_root();
    let dir = state_dir(&root);
    let Some(membership) = Membership::load(&dir) else {
        return usage_error(
            "this workshop has not joined a room: `room join ADDRESS CODE --name NAME` first",
        );
    };
    let command = match args.program {
        Some(text) => match shlex::split(&text).filter(|words| !words.is_empty()) {
            Some(words) => words,
            None => return usage_error("--program needs a command, with balanced quotes"),
        },
        None => {
            let side = match args.solution {
                true => Side::Reference,
                false => Side::Learner,
            };
            eprintln!("Building {} …", exercise.package(side));
            let built = match build(&root, &exercise.buildable(side), &|_| {}) {
                Ok(built) => built,
                Err(problem) => {
                    println!("{problem}");
                    return ExitCode::from(1);
                }
            };
            match built.programs.command("peer") {
                Some(command) => command.to_vec(),
                None => return usage_error("the build has no `peer` program"),
            }
        }
    };
    let plan = PeerPlan {
        membership,
        exercise: exercise.number,
        command,
        folder: dir.join("room-peer").join(format!("{:02}", exercise.number)),
        forward_stdin: std::io::stdin().is_terminal(),
    };
    match agent::run(plan) {
        Ok(how) => {
            println!("(room) {how}.");
            ExitCode::SUCCESS
        }
        Err(error) => error_exit(&error),
    }
}
