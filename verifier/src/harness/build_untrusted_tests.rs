//! Builds of untrusted code: what rustc can be made to read, see and use while it
//! compiles a submission. Each builds a tiny package with no dependencies, in the
//! build sandbox, from a cleared environment, in a fresh target.

use super::*;
use crate::runner::not_isolated;

/// A workspace of one package `hostile` whose program `show` is `main_rs`, and a
/// fresh target beside it, confined as a grader confines a submission.
struct Hostile {
    place: tempfile::TempDir,
    confined: Confined,
}

impl Hostile {
    fn new(main_rs: &str) -> std::io::Result<Hostile> {
        let place = tempfile::tempdir()?;
        let root = place.path().join("copy");
        std::fs::create_dir_all(root.join("src/bin"))?;
        std::fs::write(
            root.join("Cargo.toml"),
            "[package]\nname = \"hostile\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        )?;
        std::fs::write(root.join("src/bin/show.rs"), main_rs)?;
        // The lock file is the trusted side's to write: the sandbox cannot.
        let locked = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
            .args(["generate-lockfile", "--offline"])
            .current_dir(&root)
            .status()?;
        assert!(locked.success());
        let target = place.path().join("copy.target");
        std::fs::create_dir_all(&target)?;
        let confined = Confined {
            sources: ["Cargo.toml", "Cargo.lock", "src"]
                .iter()
                .map(|p| root.join(p))
                .collect(),
            target,
        };
        Ok(Hostile { place, confined })
    }

    fn root(&self) -> PathBuf {
        self.place.path().join("copy")
    }

    fn build(&self) -> Result<Built, BuildError> {
        let package = Package {
            name: "hostile".into(),
            programs: vec!["show".into()],
        };
        let trust = Trust::Untrusted(self.confined.clone());
        build_as(
            &self.root(),
            &package,
            Profile::Dev,
            BUILD_TIMEOUT,
            &trust,
            &|_| {},
        )
    }

    /// Builds and runs `show`, returning what it printed.
    fn shown(&self) -> String {
        let built = self.build().unwrap_or_else(|e| panic!("it builds: {e}"));
        let show = built.programs.command("show").expect("a program `show`")[0].clone();
        let out = std::process::Command::new(show).output().expect("show runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn sandboxed() -> bool {
    match not_isolated() {
        None => true,
        Some(why) => {
            eprintln!("skipped: no build sandbox on this machine ({why})");
            false
        }
    }
}

/// What the last submission's build left (the grading copy's old `target/`) and the
/// grader's secrets are not readable: `include_bytes!` of them does not compile.
#[test]
fn an_untrusted_build_reads_only_its_sources() -> std::io::Result<()> {
    if !sandboxed() {
        return Ok(());
    }
    let previous = tempfile::tempdir()?;
    let binary = previous.path().join("debug/put");
    std::fs::create_dir_all(binary.parent().unwrap_or(previous.path()))?;
    std::fs::write(&binary, "the previous submission's program")?;
    let hostile = Hostile::new(&format!(
        "static FORGED: &[u8] = include_bytes!({:?});\n\
         static SHADOW: &str = include_str!(\"/etc/shadow\");\n\
         static OLD_TARGET: &[u8] = include_bytes!(\"../../target/x\");\n\
         fn main() {{ println!(\"{{}} {{}} {{}}\", FORGED.len(), SHADOW.len(), OLD_TARGET.len()); }}\n",
        binary.display().to_string()
    ))?;
    std::fs::create_dir_all(hostile.root().join("target"))?;
    std::fs::write(hostile.root().join("target/x"), "built for someone else")?;
    match hostile.build() {
        Err(BuildError::Compile(errors)) => {
            for path in [&binary.display().to_string(), "/etc/shadow", "../../target/x"] {
                assert!(
                    errors.contains(&format!("couldn't read `{path}`"))
                        || errors.contains(&format!("couldn't read {path}"))
                        || errors.contains(path),
                    "{path} was not refused:\n{errors}"
                );
            }
            assert!(errors.contains("Permission denied"), "{errors}");
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
    Ok(())
}

/// `env!`/`option_env!` see the allow-list (HOME is the build's own target), not the
/// grader's environment; nothing of the grader's variables reaches the program.
#[test]
fn an_untrusted_build_sees_none_of_the_graders_environment() -> std::io::Result<()> {
    if !sandboxed() {
        return Ok(());
    }
    let hostile = Hostile::new(
        "fn main() { println!(\"{:?} {:?} {:?}\", option_env!(\"HOME\"), \
         option_env!(\"RUST_BACKTRACE\"), option_env!(\"CARGO_HOME\").is_some()); }\n",
    )?;
    let shown = hostile.shown();
    let home = hostile.confined.target.display().to_string();
    assert_eq!(shown, format!("Some({home:?}) None true\n"));
    Ok(())
}

/// Reading something endless is refused at once; a constant of 16 GiB ends as a
/// verdict (the memory cap, named, where a memory cgroup counts; else the
/// compiler's failed allocation), never as the machine's OOM killer.
#[test]
fn an_untrusted_build_is_capped() -> std::io::Result<()> {
    if !sandboxed() {
        return Ok(());
    }
    let endless = Hostile::new(
        "static ZERO: &[u8] = include_bytes!(\"/dev/zero\");\nfn main() { println!(\"{}\", ZERO.len()); }\n",
    )?;
    match endless.build() {
        Err(BuildError::Compile(errors)) => assert!(errors.contains("/dev/zero"), "{errors}"),
        other => panic!("expected a compile error, got {other:?}"),
    }
    let huge = Hostile::new(
        "static HUGE: [u8; 1 << 34] = [1; 1 << 34];\nfn main() { println!(\"{}\", HUGE[7]); }\n",
    )?;
    match huge.build() {
        Err(BuildError::OverLimit(crate::runner::Limit::Memory(cap))) => {
            assert_eq!(cap, BUILD_RESOURCES.memory)
        }
        Err(BuildError::Compile(errors)) => assert!(
            errors.contains("memory allocation") || errors.contains("too big"),
            "{errors}"
        ),
        other => panic!("expected the build to be stopped, got {other:?}"),
    }
    Ok(())
}
