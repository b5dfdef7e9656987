//! # replicate: the workshop and its verifier
//!
//! Learners build a master-less replicated database one exercise at a time; this crate
//! runs their programs as real processes and tells them, precisely and kindly, what is
//! right and what is not.
//!
//! How the pieces fit:
//! - [`course`]: the catalogue — every exercise, its programs, hints and checks.
//! - [`build`]: cargo builds the learner's (or the reference) package.
//! - [`runner`]: each program runs as a child process with limits, in its own group.
//! - [`records`] and [`redact`]: stdout becomes records; random ids become `peer#1`.
//! - [`trial`]: the API checks are written in; it keeps the transcript and evidence
//!   (conversations of the replication protocol live with the course, in
//!   `course::replication`).
//! - [`snapshot`]: expected transcripts, made from the reference solution with insta.
//! - [`verify`] and [`report`]: run the checks, judge them, explain the verdict.
//! - [`cli`]: the `verifier` command line.

pub mod bench;
pub mod build;
pub mod cgroup;
pub mod cli;
pub mod course;
pub mod duplex;
pub mod grade;
pub mod mutants;
pub mod records;
pub mod redact;
pub mod report;
pub mod runner;
pub mod slides;
pub mod snapshot;
pub mod trial;
pub mod verify;
pub mod workshop;
