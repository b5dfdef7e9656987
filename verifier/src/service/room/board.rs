//! The board: a web page the room serves, and the JSON it polls twice a second. A tiny
//! HTTP/1.1 server on tokio (one request per connection, headers and body limited), so
//! the board works offline with no framework and no CDN.
//!
//! Reading the board needs nothing; the teacher's controls (topology, cut, heal, a
//! round) need the room's secret in `X-Room-Secret` and must come from the board's own
//! machine: learners who can see the board cannot steer the room.

use super::lines::{Read, read_line};
use super::mesh::Round;
use super::protocol::Refusal;
use super::roster::{LearnerView, histogram};
use super::secrets::same_mac;
use super::server::{Shared, send};
use super::topology::Topology;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const PAGE: &str = include_str!("board.html");
/// Most bytes of one header line, and of a control's body.
const MAX_HEADER: usize = 8192;
const MAX_BODY: usize = 1024;

/// Everything the page shows.
#[derive(Debug, Serialize)]
pub struct BoardState {
    pub learners: Vec<LearnerView>,
    /// Per exercise: (passed, tried without passing).
    pub histogram: BTreeMap<u32, (usize, usize)>,
    pub mesh: MeshView,
}

#[derive(Debug, Serialize)]
pub struct MeshView {
    pub exercise: Option<u32>,
    pub topology: Topology,
    pub peers: Vec<PeerView>,
    pub links: Vec<LinkView>,
    pub round: Option<Round>,
}

#[derive(Debug, Serialize)]
pub struct PeerView {
    pub learner: u32,
    pub name: String,
    pub heads: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
pub struct LinkView {
    pub id: u32,
    pub from: u32,
    pub to: u32,
    pub cut: Option<String>,
    pub lines: u64,
    /// The last line that crossed: "ada: entry 3: hello".
    pub last: Option<String>,
}

/// A teacher's control, posted as JSON.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Control {
    Topology { topology: Topology },
    Cut { link: u32 },
    Heal { link: u32 },
    Round,
}

/// The board's view of the room right now.
pub fn state(shared: &Shared) -> BoardState {
    let room = shared.lock();
    let learners = room.roster.learners();
    let names: BTreeMap<u32, String> = learners.iter().map(|l| (l.id, l.name.clone())).collect();
    let mesh = &room.mesh;
    BoardState {
        learners: learners.iter().map(|l| l.view()).collect(),
        histogram: histogram(learners),
        mesh: MeshView {
            exercise: mesh.exercise,
            topology: mesh.topology,
            peers: mesh
                .peers()
                .map(|(learner, heads)| PeerView {
                    learner,
                    name: names.get(&learner).cloned().unwrap_or_default(),
                    heads: heads.clone(),
                })
                .collect(),
            links: mesh
                .links
                .values()
                .map(|l| LinkView {
                    id: l.id,
                    from: l.dialler,
                    to: l.listener,
                    cut: l.cut.clone(),
                    lines: l.lines,
                    last: l.last.as_ref().map(|(sender, what)| {
                        format!("{}: {what}", names.get(sender).map_or("?", String::as_str))
                    }),
                })
                .collect(),
            round: mesh.round.clone(),
        },
    }
}

/// Carries out a teacher's control; the answer in words.
pub fn control(shared: &Shared, control: Control) -> Result<String, Refusal> {
    let mut room = shared.lock();
    match control {
        Control::Topology { topology } => {
            room.mesh.set_topology(topology);
            Ok(format!("topology: {topology:?}"))
        }
        Control::Cut { link } => room
            .mesh
            .set_cut(link, Some("cut by the teacher".to_string()))
            .map(|()| format!("link {link} cut")),
        Control::Heal { link } => room
            .mesh
            .set_cut(link, None)
            .map(|()| format!("link {link} healed")),
        Control::Round => {
            let names = room
                .roster
                .learners()
                .iter()
                .map(|l| (l.id, l.name.clone()))
                .collect();
            room.mesh
                .start_round(&names)
                .map(|n| format!("round {n} started"))
        }
    }
}

/// Serves the board until the runtime stops.
pub async fn serve(listener: TcpListener, shared: Shared) {
    let own = listener.local_addr().map(|a| a.ip()).ok();
    loop {
        let Ok((stream, from)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), request(stream, from, own, shared)).await;
        });
    }
}

/// Whether a request comes from the board's own machine.
fn from_the_board(from: SocketAddr, own: Option<IpAddr>) -> bool {
    from.ip().is_loopback() || Some(from.ip()) == own
}

async fn request(stream: TcpStream, from: SocketAddr, own: Option<IpAddr>, shared: Shared) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let Read::Line(first) = read_line(&mut reader, MAX_HEADER, None).await else {
        return;
    };
    let first = String::from_utf8_lossy(&first).to_string();
    let mut words = first.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let mut length = 0usize;
    let mut secret = String::new();
    for _ in 0..64 {
        let Read::Line(header) = read_line(&mut reader, MAX_HEADER, None).await else {
            return;
        };
        if header.is_empty() {
            break;
        }
        let header = String::from_utf8_lossy(&header);
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(usize::MAX),
                "x-room-secret" => secret = value.trim().to_string(),
                _ => {}
            }
        }
    }
    let answer = match (method, path) {
        ("GET", "/") | ("GET", "/index.html") => response("200 OK", "text/html; charset=utf-8", PAGE),
        ("GET", "/state") => match serde_json::to_string(&state(&shared)) {
            Ok(json) => response("200 OK", "application/json", &json),
            Err(e) => response("500 Internal Server Error", "text/plain", &e.to_string()),
        },
        ("POST", "/control") => {
            let expected = shared.lock().secret.clone();
            if !from_the_board(from, own) || !same_mac(&secret, &expected) {
                response(
                    "403 Forbidden",
                    "text/plain",
                    "controls need the room's secret, from the board's machine",
                )
            } else if length > MAX_BODY {
                response(
                    "413 Payload Too Large",
                    "text/plain",
                    "a control is a short JSON object",
                )
            } else {
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).await.is_err() {
                    return;
                }
                match serde_json::from_slice::<Control>(&body) {
                    Err(e) => response("400 Bad Request", "text/plain", &format!("not a control: {e}")),
                    Ok(c) => match control(&shared, c) {
                        Ok(done) => response("200 OK", "text/plain", &done),
                        Err(why) => response("409 Conflict", "text/plain", &why.0),
                    },
                }
            }
        }
        _ => response("404 Not Found", "text/plain", "not here"),
    };
    send(&mut write, &answer).await;
}

fn response(status: &str, kind: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
