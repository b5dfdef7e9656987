//! The verifier's architecture, as a test: its layers import only downwards, and no
//! module imports (directly or through others) a module that imports it back.
//!
//! The layers, lowest first: `runner` (processes), `harness` (what checks are written
//! in), `course` and `wire` (the catalogue), `service` (verify, grade, course-check),
//! and the front ends `slides`, `workshop`, `cli` (each may use the ones before it). A module is a top-level file or
//! folder, or one level below inside a folder (`harness::trial`, `course::e03_replicate`).
//! A parent naming its own children (`mod x;`, the `COURSE` list) is containment, not a
//! dependency, and is not counted. Test code (`#[cfg(test)]` and below) is not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layer of a top-level module, lowest first.
fn layer(top: &str) -> Option<u8> {
    Some(match top {
        // The text engine depends on nothing of ours: any layer may fit text to a width.
        "runner" | "text" => 0,
        "harness" => 1,
        "course" | "wire" => 2,
        "service" => 3,
        // Front ends: the command line may open the shell, the shell may present slides.
        "slides" => 4,
        "workshop" => 5,
        "cli" => 6,
        _ => return None,
    })
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file belongs to: `harness/trial/sync.rs` → `harness::trial`.
fn module_of(relative: &Path) -> Option<String> {
    let parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [top] if top == "lib" || top == "main" => None,
        [top] => Some(top.clone()),
        [top, file] if file == "mod" => Some(top.clone()),
        [top, second, ..] => Some(format!("{top}::{second}")),
        _ => None,
    }
}

/// The module a path `crate::a::b::…` names: `a::b` if `a/b` is a module, else `a`.
fn module_named(path: &[&str]) -> Option<String> {
    let top = *path.first()?;
    layer(top)?;
    if let Some(second) = path.get(1) {
        let dir = src().join(top);
        if dir.join(format!("{second}.rs")).exists() || dir.join(second).is_dir() {
            return Some(format!("{top}::{second}"));
        }
    }
    Some(top.to_string())
}

/// The modules a file's non-test code names through `crate::` and `super::` paths.
fn imports(relative: &Path, text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    // Comments may name modules freely.
    let code: String = code
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let code = code.as_str();
    let mut found = BTreeSet::new();
    let parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    // What `super` means in this file: the folder's module path.
    let parent: Vec<String> = match parts.last().map(String::as_str) {
        Some("mod") => parts[..parts.len().saturating_sub(2)].to_vec(),
        _ => parts[..parts.len().saturating_sub(1)].to_vec(),
    };
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        for (index, _) in code.match_indices(prefix) {
            let before = code[..index].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[index + prefix.len()..];
            let mut path: Vec<&str> = base.iter().map(String::as_str).collect();
            path.extend(
                rest.split("::")
                    .map(|s| {
                        s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                            .next()
                            .unwrap_or("")
                    })
                    .take_while(|s| !s.is_empty())
                    .take(2),
            );
            if let Some(module) = module_named(&path) {
                found.insert(module);
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in all {
        let relative = path.strip_prefix(src()).unwrap_or(&path).to_path_buf();
        let Some(module) = module_of(&relative) else {
            continue;
        };
        let text = fs::read_to_string(&path).unwrap_or_default();
        let edges = graph.entry(module.clone()).or_default();
        for imported in imports(&relative, &text) {
            let is_child = imported.starts_with(&format!("{module}::"));
            if imported != module && !is_child {
                edges.insert(imported);
            }
        }
    }
    graph
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

#[test]
fn layers_import_only_downwards() {
    let mut upward = Vec::new();
    for (module, imported) in graph() {
        let from = layer(top(&module));
        for target in imported {
            let to = layer(top(&target));
            if to > from {
                upward.push(format!("{module} → {target}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that point up a layer:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = graph();
    let mut cycles = Vec::new();
    for start in graph.keys() {
        // Depth-first search for a path back to `start`.
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if next == start {
                    cycles.push(format!("{} → {start}", path.join(" → ")));
                } else if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    cycles.sort();
    cycles.dedup();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_test_sees_imports() {
    let found = imports(
        Path::new("harness/trial/sync.rs"),
        "use crate::runner::Limits;\nuse super::network::Entry;\nfn f() { crate::course::find(\"1\"); }\n#[cfg(test)]\nuse crate::cli::x;",
    );
    let found: Vec<&str> = found.iter().map(String::as_str).collect();
    assert_eq!(found, ["course", "harness::trial", "runner"]);
}

/// Functions whose `Err` is a `String` on purpose. Their message is not an error of the
/// verifier but a phrase saying what a learner's program did wrong, which the caller
/// puts into a `Failure` (each file says so in its module comment); with it, the unit
/// tests that pass such a phrase on. Everything else that can fail in the verifier says
/// so with `anyhow::Result` (or a typed error a caller matches on, or `io::Result`).
const STRING_ERRORS_ALLOWED: &[(&str, &str)] = &[
    ("course/e09_merkle_dag/wire.rs", "judge"),
    (
        "course/e09_merkle_dag/wire.rs",
        "judges_a_session_and_names_each_fault",
    ),
    ("course/e09_merkle_dag/wire.rs", "parse"),
    ("course/e09_merkle_dag/wire.rs", "sent"),
    ("course/e10_two_phase_commit/checks.rs", "answer_to"),
    // The properties a history of exercise 10 must have: each says what broke.
    ("course/e10_two_phase_commit/history.rs", "acknowledged_at_once"),
    (
        "course/e10_two_phase_commit/history.rs",
        "acknowledged_writes_everywhere",
    ),
    ("course/e10_two_phase_commit/history.rs", "converged"),
    ("course/e10_two_phase_commit/history.rs", "every_write_answered"),
    ("course/e10_two_phase_commit/history.rs", "judge"),
    (
        "course/e10_two_phase_commit/history.rs",
        "nothing_aborted_visible",
    ),
    ("course/e10_two_phase_commit/history.rs", "one_lock_holder"),
    ("course/e10_two_phase_commit/history.rs", "same_end_everywhere"),
    ("course/replication/sync.rs", "judge"),
    ("course/replication/sync.rs", "judge_direction"),
    ("harness/trial/cluster.rs", "parse_event"),
    // What is wrong with a report a class's CI handed in (untrusted, like a program).
    ("service/grade/gradebook.rs", "parse_report"),
];

/// Each `Result<…, String>` in `text` (comments left out), as the name of the last
/// function begun before it (the one whose signature or body it is in; `-` if none)
/// and the line it starts on.
fn string_errors(text: &str) -> Vec<(String, usize)> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    for (at, _) in code.match_indices("Result<") {
        if code[..at]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        // The type arguments, up to the matching `>` (an arrow's `>` does not close).
        let inside = &code[at + "Result<".len()..];
        let (mut depth, mut end, mut last_comma) = (1usize, None, None);
        let mut previous = ' ';
        for (i, c) in inside.char_indices() {
            match c {
                '<' | '(' | '[' => depth += 1,
                '>' if previous == '-' => {}
                '>' | ')' | ']' => depth -= 1,
                ',' if depth == 1 => last_comma = Some(i),
                _ => {}
            }
            if depth == 0 {
                end = Some(i);
                break;
            }
            previous = c;
        }
        let (Some(end), Some(comma)) = (end, last_comma) else {
            continue;
        };
        let error = inside[comma + 1..end].trim();
        if !matches!(error, "String" | "std::string::String" | "string::String") {
            continue;
        }
        let before = &code[..at];
        let function = before
            .match_indices("fn ")
            .filter(|(i, _)| {
                before[..*i]
                    .chars()
                    .last()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
            })
            .last()
            .map(|(i, _)| {
                before[i + 3..]
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .unwrap_or_else(|| "-".to_string());
        found.push((function, before.lines().count().max(1)));
    }
    found
}

#[test]
fn errors_of_the_verifier_are_not_strings() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    all.sort();
    let mut unexpected = Vec::new();
    let mut used = BTreeSet::new();
    for path in all {
        let relative = path.strip_prefix(src()).unwrap_or(&path);
        let file = relative.to_string_lossy().replace('\\', "/");
        let text = fs::read_to_string(&path).unwrap_or_default();
        for (function, line) in string_errors(&text) {
            match STRING_ERRORS_ALLOWED
                .iter()
                .find(|(f, name)| *f == file && *name == function)
            {
                Some(allowed) => {
                    used.insert(*allowed);
                }
                None => unexpected.push(format!("{file}:{line} (fn {function})")),
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "`Result<_, String>` where the verifier's errors are `anyhow::Result` (with context, \
         printed once with `{{:#}}` by the front end), a typed error a caller matches on, or \
         `io::Result`:\n{}",
        unexpected.join("\n")
    );
    let stale: Vec<String> = STRING_ERRORS_ALLOWED
        .iter()
        .filter(|allowed| !used.contains(*allowed))
        .map(|(file, function)| format!("{file} (fn {function})"))
        .collect();
    assert!(
        stale.is_empty(),
        "allowed `String` errors that are gone: take them off STRING_ERRORS_ALLOWED:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_test_sees_string_errors() {
    let text = "fn a() -> Result<Vec<(u8, String)>, String> {}\n\
        fn b() -> Result<(String, String), Failure> {}\n\
        fn c(m: HashMap<String, String>) -> io::Result<String> {}\n\
        fn d(f: impl Fn() -> Result<u8, std::string::String>) {}\n\
        struct S { r: OnceLock<Result<Programs,\n String>> }\n\
        // fn e() -> Result<(), String>\n\
        fn f() -> anyhow::Result<()> { let g = |x: u8| -> Result<u8, String> { Ok(x) }; }\n";
    assert_eq!(
        string_errors(text),
        [
            ("a".to_string(), 1),
            ("d".to_string(), 4),
            ("d".to_string(), 5),
            ("f".to_string(), 8),
        ]
    );
}
