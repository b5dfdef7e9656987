//! The protocol merkle-dag/1 as the verifier sees it: messages decoded from the
//! relay, shown with placeholders, and judged one direction at a time.
//!
//! [`parse`]'s and [`judge`]'s `Err(String)` say how the learner's program broke the
//! protocol, for a `Failure`; they are plain messages on purpose, not harness errors.

use super::dag::{Node, key_of, signed_by};
use crate::harness::duplex::Direction;
use crate::harness::redact::{Redactor, placeholder_number};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};

/// The highest seq a side holds of a log, and that node's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tip {
    pub seq: u64,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Message {
    Have { logs: BTreeMap<String, Tip> },
    Want { logs: BTreeMap<String, u64> },
    Node(Node),
    Done { sent: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Message(Message),
    Garbled { text: String, why: String },
}

pub fn decode(raw: &[u8]) -> Line {
    match serde_json::from_slice::<Message>(raw) {
        Ok(message) => Line::Message(message),
        Err(e) => Line::Garbled {
            text: crate::harness::records::shorten(String::from_utf8_lossy(raw).trim_end(), 100),
            why: e.to_string(),
        },
    }
}

/// `{"type":"have","logs":{…}}` from (log, seq, key) triples.
pub fn have(logs: &[(&str, u64, &str)]) -> String {
    let logs: serde_json::Map<String, serde_json::Value> = logs
        .iter()
        .map(|(log, seq, key)| (log.to_string(), json!({"seq": seq, "key": key})))
        .collect();
    json!({"type": "have", "logs": logs}).to_string()
}

pub fn want(logs: &[(&str, u64)]) -> String {
    let logs: serde_json::Map<String, serde_json::Value> = logs
        .iter()
        .map(|(log, seq)| (log.to_string(), json!(seq)))
        .collect();
    json!({"type": "want", "logs": logs}).to_string()
}

pub fn node(node: &Node) -> String {
    let mut value = json!(node);
    if let Some(object) = value.as_object_mut() {
        let mut tagged = serde_json::Map::new();
        tagged.insert("type".into(), json!("node"));
        tagged.extend(std::mem::take(object));
        *object = tagged;
    }
    value.to_string()
}

pub fn done(sent: u64) -> String {
    json!({"type": "done", "sent": sent}).to_string()
}

impl Line {
    /// The line for a transcript: `node <node#3, [node#1], "x", log#1, 2>`.
    pub fn show(&self, r: &mut Redactor) -> String {
        match self {
            Line::Message(Message::Have { logs }) => {
                let mut shown: Vec<(u64, String)> = logs
                    .iter()
                    .map(|(log, tip)| {
                        let log = r.placeholder("log", log);
                        let key = r.placeholder("node", &tip.key);
                        (placeholder_number(&log), format!("{log}: {} {key}", tip.seq))
                    })
                    .collect();
                shown.sort();
                let shown: Vec<String> = shown.into_iter().map(|(_, s)| s).collect();
                format!("have {{{}}}", shown.join(", "))
            }
            Line::Message(Message::Want { logs }) => {
                let mut shown: Vec<(u64, String)> = logs
                    .iter()
                    .map(|(log, seq)| {
                        let log = r.placeholder("log", log);
                        (placeholder_number(&log), format!("{log}: {seq}"))
                    })
                    .collect();
                shown.sort();
                let shown: Vec<String> = shown.into_iter().map(|(_, s)| s).collect();
                format!("want {{{}}}", shown.join(", "))
            }
            Line::Message(Message::Node(node)) => show_node(node, r),
            Line::Message(Message::Done { sent }) => format!("done ({sent} sent)"),
            Line::Garbled { text, why } => format!("not a message: {text}  ({why})"),
        }
    }
}

pub fn show_node(node: &Node, r: &mut Redactor) -> String {
    let key = r.placeholder("node", &node.key);
    let mut links: Vec<String> = node.links.iter().map(|l| r.placeholder("node", l)).collect();
    links.sort_by_key(|l| placeholder_number(l));
    let log = r.placeholder("log", &node.log);
    format!(
        "node <{key}, [{}], {}, {log}, {}>",
        links.join(", "),
        serde_json::Value::from(node.value.as_str()),
        node.seq
    )
}

/// One direction's lines in a stable order: have, want, nodes by log and seq,
/// done, then anything garbled. (Valid senders may order independent nodes
/// differently; the transcript must not care. The order itself is judged.)
pub fn shown(lines: &[(Direction, Line)], r: &mut Redactor) -> Vec<String> {
    let mut out = Vec::new();
    for direction in [Direction::AtoB, Direction::BtoA] {
        let mut keyed: Vec<((u8, u64, u64, usize), String)> = Vec::new();
        for (index, (_, line)) in lines.iter().enumerate().filter(|(_, (d, _))| *d == direction) {
            let key = match line {
                Line::Message(Message::Have { .. }) => (0, 0, 0, index),
                Line::Message(Message::Want { .. }) => (1, 0, 0, index),
                Line::Message(Message::Node(node)) => (
                    2,
                    placeholder_number(&r.placeholder("log", &node.log)),
                    node.seq,
                    index,
                ),
                Line::Message(Message::Done { .. }) => (3, 0, 0, index),
                Line::Garbled { .. } => (4, 0, 0, index),
            };
            keyed.push((key, format!("{}  {}", direction.arrow(), line.show(r))));
        }
        keyed.sort_by_key(|x| x.0);
        out.extend(keyed.into_iter().map(|(_, s)| s));
    }
    out
}

/// What one side sent in a session, in order, split by message type.
pub struct Sent {
    pub have: BTreeMap<String, Tip>,
    pub want: BTreeMap<String, u64>,
    pub nodes: Vec<Node>,
    pub done: Option<u64>,
}

/// Reads one direction's lines against the order of the protocol: one `have`,
/// one `want`, nodes, one `done`, nothing after.
pub fn parse(lines: &[&Line]) -> Result<Sent, String> {
    let mut sent = Sent {
        have: BTreeMap::new(),
        want: BTreeMap::new(),
        nodes: Vec::new(),
        done: None,
    };
    for (index, line) in lines.iter().enumerate() {
        let message = match line {
            Line::Garbled { text, why } => {
                return Err(format!("it sent a line that is not a message: {text} ({why})"));
            }
            Line::Message(message) => message,
        };
        if sent.done.is_some() {
            return Err("it sent a message after `done`".into());
        }
        match (index, message) {
            (0, Message::Have { logs }) => sent.have = logs.clone(),
            (0, _) => return Err("its first message is not `have`".into()),
            (1, Message::Want { logs }) => sent.want = logs.clone(),
            (1, _) => return Err("its second message is not `want`".into()),
            (_, Message::Node(node)) => sent.nodes.push(node.clone()),
            (_, Message::Done { sent: n }) => sent.done = Some(*n),
            (_, _) => return Err("it sent a second `have` or `want`".into()),
        }
    }
    if lines.is_empty() {
        return Err("it sent nothing at all".into());
    }
    Ok(sent)
}

/// The `want` a side should send, given both `have`s.
pub fn expected_want(mine: &BTreeMap<String, Tip>, theirs: &BTreeMap<String, Tip>) -> BTreeMap<String, u64> {
    theirs
        .iter()
        .filter_map(|(log, tip)| {
            let held = mine.get(log).map_or(0, |t| t.seq);
            (tip.seq > held).then(|| (log.clone(), held))
        })
        .collect()
}

/// Judges what `sender` sent to `receiver` in a clean session: the right want,
/// exactly the wanted nodes, each correctly keyed and signed, parents before
/// children, and a `done` that counts them.
pub fn judge(sender: &Sent, receiver: &Sent, r: &mut Redactor) -> Result<(), String> {
    let want = expected_want(&sender.have, &receiver.have);
    if sender.want != want {
        return Err(format!(
            "its `want` asks for {}, but from the two `have`s it lacks exactly {}",
            show_want(&sender.want, r),
            show_want(&want, r)
        ));
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut wanted: BTreeMap<&str, u64> = BTreeMap::new();
    let mut last_sent: BTreeMap<&str, &str> = BTreeMap::new();
    for node in &sender.nodes {
        let shown = show_node(node, r);
        if key_of(
            &node.log,
            node.seq,
            node.previous.as_deref(),
            &node.links,
            &node.value,
        ) != node.key
        {
            return Err(format!(
                "it sent {shown}, whose key is not the SHA-256 of its content as the text defines it"
            ));
        }
        if !signed_by(&node.log, &node.key, &node.sig) {
            return Err(format!("it sent {shown} with a signature its log did not make"));
        }
        let Some(after) = receiver.want.get(&node.log) else {
            return Err(format!("it sent {shown}, of a log the other side did not want"));
        };
        let upto = sender.have.get(&node.log).map_or(0, |t| t.seq);
        if node.seq <= *after || node.seq > upto {
            return Err(format!(
                "it sent {shown}: the other side wanted that log after #{after}, and it offered up to #{upto}"
            ));
        }
        if !seen.insert(&node.key) {
            return Err(format!("it sent {shown} twice"));
        }
        let previous = wanted.entry(&node.log).or_insert(*after);
        if node.seq != *previous + 1 {
            return Err(format!(
                "it sent {shown} before node #{} of that log: a log's nodes go in seq order",
                *previous + 1
            ));
        }
        *previous = node.seq;
        let below = last_sent.insert(&node.log, &node.key).or_else(|| {
            let tip = receiver.have.get(&node.log)?;
            (tip.seq + 1 == node.seq).then_some(tip.key.as_str())
        });
        if below.is_some() && node.previous.as_deref() != below {
            return Err(format!(
                "it sent {shown}, whose previous key is not the key of node #{} of its log",
                node.seq - 1
            ));
        }
        let sent_later = sender.nodes.iter().skip_while(|n| n.key != node.key).skip(1);
        for later in sent_later {
            if node.links.contains(&later.key) {
                let parent = show_node(later, r);
                return Err(format!(
                    "it sent {shown} before its parent {parent}: parents go first"
                ));
            }
        }
    }
    for (log, after) in &receiver.want {
        let upto = sender.have.get(log).map_or(0, |t| t.seq);
        let sent_up_to = wanted.get(log.as_str()).copied().unwrap_or(*after);
        if sent_up_to < upto {
            let log = r.placeholder("log", log);
            return Err(format!(
                "the other side wanted {log} after #{after}, it offered up to #{upto}, but it sent only up to #{sent_up_to}"
            ));
        }
    }
    match sender.done {
        None => Err("it never sent `done`".into()),
        Some(n) if n != sender.nodes.len() as u64 => Err(format!(
            "its `done` says {n} nodes were sent, but {} were",
            sender.nodes.len()
        )),
        Some(_) => Ok(()),
    }
}

fn show_want(want: &BTreeMap<String, u64>, r: &mut Redactor) -> String {
    Line::Message(Message::Want { logs: want.clone() })
        .show(r)
        .trim_start_matches("want ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::super::dag::Author;
    use super::*;

    fn lines(raw: &[String]) -> Vec<Line> {
        raw.iter().map(|l| decode(l.as_bytes())).collect()
    }

    fn sent(raw: &[String]) -> Result<Sent, String> {
        let lines = lines(raw);
        parse(&lines.iter().collect::<Vec<_>>())
    }

    #[test]
    fn judges_a_session_and_names_each_fault() -> Result<(), String> {
        let v = Author::new(3);
        let chain = v.chain(3, "v");
        let log = v.log();
        let full = have(&[(&log, 3, &chain[2].key)]);
        let receiver = sent(&[have(&[]), want(&[(&log, 0)]), done(0)])?;
        let mut r = Redactor::new();
        let good: Vec<String> = [full.clone(), want(&[])]
            .into_iter()
            .chain(chain.iter().map(node))
            .chain([done(3)])
            .collect();
        judge(&sent(&good)?, &receiver, &mut r)?;
        let reordered = [
            full.clone(),
            want(&[]),
            node(&chain[1]),
            node(&chain[0]),
            node(&chain[2]),
            done(3),
        ];
        assert!(
            judge(&sent(&reordered)?, &receiver, &mut r)
                .unwrap_err()
                .contains("before node #1")
        );
        let short = [full.clone(), want(&[]), node(&chain[0]), done(1)];
        assert!(
            judge(&sent(&short)?, &receiver, &mut r)
                .unwrap_err()
                .contains("only up to #1")
        );
        let miscounted = [
            full.clone(),
            want(&[]),
            node(&chain[0]),
            node(&chain[1]),
            node(&chain[2]),
            done(2),
        ];
        assert!(
            judge(&sent(&miscounted)?, &receiver, &mut r)
                .unwrap_err()
                .contains("says 2")
        );
        let mut tampered = chain[0].clone();
        tampered.value = "changed".into();
        let bad = [full, want(&[]), node(&tampered), done(1)];
        assert!(
            judge(&sent(&bad)?, &receiver, &mut r)
                .unwrap_err()
                .contains("not the SHA-256")
        );
        assert!(sent(&[want(&[])]).is_err());
        Ok(())
    }
}
