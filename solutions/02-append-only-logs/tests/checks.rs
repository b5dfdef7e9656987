//! The verifier's checks as a test of this package, for cargo-mutants.
include!("../../../verifier/mutants/checks_as_test.rs");
