//! Every dependency is compiled once, whatever a newcomer builds first.
//!
//! Cargo resolves features per build, and a crate built with other features is another
//! crate to cargo: if `cargo run` (the verifier) and `verify 1` (the package
//! `ex01-leveldb` alone) select different features of libc, everything above libc —
//! sled included — is compiled twice. The `workspace-hack` crate, a dependency of every
//! member, gives each dependency one feature set. These tests hold it to that: the
//! first reads cargo's resolution for every build the course does (fast); the second
//! asks cargo which artefact files those builds really use, the builds of the course's
//! own tests in their copy of the course (`target/course-copies/stubs`) included.

mod common;

use common::root;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use verifier::runner::{Invocation, Limits, run};

/// Runs cargo in the course with `args` and returns its stdout; panics with its stderr.
fn cargo(args: &[&str]) -> String {
    cargo_in(&root(), args)
}

/// Runs cargo in the checkout at `dir`.
fn cargo_in(dir: &std::path::Path, args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let invocation = Invocation {
        program: "cargo".into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        argv: std::iter::once(cargo.as_str())
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
        cwd: dir.to_path_buf(),
        env: vec![("CARGO_TERM_COLOR".into(), "never".into())],
    };
    let limits = Limits {
        timeout: Duration::from_secs(20 * 60),
        max_output: 256 << 20,
        resources: None,
    };
    let finished = run(&invocation, None, &limits).expect("cargo runs");
    assert!(
        finished.ending.success(),
        "cargo {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&finished.stderr)
    );
    String::from_utf8(finished.stdout).expect("cargo prints UTF-8")
}

/// The workspace's packages (the verifier, every stub, every reference, the hack).
fn members() -> Vec<String> {
    let metadata: Value = serde_json::from_str(&cargo(&[
        "metadata",
        "--no-deps",
        "--format-version",
        "1",
        "--offline",
    ]))
    .expect("cargo metadata is JSON");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect()
}

/// `name version` → the distinct feature sets seen, each with the builds that chose it.
type FeatureSets = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// Reads `cargo tree -f '{p} {f}'` lines into `seen`, for the build named `build`.
fn read_tree(tree: &str, build: &str, members: &[String], seen: &mut FeatureSets) {
    for line in tree.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        if !version.starts_with('v') || members.iter().any(|m| m == name) {
            continue;
        }
        let features = words.next().filter(|w| !w.starts_with('(')).unwrap_or("-");
        seen.entry(format!("{name} {version}"))
            .or_default()
            .entry(features.to_string())
            .or_default()
            .insert(build.to_string());
    }
}

/// The crates that more than one feature set was chosen for, described for a failure.
fn split(seen: &FeatureSets) -> Vec<String> {
    seen.iter()
        .filter(|(_, sets)| sets.len() > 1)
        .map(|(krate, sets)| {
            let sets: Vec<String> = sets
                .iter()
                .map(|(features, builds)| {
                    let builds: Vec<&str> = builds.iter().map(String::as_str).take(3).collect();
                    format!("[{features}] in {}", builds.join(", "))
                })
                .collect();
            format!("{krate}: {}", sets.join(" / "))
        })
        .collect()
}

#[test]
fn every_build_of_the_course_resolves_one_feature_set_per_dependency() {
    let members = members();
    assert!(members.iter().any(|m| m == "workspace-hack"), "{members:?}");
    let mut seen = FeatureSets::new();
    for member in &members {
        // `cargo build -p NAME` (what `verify` runs) and `cargo test -p NAME` (which adds
        // the dev-dependencies).
        for (build, edges) in [("build", "normal,build"), ("test", "all")] {
            let tree = cargo(&[
                "tree",
                "--offline",
                "-p",
                member,
                "-e",
                edges,
                "-f",
                "{p} {f}",
                "--prefix",
                "none",
            ]);
            read_tree(&tree, &format!("{build} -p {member}"), &members, &mut seen);
        }
    }
    assert!(
        seen.keys().any(|k| k.starts_with("sled ")),
        "sled is in the graph"
    );
    let split = split(&seen);
    assert!(
        split.is_empty(),
        "these dependencies are resolved with different features by different builds, so \
         each is compiled more than once; add the union of their features to \
         workspace-hack/Cargo.toml:\n{}",
        split.join("\n")
    );
}

/// The library files of dependencies a build uses: (package, target, opt-level) → files.
type Artefacts = BTreeMap<(String, String, String), BTreeSet<String>>;

fn read_artefacts(messages: &str, members: &[String], artefacts: &mut Artefacts) {
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let package = message["package_id"].as_str().unwrap_or_default().to_string();
        if members
            .iter()
            .any(|m| package.contains(&format!("#{m}@")) || package.contains(&format!("/{m}#")))
        {
            continue;
        }
        let target = message["target"]["name"].as_str().unwrap_or_default().to_string();
        // Build scripts and proc macros run on the host, with the build-override
        // profile: another opt-level, rightly another file.
        let opt_level = message["profile"]["opt_level"].to_string();
        let libraries = message["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|f| f.ends_with(".rlib"))
            .map(str::to_string);
        artefacts
            .entry((package, target, opt_level))
            .or_default()
            .extend(libraries);
    }
}

#[test]
fn the_verifier_and_the_exercises_it_builds_share_every_compiled_dependency() {
    let members = members();
    let mut artefacts = Artefacts::new();
    // What a newcomer runs: the workshop, then `verify 1` and `verify 3` (which build
    // one package each, stub or reference), and the course's own tests.
    for build in [
        &["build", "-p", "verifier"][..],
        &["build", "-p", "ex01-leveldb", "--bins"],
        &["build", "-p", "sol03-replicate", "--bins"],
        &["build", "-p", "sol10-two-phase-commit", "--bins"],
        &["test", "-p", "verifier", "--no-run"],
    ] {
        let mut args = build.to_vec();
        args.extend(["--offline", "--message-format=json"]);
        read_artefacts(&cargo(&args), &members, &mut artefacts);
    }
    // The course's tests build the committed stubs in a copy of the course, in a
    // target of its own seeded with copies of the course's compiled dependencies: it
    // compiles none of them again.
    let copy = common::stubs_copy(|_| {});
    let messages = cargo_in(
        copy.root(),
        &[
            "build",
            "-p",
            "ex03-replicate",
            "--bins",
            "--offline",
            "--message-format=json",
        ],
    );
    let compiled: Vec<String> = messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["fresh"] == false)
        .filter_map(|m| m["package_id"].as_str().map(str::to_string))
        .filter(|package| package.starts_with("registry+"))
        .collect();
    assert!(
        compiled.is_empty(),
        "the stubs' copy compiled dependencies of its own: {compiled:?}"
    );
    assert!(
        artefacts.keys().any(|(package, _, _)| package.contains("#sled@")),
        "sled is among the artefacts"
    );
    let twice: Vec<String> = artefacts
        .iter()
        .filter(|(_, files)| files.len() > 1)
        .map(|((package, _, _), files)| format!("{package}: {files:?}"))
        .collect();
    assert!(
        twice.is_empty(),
        "these dependencies were compiled more than once for these builds:\n{}",
        twice.join("\n")
    );
}
