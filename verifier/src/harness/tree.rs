//! Copying a folder as `cp -r` does: what a check does to a learner's database
//! directory, what the benchmark does to a prepared one, and what `reset` does to
//! back up an exercise.

use std::path::Path;

/// Copies the folder `from` to `to`, recursively, symbolic links as links; any
/// entry named in `leave_out` (at any depth, `target` say) is not copied.
pub fn copy_tree(from: &Path, to: &Path, leave_out: &[&str]) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if leave_out.iter().any(|left| name == *left) {
            continue;
        }
        let kind = entry.file_type()?;
        let destination = to.join(&name);
        if kind.is_dir() {
            copy_tree(&entry.path(), &destination, leave_out)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &destination)?;
        } else {
            std::fs::copy(entry.path(), &destination)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_files_folders_and_links_and_leaves_out_what_is_named() -> std::io::Result<()> {
        let from = tempfile::tempdir()?;
        std::fs::create_dir_all(from.path().join("db/blobs"))?;
        std::fs::write(from.path().join("db/conf"), "c")?;
        std::fs::write(from.path().join("db/blobs/1"), "b")?;
        std::fs::create_dir_all(from.path().join("db/target/debug"))?;
        std::fs::write(from.path().join("db/target/debug/x"), "x")?;
        std::os::unix::fs::symlink("conf", from.path().join("db/link"))?;
        let to = tempfile::tempdir()?;
        copy_tree(&from.path().join("db"), &to.path().join("copy"), &["target"])?;
        let copy = to.path().join("copy");
        assert_eq!(std::fs::read_to_string(copy.join("conf"))?, "c");
        assert_eq!(std::fs::read_to_string(copy.join("blobs/1"))?, "b");
        assert_eq!(std::fs::read_link(copy.join("link"))?, Path::new("conf"));
        assert!(!copy.join("target").exists());
        Ok(())
    }
}
