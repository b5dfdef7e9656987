//! The earlier exercises an exercise is built on: the path dependencies of its package
//! (`logs = { package = "ex02-append-only-logs", path = "../02-append-only-logs" }`), and
//! theirs in turn. `watch 3` watches exercise 02's folder too, since a save there
//! changes what exercise 03 runs.
//!
//! Cargo reads the manifests (`cargo metadata --no-deps`), so whatever TOML the learner
//! writes is understood as cargo understands it.

use crate::runner::{Invocation, Limits, run};
use anyhow::{Context as _, bail};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    manifest_path: PathBuf,
    dependencies: Vec<Dependency>,
}

#[derive(Deserialize)]
struct Dependency {
    /// Set for a path dependency: the folder of its package.
    path: Option<PathBuf>,
}

/// The folders of every package that `package_dir` depends on through paths, directly
/// or not, in path order (not `package_dir` itself).
pub fn path_dependencies(root: &Path, package_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let invocation = Invocation {
        program: "cargo".into(),
        args: vec![],
        argv: [
            "cargo",
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ]
        .map(String::from)
        .to_vec(),
        cwd: root.to_path_buf(),
        env: vec![],
    };
    let limits = Limits {
        timeout: Duration::from_secs(60),
        max_output: 64 << 20,
        resources: None,
    };
    let finished = run(&invocation, None, &limits).context("could not run cargo")?;
    if !finished.ending.success() {
        bail!(
            "cargo cannot read the workspace: {}",
            String::from_utf8_lossy(&finished.stderr).trim()
        );
    }
    let metadata: Metadata =
        serde_json::from_slice(&finished.stdout).context("cargo metadata gave something unexpected")?;
    let edges: HashMap<PathBuf, Vec<PathBuf>> = metadata
        .packages
        .into_iter()
        .filter_map(|p| {
            let dir = p.manifest_path.parent()?.to_path_buf();
            Some((dir, p.dependencies.into_iter().filter_map(|d| d.path).collect()))
        })
        .collect();
    // Every package depends on `workspace-hack` (one feature set for the whole course):
    // not an exercise, and nothing a learner edits.
    let hack = root.join("workspace-hack");
    Ok(closure(&edges, package_dir)
        .into_iter()
        .filter(|dir| !dir.ends_with("workspace-hack") && *dir != hack)
        .collect())
}

/// Everything reachable from `start` along `edges`, `start` itself excluded.
fn closure(edges: &HashMap<PathBuf, Vec<PathBuf>>, start: &Path) -> Vec<PathBuf> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![start.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for next in edges.get(&dir).into_iter().flatten() {
            if next != start && seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::{self, Side};
    use crate::service::root::default_root;

    #[test]
    fn follows_dependencies_of_dependencies() {
        let edges: HashMap<PathBuf, Vec<PathBuf>> = [
            ("/e/07", vec!["/e/05", "/e/02"]),
            ("/e/05", vec!["/e/02"]),
            ("/e/02", vec![]),
        ]
        .into_iter()
        .map(|(k, v)| (PathBuf::from(k), v.into_iter().map(PathBuf::from).collect()))
        .collect();
        assert_eq!(
            closure(&edges, Path::new("/e/07")),
            [PathBuf::from("/e/02"), PathBuf::from("/e/05")]
        );
        assert!(closure(&edges, Path::new("/e/02")).is_empty());
    }

    #[test]
    fn exercise_3_is_built_on_exercise_2() -> anyhow::Result<()> {
        let root = default_root();
        let three = course::find("3")?;
        let deps = path_dependencies(&root, &root.join(three.dir(Side::Learner)))?;
        let two = course::find("2")?;
        assert_eq!(deps, [root.join(two.dir(Side::Learner))]);
        let one = course::find("1")?;
        assert!(path_dependencies(&root, &root.join(one.dir(Side::Learner)))?.is_empty());
        Ok(())
    }
}
