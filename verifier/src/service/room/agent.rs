//! `room peer N` on a learner's machine: the agent between the learner's own peer and
//! the room. It starts the peer (in the runner's sandbox, as every learner program)
//! with `--connect` pointing at its own dial slots on 127.0.0.1; each time the peer
//! dials a slot, the agent opens that slot's link through the room, and when the room
//! asks, it opens the listening end to the peer's `--port`. The peer itself never
//! learns that its neighbours are elsewhere, and the teacher's cut is just a dropped
//! connection, which a gossip peer survives by dialling again.
//!
//! The agent also reads what the peer prints and tells the room its log heads, which
//! the board draws.

use super::client::{Membership, TIMEOUT};
use super::mesh::DIAL_SLOTS;
use super::protocol::{Act, FromAgent, Hello, MAX_LINE, Reply, Side, ToAgent, line, parse};
use crate::course::shapes::LOG_ENTRY;
use crate::harness::records::parse_line;
use crate::runner::{Invocation, Limits, Resources, Spawned, Stderr, Stdin, Stdout, Wiring};
use anyhow::Context as _;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ChildStdin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// How long a peer may run in a room.
const PEER_TIMEOUT: Duration = Duration::from_secs(8 * 3600);
/// Heads are sent at most this often.
const HEADS_EVERY: Duration = Duration::from_millis(200);

/// A peer to run in the room.
pub struct PeerPlan {
    pub membership: Membership,
    pub exercise: u32,
    /// The peer program's command (built, or given with `--program`).
    pub command: Vec<String>,
    /// Its working folder (its database lives there).
    pub folder: PathBuf,
    /// Whether to forward this terminal's lines to the peer's stdin.
    pub forward_stdin: bool,
}

/// Runs the peer in the room until it ends or the room goes; how it ended, in words.
pub fn run(plan: PeerPlan) -> anyhow::Result<String> {
    let room = super::client::resolve(&plan.membership.room)?;
    std::fs::create_dir_all(&plan.folder)
        .with_context(|| format!("cannot create {}", plan.folder.display()))?;
    // Held while the peer runs, so that no other program is told the same port.
    let lease = crate::harness::ports::PortLease::take().context("cannot find a free port for the peer")?;
    let port = lease.port();
    let slots: Vec<std::net::TcpListener> = (0..DIAL_SLOTS)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<_>>()
        .context("cannot open the dial slots")?;
    let mut args = vec![
        "--db".to_string(),
        "peer.db".to_string(),
        "--port".to_string(),
        port.to_string(),
    ];
    for slot in &slots {
        args.push("--connect".to_string());
        args.push(slot.local_addr()?.to_string());
    }
    let invocation = Invocation {
        program: "peer".to_string(),
        args: args.clone(),
        argv: plan.command.iter().cloned().chain(args).collect(),
        cwd: plan.folder.clone(),
        env: vec![],
    };
    let limits = Limits {
        timeout: PEER_TIMEOUT,
        resources: Some(Resources {
            cpu: PEER_TIMEOUT,
            ..Resources::default()
        }),
        ..Limits::default()
    };
    let wiring = Wiring {
        stdin: Stdin::Piped,
        stdout: Stdout::Piped,
        stderr: Stderr::Forwarded("peer| ".to_string()),
    };
    println!("$ {}    [in {}]", invocation.short_line(), plan.folder.display());
    let mut peer = Spawned::start(&invocation, wiring, &limits).context("cannot start the peer")?;
    let stdin = Arc::new(Mutex::new(peer.take_stdin()));
    let (records_tx, records) = mpsc::unbounded_channel();
    if let Some(stdout) = peer.take_stdout() {
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).split(b'\n') {
                let Ok(line) = line else { break };
                if records_tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    if plan.forward_stdin {
        let stdin = stdin.clone();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                type_line(&stdin, &line);
            }
        });
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the agent's runtime")?;
    let agent = Agent {
        membership: plan.membership,
        room,
        port,
        stdin,
    };
    let ended = runtime.block_on(agent.run(plan.exercise, slots, records));
    let how = match peer.ending() {
        Some(ending) => format!("your peer {}", ending.describe()),
        None => ended?,
    };
    let _ = peer.collect(crate::runner::Ending::Signalled(9));
    drop(lease);
    Ok(how)
}

/// Types a line on the peer's stdin.
fn type_line(stdin: &Mutex<Option<ChildStdin>>, text: &str) {
    if let Ok(mut stdin) = stdin.lock()
        && let Some(stdin) = stdin.as_mut()
    {
        let _ = writeln!(stdin, "{text}").and_then(|()| stdin.flush());
    }
}

struct Agent {
    membership: Membership,
    room: SocketAddr,
    port: u16,
    stdin: Arc<Mutex<Option<ChildStdin>>>,
}

impl Agent {
    async fn run(
        self,
        exercise: u32,
        slots: Vec<std::net::TcpListener>,
        mut records: mpsc::UnboundedReceiver<Vec<u8>>,
    ) -> anyhow::Result<String> {
        let agent = Arc::new(self);
        let (mut control, mut write) = agent.connect(Act::Peer { exercise }).await?;
        println!("(room) your peer is in the room's mesh for exercise {exercise:02}");
        // Per slot: the link it leads to now; a change ends the slot's connections.
        let mut assigned: Vec<watch::Sender<Option<u32>>> = Vec::new();
        for slot in slots {
            slot.set_nonblocking(true)?;
            let listener = TcpListener::from_std(slot)?;
            let (tx, rx) = watch::channel(None);
            assigned.push(tx);
            tokio::spawn(agent.clone().serve_slot(listener, rx));
        }
        let mut heads: BTreeMap<String, u64> = BTreeMap::new();
        let mut sent_heads = heads.clone();
        let mut tick = tokio::time::interval(HEADS_EVERY);
        loop {
            tokio::select! {
                read = super::lines::read_line(&mut control, MAX_LINE * 4, None) => {
                    let super::lines::Read::Line(raw) = read else {
                        return Ok("the room closed the connection".to_string());
                    };
                    match parse::<ToAgent>(&raw) {
                        Ok(ToAgent::Slots { links }) => {
                            for (slot, link) in assigned.iter().zip(links.iter().chain(std::iter::repeat(&None))) {
                                slot.send_if_modified(|now| {
                                    let changed = *now != *link;
                                    *now = *link;
                                    changed
                                });
                            }
                            let shown: Vec<String> = links.iter().flatten().map(|l| format!("link {l}")).collect();
                            println!("(room) your peer dials: {}", if shown.is_empty() { "nobody".to_string() } else { shown.join(", ") });
                        }
                        Ok(ToAgent::Open { link }) => {
                            tokio::spawn(agent.clone().listen_end(link));
                        }
                        Ok(ToAgent::Type { text }) => {
                            println!("(room) typed for you: {text}");
                            type_line(&agent.stdin, &text);
                        }
                        Err(why) => anyhow::bail!("the room sent {why}"),
                    }
                }
                record = records.recv() => {
                    let Some(record) = record else {
                        return Ok("your peer closed its stdout".to_string());
                    };
                    println!("{}", String::from_utf8_lossy(&record));
                    if let Ok(parsed) = parse_line(&record, &LOG_ENTRY)
                        && let (Some(log), Some(seq)) = (parsed.text("peer"), parsed.number("seq"))
                    {
                        let head = heads.entry(log.to_string()).or_default();
                        *head = (*head).max(seq);
                    }
                }
                _ = tick.tick() => {
                    if heads != sent_heads {
                        sent_heads = heads.clone();
                        let text = line(&FromAgent::Heads { heads: heads.clone() });
                        if write.write_all(text.as_bytes()).await.is_err() {
                            return Ok("the room closed the connection".to_string());
                        }
                    }
                }
            }
        }
    }

    /// Opens a signed connection to the room and reads its answer (byte by byte, so
    /// that nothing after the answer is buffered away from the splice).
    async fn connect(
        &self,
        act: Act,
    ) -> anyhow::Result<(
        BufReader<tokio::net::tcp::OwnedReadHalf>,
        tokio::net::tcp::OwnedWriteHalf,
    )> {
        let stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(self.room))
            .await
            .map_err(|_| anyhow::anyhow!("the room at {} did not answer", self.room))?
            .with_context(|| format!("cannot reach the room at {}", self.room))?;
        let _ = stream.set_nodelay(true);
        let (read, mut write) = stream.into_split();
        let hello: Hello = self.membership.sign(act)?;
        write.write_all(line(&hello).as_bytes()).await?;
        let mut read = read;
        let reply = read_reply(&mut read).await?;
        match reply {
            Reply::Ok => Ok((BufReader::new(read), write)),
            Reply::Refused { reason } => anyhow::bail!("the room refused: {reason}"),
            Reply::Welcome { .. } => anyhow::bail!("the room answered with a welcome"),
        }
    }

    /// Accepts the peer's dials on one slot and carries each through the room.
    async fn serve_slot(self: Arc<Self>, listener: TcpListener, assigned: watch::Receiver<Option<u32>>) {
        loop {
            let Ok((local, _)) = listener.accept().await else {
                continue;
            };
            let agent = self.clone();
            let mut changed = assigned.clone();
            // Seen now: `changed()` then waits for the next change of this slot.
            let link = *changed.borrow_and_update();
            tokio::spawn(async move {
                let Some(link) = link else {
                    // No neighbour on this slot now: hold the connection, silent, until
                    // the slot leads somewhere; then the peer dials again.
                    let _ = changed.changed().await;
                    return;
                };
                let Ok((reader, write)) = agent
                    .connect(Act::Relay {
                        link,
                        side: Side::Dial,
                    })
                    .await
                else {
                    // Refused (cut, or the topology moved on): let the peer wait a little.
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    return;
                };
                tokio::select! {
                    _ = splice(local, reader, write) => {}
                    _ = changed.changed() => {}
                }
            });
        }
    }

    /// Opens the listening end of `link` to the peer's own port.
    async fn listen_end(self: Arc<Self>, link: u32) {
        let Ok((reader, write)) = self
            .connect(Act::Relay {
                link,
                side: Side::Listen,
            })
            .await
        else {
            return;
        };
        let Ok(local) = TcpStream::connect(("127.0.0.1", self.port)).await else {
            return;
        };
        splice(local, reader, write).await;
    }
}

/// Reads one reply line without reading past it.
async fn read_reply(read: &mut tokio::net::tcp::OwnedReadHalf) -> anyhow::Result<Reply> {
    let mut raw = Vec::new();
    let reading = async {
        let mut byte = [0u8; 1];
        while raw.len() <= MAX_LINE {
            if read.read(&mut byte).await? == 0 {
                anyhow::bail!("the room closed the connection without an answer");
            }
            if byte[0] == b'\n' {
                return Ok(());
            }
            raw.push(byte[0]);
        }
        anyhow::bail!("the room's answer is too long")
    };
    // A dialling end waits for its listening end too: allow for that.
    tokio::time::timeout(Duration::from_secs(10), reading)
        .await
        .map_err(|_| anyhow::anyhow!("the room did not answer"))??;
    parse(&raw).map_err(|e| anyhow::anyhow!("the room answered {e}"))
}

/// Copies both ways between the peer's local connection and the room until either ends.
async fn splice(
    local: TcpStream,
    mut from_room: BufReader<tokio::net::tcp::OwnedReadHalf>,
    mut to_room: tokio::net::tcp::OwnedWriteHalf,
) {
    let _ = local.set_nodelay(true);
    let (mut local_read, mut local_write) = local.into_split();
    tokio::select! {
        _ = tokio::io::copy(&mut local_read, &mut to_room) => {}
        _ = tokio::io::copy_buf(&mut from_room, &mut local_write) => {}
    }
}
