//! Where cargo puts what it builds for a course checkout, and where the verifier keeps
//! the executables of each build.
//!
//! Cargo decides the target directory from `CARGO_TARGET_DIR`, else from `build.target-dir`
//! in a `.cargo/config.toml`, else `target/` beside the workspace. The verifier must
//! know the same directory: builds in it take turns under its lock, and their
//! executables are kept in the checkout. Several checkouts may build in one target
//! directory (the course's trusted copies share the course's, so that every dependency
//! compiled for the course is reused by them); their packages have the same names, so
//! each checkout keeps its executables in a folder of its own.

use std::path::{Path, PathBuf};

/// The file a checkout names its target directory in, as cargo reads it.
pub const CONFIG: &str = ".cargo/config.toml";

/// The target directory cargo builds the workspace at `root` in.
pub fn target_dir(root: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return root.join(dir);
    }
    std::fs::read_to_string(root.join(CONFIG))
        .ok()
        .and_then(|config| configured(&config))
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"))
}

/// The `target-dir = "…"` of a cargo config (of its `[build]` table), if it has one.
fn configured(config: &str) -> Option<String> {
    let mut in_build = false;
    for line in config.lines().map(str::trim) {
        if line.starts_with('[') {
            in_build = line == "[build]";
            continue;
        }
        let Some(value) = line.strip_prefix("target-dir") else {
            continue;
        };
        let value = value.trim_start().strip_prefix('=')?.trim();
        if in_build {
            // A TOML basic string escapes as JSON does for any path we write.
            return serde_json::from_str(value).ok();
        }
    }
    None
}

/// A cargo config that sends the builds of a checkout to `target` (an absolute path).
pub fn config_building_in(target: &Path) -> String {
    let quoted = serde_json::to_string(&target.display().to_string()).unwrap_or_default();
    format!(
        "# Written by the verifier: this copy of the course builds in the course's own\n\
         # target directory, reusing every dependency compiled there.\n\
         [build]\ntarget-dir = {quoted}\n"
    )
}

/// Where the executables of `package` built from the checkout at `root` are kept:
/// `target/replicate-bins/PACKAGE/` in the checkout itself, wherever cargo builds. Each
/// checkout keeps its own, so checkouts sharing a target directory (whose packages
/// have the same names) never replace each other's executables.
pub fn kept_bins(root: &Path, package: &str) -> PathBuf {
    root.join("target").join("replicate-bins").join(package)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_target_dir_of_the_build_table_only() {
        assert_eq!(
            configured("[build]\ntarget-dir = \"/t/x\"\n").as_deref(),
            Some("/t/x")
        );
        assert_eq!(
            configured("[build]\njobs = 2\ntarget-dir=\"../t\"").as_deref(),
            Some("../t")
        );
        assert_eq!(configured("[alias]\ntarget-dir = \"/no\"\n"), None);
        assert_eq!(configured("[build]\ntarget-dir = /unquoted\n"), None);
        assert_eq!(configured(""), None);
    }

    #[test]
    fn a_config_written_for_a_copy_is_read_back() -> std::io::Result<()> {
        let copy = tempfile::tempdir()?;
        let shared = Path::new("/course/with \"quotes\"/target");
        std::fs::create_dir_all(copy.path().join(".cargo"))?;
        std::fs::write(copy.path().join(CONFIG), config_building_in(shared))?;
        assert_eq!(
            configured(&config_building_in(shared)).as_deref(),
            shared.to_str()
        );
        if std::env::var_os("CARGO_TARGET_DIR").is_none() {
            assert_eq!(target_dir(copy.path()), shared);
        }
        Ok(())
    }

    #[test]
    fn checkouts_sharing_a_target_keep_their_executables_apart() {
        let course = Path::new("/course");
        let stubs = course.join("target/course-copies/stubs");
        assert_eq!(
            kept_bins(course, "ex01"),
            course.join("target/replicate-bins/ex01")
        );
        assert_eq!(
            kept_bins(&stubs, "ex01"),
            stubs.join("target/replicate-bins/ex01")
        );
    }
}
