//! The runner's own tests: real processes, real limits, the real sandbox.

use super::*;
use std::path::Path;
use std::time::Duration;

fn sh_in(script: &str, cwd: &Path) -> Invocation {
    Invocation {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        argv: vec!["sh".into(), "-c".into(), script.into()],
        cwd: cwd.to_path_buf(),
        env: vec![],
    }
}

/// A program in a working folder of its own (removed when the test ends).
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> io::Result<Place> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("work"))?;
        Ok(Place { dir })
    }
    fn work(&self) -> std::path::PathBuf {
        self.dir.path().join("work")
    }
    fn sh(&self, script: &str) -> Invocation {
        sh_in(script, &self.work())
    }
}

fn limits(ms: u64) -> Limits {
    Limits {
        timeout: Duration::from_millis(ms),
        max_output: 1000,
        resources: Some(Resources::default()),
    }
}

fn tight() -> Limits {
    Limits {
        timeout: Duration::from_secs(10),
        max_output: 1000,
        resources: Some(Resources {
            cpu: Duration::from_secs(1),
            memory: 64 << 20,
            file_size: 1 << 20,
            disk: 4 << 20,
            processes: 20,
        }),
    }
}

#[test]
fn captures_output_and_exit_code() -> io::Result<()> {
    let place = Place::new()?;
    let done = run(&place.sh("echo out; echo err >&2; exit 3"), None, &limits(5000))?;
    assert_eq!(done.ending, Ending::Exited(3));
    assert_eq!(done.stdout, b"out\n");
    assert_eq!(done.stderr, b"err\n");
    assert!(!done.left_running);
    Ok(())
}

#[test]
fn feeds_stdin_or_closes_it() -> io::Result<()> {
    let place = Place::new()?;
    let done = run(&place.sh("cat"), Some(b"hello\n"), &limits(5000))?;
    assert_eq!(done.stdout, b"hello\n");
    let done = run(&place.sh("cat; echo eof"), None, &limits(5000))?;
    assert_eq!(done.stdout, b"eof\n");
    Ok(())
}

#[test]
fn a_missing_program_is_an_error_to_start() {
    let place = Place::new().expect("a temp dir");
    let mut inv = place.sh("");
    inv.argv = vec!["./no-such-program".into()];
    let error = run(&inv, None, &limits(5000)).err().map(|e| e.to_string());
    assert_eq!(error.as_deref(), Some("No such file or directory (os error 2)"));
}

#[test]
fn kills_a_hanging_program_and_its_children() -> io::Result<()> {
    let place = Place::new()?;
    let done = run(
        &place.sh("sleep 30 & echo $! > pid; sleep 30"),
        None,
        &limits(1000),
    )?;
    assert_eq!(done.ending, Ending::TimedOut(Duration::from_millis(1000)));
    assert!(done.elapsed < Duration::from_secs(5));
    let pid: i32 = std::fs::read_to_string(place.work().join("pid"))?
        .trim()
        .parse()
        .map_err(io::Error::other)?;
    assert!(!process_alive(pid), "the background child must be gone");
    Ok(())
}

#[test]
fn notices_and_kills_what_outlives_the_program() -> io::Result<()> {
    let place = Place::new()?;
    let done = run(
        &place.sh("sleep 30 >/dev/null 2>&1 & echo started"),
        None,
        &limits(5000),
    )?;
    assert_eq!(done.ending, Ending::Exited(0));
    assert!(done.left_running);
    Ok(())
}

#[test]
fn stops_a_flood() -> io::Result<()> {
    let place = Place::new()?;
    let done = run(&place.sh("yes"), None, &limits(5000))?;
    assert_eq!(done.ending, Ending::Flooded(1000, OutputStream::Stdout));
    assert_eq!(done.stdout.len(), 1000);
    Ok(())
}

#[test]
fn reports_signals() -> io::Result<()> {
    let place = Place::new()?;
    let done = run(&place.sh("kill -SEGV $$"), None, &limits(5000))?;
    assert_eq!(done.ending, Ending::Signalled(11));
    Ok(())
}

#[test]
fn names_a_fork_bomb_where_processes_can_be_capped() -> io::Result<()> {
    if platform::platform().portable || !can_cap().0 {
        eprintln!("no writable pids cgroup here: the process cap cannot be tested");
        return Ok(());
    }
    let place = Place::new()?;
    let done = run(
        &place.sh("for i in $(seq 100); do sleep 5 & done; wait"),
        None,
        &tight(),
    )?;
    assert_eq!(done.ending, Ending::OverLimit(Limit::Processes(20)));
    assert!(done.elapsed < Duration::from_secs(5));
    Ok(())
}

#[test]
fn names_a_busy_loop_by_its_cpu_time() -> io::Result<()> {
    let place = Place::new()?;
    let done = run(&place.sh("while :; do :; done"), None, &tight())?;
    assert_eq!(done.ending, Ending::OverLimit(Limit::Cpu(Duration::from_secs(1))));
    Ok(())
}

#[test]
fn names_a_file_that_grows_too_big() -> io::Result<()> {
    let place = Place::new()?;
    let done = run(&place.sh("head -c 2000000 /dev/zero > big"), None, &tight())?;
    assert_eq!(done.ending, Ending::OverLimit(Limit::FileSize(1 << 20)));
    Ok(())
}

#[test]
fn names_a_full_folder() -> io::Result<()> {
    let place = Place::new()?;
    let script = "for i in $(seq 100); do head -c 500000 /dev/zero > f$i; done; sleep 5";
    let done = run(&place.sh(script), None, &tight())?;
    assert_eq!(done.ending, Ending::OverLimit(Limit::Disk(4 << 20)));
    assert!(done.elapsed < Duration::from_secs(4));
    Ok(())
}

#[test]
fn names_memory_only_when_the_kernel_counted_it() -> io::Result<()> {
    let place = Place::new()?;
    // A shared mapping: not heap, but memory all the same.
    let balloon = "python3 -S -c 'import mmap; m = mmap.mmap(-1, 1 << 30); [m.__setitem__(i, 1) for i in range(0, 1 << 30, 4096)]'";
    // CPU time to spare: on a busy machine faulting in the pages costs more than 1 s,
    // and the CPU limit (SIGXCPU, exit 152) must not be hit before the memory limit.
    let roomy = Limits {
        resources: tight().resources.map(|r| Resources {
            cpu: Duration::from_secs(20),
            ..r
        }),
        timeout: Duration::from_secs(60),
        ..tight()
    };
    let done = run(&place.sh(balloon), None, &roomy)?;
    match can_cap().1 {
        true => assert_eq!(done.ending, Ending::OverLimit(Limit::Memory(64 << 20))),
        // RLIMIT_AS refuses the mapping: Python raises, and nothing is named.
        false => assert_eq!(done.ending, Ending::Exited(1)),
    }
    // A program that merely says so, or exits as if, hit nothing.
    let liar = place.sh("echo MemoryError >&2; echo 'File too large' >&2; exit 152");
    assert_eq!(run(&liar, None, &tight())?.ending, Ending::Exited(152));
    Ok(())
}

#[test]
fn the_sandbox_keeps_a_program_in_its_folder() -> io::Result<()> {
    if not_isolated().is_some() {
        eprintln!("no sandbox here: {:?}", not_isolated());
        return Ok(());
    }
    let place = Place::new()?;
    let secret = place.dir.path().join("secret");
    std::fs::write(&secret, "s")?;
    let script = format!(
        "cat {s} && echo read-secret; touch ../outside && echo wrote-parent; \
         touch /tmp/replicate-sandbox-test && echo wrote-tmp; \
         ln -s .. up; touch up/via-link && echo wrote-link; \
         echo x > \"$TMPDIR/t\" && echo tmp-ok; echo x > inside && echo inside-ok",
        s = secret.display()
    );
    let done = run(&place.sh(&script), None, &limits(5000))?;
    let out = String::from_utf8_lossy(&done.stdout);
    assert_eq!(
        out,
        "tmp-ok\ninside-ok\n",
        "stderr: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(!place.dir.path().join("outside").exists());
    assert!(!place.dir.path().join("via-link").exists());
    assert!(!Path::new("/tmp/replicate-sandbox-test").exists());
    Ok(())
}

#[test]
fn a_build_sandbox_writes_only_its_target() -> io::Result<()> {
    if not_isolated().is_some() {
        return Ok(());
    }
    let place = Place::new()?;
    let target = place.dir.path().join("target");
    std::fs::create_dir(&target)?;
    let sandbox = Sandbox::for_build(&[place.work()], &target);
    let script = "echo x > ../target/built && echo target-ok; echo x > inside && echo inside-ok; cat Cargo.toml 2>/dev/null; true";
    std::fs::write(place.work().join("Cargo.toml"), "[workspace]\n")?;
    let trusted = Limits {
        resources: None,
        ..limits(5000)
    };
    let done = run_in(&place.sh(script), None, &trusted, &sandbox)?;
    assert_eq!(String::from_utf8_lossy(&done.stdout), "target-ok\n[workspace]\n");
    assert!(!place.work().join("inside").exists());
    Ok(())
}

fn can_cap() -> (bool, bool) {
    #[cfg(target_os = "linux")]
    if let Some(hierarchy) = &platform::platform().hierarchy {
        return hierarchy.can_cap();
    }
    (false, false)
}

fn process_alive(pid: i32) -> bool {
    // A killed process may linger as a zombie of the shell's group for a moment.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

/// An untrusted program sees the allow-list only, whatever the verifier's own
/// environment holds (under `cargo test`: CARGO_*, RUST_*, the CI's variables).
#[test]
fn an_untrusted_program_starts_from_the_allow_list() -> io::Result<()> {
    let place = Place::new()?;
    let mut invocation = place.sh("cat /proc/$$/environ | tr '\\0' '\\n' | cut -d= -f1 | sort");
    invocation.env.push(("SEED".into(), "7".into()));
    let done = run(&invocation, None, &limits(5000))?;
    let names = String::from_utf8_lossy(&done.stdout).into_owned();
    let expected = match not_isolated() {
        None => "HOME\nLANG\nPATH\nSEED\nTMPDIR\n",
        Some(_) => "HOME\nLANG\nPATH\nSEED\n",
    };
    assert_eq!(
        names,
        expected,
        "{:?} {}",
        done.ending,
        String::from_utf8_lossy(&done.stderr)
    );
    let done = run(&place.sh("echo \"$HOME $LANG\""), None, &limits(5000))?;
    let said = String::from_utf8_lossy(&done.stdout).into_owned();
    assert_eq!(said, format!("{} {LANG}\n", place.work().display()));
    Ok(())
}
