//! Records: what a learner's program prints, one JSON object per line.
//!
//! Each program of an exercise has a *shape*: the exact fields of its records, in order,
//! and what kind of value each holds. The verifier reads stdout line by line and turns
//! every line into either a [`Record`] or a [`LineProblem`] that says precisely what is
//! wrong with it, so that a learner who prints `hello` instead of JSON, or forgets a
//! field, is told so in words rather than shown a confusing diff.

use serde_json::{Map, Value};
use std::fmt;

/// What kind of value a field holds, which decides how it is checked and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A JSON string, shown quoted: `"hello world"`.
    Text,
    /// A non-negative whole number, shown as is: `12`.
    Number,
    /// A JSON string that is a random identifier. It is replaced by a stable
    /// placeholder (`peer#1`) so that output can be compared across runs.
    Id(&'static str),
    /// A list of strings, each of the form `ID@SEQ` (a version: the entry `SEQ` of the
    /// log `ID`); the ids are redacted like [`FieldKind::Id`], the list is shown sorted.
    Versions(&'static str),
    /// A JSON string or null (a deleted value), shown quoted or as `null`.
    OptionalText,
    /// An [`FieldKind::Id`] or null (e.g. a node's previous node, none for the
    /// first), shown as a placeholder or as `null`.
    OptionalId(&'static str),
}

/// One field of a record shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub kind: FieldKind,
}

/// The exact shape of the records a program prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordShape {
    pub fields: &'static [Field],
}

impl RecordShape {
    /// How a record of this shape looks, for messages: `{"peer": …, "seq": …}`.
    pub fn example(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|f| format!("\"{}\": {}", f.name, f.kind.placeholder()))
            .collect();
        format!("{{{}}}", fields.join(", "))
    }
}

impl FieldKind {
    fn placeholder(self) -> &'static str {
        match self {
            FieldKind::Text => "\"text\"",
            FieldKind::Number => "1",
            FieldKind::Id(_) => "\"id\"",
            FieldKind::Versions(_) => "[\"id@seq\", …]",
            FieldKind::OptionalText => "\"text\" or null",
            FieldKind::OptionalId(_) => "\"id\" or null",
        }
    }

    fn accepts(self, value: &Value) -> bool {
        match self {
            FieldKind::Text | FieldKind::Id(_) => value.is_string(),
            FieldKind::Number => value.is_u64(),
            FieldKind::Versions(_) => value
                .as_array()
                .is_some_and(|items| items.iter().all(|v| v.is_string())),
            FieldKind::OptionalText | FieldKind::OptionalId(_) => value.is_string() || value.is_null(),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            FieldKind::Text | FieldKind::Id(_) => "a string",
            FieldKind::Number => "a whole number (0 or more)",
            FieldKind::Versions(_) => "a list of strings",
            FieldKind::OptionalText | FieldKind::OptionalId(_) => "a string or null",
        }
    }
}

/// A parsed record: the values of its shape's fields, in the shape's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub shape: RecordShape,
    pub values: Vec<Value>,
}

impl Record {
    /// The value of a field by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let index = self.shape.fields.iter().position(|f| f.name == name)?;
        self.values.get(index)
    }

    /// A text or id field as a string slice.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// A number field.
    pub fn number(&self, name: &str) -> Option<u64> {
        self.get(name).and_then(Value::as_u64)
    }
}

/// Why one line of output is not a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineProblem {
    NotUtf8,
    NotJson(String),
    NotAnObject,
    MissingField(&'static str),
    UnexpectedField(String),
    /// The same key twice in one object (JSON parsers disagree on which one counts).
    DuplicateKey(String),
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineProblem::NotUtf8 => write!(f, "is not valid UTF-8"),
            LineProblem::NotJson(why) => write!(f, "is not JSON ({why})"),
            LineProblem::NotAnObject => write!(f, "is JSON but not an object {{…}}"),
            LineProblem::MissingField(name) => write!(f, "has no field \"{name}\""),
            LineProblem::DuplicateKey(name) => write!(f, "has the key \"{name}\" twice"),
            LineProblem::UnexpectedField(name) => {
                write!(f, "has a field \"{name}\" that this record does not have")
            }
            LineProblem::WrongType { field, expected } => {
                write!(f, "has a field \"{field}\" that is not {expected}")
            }
        }
    }
}

/// A line of output that could not be read as a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number in the program's stdout.
    pub number: usize,
    /// The line as text (invalid UTF-8 replaced), shortened if very long.
    pub text: String,
    pub problem: LineProblem,
}

/// Everything read from one program's stdout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub records: Vec<Record>,
    pub bad_lines: Vec<BadLine>,
}

/// Longest line text kept in a [`BadLine`], in characters.
const SHOWN_LINE_CHARS: usize = 120;

/// Reads a program's stdout as JSON lines of the given shape.
///
/// Empty lines are skipped; a last line without a newline still counts.
pub fn parse_output(stdout: &[u8], shape: &RecordShape) -> Parsed {
    let mut parsed = Parsed::default();
    for (index, raw) in stdout.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(raw, shape) {
            Ok(record) => parsed.records.push(record),
            Err(problem) => parsed.bad_lines.push(BadLine {
                number: index + 1,
                text: shorten(&String::from_utf8_lossy(raw), SHOWN_LINE_CHARS),
                problem,
            }),
        }
    }
    parsed
}

/// Parses one line as a record of the shape, or says what is wrong with it.
pub fn parse_line(raw: &[u8], shape: &RecordShape) -> Result<Record, LineProblem> {
    let text = std::str::from_utf8(raw).map_err(|_| LineProblem::NotUtf8)?;
    let value = match serde_json::from_str::<strict::StrictValue>(text) {
        Ok(strict) => strict.0,
        Err(e) => {
            let message = e.to_string();
            return Err(match strict::duplicate_key(&message) {
                Some(key) => LineProblem::DuplicateKey(key),
                None => LineProblem::NotJson(message),
            });
        }
    };
    let Value::Object(mut object) = value else {
        return Err(LineProblem::NotAnObject);
    };
    let values = take_fields(&mut object, shape)?;
    if let Some(extra) = object.keys().next() {
        return Err(LineProblem::UnexpectedField(extra.clone()));
    }
    Ok(Record {
        shape: *shape,
        values,
    })
}

fn take_fields(object: &mut Map<String, Value>, shape: &RecordShape) -> Result<Vec<Value>, LineProblem> {
    shape
        .fields
        .iter()
        .map(|field| {
            let value = object
                .remove(field.name)
                .ok_or(LineProblem::MissingField(field.name))?;
            if field.kind.accepts(&value) {
                Ok(value)
            } else {
                Err(LineProblem::WrongType {
                    field: field.name,
                    expected: field.kind.expected(),
                })
            }
        })
        .collect()
}

/// JSON read strictly: an object with the same key twice is an error that names the
/// key, where `serde_json::Value` would silently keep the last one.
mod strict {
    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Number, Value};
    use std::fmt;

    pub struct StrictValue(pub Value);

    const DUPLICATE: &str = "duplicate key ";

    /// The key named by a duplicate-key error message, if it is one.
    pub fn duplicate_key(message: &str) -> Option<String> {
        let quoted = message.strip_prefix(DUPLICATE)?;
        let end = quoted.rfind(" at line ").unwrap_or(quoted.len());
        serde_json::from_str(&quoted[..end]).ok()
    }

    impl<'de> Deserialize<'de> for StrictValue {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(StrictVisitor).map(StrictValue)
        }
    }

    struct StrictVisitor;

    impl<'de> Visitor<'de> for StrictVisitor {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_string()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut items = Vec::new();
            while let Some(StrictValue(item)) = seq.next_element()? {
                items.push(item);
            }
            Ok(Value::Array(items))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut object = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if object.contains_key(&key) {
                    return Err(de::Error::custom(format!("{DUPLICATE}{}", Value::from(key))));
                }
                let StrictValue(value) = map.next_value()?;
                object.insert(key, value);
            }
            Ok(Value::Object(object))
        }
    }
}

/// What a program last said on stderr, for a failure report: "It said: " and its last
/// non-blank line (shortened), or that it said nothing.
pub fn it_said(stderr: &str) -> String {
    match stderr.lines().rev().find(|l| !l.trim().is_empty()) {
        Some(line) => format!("It said: {}", shorten(line.trim(), 300)),
        None => "It said nothing on stderr.".to_string(),
    }
}

/// Cuts text to at most `max` characters, marking the cut with `…`.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_said_quotes_the_last_line_that_is_not_blank() {
        assert_eq!(
            it_said("warning: x\nerror: line 3: a gap\n\n  \n"),
            "It said: error: line 3: a gap"
        );
        assert_eq!(it_said(" \n"), "It said nothing on stderr.");
        let long = "e".repeat(400);
        assert_eq!(it_said(&long).chars().count(), "It said: ".len() + 301);
    }

    /// The shape exercise 02 prints: `{"peer", "seq", "entry"}`.
    // Test code may look up at the course (the layers test counts only non-test code).
    const ENTRY: RecordShape = crate::course::shapes::LOG_ENTRY;

    #[test]
    fn a_key_given_twice_is_named() {
        assert_eq!(
            problems("{\"peer\":\"a\",\"seq\":1,\"seq\":2,\"entry\":\"x\"}\n"),
            vec![LineProblem::DuplicateKey("seq".into())]
        );
        assert_eq!(
            LineProblem::DuplicateKey("seq".into()).to_string(),
            "has the key \"seq\" twice"
        );
        // Nested objects are read strictly too; equal keys in different objects are fine.
        let nested = "{\"peer\":\"a\",\"seq\":1,\"entry\":\"x\",\"m\":{\"k\":1,\"k\":2}}";
        assert_eq!(
            parse_line(nested.as_bytes(), &ENTRY),
            Err(LineProblem::DuplicateKey("k".into()))
        );
        assert!(parse_line(br#"{"peer":"a","seq":1,"entry":"{\"seq\":1}"}"#, &ENTRY).is_ok());
    }

    fn problems(out: &str) -> Vec<LineProblem> {
        parse_output(out.as_bytes(), &ENTRY)
            .bad_lines
            .into_iter()
            .map(|b| b.problem)
            .collect()
    }

    #[test]
    fn reads_records_in_shape_order_whatever_the_key_order() {
        let parsed = parse_output(
            b"{\"entry\":\"hi\",\"seq\":2,\"peer\":\"ab\"}\n{\"peer\":\"ab\",\"seq\":3,\"entry\":\"\"}",
            &ENTRY,
        );
        assert!(parsed.bad_lines.is_empty());
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[0].text("entry"), Some("hi"));
        assert_eq!(parsed.records[0].number("seq"), Some(2));
        assert_eq!(parsed.records[1].text("peer"), Some("ab"));
    }

    #[test]
    fn skips_blank_lines_and_accepts_crlf() {
        let parsed = parse_output(b"\n{\"peer\":\"a\",\"seq\":1,\"entry\":\"x\"}\r\n\n", &ENTRY);
        assert_eq!(parsed.records.len(), 1);
        assert!(parsed.bad_lines.is_empty());
    }

    #[test]
    fn names_malformed_json_with_its_line_number() {
        let parsed = parse_output(b"{\"peer\":\"a\",\"seq\":1,\"entry\":\"x\"}\n{\"peer\":", &ENTRY);
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.bad_lines.len(), 1);
        assert_eq!(parsed.bad_lines[0].number, 2);
        assert!(matches!(parsed.bad_lines[0].problem, LineProblem::NotJson(_)));
    }

    #[test]
    fn debug_text_is_not_json() {
        assert!(matches!(
            problems("appending hello\n")[0],
            LineProblem::NotJson(_)
        ));
    }

    #[test]
    fn json_that_is_not_an_object() {
        assert_eq!(problems("[1,2]\n\"hi\"\n"), vec![LineProblem::NotAnObject; 2]);
    }

    #[test]
    fn missing_fields_are_named() {
        assert_eq!(
            problems("{\"peer\":\"a\",\"entry\":\"x\"}"),
            vec![LineProblem::MissingField("seq")]
        );
    }

    #[test]
    fn extra_fields_are_named() {
        assert_eq!(
            problems("{\"peer\":\"a\",\"seq\":1,\"entry\":\"x\",\"id\":\"a\"}"),
            vec![LineProblem::UnexpectedField("id".into())]
        );
    }

    #[test]
    fn wrong_types_are_named() {
        assert_eq!(
            problems(
                "{\"peer\":\"a\",\"seq\":\"1\",\"entry\":\"x\"}\n{\"peer\":\"a\",\"seq\":-1,\"entry\":\"x\"}"
            ),
            vec![
                LineProblem::WrongType {
                    field: "seq",
                    expected: "a whole number (0 or more)"
                };
                2
            ]
        );
    }

    #[test]
    fn non_utf8_output_is_reported_not_panicked_on() {
        let parsed = parse_output(b"{\"peer\":\"a\",\"seq\":1,\"entry\":\"\xff\xfe\"}\n", &ENTRY);
        assert_eq!(parsed.bad_lines[0].problem, LineProblem::NotUtf8);
        assert!(parsed.bad_lines[0].text.contains('\u{fffd}'));
    }

    #[test]
    fn long_lines_are_shortened_for_display() {
        let line = "x".repeat(500);
        let parsed = parse_output(line.as_bytes(), &ENTRY);
        assert_eq!(parsed.bad_lines[0].text.chars().count(), SHOWN_LINE_CHARS + 1);
    }

    #[test]
    fn example_shows_the_shape() {
        assert_eq!(ENTRY.example(), r#"{"peer": "id", "seq": 1, "entry": "text"}"#);
    }
}
