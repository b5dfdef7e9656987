//! The command line of `peer`. (`read` is exercise 03's.)

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use logs::Log;
use tokio::net::TcpListener;

use crate::node::Node;
use crate::peer::run;

/// Run a peer: listen on 127.0.0.1:PORT, keep a connection to every
/// --connect address, append each line typed on stdin to this database's own
/// log, and print every entry stored, one JSON object per line. Runs until
/// killed.
#[derive(Parser)]
#[command(name = "peer")]
pub struct PeerArgs {
    /// The database directory (created if it does not exist).
    #[arg(long, value_name = "PATH", default_value = "db")]
    pub db: PathBuf,
    /// The port to listen on, on 127.0.0.1.
    #[arg(long, value_name = "PORT")]
    pub port: u16,
    /// A peer to keep a connection to (repeat for several).
    #[arg(long, value_name = "HOST:PORT")]
    pub connect: Vec<String>,
}

/// The program `peer`.
pub fn peer(args: PeerArgs) -> Result<()> {
    // One thread is plenty: the work is waiting for the network.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let log = Log::open(&args.db)?;
        let listener = TcpListener::bind(("127.0.0.1", args.port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
        let node = Arc::new(Node::new(log, Box::new(io::stdout()))?);
        node.print_database()?;
        eprintln!("peer {} listening on 127.0.0.1:{}", node.log().peer(), args.port);
        run(node, listener, args.connect, tokio::io::stdin()).await
    })
}
