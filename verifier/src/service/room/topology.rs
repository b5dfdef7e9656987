//! Who dials whom: the links of a ring, a tree or a random tree over the peers in the
//! order they joined. A pure function of the peers and the seed, so a new joiner slots
//! in with as few links changed as possible, and `--seed` replays a random room.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topology {
    /// Each peer dials the next; the last dials the first.
    Ring,
    /// Peer i dials peer (i-1)/2: a balanced binary tree.
    Tree,
    /// Peer i dials a random earlier peer: a random tree, connected by construction.
    Random,
}

impl std::str::FromStr for Topology {
    type Err = anyhow::Error;
    fn from_str(text: &str) -> anyhow::Result<Topology> {
        match text {
            "ring" => Ok(Topology::Ring),
            "tree" => Ok(Topology::Tree),
            "random" => Ok(Topology::Random),
            other => anyhow::bail!("unknown topology {other:?}: ring, tree or random"),
        }
    }
}

/// The links `(dialler, listener)` between `peers` (learner numbers, in joining order).
pub fn links(topology: Topology, peers: &[u32], seed: u64) -> Vec<(u32, u32)> {
    let n = peers.len();
    match topology {
        Topology::Ring if n == 2 => vec![(peers[0], peers[1])],
        Topology::Ring if n > 2 => (0..n).map(|i| (peers[i], peers[(i + 1) % n])).collect(),
        Topology::Ring => Vec::new(),
        Topology::Tree => (1..n).map(|i| (peers[i], peers[(i - 1) / 2])).collect(),
        Topology::Random => (1..n)
            .map(|i| {
                // Each peer's choice depends on the seed and its own place only, so
                // later joiners do not move earlier links.
                let mut rng =
                    fastrand::Rng::with_seed(seed ^ (peers[i] as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                (peers[i], peers[rng.usize(0..i)])
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_trees_and_random_trees() {
        assert_eq!(links(Topology::Ring, &[1, 2, 3], 0), vec![(1, 2), (2, 3), (3, 1)]);
        assert_eq!(links(Topology::Ring, &[1, 2], 0), vec![(1, 2)]);
        assert_eq!(
            links(Topology::Tree, &[1, 2, 3, 4], 0),
            vec![(2, 1), (3, 1), (4, 2)]
        );
        let random = links(Topology::Random, &[1, 2, 3, 4, 5], 7);
        assert_eq!(random.len(), 4, "a tree over 5 peers has 4 links");
        assert_eq!(
            random,
            links(Topology::Random, &[1, 2, 3, 4, 5], 7),
            "the seed replays it"
        );
        let grown = links(Topology::Random, &[1, 2, 3, 4, 5, 6], 7);
        assert_eq!(&grown[..4], &random[..], "a new joiner moves no earlier link");
    }
}
