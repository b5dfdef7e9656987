//! `verifier show [NN[-check]]`: where the latest `timeline.html` is — the picture of
//! a failed check's wired run, kept beside its folder. It prints the path (a terminal
//! cannot show the page; a browser opens it, with nothing fetched from anywhere).

use super::usage_error;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// An exercise (`3`, `03`) or one check of it (`3-large-diffs`); none: the latest of all.
    which: Option<String>,
}

pub fn run(args: ShowArgs) -> ExitCode {
    let label = match args.which.as_deref() {
        Some(which) => match label_of(which) {
            Some(label) => label,
            None => {
                return usage_error(&format!(
                    "`{which}` is not an exercise number, or NN-check (e.g. 3-large-diffs)"
                ));
            }
        },
        None => String::new(),
    };
    match latest(&label) {
        Some(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        None => {
            let which = args
                .which
                .as_deref()
                .map_or(String::new(), |w| format!(" for `{w}`"));
            eprintln!(
                "No timeline.html is kept{which}: one is written beside the kept folder of a failed check that wired programs together (verify, without --no-keep)."
            );
            ExitCode::from(1)
        }
    }
}

/// `3` → `03-`, `3-large-diffs` → `03-large-diffs`: the start of a kept folder's name;
/// `None` if `which` starts with no exercise number.
fn label_of(which: &str) -> Option<String> {
    let (number, check) = match which.split_once('-') {
        Some((number, check)) => (number, Some(check)),
        None => (which, None),
    };
    let number: u32 = number.parse().ok()?;
    Some(match check {
        Some(check) => format!("{number:02}-{check}"),
        None => format!("{number:02}-"),
    })
}

/// The newest `timeline.html` under a kept folder whose name starts with `label`.
fn latest(label: &str) -> Option<PathBuf> {
    let course = crate::service::root::default_root();
    let entries = std::fs::read_dir(crate::runner::kept_folder(&course)).ok()?;
    entries
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(label))
        .map(|entry| entry.path().join("timeline.html"))
        .filter_map(|page| Some((page.metadata().ok()?.modified().ok()?, page)))
        .max()
        .map(|(_, page)| page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_an_exercise_or_one_of_its_checks() {
        assert_eq!(label_of("3"), Some("03-".to_string()));
        assert_eq!(label_of("03-large-diffs"), Some("03-large-diffs".to_string()));
        assert!(label_of("three").is_none());
    }
}
