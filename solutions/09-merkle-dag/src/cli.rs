//! The command lines of the five programs and what each does.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Result, bail};
use clap::Parser;

use crate::node::Node;
use crate::session::replicate;
use crate::store::Dag;

/// Add a node to this database's own log, print it as JSON.
#[derive(Parser)]
#[command(name = "add")]
pub struct AddArgs {
    /// The database directory (created if it does not exist).
    pub db: PathBuf,
    /// A key to link to (repeatable); without any, the node links every head.
    #[arg(long = "link", value_name = "KEY")]
    pub links: Vec<String>,
    /// The value (put `--` first if it starts with `-`).
    pub value: String,
}

/// Print the heads (the nodes nothing links to), in the order they were stored.
#[derive(Parser)]
#[command(name = "heads")]
pub struct HeadsArgs {
    pub db: PathBuf,
}

/// Print every node, parents before children, in the order they were stored.
#[derive(Parser)]
#[command(name = "list")]
pub struct ListArgs {
    pub db: PathBuf,
}

/// Print the node with this key.
#[derive(Parser)]
#[command(name = "get")]
pub struct GetArgs {
    pub db: PathBuf,
    pub key: String,
}

/// Replicate the database DB with another over stdin and stdout (merkle-dag/1).
#[derive(Parser)]
#[command(name = "replicate")]
pub struct ReplicateArgs {
    pub db: PathBuf,
}

pub fn add(args: &AddArgs) -> Result<()> {
    let dag = Dag::open(&args.db)?;
    let links = match args.links.is_empty() {
        true => None,
        false => Some(args.links.clone()),
    };
    print(&[dag.add(links, &args.value)?])
}

pub fn heads(args: &HeadsArgs) -> Result<()> {
    print(&Dag::open(&args.db)?.heads()?)
}

pub fn list(args: &ListArgs) -> Result<()> {
    let dag = Dag::open(&args.db)?;
    let nodes: Vec<Node> = dag.list().collect::<Result<_>>()?;
    print(&nodes)
}

pub fn get(args: &GetArgs) -> Result<()> {
    match Dag::open(&args.db)?.get(&args.key)? {
        Some(node) => print(&[node]),
        None => bail!("no node with the key {} in {}", args.key, args.db.display()),
    }
}

pub fn replicate_stdio(args: &ReplicateArgs) -> Result<()> {
    let dag = Arc::new(Dag::open(&args.db)?);
    let summary = replicate(dag, io::stdin(), io::stdout())?;
    eprintln!(
        "replicate: sent {} nodes, received {} ({} new)",
        summary.sent, summary.received.nodes, summary.received.stored
    );
    Ok(())
}

/// Prints nodes as records, one JSON object per line.
fn print(nodes: &[Node]) -> Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    for node in nodes {
        serde_json::to_writer(&mut out, &node.record())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// 0 for success; for an error, 1 after one line on stderr.
pub fn exit_code(outcome: Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
