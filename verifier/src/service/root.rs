//! Where the course is: the checkout the verifier is run in, not the one it was built in.
//!
//! A learner may copy or move the course folder after a build, or a classroom may hand
//! out one prepared copy: the verifier must act on the folder it is run in. So the root
//! is found from the current directory upward — the workspace whose `Cargo.toml` lists
//! `exercises/*` among its members — and only then from `REPLICATE_ROOT`.

use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};

/// The course root, or an error saying why none was found.
pub fn course_root() -> anyhow::Result<PathBuf> {
    let here = std::env::current_dir().context("cannot read the current directory")?;
    if let Some(root) = here.ancestors().find(|dir| is_course(dir)) {
        return Ok(root.to_path_buf());
    }
    match std::env::var_os("REPLICATE_ROOT") {
        Some(root) if is_course(Path::new(&root)) => Ok(PathBuf::from(root)),
        Some(root) => bail!(
            "REPLICATE_ROOT is {}, which is not a replicate course checkout (its Cargo.toml does not list exercises/*)",
            Path::new(&root).display()
        ),
        None => bail!(
            "{} is not inside a replicate course checkout: run the verifier in the course folder (the one whose Cargo.toml lists exercises/*), or set REPLICATE_ROOT",
            here.display()
        ),
    }
}

/// The course root, for code that runs only once the front end has found one
/// ([`course_root`] refused otherwise); the current directory as a last resort.
pub fn default_root() -> PathBuf {
    course_root().unwrap_or_else(|_| PathBuf::from("."))
}

/// Whether `dir` holds the course's workspace manifest.
pub fn is_course(dir: &Path) -> bool {
    let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
        return false;
    };
    manifest.contains("[workspace]") && manifest.contains("\"exercises/*\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_a_course_by_its_workspace() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        assert!(!is_course(dir.path()));
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n")?;
        assert!(!is_course(dir.path()));
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"verifier\", \"exercises/*\", \"solutions/*\"]\n",
        )?;
        assert!(is_course(dir.path()));
        Ok(())
    }

    #[test]
    fn this_checkout_is_a_course() {
        assert!(course_root().is_ok_and(|root| root.join("verifier").is_dir()));
    }
}
