//! # replicate: the workshop and its verifier
//!
//! Learners build a master-less replicated database one exercise at a time; this crate
//! runs their programs as real processes and tells them, precisely and kindly, what is
//! right and what is not.
//!
//! The crate is built in layers, and every arrow points down (a test, `tests/layers.rs`,
//! fails on an import that points up):
//!
//! ```text
//!  front ends   cli/  workshop/  slides/     parse input, print; no judgement of their own
//!      │
//!  services     service/                      verify, grade, course-check, bench: one
//!      │                                      prepare → run → report path, returning values
//!  course       course/                       the catalogue: every exercise, its checks,
//!      │                                      the replication judge, the network launcher
//!  harness      harness/                      what checks are written in: builds, trials,
//!      │                                      records, redaction, snapshots, wiring
//!  process      runner/                       a program as a child process: limits,
//!                                             sandbox, capture, cleanup; per platform
//!  text         text.rs                       Markdown for the terminal, display widths
//!                                             (a leaf: any layer may use it)
//! ```
//!
//! The replication protocol of exercise 03 (its messages, `course::replication::wire`,
//! also shown by `dupsh`, and the judge of conversations) belongs to the course.
//!
//! Errors: a learner's wrong program is a `Failure` (a verdict, in words that explain
//! it). The verifier being unable to do its job (cannot build, cannot start a process,
//! cannot read the course) is an `anyhow::Error` with context, printed once by the front
//! end with `{:#}` ("outer: inner"). Typed error enums exist only where a caller decides
//! by the kind (`BuildError`, `CopyError`, `ParseError`), and the process layer speaks
//! `io::Result`. The protocol judges that say what a learner's program sent wrong hand
//! that phrase on as a plain `String` for its `Failure`; `tests/layers.rs` lists them,
//! and fails on any other `Result<_, String>`.

pub mod cli;
pub mod course;
pub mod harness;
pub mod runner;
pub mod service;
pub mod slides;
pub mod text;
pub mod workshop;
