//! The learner's side of the room: `join`, and the report every `verify` sends. Plain
//! blocking sockets with short timeouts: a room that is slow or gone costs `verify`
//! at most [`TIMEOUT`] twice, and never its verdict.
//!
//! Membership is kept in `.replicate/room.json`: the room's address, the learner's
//! number and token. Joining again sends the token, so the learner keeps one identity.

use super::protocol::{Act, Hello, MAX_LINE, Reply, Report, Signed, line, parse};
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one exchange with the room may take.
pub const TIMEOUT: Duration = Duration::from_millis(1500);

/// A learner's membership of a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub room: String,
    pub learner: u32,
    pub token: String,
    pub name: String,
}

/// Where the membership is kept, in the workshop's state folder.
pub fn membership_file(state_dir: &Path) -> PathBuf {
    state_dir.join("room.json")
}

impl Membership {
    /// The membership kept in `state_dir`, if there is a readable one.
    pub fn load(state_dir: &Path) -> Option<Membership> {
        let text = std::fs::read_to_string(membership_file(state_dir)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Keeps it (readable by its owner only: the token is a secret).
    pub fn save(&self, state_dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("cannot create {}", state_dir.display()))?;
        let file = membership_file(state_dir);
        let temporary = file.with_extension("json.tmp");
        let mut out = std::fs::File::create(&temporary)
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = out.set_permissions(std::fs::Permissions::from_mode(0o600));
        }
        out.write_all(serde_json::to_string_pretty(self)?.as_bytes())?;
        std::fs::rename(&temporary, &file).with_context(|| format!("cannot write {}", file.display()))
    }

    /// Signs an act as this learner.
    pub fn sign(&self, act: Act) -> anyhow::Result<Hello> {
        Ok(Hello::Signed(Signed::new(self.learner, &self.token, act)?))
    }
}

/// The room's address from what the learner typed.
pub fn resolve(address: &str) -> anyhow::Result<SocketAddr> {
    address
        .to_socket_addrs()
        .with_context(|| {
            format!("{address:?} is not an address: expected ADDRESS:PORT, e.g. 192.168.1.20:7878")
        })?
        .next()
        .with_context(|| format!("{address:?} names no address"))
}

/// Opens a connection to the room and sends a hello; the connection, for more.
pub fn open(room: SocketAddr, hello: &Hello) -> anyhow::Result<(BufReader<TcpStream>, TcpStream)> {
    let stream = TcpStream::connect_timeout(&room, TIMEOUT)
        .with_context(|| format!("cannot reach the room at {room}"))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let _ = stream.set_nodelay(true);
    let mut writer = stream.try_clone()?;
    writer.write_all(line(hello).as_bytes())?;
    Ok((BufReader::new(stream), writer))
}

/// Reads the room's reply to a hello.
pub fn reply<R: BufRead>(reader: &mut R) -> anyhow::Result<Reply> {
    let mut raw = Vec::new();
    reader
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut raw)
        .context("the room did not answer")?;
    if raw.is_empty() {
        anyhow::bail!("the room closed the connection without an answer");
    }
    parse(raw.strip_suffix(b"\n").unwrap_or(&raw)).map_err(|e| anyhow::anyhow!("the room answered {e}"))
}

/// One hello, one reply.
pub fn exchange(room: SocketAddr, hello: &Hello) -> anyhow::Result<Reply> {
    let (mut reader, _writer) = open(room, hello)?;
    reply(&mut reader)
}

/// Joins the room at `address` (again, with `earlier`'s token when it is the same room).
pub fn join(
    address: &str,
    code: &str,
    name: &str,
    earlier: Option<&Membership>,
) -> anyhow::Result<Membership> {
    let room = resolve(address)?;
    let token = earlier.filter(|m| m.room == address).map(|m| m.token.clone());
    let hello = Hello::Join {
        code: code.to_string(),
        name: name.to_string(),
        token,
    };
    match exchange(room, &hello)? {
        Reply::Welcome { learner, token, name } => Ok(Membership {
            room: address.to_string(),
            learner,
            token,
            name,
        }),
        Reply::Refused { reason } => anyhow::bail!("the room refused: {reason}"),
        Reply::Ok => anyhow::bail!("the room answered `ok` to a join: is it a replicate room?"),
    }
}

/// Sends one report; `Err` says why the room did not take it.
pub fn report(membership: &Membership, report: Report) -> anyhow::Result<()> {
    let room = resolve(&membership.room)?;
    match exchange(room, &membership.sign(Act::Report(report))?)? {
        Reply::Ok => Ok(()),
        Reply::Refused { reason } => anyhow::bail!("the room refused the report: {reason}"),
        Reply::Welcome { .. } => anyhow::bail!("the room answered a report with a welcome"),
    }
}
