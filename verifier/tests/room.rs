//! The classroom as a class uses it: a teacher hosts a room, learners join with the
//! code, their peers (the reference solution of exercise 04) converge through the
//! room's relays, a cut partitions them and healing brings them together again, a
//! learner whose peer sends garbage is named on the board and cut while the others go
//! on, and a wrong code is refused.
//!
//! The same scenario runs twice: on loopback (every machine is this one), and on
//! separate machines in network namespaces — a teacher and four learners, each in its
//! own namespace, on a virtual bridge — where that is possible (root, `ip netns`);
//! elsewhere that test says why it is skipped.

mod common;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use verifier::course::Side;
use verifier::service::room::client::{self, Membership};
use verifier::service::room::protocol::{Report, Verdict};

/// How long the room may take to show what the test waits for.
const WITHIN: Duration = Duration::from_secs(30);

/// A peer that speaks no protocol at all: it dials every `--connect` address and
/// accepts on its `--port`, and sends the same line of garbage on every connection.
const GARBAGE_PEER: &str = r#"
import socket, sys, threading, time
args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
dials = [args[i + 1] for i, a in enumerate(args) if a == "--connect"]
def pester(conn):
    try:
        while True:
            conn.sendall(b"I am not the protocol\n")
            time.sleep(0.2)
    except OSError:
        pass
def dial(address):
    host, p = address.rsplit(":", 1)
    while True:
        try:
            pester(socket.create_connection((host, int(p))))
        except OSError:
            pass
        time.sleep(0.3)
for address in dials:
    threading.Thread(target=dial, args=(address,), daemon=True).start()
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen()
while True:
    conn, _ = server.accept()
    threading.Thread(target=pester, args=(conn,), daemon=True).start()
"#;

/// An HTTP request from inside a namespace (the test itself is outside it).
const HTTP_CLIENT: &str = r#"
import sys, urllib.request
url, secret, body = sys.argv[1], sys.argv[2], sys.argv[3]
request = urllib.request.Request(url, data=body.encode() if body else None, headers={"X-Room-Secret": secret})
try:
    print(urllib.request.urlopen(request, timeout=5).read().decode(), end="")
except urllib.error.HTTPError as e:
    print(e.read().decode(), end="")
"#;

/// The machines of a class: where each command runs.
trait Machines {
    /// A command on the teacher's machine (0) or learner `n`'s (1, 2, …).
    fn on(&self, machine: usize, program: &Path) -> Command;
    /// The address the room listens on (port 0: the room picks).
    fn room_listen(&self) -> String;
    /// An HTTP request to the board, from the teacher's machine.
    fn http(&self, board: &str, path: &str, secret: &str, body: Option<&str>) -> String;
}

/// Every machine is this one.
struct Loopback;

impl Machines for Loopback {
    fn on(&self, _machine: usize, program: &Path) -> Command {
        Command::new(program)
    }

    fn room_listen(&self) -> String {
        "127.0.0.1:0".to_string()
    }

    fn http(&self, board: &str, path: &str, secret: &str, body: Option<&str>) -> String {
        let mut stream = TcpStream::connect(board).expect("the board accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a timeout");
        let request = match body {
            Some(body) => format!(
                "POST {path} HTTP/1.1\r\nX-Room-Secret: {secret}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
            None => format!("GET {path} HTTP/1.1\r\n\r\n"),
        };
        stream.write_all(request.as_bytes()).expect("the request is sent");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default()
    }
}

/// A teacher and learners, each in a network namespace of its own, on one bridge
/// (in a namespace of its own too, so that the machine's own network is untouched).
/// Everything is removed when it is dropped.
struct Namespaces {
    names: Vec<String>,
}

impl Namespaces {
    /// Machine `n` has the address 10.77.0.(n+1).
    fn create(machines: usize) -> Result<Namespaces, String> {
        let tag = std::process::id();
        let mut spaces = Namespaces { names: Vec::new() };
        let bridge = format!("room-bridge-{tag}");
        spaces.add(&bridge)?;
        ip(&["-n", &bridge, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &bridge, "link", "set", "br0", "up"])?;
        for machine in 0..machines {
            let name = format!("room-m{machine}-{tag}");
            spaces.add(&name)?;
            let port = format!("port{machine}");
            ip(&[
                "-n", &name, "link", "add", "eth0", "type", "veth", "peer", "name", &port, "netns", &bridge,
            ])?;
            ip(&["-n", &bridge, "link", "set", &port, "master", "br0", "up"])?;
            ip(&[
                "-n",
                &name,
                "addr",
                "add",
                &format!("10.77.0.{}/24", machine + 1),
                "dev",
                "eth0",
            ])?;
            ip(&["-n", &name, "link", "set", "eth0", "up"])?;
            ip(&["-n", &name, "link", "set", "lo", "up"])?;
        }
        Ok(spaces)
    }

    fn add(&mut self, name: &str) -> Result<(), String> {
        ip(&["netns", "add", name])?;
        self.names.push(name.to_string());
        Ok(())
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in self.names.iter().rev() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    match output.status.success() {
        true => Ok(()),
        false => Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    }
}

impl Machines for Namespaces {
    fn on(&self, machine: usize, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.names[machine + 1]])
            .arg(program);
        command
    }

    fn room_listen(&self) -> String {
        "10.77.0.1:0".to_string()
    }

    fn http(&self, board: &str, path: &str, secret: &str, body: Option<&str>) -> String {
        let output = self
            .on(0, Path::new("python3"))
            .args([
                "-c",
                HTTP_CLIENT,
                &format!("http://{board}{path}"),
                secret,
                body.unwrap_or(""),
            ])
            .output()
            .expect("python3 runs in the teacher's namespace");
        String::from_utf8_lossy(&output.stdout).to_string()
    }
}

/// A process of the test, killed with its whole group when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let group = self.0.id() as i32;
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(group),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = self.0.wait();
    }
}

fn verifier() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_verifier"))
}

/// The room as `room host` announced it.
struct Room {
    _host: Running,
    address: String,
    code: String,
    board: String,
    secret: String,
}

fn host(machines: &dyn Machines) -> Room {
    let mut child = machines
        .on(0, &verifier())
        .args([
            "room",
            "host",
            "--listen",
            &machines.room_listen(),
            "--board",
            "127.0.0.1:0",
        ])
        .args(["--topology", "tree", "--seed", "1"])
        .current_dir(common::root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .expect("the room starts");
    let stdout = child.stdout.take().expect("its stdout");
    let host = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut announced = String::new();
    while !announced.contains("Ctrl-C closes the room.") {
        let line = rx.recv_timeout(WITHIN).expect("the room announces itself");
        announced.push_str(&line);
        announced.push('\n');
    }
    let after = |label: &str| -> String {
        let line = announced
            .lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("{label} in {announced}"));
        line[line.find(label).unwrap_or(0) + label.len()..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let board = after("http://").trim_end_matches('/').to_string();
    Room {
        address: after("room join "),
        code: after("Join code:"),
        secret: after("#secret="),
        board,
        _host: host,
    }
}

impl Room {
    fn state(&self, machines: &dyn Machines) -> Value {
        let text = machines.http(&self.board, "/state", "", None);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("the board's state is JSON ({e}): {text}"))
    }

    fn control(&self, machines: &dyn Machines, control: Value) -> String {
        machines.http(&self.board, "/control", &self.secret, Some(&control.to_string()))
    }

    /// Waits until the board's state satisfies `done`; the last state.
    fn wait(&self, machines: &dyn Machines, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WITHIN;
        loop {
            let state = self.state(machines);
            if done(&state) {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "the board never showed {what}: {state:#}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A learner's machine: its own state folder (its `.replicate/`).
struct Learner {
    machine: usize,
    state: tempfile::TempDir,
}

impl Learner {
    fn new(machine: usize) -> Learner {
        Learner {
            machine,
            state: tempfile::tempdir().expect("a state folder"),
        }
    }

    fn verifier(&self, machines: &dyn Machines) -> Command {
        let mut command = machines.on(self.machine, &verifier());
        command
            .current_dir(common::root())
            .env("REPLICATE_STATE_DIR", self.state.path())
            .stdin(Stdio::null());
        command
    }

    fn join(&self, machines: &dyn Machines, room: &Room, code: &str, name: &str) -> Output {
        self.verifier(machines)
            .args(["room", "join", &room.address, code, "--name", name])
            .output()
            .expect("room join runs")
    }

    fn peer(&self, machines: &dyn Machines, program: &str) -> Running {
        let child = self
            .verifier(machines)
            .args(["room", "peer", "4", "--program", program])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("room peer starts");
        Running(child)
    }
}

/// The reference solution's peer program, built once.
fn reference_peer() -> String {
    let exercise = verifier::course::find("4").expect("exercise 04");
    let built =
        verifier::harness::build::build(&common::root(), &exercise.buildable(Side::Reference), &|_| {})
            .expect("the reference of 04 builds");
    let command = built.programs.command("peer").expect("it has a peer program");
    shlex::try_join(command.iter().map(String::as_str)).expect("a command line")
}

fn peers(state: &Value) -> Vec<Value> {
    state["mesh"]["peers"].as_array().cloned().unwrap_or_default()
}

fn held(peer: &Value) -> u64 {
    peer["heads"]
        .as_object()
        .map_or(0, |heads| heads.values().filter_map(Value::as_u64).sum())
}

fn named(state: &Value, name: &str) -> Option<String> {
    state["learners"]
        .as_array()?
        .iter()
        .find(|l| l["name"] == name)
        .and_then(|l| l["named"].as_str().map(str::to_string))
}

fn converged(state: &Value, round: u64) -> bool {
    state["mesh"]["round"]["number"] == round && state["mesh"]["round"]["converged_ms"].is_u64()
}

/// The whole class: join, converge, cut, heal, garbage, a wrong code.
fn a_class(machines: &dyn Machines) {
    let reference = reference_peer();
    let room = host(machines);

    // A wrong code is refused, and the refused learner is nowhere on the board.
    let eve = Learner::new(1);
    let refused = eve.join(machines, &room, "WRONG0", "eve");
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "error: the room refused: wrong join code: check the code the teacher shows\n"
    );

    // Three learners join, each on a machine of their own, and run their peers.
    let names = ["ada", "bob", "cy"];
    let learners: Vec<Learner> = (1..=3).map(Learner::new).collect();
    for (learner, name) in learners.iter().zip(names) {
        let joined = learner.join(machines, &room, &room.code, name);
        assert!(joined.status.success(), "{name} joins: {joined:?}");
    }
    // One after the other, so that the tree is ada at the root, bob and cy below.
    let mut running = Vec::new();
    for (count, learner) in learners.iter().enumerate() {
        running.push(learner.peer(machines, &reference));
        room.wait(machines, &format!("{} peer(s)", count + 1), |s| {
            peers(s).len() == count + 1
        });
    }
    let state = room.wait(machines, "three peers, linked as a tree", |s| {
        s["mesh"]["links"].as_array().is_some_and(|l| l.len() == 2)
    });
    let order: Vec<String> = peers(&state)
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(order, names);
    let names_shown: Vec<&str> = state["learners"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(names_shown, names);

    // One entry each: the room converges.
    assert_eq!(
        room.control(machines, json!({"action": "round"})),
        "round 1 started"
    );
    let state = room.wait(machines, "round 1 converged", |s| converged(s, 1));
    // The board shows what crossed each link last.
    for link in state["mesh"]["links"].as_array().into_iter().flatten() {
        let last = link["last"].as_str().unwrap_or_default();
        assert!(
            ["ada: ", "bob: ", "cy: "].iter().any(|who| last.starts_with(who))
                && last.contains("entry 1: round 1: hello from "),
            "{link}"
        );
    }

    // Cut cy's link (cy dials ada in the tree): cy is alone, the others converge
    // without cy's entry and cy does not get theirs.
    let links = state["mesh"]["links"].as_array().cloned().unwrap_or_default();
    let cy_id = state["learners"][2]["id"].clone();
    let cy_link = links
        .iter()
        .find(|l| l["from"] == cy_id)
        .expect("cy dials a link")["id"]
        .clone();
    assert_eq!(
        room.control(machines, json!({"action": "cut", "link": cy_link})),
        format!("link {cy_link} cut")
    );
    assert_eq!(
        room.control(machines, json!({"action": "round"})),
        "round 2 started"
    );
    let partitioned = room.wait(machines, "ada and bob with 5 entries, cy with 4", |s| {
        let p = peers(s);
        p.len() == 3 && held(&p[0]) == 5 && held(&p[1]) == 5 && held(&p[2]) == 4
    });
    assert!(
        !converged(&partitioned, 2),
        "a partitioned room has not converged: {partitioned:#}"
    );
    std::thread::sleep(Duration::from_secs(1));
    let still = room.state(machines);
    assert_eq!(
        peers(&still).iter().map(held).collect::<Vec<_>>(),
        [5, 5, 4],
        "the cut holds"
    );

    // Heal it: everyone holds all six entries.
    assert_eq!(
        room.control(machines, json!({"action": "heal", "link": cy_link})),
        format!("link {cy_link} healed")
    );
    room.wait(machines, "round 2 converged after the heal", |s| converged(s, 2));

    // A learner whose peer sends garbage: named on the board, its link cut; the
    // others converge anyway.
    let mallory = Learner::new(4);
    assert!(
        mallory
            .join(machines, &room, &room.code, "mallory")
            .status
            .success()
    );
    let script = mallory.state.path().join("garbage_peer.py");
    std::fs::write(&script, GARBAGE_PEER).expect("the garbage peer is written");
    let _garbage = mallory.peer(machines, &format!("python3 {}", script.display()));
    let state = room.wait(machines, "mallory named", |s| named(s, "mallory").is_some());
    let why = named(&state, "mallory").unwrap_or_default();
    assert!(
        why.starts_with("mallory's peer sent garbage: I am not the protocol"),
        "{why}"
    );
    assert_eq!(named(&state, "ada"), None);
    assert_eq!(
        room.control(machines, json!({"action": "round"})),
        "round 3 started"
    );
    let state = room.wait(machines, "round 3 converged without mallory", |s| converged(s, 3));
    assert!(peers(&state).iter().take(3).all(|p| held(p) == 9), "{state:#}");
}

#[test]
fn a_class_on_loopback() {
    a_class(&Loopback);
}

#[test]
fn a_class_on_separate_machines() {
    let spaces = match Namespaces::create(5) {
        Ok(spaces) => spaces,
        Err(why) => {
            eprintln!(
                "skipped: network namespaces are not available here ({why}); they need root and `ip netns`"
            );
            return;
        }
    };
    a_class(&spaces);
}

/// Every `verify` of a learner who joined reports its numbers to the room; a room that
/// is gone costs `verify` one line on stderr and nothing else.
#[test]
fn verify_reports_to_the_room_and_a_gone_room_costs_a_note() {
    let room = host(&Loopback);
    let ada = Learner::new(1);
    let joined = ada.join(&Loopback, &room, &room.code, "ada");
    assert_eq!(
        String::from_utf8_lossy(&joined.stdout),
        format!(
            "Joined the room at {} as ada (learner 1). Every `verify` now reports its verdict there (never your code).\n",
            room.address
        )
    );
    let again = ada.join(&Loopback, &room, &room.code, "ada");
    assert!(
        String::from_utf8_lossy(&again.stdout).starts_with("Back in the room"),
        "{again:?}"
    );
    let verify = || {
        let output = ada
            .verifier(&Loopback)
            .args(["verify", "1", "--seed", "77", "--no-keep"])
            .output();
        output.expect("verify runs")
    };
    let first = verify();
    assert_eq!(first.status.code(), Some(1), "the stub of 01 fails");
    let state = room.state(&Loopback);
    let last = &state["learners"][0]["last"];
    assert_eq!(last["exercise"], 1);
    assert_eq!(last["verdict"], "failed");
    let total = verifier::course::find("1").expect("exercise 01").checks.len();
    assert_eq!(last["total"], total);
    assert!(last["passed"].as_u64().is_some_and(|p| (p as usize) < total));
    assert_eq!(state["learners"][0]["furthest"], Value::Null);
    assert_eq!(state["histogram"]["1"], json!([0, 1]));
    assert_eq!(last["seed"], 77, "the seed reported is the run's");

    drop(room);
    let alone = verify();
    assert_eq!(alone.status.code(), Some(1), "the verdict does not change");
    let first_line = |output: &Output| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .map(str::to_string)
    };
    assert_eq!(
        first_line(&alone),
        first_line(&first),
        "the report does not change"
    );
    let stderr = String::from_utf8_lossy(&alone.stderr);
    let notes: Vec<&str> = stderr.lines().filter(|l| l.starts_with("(room:")).collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    assert!(
        notes[0].starts_with("(room: this verify was not reported: cannot reach the room at "),
        "{stderr}"
    );
}

/// The shell has the same `room` commands: a learner joins from the workshop.
#[test]
fn the_shell_joins_a_room() {
    let room = host(&Loopback);
    let ada = Learner::new(1);
    let mut shell = ada
        .verifier(&Loopback)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the workshop starts");
    let script = format!("room join {} {} --name ada\n", room.address, room.code);
    shell
        .stdin
        .take()
        .expect("its stdin")
        .write_all(script.as_bytes())
        .expect("the script is typed");
    let output = shell.wait_with_output().expect("the workshop ends");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "Joined the room at {} as ada (learner 1).",
            room.address
        )),
        "{stdout}"
    );
    assert_eq!(room.state(&Loopback)["learners"][0]["name"], "ada");
    assert!(
        ada.state.path().join("room.json").is_file(),
        "the membership is kept in the state folder"
    );
}

/// The board in a real browser: it shows the learners, their progress and the mesh,
/// and its controls reach the relays (a cut from the board partitions the room).
#[test]
fn the_board_in_a_browser_shows_the_room_and_cuts_a_link() {
    if !common::browser::browser_available() {
        return;
    }
    let reference = reference_peer();
    let room = host(&Loopback);
    let names = ["ada", "bob", "cy"];
    let learners: Vec<Learner> = (1..=3).map(Learner::new).collect();
    let mut running = Vec::new();
    for (count, (learner, name)) in learners.iter().zip(names).enumerate() {
        assert!(learner.join(&Loopback, &room, &room.code, name).status.success());
        running.push(learner.peer(&Loopback, &reference));
        room.wait(&Loopback, &format!("{} peer(s)", count + 1), |s| {
            peers(s).len() == count + 1
        });
    }
    // Ada passed exercise 03 (as her `verify` would report it).
    let ada = Membership::load(learners[0].state.path()).expect("ada's membership");
    let passed = Report {
        exercise: 3,
        verdict: Verdict::Passed,
        passed: 4,
        total: 4,
        seed: 7,
    };
    client::report(&ada, passed).expect("the report is taken");

    let work = tempfile::tempdir().expect("a temporary folder");
    let mut driver = common::browser::Driver::start();
    driver.new_session(work.path());
    driver.open(&format!("http://{}/#secret={}", room.board, room.secret));
    let shown = |css: &str, expected: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = driver.script(&format!(
                "return document.querySelector({css:?})?.innerText ?? '';"
            ));
            let text = text.as_str().unwrap_or_default().to_string();
            if text.contains(expected) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} shows {text:?}, not {expected:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    shown("#learners", "ada");
    shown("#learners", "cy");
    shown("#learners tr[data-learner='1']", "03 passed 4/4");
    shown("#histogram", "1 passed, 0 trying");
    let count = |css: &str| driver.script(&format!("return document.querySelectorAll({css:?}).length;"));
    assert_eq!(count("#mesh circle"), json!(3), "three peers drawn");
    assert_eq!(count("#mesh line"), json!(2), "two links drawn");

    // A round from the keyboard, then a cut from its button: the relay is cut, and
    // the next round leaves cy behind.
    driver.press("e");
    shown("#round-status", "round 1: the room converged in");
    // Each peer's heads, under its circle: three logs at seq 1.
    let heads = driver.script("return document.querySelector('#mesh circle title').textContent;");
    let heads = heads.as_str().unwrap_or_default().to_string();
    assert!(heads.starts_with("ada's heads\n"), "{heads}");
    assert_eq!(
        heads.lines().skip(1).filter(|l| l.ends_with(": 1")).count(),
        3,
        "{heads}"
    );
    let state = room.state(&Loopback);
    let cy_id = state["learners"][2]["id"].clone();
    let cy_link = state["mesh"]["links"]
        .as_array()
        .and_then(|links| links.iter().find(|l| l["from"] == cy_id).map(|l| l["id"].clone()))
        .expect("cy dials a link");
    driver.click(&format!("button[data-cut='{cy_link}']"));
    shown(&format!("#links tr[data-link='{cy_link}']"), "cut by the teacher");
    assert_eq!(count("#mesh line.cut"), json!(1), "the cut link is drawn cut");
    driver.press("e");
    room.wait(&Loopback, "ada and bob with 5 entries, cy with 4", |s| {
        peers(s).iter().map(held).collect::<Vec<_>>() == [5, 5, 4]
    });
    shown("#round-status", "round 2: converging");
    // Without the secret the page has no controls.
    driver.open(&format!("http://{}/", room.board));
    assert!(!driver.displayed("#controls"), "no controls without the secret");
}

/// What a mistyped room command gets: a clear error and exit code 2.
#[test]
fn mistakes_get_clear_errors() {
    let ada = Learner::new(1);
    let run = |args: &[&str]| {
        let output = ada
            .verifier(&Loopback)
            .arg("room")
            .args(args)
            .output()
            .expect("room runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    };
    assert_eq!(
        run(&["peer", "4"]),
        (
            Some(2),
            "error: this workshop has not joined a room: `room join ADDRESS CODE --name NAME` first\n"
                .to_string()
        )
    );
    assert_eq!(
        run(&["peer", "2"]),
        (
            Some(2),
            "error: exercise 02 has no live `peer` program; these have: 04\n".to_string()
        )
    );
    let (code, stderr) = run(&["join", "no-port-here", "ABCDEF", "--name", "ada"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error: \"no-port-here\" is not an address: expected ADDRESS:PORT"),
        "{stderr}"
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("its address").to_string();
    let (code, stderr) = run(&["host", "--listen", &address, "--board", "127.0.0.1:0"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with(&format!("error: cannot listen on {address} for the room: ")),
        "{stderr}"
    );
    let (code, stderr) = run(&["host", "--topology", "star"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("unknown topology \"star\": ring, tree or random"),
        "{stderr}"
    );
}
