//! The classroom: a room the teacher hosts, that learners join. Each learner's `verify`
//! reports its numbers to the room (never code); each learner's live peer connects to
//! neighbours the room assigns, through the room's relays, so the teacher can cut and
//! heal links in front of the class; and a board shows it all.
//!
//! The room never runs anyone's code. It trusts nothing a learner sends: every line is
//! size-limited, parsed strictly and rate-limited, and every message after `join` is
//! signed with the learner's own token, so it can change only that learner's record.

mod address;
pub mod agent;
pub mod bench;
mod board;
pub mod client;
mod limiter;
mod lines;
mod mesh;
pub mod protocol;
mod relay;
mod roster;
mod secrets;
mod server;
pub mod topology;

#[cfg(test)]
mod tests;

pub use address::lan_address;
pub use board::{BoardState, Control};

use anyhow::Context as _;
use server::{Room, Shared};
use std::net::SocketAddr;
use std::time::Instant;

/// A running room, on its own thread.
pub struct Host {
    /// Where learners join.
    pub room: SocketAddr,
    /// Where the board is served.
    pub board: SocketAddr,
    pub code: String,
    /// The teacher's secret for the board's controls.
    pub secret: String,
    shared: Shared,
    thread: std::thread::JoinHandle<()>,
}

impl Host {
    /// Listens on `room` and `board` (nothing else) and serves both on a thread.
    pub fn start(
        room: SocketAddr,
        board: SocketAddr,
        topology: topology::Topology,
        seed: u64,
    ) -> anyhow::Result<Host> {
        let room_listener = std::net::TcpListener::bind(room)
            .with_context(|| format!("cannot listen on {room} for the room"))?;
        let board_listener = std::net::TcpListener::bind(board)
            .with_context(|| format!("cannot listen on {board} for the board"))?;
        room_listener.set_nonblocking(true)?;
        board_listener.set_nonblocking(true)?;
        let (room, board) = (room_listener.local_addr()?, board_listener.local_addr()?);
        let code = secrets::join_code()?;
        let secret = secrets::token()?;
        let shared = Shared::new(Room {
            roster: roster::Roster::new(code.clone()),
            mesh: mesh::Mesh::new(topology, seed),
            secret: secret.clone(),
            started: Instant::now(),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the room's runtime")?;
        let served = shared.clone();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let (Ok(room), Ok(board)) = (
                    tokio::net::TcpListener::from_std(room_listener),
                    tokio::net::TcpListener::from_std(board_listener),
                ) else {
                    eprintln!("error: the room cannot use its sockets");
                    return;
                };
                tokio::join!(server::serve(room, served.clone()), board::serve(board, served));
            });
        });
        Ok(Host {
            room,
            board,
            code,
            secret,
            shared,
            thread,
        })
    }

    /// What the board shows right now.
    pub fn state(&self) -> BoardState {
        board::state(&self.shared)
    }

    /// A teacher's control, as the board's buttons send it.
    pub fn control(&self, control: Control) -> Result<String, protocol::Refusal> {
        board::control(&self.shared, control)
    }

    /// How long the room has been open.
    pub fn uptime(&self) -> std::time::Duration {
        self.shared.lock().started.elapsed()
    }

    /// Serves until the process ends.
    pub fn wait(self) {
        let _ = self.thread.join();
    }
}
