//! The writing half of a duplex stream, and how to close it.
//!
//! A side that has sent `done` closes its output, so that the reader at the
//! other end sees the end of the stream. How to close depends on what the
//! output is, hence a small trait.

use std::fs::File;
use std::io::{self, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;

/// An output that can be closed for good, so that the other end reads the
/// end of the stream.
pub trait CloseWrite: Write {
    /// Flushes whatever is buffered, then closes the output.
    fn close_write(&mut self) -> io::Result<()>;
}

impl CloseWrite for io::Stdout {
    fn close_write(&mut self) -> io::Result<()> {
        self.flush()?;
        // Dropping a `Stdout` does not close file descriptor 1: Rust keeps it
        // open until the process exits. Making fd 1 a copy of /dev/null
        // closes the pipe it was, and the other side reads the end of the
        // stream right away instead of when we exit.
        let null = File::options().write(true).open("/dev/null")?;
        nix::unistd::dup2_stdout(&null)?;
        Ok(())
    }
}

impl CloseWrite for UnixStream {
    fn close_write(&mut self) -> io::Result<()> {
        self.flush()?;
        // Half-close: the other side reads the end of the stream, while we
        // can still read what it sends.
        self.shutdown(Shutdown::Write)
    }
}
