//! The operations of this exercise, `put` and `del`, and their JSON: the text
//! of one log entry.

use serde::{Deserialize, Serialize};

/// One write, as appended to the writer's log. Serialized, the `type` field
/// comes first, then the fields in the order written here:
///
/// ```text
/// {"type":"put","key":"greeting","value":"hello"}
/// {"type":"del","key":"greeting"}
/// ```
///
/// Reading is strict: an unknown `type`, a missing field or an extra one
/// means the entry is not an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Op {
    /// `key` now holds `value`.
    Put { key: String, value: String },
    /// `key` holds nothing any more.
    Del { key: String },
}

impl Op {
    /// The key the operation writes.
    pub fn key(&self) -> &str {
        match self {
            Op::Put { key, .. } | Op::Del { key } => key,
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
            value: "say \"hi\"".to_string(),
        };
        let del = Op::Del {
            key: "greeting".to_string(),
        };
        assert_eq!(
            serde_json::to_string(&put).unwrap(),
            r#"{"type":"put","key":"greeting","value":"say \"hi\""}"#
        );
        assert_eq!(
            serde_json::to_string(&del).unwrap(),
            r#"{"type":"del","key":"greeting"}"#
        );
        for op in [put, del] {
            let text = serde_json::to_string(&op).unwrap();
            assert_eq!(serde_json::from_str::<Op>(&text).unwrap(), op);
        }
    }

    #[test]
    fn anything_else_is_not_an_operation() {
        for text in [
            "hello",
            r#"{"type":"put","key":"x"}"#,
            r#"{"type":"put","key":"x","value":"1","extra":2}"#,
            r#"{"type":"inc","key":"x"}"#,
            r#"{"type":"del","key":7}"#,
        ] {
            assert!(serde_json::from_str::<Op>(text).is_err(), "{text}");
        }
    }
}
