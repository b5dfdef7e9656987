//! Record shapes shared by several exercises.

use crate::records::{Field, FieldKind, RecordShape};

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
