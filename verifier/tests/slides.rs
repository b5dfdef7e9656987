//! `verifier slides` as a teacher meets it: the deck list, presenting a deck from a
//! script of commands (stdin piped, so the output is plain text), demos, usage errors,
//! and the HTML export.

use assert_cmd::Command;
use std::fs;
use std::path::Path;

fn verifier() -> Command {
    let mut command = Command::cargo_bin("verifier").expect("the verifier binary is built");
    // The same output everywhere: the course's own decks, 80 columns.
    command.env_remove("REPLICATE_ROOT").env_remove("COLUMNS");
    command
}

/// Runs the verifier with `stdin` and returns (exit code, stdout, stderr).
fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let output = verifier()
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("the verifier runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn course_decks() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../slides");
    let mut stems: Vec<String> = fs::read_dir(&dir)
        .expect("the course has a slides folder")
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.file_stem().expect("a file name").to_string_lossy().into_owned())
        .collect();
    stems.sort();
    stems
}

/// A folder with one small deck whose second slide has a demo.
fn tiny_decks() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    fs::write(
        dir.path().join("01-tiny.md"),
        "# Tiny deck\nFor the tests.\n---\n## No demo here\nJust text.\nNotes:\nNothing to run.\n---\n\
         ## A demo\nIt greets.\n\nDemo: echo hello-from-demo\n\nNotes:\nPress d.\n---\n\
         ## A failing demo\nDemo: echo to-stderr >&2; exit 3\n",
    )
    .expect("the deck is written");
    dir
}

#[test]
fn without_a_deck_it_lists_them() {
    let (code, out, err) = run(&["slides"], "");
    assert_eq!((code, err.as_str()), (0, ""));
    insta::assert_snapshot!("list", out);
    for stem in course_decks() {
        let number = stem.split('-').next().expect("a number").trim_start_matches('0');
        let number = if number.is_empty() { "0" } else { number };
        assert!(
            out.contains(&format!("\n{number:>4}  ")),
            "{stem} is not listed:\n{out}"
        );
    }
}

#[test]
fn a_scripted_talk_shows_plain_screens() {
    let (code, out, err) = run(&["slides", "2"], "n\nnotes\np\nq\n");
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(!out.contains('\x1b'), "piped output has no control codes");
    assert_eq!(out.matches("Append-only logs — slide ").count(), 4, "{out}");
    insta::assert_snapshot!("deck_2_next_notes_previous", out);
}

#[test]
fn a_deck_by_number_file_name_or_part_of_it() {
    let by_number = run(&["slides", "2"], "q\n");
    assert_eq!(by_number.0, 0);
    assert!(
        by_number.1.starts_with("Append-only logs — slide 1/10\n"),
        "{}",
        by_number.1
    );
    assert_eq!(run(&["slides", "02-append-only-logs"], "q\n"), by_number);
    assert_eq!(run(&["slides", "append"], "q\n"), by_number);
    assert_eq!(run(&["slides", "02"], "q\n"), by_number);
}

#[test]
fn the_end_of_input_quits_cleanly() {
    let (code, out, err) = run(&["slides", "2", "--notes"], "");
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out.matches("— slide ").count(), 1, "{out}");
    assert!(
        out.contains("\nNotes:\n"),
        "--notes shows the notes at once:\n{out}"
    );
    // Every command keeps the presenter alive; unknown ones get a line of help.
    let (code, out, _) = run(&["slides", "2"], "l\nn\nf\np\n99\nwhat\n\n5\nd\n");
    assert_eq!(code, 0);
    assert!(out.contains("This is the last slide (10/10)"), "{out}");
    assert!(out.contains("This is the first slide."), "{out}");
    assert!(
        out.contains("There is no slide 99: the slides are 1 to 10."),
        "{out}"
    );
    assert!(out.contains("Unknown command `what`. Enter/n next"), "{out}");
    assert!(out.contains("Append-only logs — slide 5/10"), "{out}");
    assert!(out.ends_with("This slide has no demo.\n\n"), "{out}");
}

#[test]
fn a_demo_runs_and_its_output_is_shown() {
    let decks = tiny_decks();
    let dir = decks.path().to_str().expect("a UTF-8 path");
    let (code, out, err) = run(&["slides", "--dir", dir, "tiny"], "d\nn\nd\nn\nd\nq\n");
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(out.contains("This slide has no demo.\n"), "{out}");
    insta::assert_snapshot!("tiny_deck_demos", out);
    assert!(out.contains(
        "Demo: echo hello-from-demo   (d runs it again)\n$ echo hello-from-demo\nhello-from-demo\n"
    ));
    assert!(
        out.contains("to-stderr\n[the demo exited with code 3]\n"),
        "{out}"
    );
}

#[test]
fn unknown_decks_are_usage_errors() {
    for (args, message) in [
        (
            &["slides", "42"][..],
            "error: there is no deck 42; the decks are: 00-introduction, ",
        ),
        (
            &["slides", "no-such-deck"],
            "error: there is no deck named like `no-such-deck`; the decks are: ",
        ),
        (&["slides", "o"], "error: `o` matches several decks: "),
        (&["slides", "1", "2"], "error: present one deck at a time"),
        (
            &["slides", "--dir", "/nonexistent/slides"],
            "error: cannot read the deck folder /nonexistent/slides",
        ),
    ] {
        let (code, out, err) = run(args, "q\n");
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert!(err.starts_with(message), "{args:?}: {err}");
    }
}

#[test]
fn a_broken_deck_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    fs::write(dir.path().join("01-good.md"), "# Good\ns\n---\n## One\nx\n").expect("written");
    fs::write(
        dir.path().join("02-bad.md"),
        "# Bad\ns\n---\n## One\nx\n---\nno title\n",
    )
    .expect("written");
    let path = dir.path().to_str().expect("a UTF-8 path");
    let (code, _, err) = run(&["slides", "--dir", path, "bad"], "");
    assert_eq!(code, 2);
    let bad = dir.path().join("02-bad.md");
    let expected = format!(
        "error: {}:7: a slide starts with its title: `## Slide title`\n",
        bad.display()
    );
    assert_eq!(err, expected);
    // The list shows the good deck and reports the bad one.
    let (code, out, err) = run(&["slides", "--dir", path], "");
    assert_eq!((code, err), (2, expected));
    assert!(out.contains("   1  Good   1 slide\n"), "{out}");
    // The good one can still be presented.
    assert_eq!(run(&["slides", "--dir", path, "1"], "").0, 0);
}

#[test]
fn the_html_export_is_self_contained() {
    let out_dir = tempfile::tempdir().expect("a temporary folder");
    let site = out_dir.path().join("site");
    let site_arg = site.to_str().expect("a UTF-8 path");
    let (code, out, err) = run(&["slides", "--html", site_arg], "");
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        out.starts_with(&format!(
            "Wrote {} files to {site_arg}:\n",
            course_decks().len() + 1
        )),
        "{out}"
    );

    let mut names: Vec<String> = fs::read_dir(&site)
        .expect("the site exists")
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = course_decks().iter().map(|s| format!("{s}.html")).collect();
    expected.push("index.html".into());
    expected.sort();
    assert_eq!(names, expected);

    let index = fs::read_to_string(site.join("index.html")).expect("index.html");
    for stem in course_decks() {
        assert!(
            index.contains(&format!("href=\"{stem}.html\"")),
            "index.html links {stem}"
        );
    }
    for name in &names {
        let page = fs::read_to_string(site.join(name)).expect("a page");
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "{name} refers to the web"
        );
        assert!(!page.contains(" src="), "{name} loads something");
        assert!(
            page.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"),
            "{name} has no Content-Security-Policy"
        );
    }
    let deck = fs::read_to_string(site.join("03-replicate.html")).expect("deck 3");
    assert!(deck.contains("<h2>Where exercise 2 left us</h2>"));
    assert!(deck.contains("<span class=\"label\">demo</span><code>cargo run -q -- demo replicate</code>"));
    assert!(deck.contains("<span id=\"progress\">1 / 10</span>"));

    // Again into the same folder, and only two decks: files are overwritten.
    fs::write(site.join("index.html"), "old").expect("written");
    let (code, out, _) = run(&["slides", "--html", site_arg, "3", "replicate", "0"], "");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(&format!(
            "Wrote 3 files to {site_arg}:\n  index.html\n  03-replicate.html\n"
        )),
        "{out}"
    );
    let index = fs::read_to_string(site.join("index.html")).expect("index.html");
    assert!(index.contains("03-replicate.html") && index.contains("00-introduction.html"));
    assert!(
        !index.contains("04-gossip"),
        "the index lists the exported decks only"
    );
}

#[test]
fn an_html_folder_that_cannot_be_made_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("a-file");
    fs::write(&file, "").expect("written");
    let target = file.join("site");
    let (code, out, err) = run(&["slides", "--html", target.to_str().expect("UTF-8")], "");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.starts_with(&format!("error: cannot create the folder {}: ", target.display())),
        "{err}"
    );
    let (code, _, err) = run(
        &["slides", "--html", dir.path().to_str().expect("UTF-8"), "nope"],
        "",
    );
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: there is no deck named like `nope`"),
        "{err}"
    );
}

/// The decks of exercises 0 to 7 and what they must (not) say: each error an expert
/// found in them stays fixed, each missing idea stays where it belongs.
fn deck_text(stem: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../slides")
        .join(format!("{stem}.md"));
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_decks_teach_what_the_exercises_do() {
    let intro = deck_text("00-introduction");
    let manifest = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml"))
        .expect("the workspace manifest");
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("the workspace declares rust-version");
    assert!(
        intro.contains(&format!("Rust {version} or newer")),
        "the intro names Rust {version}"
    );

    // (deck, must say, must not say)
    let rules: &[(&str, &[&str], &[&str])] = &[
        (
            "00-introduction",
            &["<peer#1, 1, \"hello world\">` is one record", "CAP"],
            &["1.85"],
        ),
        (
            "02-append-only-logs",
            &[
                "a fork, an error",
                "idempotent",
                "flushed to this database's disk",
            ],
            &["drops the other as a duplicate"],
        ),
        (
            "03-replicate",
            &[
                "a fork (same seq, other text) stops",
                "anti-entropy",
                "says who is\nwho in this run",
            ],
            &["dropping duplicates."],
        ),
        (
            "04-gossip",
            &[
                "tokio::sync::watch",
                "every 100 ms",
                "at most once each way",
                "not causal order",
            ],
            &[
                "broadcast channel (tokio has one)",
                "growing pause",
                "round and round",
            ],
        ),
        (
            "05-kv-store",
            &[
                "`applied`",
                "catch up",
                "Acknowledged after one local flush",
                "Two meanings of \"converge\"",
                "CRDT",
            ],
            &[
                "apply only what `insert` reports as new.",
                "log and view updated in one transaction",
            ],
        ),
        // Happened-before is defined in deck 06, before exercise 7 needs it.
        (
            "06-last-writer-wins",
            &[
                "(ts, peer, seq)",
                "## Happened before",
                "Tombstones are never collected",
                "## Two ways LWW loses a write",
                "Not fixable inside LWW",
            ],
            &["highest (ts, peer):", "(ts, peer) gives a total order"],
        ),
        (
            "07-siblings",
            &[
                "immediate parents",
                "## Not named is not concurrent",
                "MV-register",
                "Git",
            ],
            &[
                "version vector trimmed",
                "If it does not, he had not seen it, and the two are concurrent.",
            ],
        ),
        (
            "08-logical-clocks",
            &[
                "by **wall-clock** timestamp",
                "Equal per-key clocks already",
                "write arrives once, loses once",
            ],
            &["version vector trimmed", "every problem of deck 06 back"],
        ),
        (
            "09-merkle-dag",
            &[
                "only if every add links all the heads",
                "key = SHA-256( log, seq, previous, links, value )",
                "authorship collapses",
                "SentWants once it has received everything it wanted",
                "the copy was not the cause on stage",
            ],
            &["neither is an ancestor: concurrent", "bob's log has a hole"],
        ),
    ];
    for (stem, must, must_not) in rules {
        let text = deck_text(stem);
        for phrase in *must {
            assert!(text.contains(phrase), "{stem} does not say {phrase:?}");
        }
        for phrase in *must_not {
            assert!(!text.contains(phrase), "{stem} still says {phrase:?}");
        }
        let last = text.rsplit("\n---\n").next().unwrap_or_default();
        assert!(
            last.starts_with("## Where this lives in real systems"),
            "{stem}: the closing slide maps the idea to real systems"
        );
    }
}

/// A pseudo-terminal (util-linux's `script`) running a shell command, whose screens
/// are read as they come.
struct Terminal {
    child: std::process::Child,
    keys: std::process::ChildStdin,
    screens: std::sync::mpsc::Receiver<String>,
    seen: String,
}

impl Terminal {
    /// `None` (the test is skipped) where `script` is not installed.
    fn run(command: &str) -> Option<Terminal> {
        use std::io::{BufRead, BufReader, Read};
        use std::process::Stdio;
        if !Path::new("/usr/bin/script").exists() {
            eprintln!("skipped: util-linux's `script` is not installed");
            return None;
        }
        let mut child = std::process::Command::new("/usr/bin/script")
            .args(["-q", "-e", "-c", command, "/dev/null"])
            .env_remove("REPLICATE_ROOT")
            .env("TERM", "xterm")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("script starts");
        let keys = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let (sender, screens) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                let _ = sender.send(String::from_utf8_lossy(&line).into_owned());
                line.clear();
            }
            let mut rest = String::new();
            let _ = reader.read_to_string(&mut rest);
            let _ = sender.send(rest);
        });
        Some(Terminal {
            child,
            keys,
            screens,
            seen: String::new(),
        })
    }

    /// Waits up to 20 s for `wanted` on the screen; says whether it came.
    fn wait_for(&mut self, wanted: &str) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !self.seen.contains(wanted) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.screens.recv_timeout(left) {
                Ok(text) => self.seen.push_str(&text),
                Err(_) => return false,
            }
        }
        true
    }

    fn type_keys(&mut self, keys: &[u8]) {
        use std::io::Write;
        self.keys.write_all(keys).expect("keys typed");
    }

    /// The terminal's mode as `stty -a` printed it at the end of the command.
    fn modes(&self) -> &str {
        &self.seen[self.seen.find("speed").unwrap_or(0)..]
    }

    fn assert_restored(&self) {
        let modes = self.modes();
        assert!(
            modes.contains(" icanon") && modes.contains(" echo") && !modes.contains("-icanon"),
            "the terminal was left in raw mode:\n{modes}"
        );
    }

    /// The process of the terminal running `program`.
    fn process_of(&self, program: &str) -> Option<i32> {
        let program = fs::canonicalize(program).ok()?;
        let mut family = vec![self.child.id() as i32];
        let mut index = 0;
        while index < family.len() {
            let parent = family[index];
            index += 1;
            for entry in fs::read_dir("/proc").ok()?.flatten() {
                let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
                    continue;
                };
                let stat = fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
                // pid (comm) state ppid …: the comm may hold spaces, so split after it.
                let ppid = stat
                    .rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .and_then(|p| p.parse::<i32>().ok());
                if ppid == Some(parent) && !family.contains(&pid) {
                    if fs::read_link(entry.path().join("exe")).ok().as_ref() == Some(&program) {
                        return Some(pid);
                    }
                    family.push(pid);
                }
            }
        }
        None
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn on_a_terminal_single_keys_present_and_the_terminal_is_restored() {
    // `stty -a` afterwards shows the mode the presenter left the terminal in.
    let command = format!("{} slides 2; stty -a", env!("CARGO_BIN_EXE_verifier"));
    let Some(mut terminal) = Terminal::run(&command) else {
        return;
    };
    assert!(
        terminal.wait_for("Append-only logs — slide 1/10"),
        "no first slide:\n{}",
        terminal.seen
    );
    // One key each, no Enter: n, then the right arrow, then a number and Enter, then q.
    terminal.type_keys(b"n");
    let second = terminal.wait_for("slide 2/10");
    terminal.type_keys(b"\x1b[C");
    let third = terminal.wait_for("slide 3/10");
    terminal.type_keys(b"7\r");
    let seventh = terminal.wait_for("slide 7/10");
    assert!(
        second && third && seventh,
        "the keys did not move the slides:\n{}",
        terminal.seen
    );
    terminal.type_keys(b"q");
    assert!(
        terminal.wait_for("icanon"),
        "the presenter did not quit on q:\n{}",
        terminal.seen
    );
    terminal.assert_restored();
}

#[test]
fn a_presenter_ended_by_sigterm_restores_the_terminal() {
    let verifier = env!("CARGO_BIN_EXE_verifier");
    let command = format!("{verifier} slides 3; echo exit=$?; stty -a");
    let Some(mut terminal) = Terminal::run(&command) else {
        return;
    };
    assert!(
        terminal.wait_for("slide 1/"),
        "no first slide:\n{}",
        terminal.seen
    );
    let presenter = terminal.process_of(verifier).expect("the presenter's process");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(presenter),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM sent");
    assert!(
        terminal.wait_for("icanon"),
        "the presenter did not end on SIGTERM:\n{}",
        terminal.seen
    );
    assert!(
        terminal.seen.contains("exit=143"),
        "SIGTERM should end it with status 143:\n{}",
        terminal.seen
    );
    terminal.assert_restored();
}
