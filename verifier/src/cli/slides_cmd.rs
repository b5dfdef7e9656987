//! `verifier slides [DECK] [--notes]`: present a deck in the terminal, list the decks,
//! or with `--html DIR` export them as a static site for a browser.

use super::{error_exit, usage_error};
use crate::slides::{self, Deck, html, present};
use clap::Args;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(
    after_help = "While presenting on a terminal, single keys: → or Space next, ← previous, a number \
and Enter jumps to that slide, f/l first/last, s toggles the speaker notes, d runs the slide's \
demo, q quits. From a pipe, the same as commands, one per line (n, p, 3, f, l, s, d, q)."
)]
pub struct SlidesArgs {
    /// The deck: a number (`3`), a file name (`03-append-only-logs`) or a part of it
    /// (`append`). Without one, list the decks. With --html, any number of decks (default: all).
    #[arg(value_name = "DECK")]
    decks: Vec<String>,
    /// Show the speaker notes from the first slide on.
    #[arg(long, conflicts_with = "html")]
    notes: bool,
    /// Write a self-contained static site into DIR instead: index.html and one page per deck.
    #[arg(long, value_name = "DIR")]
    html: Option<PathBuf>,
    /// The folder of decks [default: <repository root>/slides].
    #[arg(long, value_name = "PATH")]
    dir: Option<PathBuf>,
}

pub fn run(args: SlidesArgs) -> ExitCode {
    let root = crate::service::root::default_root();
    let dir = args.dir.clone().unwrap_or_else(|| root.join("slides"));
    let files = match slides::deck_files(&dir) {
        Ok(files) => files,
        Err(error) => return error_exit(&error),
    };
    if let Some(out) = &args.html {
        return export(&files, &args.decks, out);
    }
    match args.decks.as_slice() {
        [] => list(&files, args.dir.as_deref()),
        [query] => present(&files, query, &root, args.notes),
        _ => usage_error("present one deck at a time (several decks go with --html DIR)"),
    }
}

/// Lists the decks that parse; a deck that does not is reported, and the exit code is 2.
fn list(files: &[PathBuf], dir: Option<&Path>) -> ExitCode {
    let mut decks = Vec::new();
    let mut failed = false;
    for file in files {
        match slides::load(file) {
            Ok(deck) => decks.push(deck),
            Err(error) => {
                eprintln!("error: {error:#}");
                failed = true;
            }
        }
    }
    let place = dir.map_or("slides/".to_string(), |d| d.display().to_string());
    if decks.is_empty() {
        println!("There are no slide decks in {place}.");
    } else {
        println!("Slide decks in {place}:\n");
        let width = decks
            .iter()
            .map(|d| d.title.chars().count())
            .max()
            .unwrap_or(0)
            .min(48);
        for deck in &decks {
            let number = deck.number.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
            let count = deck.slides.len();
            let plural = if count == 1 { "" } else { "s" };
            println!("{number:>4}  {:<width$}  {count:>2} slide{plural}", deck.title);
        }
        println!(
            "\nPresent one:    cargo run -- slides NUMBER   (or a part of its file name)\n\
             Speaker notes:  add --notes, or type s while presenting\n\
             For a browser:  cargo run -- slides --html DIR"
        );
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn present(files: &[PathBuf], query: &str, root: &Path, notes: bool) -> ExitCode {
    let deck = match slides::find(files, query).and_then(|file| slides::load(file)) {
        Ok(deck) => deck,
        Err(error) => return error_exit(&error),
    };
    let mut presenter = present::Presenter::new(&deck, root, present::Style::detect(), notes);
    match presenter.present(io::stdin().lock(), &mut io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        // Whoever reads our output has gone (`| head`): nothing more to say.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => usage_error(&format!("the presenter stopped: {e}")),
    }
}

fn export(files: &[PathBuf], queries: &[String], out: &Path) -> ExitCode {
    let mut chosen: Vec<&PathBuf> = Vec::new();
    if queries.is_empty() {
        chosen.extend(files);
    }
    for query in queries {
        match slides::find(files, query) {
            Ok(file) if !chosen.contains(&file) => chosen.push(file),
            Ok(_) => {}
            Err(error) => return error_exit(&error),
        }
    }
    let mut decks: Vec<Deck> = Vec::new();
    for file in chosen {
        match slides::load(file) {
            Ok(deck) => decks.push(deck),
            Err(error) => return error_exit(&error),
        }
    }
    match html::export(&decks, out) {
        Ok(written) => {
            println!("Wrote {} files to {}:", written.len(), out.display());
            for path in &written {
                println!(
                    "  {}",
                    path.file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
                );
            }
            println!("Open {} in a browser.", out.join("index.html").display());
            ExitCode::SUCCESS
        }
        Err(error) => error_exit(&error),
    }
}
