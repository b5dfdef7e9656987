//! The room's server: one tokio task per connection, every connection opening with one
//! line of the room protocol, read with a size limit and a deadline. A join or a report
//! is answered and closed; a peer's connection stays open for the mesh ([`super::mesh`]).
//!
//! All state is in one [`Room`] behind a mutex, held only for a few lines at a time and
//! never across an `.await`.

use super::lines::{Read, read_line};
use super::protocol::{Act, Hello, MAX_LINE, Reply, line, parse};
use super::roster::Roster;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::{AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// How long a new connection may take to say what it wants.
const HELLO_WITHIN: Duration = Duration::from_secs(5);
/// How long the room waits for a learner to read its answer.
pub const WRITE_WITHIN: Duration = Duration::from_secs(5);
/// Most connections open at once (a flood of connections waits for a free one).
const MAX_CONNECTIONS: usize = 1024;

/// Everything the room knows.
pub struct Room {
    pub roster: Roster,
    pub mesh: super::mesh::Mesh,
    /// The teacher's secret: the board's controls need it.
    pub secret: String,
    pub started: Instant,
}

/// The room, shared by every task.
#[derive(Clone)]
pub struct Shared(Arc<Mutex<Room>>);

impl Shared {
    pub fn new(room: Room) -> Shared {
        Shared(Arc::new(Mutex::new(room)))
    }

    /// The room, for a few lines (a poisoned lock is taken over: the room goes on).
    pub fn lock(&self) -> MutexGuard<'_, Room> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Accepts learners' connections until the runtime stops.
pub async fn serve(listener: TcpListener, shared: Shared) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok((stream, from)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            connection(stream, from, shared).await;
            drop(permit);
        });
    }
}

/// Sends one line, giving up on a learner that does not read.
pub async fn send<W: AsyncWrite + Unpin>(writer: &mut W, text: &str) -> bool {
    let writing = async {
        writer.write_all(text.as_bytes()).await?;
        writer.flush().await
    };
    matches!(tokio::time::timeout(WRITE_WITHIN, writing).await, Ok(Ok(())))
}

async fn refuse<W: AsyncWrite + Unpin>(writer: &mut W, reason: &str) {
    send(
        writer,
        &line(&Reply::Refused {
            reason: reason.to_string(),
        }),
    )
    .await;
}

async fn connection(stream: TcpStream, from: SocketAddr, shared: Shared) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let hello = match read_line(&mut reader, MAX_LINE, Some(HELLO_WITHIN)).await {
        Read::Line(line) => line,
        Read::TooLong => return refuse(&mut write, &format!("a message longer than {MAX_LINE} bytes")).await,
        Read::TimedOut => return refuse(&mut write, "nothing said within 5 s").await,
        Read::Closed => return,
    };
    let hello: Hello = match parse(&hello) {
        Ok(hello) => hello,
        Err(why) => return refuse(&mut write, &why.0).await,
    };
    let now = Instant::now();
    let signed = match hello {
        Hello::Join { code, name, token } => {
            let joined = shared
                .lock()
                .roster
                .join(from.ip(), &code, &name, token.as_deref(), now);
            let reply = match joined {
                Ok((learner, token, name)) => Reply::Welcome { learner, token, name },
                Err(refusal) => Reply::from(refusal),
            };
            send(&mut write, &line(&reply)).await;
            return;
        }
        Hello::Signed(signed) => signed,
    };
    let admitted = shared.lock().roster.admit(&signed, now);
    let learner = match admitted {
        Ok(learner) => learner,
        Err(refusal) => return refuse(&mut write, &refusal.0).await,
    };
    match signed.act {
        Act::Report(report) => {
            let recorded = shared.lock().roster.report(learner, report);
            let reply = match recorded {
                Ok(()) => Reply::Ok,
                Err(refusal) => Reply::from(refusal),
            };
            send(&mut write, &line(&reply)).await;
        }
        Act::Peer { exercise } => super::mesh::serve_agent(learner, exercise, reader, write, shared).await,
        Act::Relay { link, side } => super::relay::serve(learner, link, side, reader, write, shared).await,
    }
}
