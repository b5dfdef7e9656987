//! The live mesh: the peers that run (one per learner, all of the same exercise), the
//! links the topology gives them, and the teacher's hand on it (cut, heal, a round of
//! one entry each). The room tells each peer's agent which links it dials; when the
//! topology changes or a learner comes or goes, only the links that change move.

use super::limiter::Bucket;
use super::lines::{Read, read_line};
use super::protocol::{FromAgent, MAX_LINE, Refusal, Reply, ToAgent, line, parse};
use super::server::{Shared, send};
use super::topology::{self, Topology};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;
use tokio::io::AsyncBufRead;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot, watch};

/// How many links one peer may dial at once (its `--connect` slots).
pub const DIAL_SLOTS: usize = 2;
/// Most logs a peer's heads may name.
const MAX_HEADS: usize = 1000;
/// Heads an agent may send at once, then [`HEADS_RATE`] a second (it sends at most 5).
const HEADS_BURST: u32 = 20;
const HEADS_RATE: f64 = 10.0;

/// The listening end of a link, handed to the task that holds the dialling end.
pub type ListenEnd = (Box<dyn AsyncBufRead + Unpin + Send>, OwnedWriteHalf);

/// One running peer.
struct Peer {
    learner: u32,
    heads: BTreeMap<String, u64>,
    slots: Vec<Option<u32>>,
    to_agent: mpsc::UnboundedSender<ToAgent>,
    session: u64,
}

/// A link: `dialler` dials `listener` through the room.
pub struct Link {
    pub id: u32,
    pub dialler: u32,
    pub listener: u32,
    /// Why it is cut (the teacher, or garbage from one side); `None`: open.
    pub cut: Option<String>,
    /// Protocol lines that crossed it.
    pub lines: u64,
    /// The last one: who sent it, and what it was.
    pub last: Option<(u32, String)>,
    /// Tells the relays on it to close (true) when it is cut or removed.
    pub closing: watch::Sender<bool>,
    /// A dialling end waiting for its listening end.
    pub waiting: Option<oneshot::Sender<ListenEnd>>,
}

/// A "type one entry each" round.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub number: u32,
    #[serde(skip)]
    started: Instant,
    /// Entries every peer must hold for the round to be over.
    target: u64,
    pub converged_ms: Option<u128>,
}

/// The mesh of the live exercise.
pub struct Mesh {
    pub exercise: Option<u32>,
    pub topology: Topology,
    seed: u64,
    peers: Vec<Peer>,
    pub links: BTreeMap<u32, Link>,
    next_link: u32,
    next_session: u64,
    pub round: Option<Round>,
    /// Learners whose peer broke the protocol: left out of rounds until they start again.
    named: std::collections::BTreeSet<u32>,
}

impl Mesh {
    pub fn new(topology: Topology, seed: u64) -> Mesh {
        Mesh {
            exercise: None,
            topology,
            seed,
            peers: Vec::new(),
            links: BTreeMap::new(),
            next_link: 1,
            next_session: 1,
            round: None,
            named: std::collections::BTreeSet::new(),
        }
    }

    /// Leaves a learner's peer out of rounds: it broke the protocol.
    pub fn name(&mut self, learner: u32) {
        self.named.insert(learner);
    }

    /// The peers a round counts on.
    fn in_rounds(&self) -> impl Iterator<Item = &Peer> {
        self.peers.iter().filter(|p| !self.named.contains(&p.learner))
    }

    /// A learner's peer comes in (replacing an earlier one of the same learner).
    fn add(
        &mut self,
        learner: u32,
        exercise: u32,
        to_agent: mpsc::UnboundedSender<ToAgent>,
    ) -> Result<u64, Refusal> {
        match self.exercise {
            Some(live) if live != exercise && !self.peers.is_empty() => {
                return Err(format!("the room's live exercise is {live:02}, not {exercise:02}").into());
            }
            _ => self.exercise = Some(exercise),
        }
        let session = self.next_session;
        self.next_session += 1;
        let peer = Peer {
            learner,
            heads: BTreeMap::new(),
            slots: vec![None; DIAL_SLOTS],
            to_agent,
            session,
        };
        self.named.remove(&learner);
        match self.peers.iter_mut().find(|p| p.learner == learner) {
            Some(old) => *old = peer,
            None => self.peers.push(peer),
        }
        self.arrange();
        Ok(session)
    }

    /// A peer leaves (its agent's connection ended), unless a newer one replaced it.
    fn remove(&mut self, learner: u32, session: u64) {
        let before = self.peers.len();
        self.peers
            .retain(|p| !(p.learner == learner && p.session == session));
        if self.peers.len() != before {
            self.arrange();
        }
    }

    /// Chooses another topology.
    pub fn set_topology(&mut self, topology: Topology) {
        self.topology = topology;
        self.arrange();
    }

    /// Lays out the links for the current peers and topology, keeping the links that
    /// stay (and whether they are cut), and tells every agent whose slots changed.
    fn arrange(&mut self) {
        let order: Vec<u32> = self.peers.iter().map(|p| p.learner).collect();
        let wanted = topology::links(self.topology, &order, self.seed);
        self.links.retain(|_, link| {
            let keep = wanted.contains(&(link.dialler, link.listener));
            if !keep {
                link.closing.send_replace(true);
            }
            keep
        });
        for (dialler, listener) in wanted {
            if !self
                .links
                .values()
                .any(|l| (l.dialler, l.listener) == (dialler, listener))
            {
                let id = self.next_link;
                self.next_link += 1;
                self.links.insert(
                    id,
                    Link {
                        id,
                        dialler,
                        listener,
                        cut: None,
                        lines: 0,
                        last: None,
                        closing: watch::channel(false).0,
                        waiting: None,
                    },
                );
            }
        }
        for peer in &mut self.peers {
            let mut slots: Vec<Option<u32>> = self
                .links
                .values()
                .filter(|l| l.dialler == peer.learner)
                .map(|l| Some(l.id))
                .take(DIAL_SLOTS)
                .collect();
            slots.resize(DIAL_SLOTS, None);
            if slots != peer.slots {
                peer.slots = slots.clone();
                let _ = peer.to_agent.send(ToAgent::Slots { links: slots });
            }
        }
    }

    /// Cuts a link (its relays close, new ones are refused) or heals it.
    pub fn set_cut(&mut self, link: u32, why: Option<String>) -> Result<(), Refusal> {
        let link = self
            .links
            .get_mut(&link)
            .ok_or(Refusal(format!("there is no link {link}")))?;
        if why.is_some() {
            link.closing.send_replace(true);
        } else {
            link.closing = watch::channel(false).0;
        }
        link.cut = why;
        Ok(())
    }

    /// Asks the listening peer of `link` to open its end.
    pub fn ask_open(&self, link: u32) {
        if let Some(listener) = self.links.get(&link).map(|l| l.listener)
            && let Some(peer) = self.peers.iter().find(|p| p.learner == listener)
        {
            let _ = peer.to_agent.send(ToAgent::Open { link });
        }
    }

    /// Starts a round: every peer is asked to write one entry.
    pub fn start_round(&mut self, names: &BTreeMap<u32, String>) -> Result<u32, Refusal> {
        let counted = self.in_rounds().count() as u64;
        if counted == 0 {
            return Err("no peer is running".into());
        }
        let number = self.round.as_ref().map_or(1, |r| r.number + 1);
        let most = self.in_rounds().map(|p| held(&p.heads)).max().unwrap_or(0);
        for peer in self.in_rounds() {
            let name = names.get(&peer.learner).map_or("?", String::as_str);
            let _ = peer.to_agent.send(ToAgent::Type {
                text: format!("round {number}: hello from {name}"),
            });
        }
        self.round = Some(Round {
            number,
            started: Instant::now(),
            target: most + counted,
            converged_ms: None,
        });
        Ok(number)
    }

    /// Records a peer's heads, and the end of a round if this makes it converge.
    fn set_heads(&mut self, learner: u32, heads: BTreeMap<String, u64>) {
        if let Some(peer) = self.peers.iter_mut().find(|p| p.learner == learner) {
            peer.heads = heads;
        }
        let converged = self.round.as_ref().is_some_and(|round| {
            let mut counted = self.in_rounds();
            round.converged_ms.is_none()
                && counted.next().is_some_and(|first| {
                    held(&first.heads) >= round.target && counted.all(|p| p.heads == first.heads)
                })
        });
        if converged && let Some(round) = self.round.as_mut() {
            round.converged_ms = Some(round.started.elapsed().as_millis());
        }
    }

    /// The learners with a running peer, and their heads, in joining order.
    pub fn peers(&self) -> impl Iterator<Item = (u32, &BTreeMap<String, u64>)> {
        self.peers.iter().map(|p| (p.learner, &p.heads))
    }
}

/// How many entries heads say a peer holds.
fn held(heads: &BTreeMap<String, u64>) -> u64 {
    heads.values().sum()
}

/// Serves one agent: tells it its links while it is connected, takes its heads.
pub async fn serve_agent<R: AsyncBufRead + Unpin>(
    learner: u32,
    exercise: u32,
    mut reader: R,
    mut write: OwnedWriteHalf,
    shared: Shared,
) {
    let (to_agent, mut instructions) = mpsc::unbounded_channel();
    let added = shared.lock().mesh.add(learner, exercise, to_agent);
    let session = match added {
        Ok(session) => session,
        Err(refusal) => {
            send(&mut write, &line(&Reply::from(refusal))).await;
            return;
        }
    };
    let mut bucket = Bucket::new(HEADS_BURST, HEADS_RATE, std::time::Instant::now());
    if send(&mut write, &line(&Reply::Ok)).await {
        loop {
            tokio::select! {
                instruction = instructions.recv() => {
                    let Some(instruction) = instruction else { break };
                    if !send(&mut write, &line(&instruction)).await {
                        break;
                    }
                }
                read = read_line(&mut reader, MAX_LINE * 16, None) => {
                    let Read::Line(raw) = read else { break };
                    let refusal = match parse::<FromAgent>(&raw) {
                        _ if !bucket.take(std::time::Instant::now()) => {
                            format!("too many messages from your agent: at most {HEADS_BURST} at once, then {HEADS_RATE} a second")
                        }
                        Ok(FromAgent::Heads { heads }) if heads.len() <= MAX_HEADS => {
                            shared.lock().mesh.set_heads(learner, heads);
                            continue;
                        }
                        Ok(FromAgent::Heads { .. }) => format!("heads of more than {MAX_HEADS} logs"),
                        Err(refusal) => refusal.0,
                    };
                    send(&mut write, &line(&Reply::Refused { reason: refusal })).await;
                    break;
                }
            }
        }
    }
    shared.lock().mesh.remove(learner, session);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mesh and the instructions each agent received.
    fn mesh_of(learners: &[u32], topology: Topology) -> (Mesh, Vec<mpsc::UnboundedReceiver<ToAgent>>) {
        let mut mesh = Mesh::new(topology, 1);
        let mut agents = Vec::new();
        for learner in learners {
            let (tx, rx) = mpsc::unbounded_channel();
            assert!(mesh.add(*learner, 4, tx).is_ok());
            agents.push(rx);
        }
        (mesh, agents)
    }

    fn pairs(mesh: &Mesh) -> Vec<(u32, u32)> {
        mesh.links.values().map(|l| (l.dialler, l.listener)).collect()
    }

    fn last_slots(agent: &mut mpsc::UnboundedReceiver<ToAgent>) -> Option<Vec<Option<u32>>> {
        let mut last = None;
        while let Ok(instruction) = agent.try_recv() {
            if let ToAgent::Slots { links } = instruction {
                last = Some(links);
            }
        }
        last
    }

    #[test]
    fn a_late_joiner_slots_in_and_links_that_stay_keep_their_number_and_cut() {
        let (mut mesh, mut agents) = mesh_of(&[1, 2, 3], Topology::Ring);
        assert_eq!(pairs(&mesh), [(1, 2), (2, 3), (3, 1)]);
        let first = mesh.links.keys().next().copied().unwrap_or_default();
        assert!(mesh.set_cut(first, Some("cut by the teacher".into())).is_ok());
        for agent in &mut agents {
            last_slots(agent);
        }
        let (tx, _four) = mpsc::unbounded_channel();
        assert!(mesh.add(4, 4, tx).is_ok());
        assert_eq!(pairs(&mesh), [(1, 2), (2, 3), (3, 4), (4, 1)]);
        assert_eq!(
            mesh.links.get(&first).map(|l| l.cut.is_some()),
            Some(true),
            "1→2 is still cut"
        );
        assert_eq!(
            last_slots(&mut agents[0]),
            None,
            "peer 1 still dials the same link"
        );
        let three_to_four = mesh
            .links
            .values()
            .find(|l| (l.dialler, l.listener) == (3, 4))
            .map(|l| l.id);
        let mut expected = vec![three_to_four];
        expected.resize(DIAL_SLOTS, None);
        assert_eq!(
            last_slots(&mut agents[2]),
            Some(expected),
            "peer 3 now dials the newcomer"
        );
        assert!(mesh.set_cut(first, None).is_ok());
        assert_eq!(mesh.links.get(&first).and_then(|l| l.cut.clone()), None);
        assert_eq!(mesh.set_cut(99, None), Err("there is no link 99".into()));
    }

    #[test]
    fn another_exercise_is_refused_and_a_peer_that_leaves_takes_its_links() {
        let (mut mesh, _agents) = mesh_of(&[1, 2, 3], Topology::Tree);
        let (tx, _rx) = mpsc::unbounded_channel();
        assert_eq!(
            mesh.add(5, 6, tx),
            Err("the room's live exercise is 04, not 06".into())
        );
        let session_of_3 = mesh
            .peers
            .iter()
            .find(|p| p.learner == 3)
            .map(|p| p.session)
            .unwrap_or_default();
        mesh.remove(3, session_of_3 + 100);
        assert_eq!(
            mesh.peers().count(),
            3,
            "an older session does not remove a newer peer"
        );
        mesh.remove(3, session_of_3);
        assert_eq!(pairs(&mesh), [(2, 1)]);
    }

    #[test]
    fn a_round_converges_when_every_counted_peer_holds_everything() {
        let (mut mesh, mut agents) = mesh_of(&[1, 2, 3], Topology::Ring);
        let names = BTreeMap::from([
            (1, "ada".to_string()),
            (2, "bob".to_string()),
            (3, "cy".to_string()),
        ]);
        mesh.name(3); // cy's peer sent garbage: left out.
        assert_eq!(mesh.start_round(&names), Ok(1));
        let typed: Vec<bool> = agents
            .iter_mut()
            .map(|a| std::iter::from_fn(|| a.try_recv().ok()).any(|i| matches!(i, ToAgent::Type { .. })))
            .collect();
        assert_eq!(typed, [true, true, false]);
        let both = BTreeMap::from([("a".to_string(), 1), ("b".to_string(), 1)]);
        mesh.set_heads(1, both.clone());
        mesh.set_heads(2, BTreeMap::from([("b".to_string(), 1)]));
        assert_eq!(
            mesh.round.as_ref().and_then(|r| r.converged_ms),
            None,
            "bob lacks ada's entry"
        );
        mesh.set_heads(2, both);
        assert!(mesh.round.as_ref().and_then(|r| r.converged_ms).is_some());
    }
}
