//! Who is in the room and what each learner reported: the room's memory, as plain
//! logic with the clock passed in, so every rule (codes, tokens, replays, floods) is
//! tested without a socket.
//!
//! Every rule keeps learners apart: a message changes only the record of the learner
//! whose token signed it, and the only way to get a token is the join code.

use super::limiter::Bucket;
use super::protocol::{Act, MAX_NAME, Refusal, Report, Signed, Verdict};
use super::secrets;
use crate::course::COURSE;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::time::Instant;

/// Most learners in one room.
pub const MAX_LEARNERS: usize = 200;
/// Messages a learner may send at once, then [`LEARNER_RATE`] a second.
const LEARNER_BURST: u32 = 10;
const LEARNER_RATE: f64 = 1.0;
/// Relay connections a learner's peer may open at once, then [`RELAY_RATE`] a second
/// (a peer dials again whenever a link drops).
const RELAY_BURST: u32 = 60;
const RELAY_RATE: f64 = 10.0;
/// Wrong join codes an address may send at once, then one every 10 s: a join code is
/// short, so guessing it must be slow. (Right codes are not counted: a class behind
/// one NAT address joins at once.)
const JOIN_BURST: u32 = 5;
const JOIN_RATE: f64 = 0.1;
/// Nonces remembered per learner (a replay older than that is refused by the MAC's
/// owner having moved on: old nonces are dropped first).
const NONCES_KEPT: usize = 10_000;

/// One learner's record.
#[derive(Debug)]
pub struct Learner {
    pub id: u32,
    pub name: String,
    token: String,
    nonces: HashSet<u64>,
    nonce_order: VecDeque<u64>,
    bucket: Bucket,
    relay_bucket: Bucket,
    /// The last report of each exercise.
    pub reports: BTreeMap<u32, Report>,
    /// The latest report, whatever its exercise.
    pub last: Option<Report>,
    /// Why the room cut this learner's peer, if it did (garbage on a link).
    pub named: Option<String>,
}

impl Learner {
    /// The highest exercise this learner passed.
    pub fn furthest(&self) -> Option<u32> {
        self.reports
            .values()
            .filter(|r| r.verdict == Verdict::Passed)
            .map(|r| r.exercise)
            .max()
    }
}

/// The room's memory of its learners.
#[derive(Debug)]
pub struct Roster {
    code: String,
    learners: Vec<Learner>,
    joins: HashMap<IpAddr, Bucket>,
}

impl Roster {
    pub fn new(code: String) -> Roster {
        Roster {
            code,
            learners: Vec::new(),
            joins: HashMap::new(),
        }
    }

    pub fn learners(&self) -> &[Learner] {
        &self.learners
    }

    pub fn learner(&self, id: u32) -> Option<&Learner> {
        self.learners.iter().find(|l| l.id == id)
    }

    pub fn learner_mut(&mut self, id: u32) -> Option<&mut Learner> {
        self.learners.iter_mut().find(|l| l.id == id)
    }

    /// A learner joins (or joins again with their token): their number and token.
    pub fn join(
        &mut self,
        from: IpAddr,
        code: &str,
        name: &str,
        token: Option<&str>,
        now: Instant,
    ) -> Result<(u32, String, String), Refusal> {
        let bucket = self
            .joins
            .entry(from)
            .or_insert_with(|| Bucket::new(JOIN_BURST, JOIN_RATE, now));
        if !bucket.allows(now) {
            return Err(format!(
                "too many wrong codes from your address: try again in {} s",
                bucket.wait().as_secs() + 1
            )
            .into());
        }
        if !code.trim().eq_ignore_ascii_case(&self.code) {
            bucket.take(now);
            return Err("wrong join code: check the code the teacher shows".into());
        }
        let name = clean_name(name)?;
        if let Some(token) = token {
            let Some(learner) = self
                .learners
                .iter_mut()
                .find(|l| secrets::same_mac(&l.token, token))
            else {
                return Err(
                    "this room does not know your token (was it started again?): join with --new".into(),
                );
            };
            learner.name = name;
            return Ok((learner.id, learner.token.clone(), learner.name.clone()));
        }
        if self.learners.len() >= MAX_LEARNERS {
            return Err(format!("the room is full ({MAX_LEARNERS} learners)").into());
        }
        let taken = |n: &str| self.learners.iter().any(|l| l.name == n);
        let mut unique = name.clone();
        let mut n = 2;
        while taken(&unique) {
            unique = format!("{name}-{n}");
            n += 1;
        }
        let token = secrets::token().map_err(|e| Refusal(format!("the room cannot make a token: {e}")))?;
        let id = u32::try_from(self.learners.len() + 1).unwrap_or(u32::MAX);
        self.learners.push(Learner {
            id,
            name: unique.clone(),
            token: token.clone(),
            nonces: HashSet::new(),
            nonce_order: VecDeque::new(),
            bucket: Bucket::new(LEARNER_BURST, LEARNER_RATE, now),
            relay_bucket: Bucket::new(RELAY_BURST, RELAY_RATE, now),
            reports: BTreeMap::new(),
            last: None,
            named: None,
        });
        Ok((id, token, unique))
    }

    /// Checks a signed message: a known learner, the right MAC, a nonce not seen
    /// before, within the learner's rate. Returns the learner's number.
    pub fn admit(&mut self, signed: &Signed, now: Instant) -> Result<u32, Refusal> {
        let unknown = "unknown or wrong token: this room does not know you (join it with `room join`)";
        let Some(learner) = self.learner_mut(signed.learner) else {
            return Err(unknown.into());
        };
        if !signed.verifies(&learner.token) {
            return Err(unknown.into());
        }
        if learner.nonces.contains(&signed.nonce) {
            return Err("a replayed message (this exact message was received before): refused".into());
        }
        let within_rate = match signed.act {
            Act::Relay { .. } => learner.relay_bucket.take(now),
            Act::Report(_) | Act::Peer { .. } => learner.bucket.take(now),
        };
        if !within_rate {
            return Err(format!(
                "too many messages from you: at most {LEARNER_BURST} at once, then {LEARNER_RATE} a second \
                 ({RELAY_BURST} and {RELAY_RATE} for a peer's connections)"
            )
            .into());
        }
        learner.nonces.insert(signed.nonce);
        learner.nonce_order.push_back(signed.nonce);
        if learner.nonce_order.len() > NONCES_KEPT
            && let Some(old) = learner.nonce_order.pop_front()
        {
            learner.nonces.remove(&old);
        }
        Ok(learner.id)
    }

    /// Records a report of learner `id` (already admitted).
    pub fn report(&mut self, id: u32, report: Report) -> Result<(), Refusal> {
        if !COURSE.iter().any(|e| e.number == report.exercise) {
            return Err(format!("there is no exercise {}", report.exercise).into());
        }
        if report.passed > report.total || report.total > 1000 {
            return Err(format!("{} of {} checks makes no sense", report.passed, report.total).into());
        }
        let learner = self.learner_mut(id).ok_or(Refusal::from("unknown learner"))?;
        learner.reports.insert(report.exercise, report.clone());
        learner.last = Some(report);
        Ok(())
    }
}

/// A name as the board shows it: printable, trimmed, not empty, not too long.
fn clean_name(name: &str) -> Result<String, Refusal> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() {
        return Err("a name is required (--name)".into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("a name of at most {MAX_NAME} characters, please").into());
    }
    Ok(name)
}

/// What the board shows of a learner.
#[derive(Debug, Serialize)]
pub struct LearnerView {
    pub id: u32,
    pub name: String,
    pub furthest: Option<u32>,
    pub last: Option<Report>,
    pub named: Option<String>,
}

impl Learner {
    pub fn view(&self) -> LearnerView {
        LearnerView {
            id: self.id,
            name: self.name.clone(),
            furthest: self.furthest(),
            last: self.last.clone(),
            named: self.named.clone(),
        }
    }
}

/// The class histogram: per exercise, how many learners passed it and how many tried it
/// without passing (yet).
pub fn histogram(learners: &[Learner]) -> BTreeMap<u32, (usize, usize)> {
    let mut counts: BTreeMap<u32, (usize, usize)> = COURSE.iter().map(|e| (e.number, (0, 0))).collect();
    for learner in learners {
        for report in learner.reports.values() {
            if let Some(count) = counts.get_mut(&report.exercise) {
                match report.verdict {
                    Verdict::Passed => count.0 += 1,
                    _ => count.1 += 1,
                }
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn report(exercise: u32, verdict: Verdict) -> Report {
        Report {
            exercise,
            verdict,
            passed: 1,
            total: 2,
            seed: 9,
        }
    }

    #[test]
    fn a_wrong_code_is_refused_and_guessing_is_slow() {
        let now = Instant::now();
        let mut roster = Roster::new("ABCDEF".into());
        let refused = roster.join(HOME, "ABCDEX", "ada", None, now);
        assert_eq!(
            refused,
            Err("wrong join code: check the code the teacher shows".into())
        );
        for _ in 0..JOIN_BURST {
            let _ = roster.join(HOME, "WRONG1", "ada", None, now);
        }
        let slowed = roster.join(HOME, "ABCDEF", "ada", None, now);
        assert!(slowed.is_err_and(|e| e.0.starts_with("too many wrong codes")));
    }

    #[test]
    fn a_class_behind_one_address_joins_at_once() {
        let now = Instant::now();
        let mut roster = Roster::new("ABCDEF".into());
        let joined = (0..60).filter(|n| roster.join(HOME, "ABCDEF", &format!("l{n}"), None, now).is_ok());
        assert_eq!(joined.count(), 60);
    }

    #[test]
    fn joining_again_with_the_token_keeps_the_identity() -> Result<(), Refusal> {
        let now = Instant::now();
        let mut roster = Roster::new("ABCDEF".into());
        let (id, token, _) = roster.join(HOME, "abcdef", "ada", None, now)?;
        let (other, _, name) = roster.join(HOME, "ABCDEF", "ada", None, now)?;
        assert_ne!(id, other);
        assert_eq!(name, "ada-2", "two learners never share a name on the board");
        let (again, token_again, _) = roster.join(HOME, "ABCDEF", "Ada L.", Some(&token), now)?;
        assert_eq!((again, token_again), (id, token));
        assert_eq!(roster.learner(id).map(|l| l.name.as_str()), Some("Ada L."));
        let unknown = roster.join(HOME, "ABCDEF", "eve", Some("0123"), now);
        assert!(unknown.is_err_and(|e| e.0.contains("does not know your token")));
        Ok(())
    }

    #[test]
    fn a_report_changes_only_its_signers_record() -> anyhow::Result<()> {
        let now = Instant::now();
        let mut roster = Roster::new("ABCDEF".into());
        let (ada, ada_token, _) = roster
            .join(HOME, "ABCDEF", "ada", None, now)
            .map_err(|r| anyhow::anyhow!("{r}"))?;
        let (bob, _, _) = roster
            .join(HOME, "ABCDEF", "bob", None, now)
            .map_err(|r| anyhow::anyhow!("{r}"))?;
        // Ada signs a message that claims to be Bob's: refused.
        let mut forged = Signed::new(ada, &ada_token, Act::Report(report(1, Verdict::Passed)))?;
        forged.learner = bob;
        assert!(
            roster
                .admit(&forged, now)
                .is_err_and(|e| e.0.starts_with("unknown or wrong token"))
        );
        let signed = Signed::new(ada, &ada_token, Act::Report(report(2, Verdict::Passed)))?;
        let id = roster.admit(&signed, now).map_err(|r| anyhow::anyhow!("{r}"))?;
        roster
            .report(id, report(2, Verdict::Passed))
            .map_err(|r| anyhow::anyhow!("{r}"))?;
        assert_eq!(roster.learner(ada).and_then(Learner::furthest), Some(2));
        assert_eq!(roster.learner(bob).and_then(|l| l.last.clone()), None);
        let replay = roster.admit(&signed, now);
        assert!(replay.is_err_and(|e| e.0.starts_with("a replayed message")));
        Ok(())
    }

    #[test]
    fn a_flood_is_refused() -> anyhow::Result<()> {
        let now = Instant::now();
        let mut roster = Roster::new("ABCDEF".into());
        let (ada, token, _) = roster
            .join(HOME, "ABCDEF", "ada", None, now)
            .map_err(|r| anyhow::anyhow!("{r}"))?;
        let results: Vec<bool> = (0..LEARNER_BURST + 5)
            .map(|_| {
                Signed::new(ada, &token, Act::Peer { exercise: 4 }).map(|s| roster.admit(&s, now).is_ok())
            })
            .collect::<anyhow::Result<_>>()?;
        assert_eq!(results.iter().filter(|ok| **ok).count(), LEARNER_BURST as usize);
        Ok(())
    }

    #[test]
    fn reports_are_validated_and_counted() -> Result<(), Refusal> {
        let now = Instant::now();
        let mut roster = Roster::new("ABCDEF".into());
        let (ada, _, _) = roster.join(HOME, "ABCDEF", "ada", None, now)?;
        assert!(roster.report(ada, report(99, Verdict::Passed)).is_err());
        let mut wrong = report(1, Verdict::Passed);
        wrong.passed = 3;
        assert!(roster.report(ada, wrong).is_err());
        roster.report(ada, report(1, Verdict::Passed))?;
        roster.report(ada, report(2, Verdict::Failed))?;
        let counts = histogram(roster.learners());
        assert_eq!(counts.get(&1), Some(&(1, 0)));
        assert_eq!(counts.get(&2), Some(&(0, 1)));
        Ok(())
    }
}
