//! The programs: `node` runs a node until killed; `put`, `del` and `get` are clients.
//!
//! Exit codes of `put` and `del`: 0 committed on every node, 1 aborted (the reason on
//! stderr), 2 refused (too few peers reachable; nothing was prepared), 3 no answer in
//! time (the outcome is unknown). `get` prints `{"key":…,"value":…}` (null when the key
//! has no value) and exits 0, or 3 without an answer.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use tokio::net::TcpListener;

use crate::client::ask;
use crate::events::Events;
use crate::node::Node;
use crate::peers::Peers;
use crate::protocol::Message;
use crate::server::serve;
use crate::store::Store;

/// Run a node of a two-phase-commit cluster: listen on 127.0.0.1:PORT, keep a
/// connection to every --peer, take writes from clients, print events as JSON lines.
/// Runs until killed.
#[derive(Parser)]
#[command(name = "node")]
pub struct NodeArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "DIR")]
    pub db: std::path::PathBuf,
    /// The port to listen on, on 127.0.0.1.
    #[arg(long, value_name = "PORT")]
    pub port: u16,
    /// Another node of the cluster (repeat for each).
    #[arg(long, value_name = "HOST:PORT")]
    pub peer: Vec<String>,
    /// How many peers must be connected for this node to take writes.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_consensus: usize,
    /// Never flush to disk (for the benchmark's comparison with the original only: a
    /// crash may lose what this node promised).
    #[arg(long)]
    pub no_fsync: bool,
}

/// Write KEY=VALUE through the node at --node; exits 0 only once committed everywhere.
#[derive(Parser)]
#[command(name = "put")]
pub struct PutArgs {
    #[arg(long, value_name = "HOST:PORT")]
    pub node: String,
    pub key: String,
    pub value: String,
}

/// Delete KEY through the node at --node; exits 0 only once committed everywhere.
#[derive(Parser)]
#[command(name = "del")]
pub struct DelArgs {
    #[arg(long, value_name = "HOST:PORT")]
    pub node: String,
    pub key: String,
}

/// Print the committed value of KEY on the node at --node.
#[derive(Parser)]
#[command(name = "get")]
pub struct GetArgs {
    #[arg(long, value_name = "HOST:PORT")]
    pub node: String,
    pub key: String,
}

/// The program `node`.
pub fn node(args: NodeArgs) -> ExitCode {
    match run_node(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_node(args: NodeArgs) -> Result<()> {
    runtime()?.block_on(async {
        let store = Store::open(&args.db, !args.no_fsync)?;
        let listener = TcpListener::bind(("127.0.0.1", args.port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
        let events = Arc::new(Events::new(Box::new(std::io::stdout())));
        let peers = Peers::start(&args.peer, args.min_consensus, events.clone());
        let node = Node::start(store, peers, events)?;
        serve(listener, node).await;
        Ok(())
    })
}

/// The program `put`.
pub fn put(args: PutArgs) -> ExitCode {
    write(
        &args.node,
        Message::Put {
            key: args.key,
            value: args.value,
        },
    )
}

/// The program `del`.
pub fn del(args: DelArgs) -> ExitCode {
    write(&args.node, Message::Del { key: args.key })
}

/// The program `get`.
pub fn get(args: GetArgs) -> ExitCode {
    match ask_now(&args.node, &Message::Get { key: args.key }) {
        Ok(Message::Value { key, value }) => {
            println!("{}", serde_json::json!({"key": key, "value": value}));
            ExitCode::SUCCESS
        }
        Ok(other) => unexpected(&other),
        Err(reason) => {
            eprintln!("get: {reason}");
            ExitCode::from(3)
        }
    }
}

fn write(address: &str, request: Message) -> ExitCode {
    match ask_now(address, &request) {
        Ok(Message::Committed { txid }) => {
            eprintln!("committed {txid}");
            ExitCode::SUCCESS
        }
        Ok(Message::Aborted { txid, reason }) => {
            eprintln!("aborted {txid}: {reason}");
            ExitCode::from(1)
        }
        Ok(Message::Refused { reason }) => {
            eprintln!("refused: {reason}");
            ExitCode::from(2)
        }
        Ok(other) => unexpected(&other),
        Err(reason) => {
            eprintln!("{reason}");
            ExitCode::from(3)
        }
    }
}

fn unexpected(answer: &Message) -> ExitCode {
    eprintln!("unexpected answer: {}", answer.line().trim_end());
    ExitCode::from(3)
}

fn ask_now(address: &str, request: &Message) -> Result<Message, String> {
    runtime()
        .map_err(|e| e.to_string())?
        .block_on(ask(address, request))
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}
