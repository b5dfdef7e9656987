//! Near-identical learner code, per exercise: something for a teacher to look at,
//! never a verdict.
//!
//! Only what a learner wrote counts: the lines of the stub (its doc comments, the
//! signatures, the programs in `src/bin/` it ships complete) are removed first, or
//! every two untouched stubs would look copied. What is left is cut into tokens
//! (comments and layout do not count: reformatting or recommenting a copy changes
//! nothing), and two submissions are compared by the overlap of their runs of
//! [`SHINGLE`] tokens (Jaccard: shared runs over all runs). A pair is flagged from
//! [`FLAGGED_FROM`], when both wrote at least [`MIN_TOKENS`] tokens of their own.

use std::collections::BTreeSet;

/// Tokens per run compared.
pub const SHINGLE: usize = 4;
/// Score from which a pair is flagged.
pub const FLAGGED_FROM: f64 = 0.8;
/// Too little code of one's own to compare (an untouched stub, one line changed).
pub const MIN_TOKENS: usize = 40;

/// The learner-written code of one exercise of one submission, ready to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub tokens: usize,
    shingles: BTreeSet<Vec<String>>,
}

impl Fingerprint {
    /// The fingerprint of a submission's source files (their texts) after removing
    /// every line that also is in the stub (`stub_lines`).
    pub fn of(sources: &[String], stub_lines: &BTreeSet<String>) -> Fingerprint {
        let own: String = sources
            .iter()
            .flat_map(|text| text.lines())
            .filter(|line| !stub_lines.contains(&normalized(line)))
            .map(|line| format!("{line}\n"))
            .collect();
        let tokens = tokens(&own);
        let shingles = tokens.windows(SHINGLE).map(<[String]>::to_vec).collect();
        Fingerprint {
            tokens: tokens.len(),
            shingles,
        }
    }

    /// How alike two fingerprints are, 0 to 1; `None` when either has too little
    /// code of its own to say.
    pub fn similarity(&self, other: &Fingerprint) -> Option<f64> {
        if self.tokens < MIN_TOKENS || other.tokens < MIN_TOKENS {
            return None;
        }
        let shared = self.shingles.intersection(&other.shingles).count();
        let all = self.shingles.union(&other.shingles).count();
        Some(shared as f64 / all.max(1) as f64)
    }
}

/// The lines of a stub's files, [`normalized`], without those that hold no token.
pub fn stub_lines(stub_sources: &[String]) -> BTreeSet<String> {
    stub_sources
        .iter()
        .flat_map(|text| text.lines())
        .map(normalized)
        .filter(|line| !line.is_empty())
        .collect()
}

/// A line as its tokens: the stub's line with a comment added or its layout
/// changed is still the stub's line.
fn normalized(line: &str) -> String {
    tokens(line).join(" ")
}

/// Rust-ish tokens: identifiers and numbers, string literals, and single
/// punctuation characters; comments and whitespace dropped.
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest = |n: usize| chars.get(i + n).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && rest(1) == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && rest(1) == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            tokens.push(chars[start..i.min(chars.len())].iter().collect());
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    const STUB: &str = "pub fn sum(values: &[u64]) -> u64 {\n    todo!(\"add them up\")\n}\n";

    fn solution(name: &str) -> String {
        format!(
            "pub fn sum(values: &[u64]) -> u64 {{\n    let mut {name} = 0;\n    for value in values {{\n        \
             {name} += value * 2 + 1;\n        if {name} > 1000 {{ return {name}; }}\n    }}\n    \
             let check = values.iter().filter(|v| **v > 3).count() as u64;\n    {name} + check\n}}\n"
        )
    }

    #[test]
    fn a_reformatted_recommented_copy_is_flagged_and_a_stub_is_not_compared() {
        let stub = stub_lines(&[STUB.to_string()]);
        let original = Fingerprint::of(&[solution("total")], &stub);
        let copy = solution("total")
            .replace("    ", "\t")
            .replace("{\n", "{ // mine\n");
        let copied = Fingerprint::of(&[copy], &stub);
        assert!(original.tokens >= MIN_TOKENS, "{}", original.tokens);
        assert_eq!(original.similarity(&copied), Some(1.0));
        let untouched = Fingerprint::of(&[STUB.to_string()], &stub);
        assert_eq!(untouched.tokens, 0);
        assert_eq!(original.similarity(&untouched), None);
    }

    #[test]
    fn different_code_scores_low() {
        let stub = stub_lines(&[STUB.to_string()]);
        let one = Fingerprint::of(&[solution("total")], &stub);
        let other = Fingerprint::of(
            &["pub fn sum(values: &[u64]) -> u64 {\n    values.iter().map(|v| v * 2 + 1).take_while(|s| *s < 1000).sum::<u64>() \
               + values.iter().copied().filter(|v| *v > 3).map(|_| 1).sum::<u64>() + values.len() as u64 * 0\n}\n"
                .to_string()],
            &stub,
        );
        let score = one.similarity(&other).unwrap_or(0.0);
        assert!(score < FLAGGED_FROM, "{score}");
    }
}
