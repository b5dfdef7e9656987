//! The harness: what checks are written in.
//!
//! - [`build`]: cargo builds the learner's (or the reference) package.
//! - [`course_copy`]: a copy of the course source at a stable scratch path (the stubs
//!   as committed, a learner's trees in a trusted course, a patched solution).
//! - [`target_dir`]: where cargo builds a checkout, and where its executables are kept.
//! - [`seed`]: a target directory of its own, seeded with the course's compiled
//!   dependencies (for a copy that builds untrusted code).
//! - [`fresh_target`]: an empty target folder for each build of someone else's code,
//!   seeded (by [`seed`]) with the course's compiled dependencies.
//! - [`trial`]: the API a check is written against, and the shape of an exercise
//!   (its programs, checks and hints: no instances); it keeps transcript and evidence.
//! - [`diagram`]: a timeline drawn as a sequence diagram for the terminal.
//! - [`diagnosis`]: the cause a failed wired run shows (no close, a full pipe, …).
//! - [`records`] and [`redact`]: stdout becomes records; random ids become `peer#1`.
//! - [`duplex`]: two programs wired stdout-to-stdin through a relay that can cut.
//! - [`timeline`]: what a wired run did and when; diagnoses and diagrams are drawn from it.
//! - [`timeline_html`]: a timeline as a self-contained page (`timeline.html`).
//! - [`snapshot`]: expected transcripts, made from the reference solution with insta.
//! - [`tree`]: copying a folder as `cp -r` does.
//! - [`verdict`]: every check of an exercise in a fresh directory, judged.

pub mod build;
pub mod course_copy;
pub mod diagnosis;
pub mod diagram;
pub mod duplex;
pub mod fresh_target;
pub mod patience;
pub mod ports;
pub mod records;
pub mod redact;
pub mod seed;
pub mod snapshot;
pub mod target_dir;
pub mod timeline;
pub mod timeline_html;
pub mod tree;
pub mod trial;
pub mod verdict;
