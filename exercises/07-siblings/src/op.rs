//! The operations of this exercise: `put` and `del`, each naming the
//! versions it replaces.

use serde::{Deserialize, Serialize};

use crate::version::Version;

/// One write, as appended to the writer's log. `prev` names the versions of
/// the key that the writer's view held when it wrote (every sibling, deletions
/// included), in version order:
///
/// ```text
/// {"type":"put","key":"x","value":"final","prev":["5f1c2a9b3d4e6f70@3","c0ffee42d00d1e55@1"]}
/// {"type":"del","key":"x","prev":["5f1c2a9b3d4e6f70@4"]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Op {
    /// `key` holds `value`, replacing the versions in `prev`.
    Put {
        key: String,
        value: String,
        prev: Vec<Version>,
    },
    /// `key` is deleted, replacing the versions in `prev`.
    Del { key: String, prev: Vec<Version> },
}

impl Op {
    /// The key the operation writes.
    pub fn key(&self) -> &str {
        match self {
            Op::Put { key, .. } | Op::Del { key, .. } => key,
        }
    }

    /// The versions the operation replaces.
    pub fn prev(&self) -> &[Version] {
        match self {
            Op::Put { prev, .. } | Op::Del { prev, .. } => prev,
        }
    }

    /// The value the operation writes: `None` for a del.
    pub fn value(&self) -> Option<&str> {
        match self {
            Op::Put { value, .. } => Some(value),
            Op::Del { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_have_the_documented_json() {
        let put = Op::Put {
            key: "x".to_string(),
            value: "final".to_string(),
            prev: vec![
                Version::new("5f1c2a9b3d4e6f70", 3),
                Version::new("c0ffee42d00d1e55", 1),
            ],
        };
        let del = Op::Del {
            key: "x".to_string(),
            prev: vec![],
        };
        assert_eq!(
            serde_json::to_string(&put).unwrap(),
            r#"{"type":"put","key":"x","value":"final","prev":["5f1c2a9b3d4e6f70@3","c0ffee42d00d1e55@1"]}"#
        );
        assert_eq!(
            serde_json::to_string(&del).unwrap(),
            r#"{"type":"del","key":"x","prev":[]}"#
        );
        for op in [put, del] {
            let text = serde_json::to_string(&op).unwrap();
            assert_eq!(serde_json::from_str::<Op>(&text).unwrap(), op);
        }
    }

    #[test]
    fn a_bad_version_in_prev_makes_it_no_operation() {
        assert!(serde_json::from_str::<Op>(r#"{"type":"del","key":"x","prev":["nobody"]}"#).is_err());
        assert!(serde_json::from_str::<Op>(r#"{"type":"del","key":"x"}"#).is_err());
    }
}
