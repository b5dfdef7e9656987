//! A peer of a conversation: which build runs which program with which arguments.
//! Conversations themselves (a protocol, its judge) belong to whoever defines them.

use super::Who;

/// One side of a conversation: which build, which program, which arguments.
#[derive(Debug, Clone)]
pub struct Peer<'p> {
    pub who: Who,
    pub program: &'static str,
    pub args: Vec<&'p str>,
}

impl<'p> Peer<'p> {
    /// The program under test.
    pub fn tested(program: &'static str, args: &[&'p str]) -> Self {
        Peer {
            who: Who::Tested,
            program,
            args: args.to_vec(),
        }
    }

    /// The reference solution's program.
    pub fn reference(program: &'static str, args: &[&'p str]) -> Self {
        Peer {
            who: Who::Reference,
            program,
            args: args.to_vec(),
        }
    }
}
