//! The `verifier` binary: `cargo run` opens the workshop; subcommands do one thing each.

fn main() -> std::process::ExitCode {
    verifier::cli::main()
}
