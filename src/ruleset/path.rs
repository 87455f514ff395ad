//! Paths into a CloudTrail record: `requestParameters.instancesSet.items[*].instanceId`.
//!
//! Segments are separated by `.`; `[*]` walks every element of an array (or every value of an
//! object: `requestParameters[*].TrafficMirrorTargetId` reads EC2's `<Call>Request`
//! wrappers), `[N]` one element, `[name=vpc-id]` the elements whose `name` is `vpc-id`; a key
//! holding dots or brackets is quoted: `requestParameters.encryptionContext."aws:s3:arn"`.
//! A key matches in any case when the exact key is absent (see [`Node::get_any_case`]).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use crate::event::BorrowedStr;

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

/// A record as rules see it: its top-level fields by name, each read into a [`Node`] tree at
/// most once, when a path first asks for it.
pub trait Record {
    fn section(&self, root: &str) -> Option<&Node<'_>>;
}

/// A whole record read as a tree is a record.
impl Record for Node<'_> {
    fn section(&self, root: &str) -> Option<&Node<'_>> {
        self.get(root)
    }
}

/// A JSON value whose strings borrow from the text it was read from (unless they hold
/// escapes). Cheaper to build than a `serde_json::Value`: no key or string is copied, objects
/// are lists of entries.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    /// `null` or a boolean: paths select nothing there.
    Other,
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// Reads JSON text; `None` if it is not JSON.
    pub fn parse(json: &'a str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }

    /// Calls `f` with every string in the tree, depth first.
    pub fn visit_strings<'s>(&'s self, f: &mut impl FnMut(&'s str)) {
        match self {
            Node::String(s) => f(s),
            Node::Array(items) => items.iter().for_each(|v| v.visit_strings(f)),
            Node::Object(entries) => entries.iter().for_each(|(_, v)| v.visit_strings(f)),
            Node::Number(_) | Node::Other => {}
        }
    }

    /// The value of `key` in an object (the last, if the key is given twice, as
    /// `serde_json::Value` keeps it).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value of a key as a path step reads it: the exact key, else one that differs only
    /// in case. CloudTrail mostly logs an API member with its first letter lower-cased
    /// (`functionName`), but some services log it as the SDK spells it (`RegionName`) or in
    /// other casings (`aRN`, `ARN`): a rule written for one spelling reads them all.
    pub fn get_any_case(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(entries) => self.get(key).or_else(|| {
                entries
                    .iter()
                    .rev()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v)
            }),
            _ => None,
        }
    }

    /// The text of a string node.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// The same tree, owning its strings.
    pub fn into_owned(self) -> Node<'static> {
        match self {
            Node::Other => Node::Other,
            Node::Number(n) => Node::Number(n),
            Node::String(s) => Node::String(Cow::Owned(s.into_owned())),
            Node::Array(items) => Node::Array(items.into_iter().map(Node::into_owned).collect()),
            Node::Object(entries) => Node::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
        }
    }
}

/// A string as rules read it: percent-encoding decoded, since REST APIs log path parameters
/// as they appeared in the URL (`arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr`). Text whose escapes do
/// not decode to UTF-8 is kept as it is; a value encoded twice is decoded twice.
pub fn decoded(text: Cow<'_, str>) -> Cow<'_, str> {
    fn escaped(text: &str) -> bool {
        let b = text.as_bytes();
        memchr::memchr_iter(b'%', b).any(|i| {
            i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()
        })
    }
    let mut text = text;
    for _ in 0..2 {
        if !escaped(&text) {
            break;
        }
        match percent_encoding::percent_decode_str(&text).decode_utf8() {
            Ok(plain) => text = Cow::Owned(plain.into_owned()),
            Err(_) => break,
        }
    }
    text
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Node<'de>, E> {
        Ok(Node::Other)
    }
    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Other)
    }
    fn visit_i64<E>(self, n: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Node<'de>, E> {
        Ok(Number::from_f64(n).map_or(Node::Other, Node::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::String(decoded(Cow::Borrowed(s))))
    }
    fn visit_str<E>(self, s: &str) -> Result<Node<'de>, E> {
        Ok(Node::String(decoded(Cow::Owned(s.to_owned()))))
    }
    fn visit_string<E>(self, s: String) -> Result<Node<'de>, E> {
        Ok(Node::String(decoded(Cow::Owned(s))))
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Node<'de>, S::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Node<'de>, M::Error> {
        let mut entries = Vec::new();
        while let Some(BorrowedStr(key)) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Node::Object(entries))
    }
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
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

    /// The steps, the root key first.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The scalar values the path selects in `record`, as strings. An array at the end of the
    /// path yields its scalar elements; objects and nulls yield nothing. At most
    /// [`MAX_VALUES`] values: a rule cannot turn one record into an unbounded list of ARNs.
    pub fn select(&self, record: &impl Record) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(section) = record.section(self.root()) {
            walk(section, &self.segments[1..], &mut out);
        }
        out
    }
}

impl JsonPath {
    /// The nodes the path ends at in `record` (objects and arrays included, unlike
    /// [`JsonPath::select`]), for readers of structured values such as tag sets. At most
    /// [`MAX_VALUES`].
    pub fn nodes<'r>(&self, record: &'r impl Record) -> Vec<&'r Node<'r>> {
        fn follow<'r>(node: &'r Node<'r>, segments: &[Segment], out: &mut Vec<&'r Node<'r>>) {
            if out.len() >= MAX_VALUES {
                return;
            }
            let Some((segment, rest)) = segments.split_first() else {
                out.push(node);
                return;
            };
            match (segment, node) {
                (Segment::Key(k), Node::Object(_)) => {
                    if let Some(v) = node.get_any_case(k) {
                        follow(v, rest, out)
                    }
                }
                (Segment::Index(i), Node::Array(items)) => {
                    if let Some(v) = items.get(*i) {
                        follow(v, rest, out)
                    }
                }
                (Segment::All, Node::Array(items)) => {
                    items.iter().for_each(|v| follow(v, rest, out))
                }
                (Segment::All, Node::Object(entries)) => {
                    entries.iter().for_each(|(_, v)| follow(v, rest, out))
                }
                (Segment::Filter(key, wanted), Node::Array(items)) => items
                    .iter()
                    .filter(|item| {
                        item.get_any_case(key).and_then(Node::as_str) == Some(wanted.as_str())
                    })
                    .for_each(|v| follow(v, rest, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        if let Some(section) = record.section(self.root()) {
            follow(section, &self.segments[1..], &mut out);
        }
        out
    }
}

/// Follows `segments` from `node` depth first, pushing the scalars at the end (each element
/// of an array there): the same order as walking level by level, without a list per level.
fn walk(node: &Node, segments: &[Segment], out: &mut Vec<String>) {
    if out.len() >= MAX_VALUES {
        return;
    }
    let Some((segment, rest)) = segments.split_first() else {
        match node {
            Node::Array(items) => items.iter().for_each(|v| push_scalar(v, out)),
            v => push_scalar(v, out),
        }
        return;
    };
    match (segment, node) {
        (Segment::Key(k), Node::Object(_)) => {
            if let Some(v) = node.get_any_case(k) {
                walk(v, rest, out)
            }
        }
        (Segment::Index(i), Node::Array(items)) => {
            if let Some(v) = items.get(*i) {
                walk(v, rest, out)
            }
        }
        (Segment::All, Node::Array(items)) => items.iter().for_each(|v| walk(v, rest, out)),
        (Segment::All, Node::Object(entries)) => {
            entries.iter().for_each(|(_, v)| walk(v, rest, out))
        }
        (Segment::Filter(key, wanted), Node::Array(items)) => items
            .iter()
            .filter(|item| item.get_any_case(key).and_then(Node::as_str) == Some(wanted.as_str()))
            .for_each(|v| walk(v, rest, out)),
        _ => {}
    }
}

/// Values one path may yield for one record: far above any real request (S3's
/// `DeleteObjects` takes 1,000 keys), far below what would hurt a scan.
pub const MAX_VALUES: usize = 10_000;

fn push_scalar(node: &Node, out: &mut Vec<String>) {
    if out.len() >= MAX_VALUES {
        return;
    }
    match node {
        Node::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
        Node::Number(n) => out.push(n.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_path_yields_a_bounded_number_of_values() {
        let items: Vec<String> = (0..MAX_VALUES + 5).map(|i| format!("v{i}")).collect();
        let json = json!({"requestParameters": {"ids": items}}).to_string();
        let node = Node::parse(&json).unwrap();
        let path = JsonPath::parse("requestParameters.ids").unwrap();
        assert_eq!(path.select(&node).len(), MAX_VALUES);
    }

    #[test]
    fn selects_through_wildcards_and_quotes() {
        let record = json!({"requestParameters": {
            "instancesSet": {"items": [{"instanceId": "i-1"}, {"imageId": "ami-1"}, {"instanceId": "i-2"}]},
            "encryptionContext": {"aws:s3:arn": "arn:aws:s3:::b"},
            "names": ["a", "b"]
        }}).to_string();
        let record = &Node::parse(&record).unwrap();
        let p = JsonPath::parse("requestParameters.instancesSet.items[*].instanceId").unwrap();
        assert_eq!(p.select(record), ["i-1", "i-2"]);
        let p = JsonPath::parse(r#"requestParameters.encryptionContext."aws:s3:arn""#).unwrap();
        assert_eq!(p.select(record), ["arn:aws:s3:::b"]);
        assert_eq!(
            JsonPath::parse("requestParameters.names")
                .unwrap()
                .select(record),
            ["a", "b"]
        );
        assert_eq!(
            JsonPath::parse("requestParameters.names[1]")
                .unwrap()
                .select(record),
            ["b"]
        );
    }

    #[test]
    fn keys_match_in_any_case_and_the_exact_key_first() {
        let record = json!({"requestParameters": {
            "RegionName": "eu-north-1",
            "Bucket": "exact-case-loses",
            "bucket": "exact",
            "CreateTrafficMirrorTargetRequest": {"NetworkInterfaceId": "eni-1"},
            "DelTGwVpcAttachReq": {"TransitGatewayAttachmentId": "tgw-attach-1"}
        }})
        .to_string();
        let record = &Node::parse(&record).unwrap();
        let select = |p: &str| JsonPath::parse(p).unwrap().select(record);
        assert_eq!(select("requestParameters.regionName"), ["eu-north-1"]);
        assert_eq!(select("requestParameters.bucket"), ["exact"]);
        // `[*]` on an object walks its values, whatever the wrapper's name.
        assert_eq!(select("requestParameters[*].networkInterfaceId"), ["eni-1"]);
        assert_eq!(
            select("requestParameters[*].TransitGatewayAttachmentId"),
            ["tgw-attach-1"]
        );
        assert!(select("requestParameters.regionNames").is_empty());
    }

    #[test]
    fn filters_array_elements_by_a_key() {
        let record = json!({"requestParameters": {"filterSet": {"items": [
            {"name": "association.main", "valueSet": {"items": [{"value": "true"}]}},
            {"name": "vpc-id", "valueSet": {"items": [{"value": "vpc-1"}, {"value": "vpc-2"}]}}
        ]}}})
        .to_string();
        let record = &Node::parse(&record).unwrap();
        let p = JsonPath::parse(
            "requestParameters.filterSet.items[name=vpc-id].valueSet.items[*].value",
        )
        .unwrap();
        assert_eq!(p.select(record), ["vpc-1", "vpc-2"]);
        assert!(JsonPath::parse("requestParameters.x[=a]").is_err());
    }

    #[test]
    fn selects_scalars_along_the_path_only() {
        // A filter key after the walked field, nested arrays and objects at the end, numbers,
        // escapes, blanks, a path through a scalar, and a key given twice.
        let record = r#"{"requestParameters": {
            "items": [{"v": "x", "k": "no"}, {"v": " y ", "k": "yes"}, {"k": "yes", "v": 7}],
            "ids": ["a", ["nested"], {"o": 1}, 2.5, null, "  ", "b\u0041", -3],
            "s": "text", "dup": "1", "dup": "2"}, "eventName": "X"}"#;
        let record = &Node::parse(record).unwrap();
        let select = |path: &str| JsonPath::parse(path).unwrap().select(record);
        assert_eq!(select("requestParameters.items[k=yes].v"), ["y", "7"]);
        assert_eq!(select("requestParameters.ids"), ["a", "2.5", "bA", "-3"]);
        assert_eq!(select("requestParameters.ids[3]"), ["2.5"]);
        assert_eq!(select("requestParameters.ids[9]"), Vec::<String>::new());
        assert_eq!(select("requestParameters.s.x"), Vec::<String>::new());
        assert_eq!(select("requestParameters.items.v"), Vec::<String>::new());
        assert_eq!(select("requestParameters.dup"), ["2"]);
        assert_eq!(select("eventName"), ["X"]);
    }

    #[test]
    fn percent_encoded_values_are_read_decoded() {
        // Shape of a real eks:DescribeAccessEntry record (traildiscover, tests/corpus).
        let record = json!({"requestParameters": {
            "principalArn": "arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2FTrailDiscover",
            "twice": "arn%253Aaws",
            "percent": "50% off, 100%",
            "bad": "%FF%FE"
        }})
        .to_string();
        let record = &Node::parse(&record).unwrap();
        let select = |p: &str| JsonPath::parse(p).unwrap().select(record);
        assert_eq!(
            select("requestParameters.principalArn"),
            ["arn:aws:iam::111122223333:role/TrailDiscover"]
        );
        assert_eq!(select("requestParameters.twice"), ["arn:aws"]);
        assert_eq!(select("requestParameters.percent"), ["50% off, 100%"]);
        assert_eq!(select("requestParameters.bad"), ["%FF%FE"]);
    }

    #[test]
    fn nodes_borrow_from_the_text() {
        let node = Node::parse(r#"{"a": "plain", "b\u0041": "esc\n"}"#).unwrap();
        assert!(matches!(
            node.get("a"),
            Some(Node::String(Cow::Borrowed("plain")))
        ));
        assert_eq!(node.get("bA").and_then(Node::as_str), Some("esc\n"));
        assert_eq!(Node::parse(r#"{"a": "#), None);
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
