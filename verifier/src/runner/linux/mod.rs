//! What only Linux has: a child subreaper and /proc to find escaped processes,
//! cgroups (v1 and v2) to cap processes and memory and to kill a run whole, and
//! Landlock to sandbox it. Compiled on Linux only; see `portable.rs` for the rest.

pub mod cgroup;
pub mod landlock;
pub mod procfs;
