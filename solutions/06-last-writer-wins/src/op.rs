//! The operations of this exercise: exercise 05's `put` and `del`, each
//! stamped with the writer's clock.

use serde::{Deserialize, Serialize};

/// One write, as appended to the writer's log, with `ts`, the writer's clock
/// when it wrote, in milliseconds since the Unix epoch:
///
/// ```text
/// {"type":"put","key":"greeting","value":"hello","ts":1718000000000}
/// {"type":"del","key":"greeting","ts":1718000000420}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Op {
    /// `key` holds `value`, as of `ts`.
    Put { key: String, value: String, ts: u64 },
    /// `key` holds nothing, as of `ts`.
    Del { key: String, ts: u64 },
}

impl Op {
    /// The key the operation writes.
    pub fn key(&self) -> &str {
        match self {
            Op::Put { key, .. } | Op::Del { key, .. } => key,
        }
    }

    /// The writer's clock when it wrote.
    pub fn ts(&self) -> u64 {
        match self {
            Op::Put { ts, .. } | Op::Del { ts, .. } => *ts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_have_the_documented_json() {
        let put = Op::Put {
            key: "greeting".to_string(),
            value: "hello".to_string(),
            ts: 1_718_000_000_000,
        };
        let del = Op::Del {
            key: "greeting".to_string(),
            ts: 1_718_000_000_420,
        };
        assert_eq!(
            serde_json::to_string(&put).unwrap(),
            r#"{"type":"put","key":"greeting","value":"hello","ts":1718000000000}"#
        );
        assert_eq!(
            serde_json::to_string(&del).unwrap(),
            r#"{"type":"del","key":"greeting","ts":1718000000420}"#
        );
        // Exercise 05's operations, without a stamp, are not operations here.
        assert!(serde_json::from_str::<Op>(r#"{"type":"del","key":"greeting"}"#).is_err());
    }
}
