//! Record shapes and programs shared by several exercises.

use super::Program;
use crate::harness::records::{Field, FieldKind, RecordShape};

/// `{"key": …, "value": …}`: a key and its value (exercise 01, the store's `get`).
pub const KEY_VALUE: RecordShape = RecordShape {
    fields: &[
        Field {
            name: "key",
            kind: FieldKind::Text,
        },
        Field {
            name: "value",
            kind: FieldKind::Text,
        },
    ],
};

/// `{"peer": …, "seq": …, "entry": …}`: one entry of one peer's log.
pub const LOG_ENTRY: RecordShape = RecordShape {
    fields: &[
        Field {
            name: "peer",
            kind: FieldKind::Id("peer"),
        },
        Field {
            name: "seq",
            kind: FieldKind::Number,
        },
        Field {
            name: "entry",
            kind: FieldKind::Text,
        },
    ],
};

/// `append`: exercise 02's program, which later exercises keep.
pub const APPEND: Program = Program {
    name: "append",
    usage: "append [--db PATH] ENTRY...",
    prints: Some(LOG_ENTRY),
    sorted: false,
};

/// `read` of a database holding many logs (exercise 03 on): every log, in any order
/// of logs, each log in seq order.
pub const READ_ALL_LOGS: Program = Program {
    name: "read",
    usage: "read [--db PATH]",
    prints: Some(LOG_ENTRY),
    sorted: true,
};
