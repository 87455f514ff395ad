//! Paths into a CloudTrail record: `requestParameters.instancesSet.items[*].instanceId`.
//!
//! Segments are separated by `.`; `[*]` walks every element of an array, `[N]` one element,
//! `[name=vpc-id]` the elements whose `name` is `vpc-id`; a key holding dots or brackets is
//! quoted: `requestParameters.encryptionContext."aws:s3:arn"`.

use serde_json::Value;

/// The record fields a path may start at.
pub const ROOTS: &[&str] = &[
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "serviceEventDetails",
    "resources",
    "userIdentity",
    "recipientAccountId",
    "awsRegion",
    "eventSource",
    "eventName",
    "sharedEventID",
];

/// A record as rules see it: its top-level fields by name. A whole record parsed into a
/// `serde_json::Value` is one; the resolver's lazy view, which parses a field only when a rule
/// asks for it, is another.
pub trait Record {
    fn section(&self, root: &str) -> Option<&Value>;
}

impl Record for Value {
    fn section(&self, root: &str) -> Option<&Value> {
        self.get(root)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
    All,
    /// Elements of an array whose `key` is the string `value`.
    Filter(String, String),
}

/// A compiled path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    segments: Vec<Segment>,
}

impl JsonPath {
    /// Parses a path; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut rest = text;
        let mut expect_key = true;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let close = after.find(']').ok_or("`[` without `]`")?;
                let inner = &after[..close];
                segments.push(match inner {
                    "*" => Segment::All,
                    filter if filter.contains('=') => {
                        let (key, value) = filter.split_once('=').unwrap_or_default();
                        if key.is_empty() || value.is_empty() {
                            return Err(format!("`[{filter}]`: a filter is `[key=value]`"));
                        }
                        Segment::Filter(key.to_string(), value.to_string())
                    }
                    n => Segment::Index(
                        n.parse()
                            .map_err(|_| format!("`[{n}]`: use `[*]`, an index like `[0]` or a filter like `[name=vpc-id]`"))?,
                    ),
                });
                rest = &after[close + 1..];
                expect_key = false;
            } else if let Some(after) = rest.strip_prefix('.') {
                if expect_key {
                    return Err("empty segment".into());
                }
                rest = after;
                expect_key = true;
            } else if !expect_key {
                return Err(format!("expected `.` or `[` before `{rest}`"));
            } else if let Some(after) = rest.strip_prefix('"') {
                let close = after.find('"').ok_or("unclosed quote")?;
                segments.push(Segment::Key(after[..close].to_string()));
                rest = &after[close + 1..];
                expect_key = false;
            } else {
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                let key = &rest[..end];
                if key.contains(['"', ']', ' ']) {
                    return Err(format!("bad key `{key}`"));
                }
                segments.push(Segment::Key(key.to_string()));
                rest = &rest[end..];
                expect_key = false;
            }
        }
        if expect_key {
            return Err("path is empty or ends with `.`".into());
        }
        match segments.first() {
            Some(Segment::Key(root)) if ROOTS.contains(&root.as_str()) => {}
            Some(Segment::Key(root)) => {
                return Err(format!(
                    "path must start at one of {}, not `{root}`",
                    ROOTS.join(", ")
                ))
            }
            _ => return Err("path must start with a record field".into()),
        }
        Ok(JsonPath {
            text: text.to_string(),
            segments,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The record field the path starts at.
    pub fn root(&self) -> &str {
        match self.segments.first() {
            Some(Segment::Key(root)) => root,
            _ => unreachable!("a parsed path starts with a key"),
        }
    }

    /// The scalar values the path selects in `record`, as strings. An array at the end of the
    /// path yields its scalar elements; objects and nulls yield nothing.
    pub fn select(&self, record: &impl Record) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(section) = record.section(self.root()) {
            walk(section, &self.segments[1..], &mut out);
        }
        out
    }
}

/// Follows `segments` from `value` depth first, pushing the scalars at the end (each element
/// of an array there): the same order as walking level by level, without a list per level.
fn walk(value: &Value, segments: &[Segment], out: &mut Vec<String>) {
    let Some((segment, rest)) = segments.split_first() else {
        match value {
            Value::Array(items) => items.iter().for_each(|v| push_scalar(v, out)),
            v => push_scalar(v, out),
        }
        return;
    };
    match (segment, value) {
        (Segment::Key(k), Value::Object(map)) => {
            if let Some(v) = map.get(k) {
                walk(v, rest, out)
            }
        }
        (Segment::Index(i), Value::Array(items)) => {
            if let Some(v) = items.get(*i) {
                walk(v, rest, out)
            }
        }
        (Segment::All, Value::Array(items)) => items.iter().for_each(|v| walk(v, rest, out)),
        (Segment::Filter(key, wanted), Value::Array(items)) => items
            .iter()
            .filter(|item| item.get(key).and_then(Value::as_str) == Some(wanted.as_str()))
            .for_each(|v| walk(v, rest, out)),
        _ => {}
    }
}

fn push_scalar(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
        Value::Number(n) => out.push(n.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_through_wildcards_and_quotes() {
        let record = json!({"requestParameters": {
            "instancesSet": {"items": [{"instanceId": "i-1"}, {"imageId": "ami-1"}, {"instanceId": "i-2"}]},
            "encryptionContext": {"aws:s3:arn": "arn:aws:s3:::b"},
            "names": ["a", "b"]
        }});
        let p = JsonPath::parse("requestParameters.instancesSet.items[*].instanceId").unwrap();
        assert_eq!(p.select(&record), ["i-1", "i-2"]);
        let p = JsonPath::parse(r#"requestParameters.encryptionContext."aws:s3:arn""#).unwrap();
        assert_eq!(p.select(&record), ["arn:aws:s3:::b"]);
        assert_eq!(
            JsonPath::parse("requestParameters.names")
                .unwrap()
                .select(&record),
            ["a", "b"]
        );
        assert_eq!(
            JsonPath::parse("requestParameters.names[1]")
                .unwrap()
                .select(&record),
            ["b"]
        );
    }

    #[test]
    fn filters_array_elements_by_a_key() {
        let record = json!({"requestParameters": {"filterSet": {"items": [
            {"name": "association.main", "valueSet": {"items": [{"value": "true"}]}},
            {"name": "vpc-id", "valueSet": {"items": [{"value": "vpc-1"}, {"value": "vpc-2"}]}}
        ]}}});
        let p = JsonPath::parse(
            "requestParameters.filterSet.items[name=vpc-id].valueSet.items[*].value",
        )
        .unwrap();
        assert_eq!(p.select(&record), ["vpc-1", "vpc-2"]);
        assert!(JsonPath::parse("requestParameters.x[=a]").is_err());
    }

    #[test]
    fn rejects_bad_paths() {
        assert!(JsonPath::parse("request.x")
            .unwrap_err()
            .contains("must start"));
        assert!(JsonPath::parse("requestParameters..x").is_err());
        assert!(JsonPath::parse("requestParameters.x[").is_err());
        assert!(JsonPath::parse("requestParameters.x[a]").is_err());
        assert!(JsonPath::parse("requestParameters.").is_err());
    }
}
