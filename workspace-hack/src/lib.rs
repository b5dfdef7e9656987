//! No code: this crate exists for its `Cargo.toml`, which gives every dependency of the
//! workspace one feature set, so that each is compiled once (see the manifest).
