//! The `verifier` binary: `cargo run` opens the workshop; subcommands do one thing each.

fn main() -> std::process::ExitCode {
    // The same binary contains learners' programs and watches over cleanup.
    if let Some(code) = verifier::runner::helper_main() {
        return code;
    }
    // The benchmark measures bare storage in a process of its own.
    if let Some(code) = verifier::service::bench::helper_main() {
        return code;
    }
    verifier::cli::main()
}
