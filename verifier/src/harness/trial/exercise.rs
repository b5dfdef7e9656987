//! What an exercise is, to the harness: its programs and the shape of what they print,
//! its checks, its hints. The course (`crate::course`) holds the instances; the harness
//! only needs the shape, so it never has to know any particular exercise.

use super::{Failure, Trial};
use crate::harness::build::Package;
use crate::harness::records::RecordShape;

/// One exercise of the course.
#[derive(Debug)]
pub struct Exercise {
    pub number: u32,
    /// The folder name after the number: `append-only-logs`.
    pub slug: &'static str,
    pub title: &'static str,
    /// One line on what the learner builds.
    pub summary: &'static str,
    /// The problem text (markdown).
    pub problem: &'static str,
    /// The hints (markdown, one `## ` section per level, gentlest first).
    pub hints: &'static str,
    /// The programs the learner writes, in the order the text introduces them.
    pub programs: &'static [Program],
    /// The checks, in the order they run; earlier checks test simpler things.
    pub checks: &'static [Check],
}

/// A program of an exercise: a binary of the learner's package.
#[derive(Debug)]
pub struct Program {
    pub name: &'static str,
    /// Usage line, e.g. `append [--db PATH] ENTRY...`.
    pub usage: &'static str,
    /// The shape of the records it prints on stdout (`None`: it prints nothing).
    pub prints: Option<RecordShape>,
    /// Its records may come in any order (e.g. logs of random peer ids), so the
    /// transcript sorts them: by placeholder number, then by field values.
    pub sorted: bool,
}

/// One check: a scenario run against fresh processes in a fresh directory.
#[derive(Debug)]
pub struct Check {
    /// Short kebab-case name; also the snapshot's file name.
    pub name: &'static str,
    /// What it checks, as one line for the verdict.
    pub about: &'static str,
    /// What to try when it fails.
    pub advice: &'static str,
    pub run: fn(&mut Trial) -> Result<(), Failure>,
}

/// Which package of an exercise: the learner's stub or the reference solution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Learner,
    Reference,
}

/// A hint: its heading and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub title: String,
    pub body: String,
}

impl Exercise {
    /// `02-append-only-logs`: the folder name under `exercises/` and `solutions/`.
    pub fn dir_name(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }

    /// `exercises/02-append-only-logs` or `solutions/02-append-only-logs`.
    pub fn dir(&self, side: Side) -> String {
        let parent = match side {
            Side::Learner => "exercises",
            Side::Reference => "solutions",
        };
        format!("{parent}/{}", self.dir_name())
    }

    /// The cargo package name: `ex02-append-only-logs` or `sol02-append-only-logs`.
    pub fn package(&self, side: Side) -> String {
        let prefix = match side {
            Side::Learner => "ex",
            Side::Reference => "sol",
        };
        format!("{prefix}{:02}-{}", self.number, self.slug)
    }

    /// What cargo must build for one side: the package and the programs it must have.
    pub fn buildable(&self, side: Side) -> Package {
        Package {
            name: self.package(side),
            programs: self.programs.iter().map(|p| p.name.to_string()).collect(),
        }
    }

    pub fn program(&self, name: &str) -> Option<&'static Program> {
        self.programs.iter().find(|p| p.name == name)
    }

    pub fn check(&self, name: &str) -> Option<&'static Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The hints, split at their `## ` headings.
    pub fn hints(&self) -> Vec<Hint> {
        let mut hints: Vec<Hint> = Vec::new();
        for line in self.hints.lines() {
            if let Some(title) = line.strip_prefix("## ") {
                hints.push(Hint {
                    title: title.trim().to_string(),
                    body: String::new(),
                });
            } else if let Some(hint) = hints.last_mut() {
                hint.body.push_str(line);
                hint.body.push('\n');
            }
        }
        for hint in &mut hints {
            hint.body = hint.body.trim().to_string();
        }
        hints
    }
}
