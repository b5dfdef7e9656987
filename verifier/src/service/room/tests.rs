//! The room over loopback, as learners reach it: join, a wrong code, a replayed
//! message, a flood, a report on the board, a control without the secret.

use super::client::{self, Membership, exchange};
use super::protocol::{Act, Reply, Report, Verdict};
use super::topology::Topology;
use super::{Control, Host};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn host() -> anyhow::Result<Host> {
    Host::start(loopback(), loopback(), Topology::Ring, 1)
}

fn report(exercise: u32) -> Report {
    Report {
        exercise,
        verdict: Verdict::Passed,
        passed: 4,
        total: 4,
        seed: 42,
    }
}

#[test]
fn a_learner_joins_reports_and_appears_on_the_board() -> anyhow::Result<()> {
    let host = host()?;
    let ada = client::join(&host.room.to_string(), &host.code.to_lowercase(), "ada", None)?;
    client::report(&ada, report(3))?;
    let state = host.state();
    assert_eq!(state.learners.len(), 1);
    assert_eq!(state.learners[0].name, "ada");
    assert_eq!(state.learners[0].furthest, Some(3));
    assert_eq!(state.learners[0].last, Some(report(3)));
    assert_eq!(state.histogram.get(&3), Some(&(1, 0)));
    // Joining again with the kept token keeps the identity.
    let again = client::join(&host.room.to_string(), &host.code, "ada", Some(&ada))?;
    assert_eq!((again.learner, &again.token), (ada.learner, &ada.token));
    assert_eq!(host.state().learners.len(), 1);
    Ok(())
}

#[test]
fn a_wrong_code_is_refused() -> anyhow::Result<()> {
    let host = host()?;
    let refused = client::join(&host.room.to_string(), "NOPE00", "eve", None);
    let message = format!("{:#}", refused.err().ok_or_else(|| anyhow::anyhow!("joined"))?);
    assert_eq!(
        message,
        "the room refused: wrong join code: check the code the teacher shows"
    );
    assert!(host.state().learners.is_empty());
    Ok(())
}

#[test]
fn a_replayed_message_and_an_unknown_token_are_refused() -> anyhow::Result<()> {
    let host = host()?;
    let ada = client::join(&host.room.to_string(), &host.code, "ada", None)?;
    let hello = ada.sign(Act::Report(report(2)))?;
    assert_eq!(exchange(host.room, &hello)?, Reply::Ok);
    let replayed = exchange(host.room, &hello)?;
    assert_eq!(
        replayed,
        Reply::Refused {
            reason: "a replayed message (this exact message was received before): refused".to_string()
        }
    );
    let stranger = Membership {
        token: "00".repeat(16),
        ..ada.clone()
    };
    let forged = exchange(host.room, &stranger.sign(Act::Report(report(9)))?)?;
    assert!(matches!(forged, Reply::Refused { reason } if reason.starts_with("unknown or wrong token")));
    assert_eq!(
        host.state().learners[0].furthest,
        Some(2),
        "the forged report changed nothing"
    );
    Ok(())
}

#[test]
fn a_flood_is_refused_and_garbage_explained() -> anyhow::Result<()> {
    let host = host()?;
    let ada = client::join(&host.room.to_string(), &host.code, "ada", None)?;
    let replies: Vec<Reply> = (0..15)
        .map(|_| exchange(host.room, &ada.sign(Act::Report(report(1)))?))
        .collect::<anyhow::Result<_>>()?;
    let refused = replies
        .iter()
        .filter(
            |r| matches!(r, Reply::Refused { reason } if reason.starts_with("too many messages from you")),
        )
        .count();
    assert!(refused >= 4, "{replies:?}");
    // A line that is not the room protocol, and one that never ends.
    let mut stream = TcpStream::connect(host.room)?;
    stream.write_all(b"GET / HTTP/1.0\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    assert!(
        answer.starts_with(r#"{"type":"refused","reason":"not a message of the room protocol"#),
        "{answer}"
    );
    let mut stream = TcpStream::connect(host.room)?;
    stream.write_all(&vec![b'x'; 10_000])?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    assert_eq!(
        answer,
        "{\"type\":\"refused\",\"reason\":\"a message longer than 4096 bytes\"}\n"
    );
    Ok(())
}

#[test]
fn the_board_serves_its_page_and_guards_its_controls() -> anyhow::Result<()> {
    let host = host()?;
    let get = |path: &str| -> anyhow::Result<String> {
        let mut stream = TcpStream::connect(host.board)?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: board\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    };
    assert!(get("/")?.contains("<h1>The room"));
    assert!(get("/state")?.contains(r#""learners":[]"#));
    let post = |secret: &str, body: &str| -> anyhow::Result<String> {
        let mut stream = TcpStream::connect(host.board)?;
        write!(
            stream,
            "POST /control HTTP/1.1\r\nX-Room-Secret: {secret}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    };
    let body = r#"{"action":"topology","topology":"tree"}"#;
    assert!(post("guess", body)?.starts_with("HTTP/1.1 403"));
    assert!(post(&host.secret, body)?.starts_with("HTTP/1.1 200"));
    assert_eq!(host.state().mesh.topology, Topology::Tree);
    assert!(post(&host.secret, r#"{"action":"shutdown"}"#)?.starts_with("HTTP/1.1 400"));
    assert_eq!(
        host.control(Control::Cut { link: 99 }),
        Err("there is no link 99".into())
    );
    Ok(())
}
