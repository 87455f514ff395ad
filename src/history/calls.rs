//! Which calls change tags and how their requests carry them: `data/tag-calls.toml`, read
//! into [`TagCalls`], and the change a call makes to the product tag.

use serde::Deserialize;

use crate::event::Event;
use crate::inventory::TagKey;
use crate::ruleset::{JsonPath, Node, Record};

/// The built-in table.
const TAG_CALLS_TOML: &str = include_str!("../../data/tag-calls.toml");

/// What a call does to the tag set of the resources it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Add,
    Replace,
    Remove,
    Clear,
}

/// What one call did to the product tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductChange {
    /// Set to this value (trimmed, not empty).
    Set(String),
    /// Removed (or set to an empty value).
    Unset,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    call: Vec<CallSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallSpec {
    source: Option<String>,
    names: Vec<String>,
    op: Op,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    test: Vec<CallTest>,
}

/// A request and the change it makes to the `product` tag: `set:<value>`, `unset`, `none`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallTest {
    pub name: String,
    pub event: String,
    pub change: String,
}

/// One entry of the table.
#[derive(Debug)]
struct Call {
    source: Option<String>,
    names: Vec<String>,
    op: Op,
    paths: Vec<JsonPath>,
}

impl Call {
    fn matches(&self, source: &str, name: &str) -> bool {
        self.source.as_deref().is_none_or(|s| s == source)
            && self
                .names
                .iter()
                .any(|pattern| match pattern.strip_suffix('*') {
                    Some(prefix) => name.starts_with(prefix),
                    None => name == pattern,
                })
    }
}

/// The calls that change tags.
#[derive(Debug)]
pub struct TagCalls {
    calls: Vec<Call>,
    tests: Vec<CallTest>,
}

impl TagCalls {
    /// The table that ships with tagtrail.
    pub fn builtin() -> &'static TagCalls {
        static CALLS: std::sync::OnceLock<TagCalls> = std::sync::OnceLock::new();
        CALLS.get_or_init(|| TagCalls::parse(TAG_CALLS_TOML).expect("data/tag-calls.toml is valid"))
    }

    /// Reads a table; the error names the entry and the path that is wrong.
    pub fn parse(text: &str) -> Result<TagCalls, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut calls = Vec::new();
        let mut tests = Vec::new();
        for (i, spec) in file.call.into_iter().enumerate() {
            let needs_paths = matches!(spec.op, Op::Add | Op::Replace | Op::Remove);
            if needs_paths == spec.paths.is_empty() {
                return Err(format!(
                    "call {} ({}): op {:?} {} paths",
                    i + 1,
                    spec.names.join(", "),
                    spec.op,
                    if needs_paths { "needs" } else { "takes no" }
                ));
            }
            let paths = spec
                .paths
                .iter()
                .map(|p| JsonPath::parse(p).map_err(|e| format!("call {}: `{p}`: {e}", i + 1)))
                .collect::<Result<_, _>>()?;
            tests.extend(spec.test);
            calls.push(Call {
                source: spec.source,
                names: spec.names,
                op: spec.op,
                paths,
            });
        }
        Ok(TagCalls { calls, tests })
    }

    /// The entries, in the order they are tried: (eventSource or any, eventNames with an
    /// optional trailing `*`, op as written in the table, paths).
    pub fn entries(
        &self,
    ) -> impl Iterator<Item = (Option<&str>, &[String], &'static str, &[JsonPath])> {
        self.calls.iter().map(|c| {
            let op = match c.op {
                Op::Add => "add",
                Op::Replace => "replace",
                Op::Remove => "remove",
                Op::Clear => "clear",
            };
            (
                c.source.as_deref(),
                c.names.as_slice(),
                op,
                c.paths.as_slice(),
            )
        })
    }

    /// The examples the table carries.
    pub fn tests(&self) -> &[CallTest] {
        &self.tests
    }

    /// Whether a call of this name may change tags (before reading its request).
    pub fn may_change_tags(&self, event: &Event) -> bool {
        self.call_for(event).is_some()
    }

    fn call_for(&self, event: &Event) -> Option<&Call> {
        self.calls
            .iter()
            .find(|c| c.matches(&event.event_source, &event.event_name))
    }

    /// The change a successful call made to the product tag, if any.
    pub fn product_change(
        &self,
        event: &Event,
        record: &impl Record,
        key: &TagKey,
    ) -> Option<ProductChange> {
        if event.error_code.as_deref().is_some_and(|c| !c.is_empty()) {
            return None;
        }
        let call = self.call_for(event)?;
        let nodes = || call.paths.iter().flat_map(|p| p.nodes(record));
        match call.op {
            Op::Clear => Some(ProductChange::Unset),
            Op::Remove => {
                let mut keys = Vec::new();
                nodes().for_each(|n| keys_in(n, &mut keys));
                keys.iter()
                    .any(|k| key.matches(k))
                    .then_some(ProductChange::Unset)
            }
            Op::Add | Op::Replace => {
                let mut tags = Vec::new();
                nodes().for_each(|n| tags_in(n, &mut tags));
                let value = tags.iter().rev().find(|(k, _)| key.matches(k));
                match (value, call.op) {
                    (Some((_, v)), _) if !v.trim().is_empty() => {
                        Some(ProductChange::Set(v.trim().to_string()))
                    }
                    (Some(_), _) | (None, Op::Replace) => Some(ProductChange::Unset),
                    (None, _) => None,
                }
            }
        }
    }
}

/// Objects that only wrap the list they hold (`items`, `member`, `Tag`, `TagSet`).
const WRAPPERS: &[&str] = &["items", "member", "Tag", "TagSet", "tagSet", "Tags"];

fn field<'n>(node: &'n Node, names: &[&str]) -> Option<&'n Node<'n>> {
    match node {
        Node::Object(entries) => entries
            .iter()
            .rev()
            .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn text(node: &Node) -> Option<String> {
    match node {
        Node::String(s) => Some(s.to_string()),
        Node::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The (key, value) pairs of a tag set in any of the shapes requests use.
pub(super) fn tags_in(node: &Node, out: &mut Vec<(String, String)>) {
    match node {
        Node::Array(items) => items.iter().for_each(|item| tags_in(item, out)),
        Node::Object(entries) => {
            let key = field(node, &["key", "tagKey"]).and_then(text);
            if let Some(key) = key {
                let value = field(node, &["value", "tagValue"])
                    .and_then(text)
                    .unwrap_or_default();
                out.push((key, value));
            } else if let [(name, inner)] = entries.as_slice() {
                if WRAPPERS.contains(&name.as_ref()) && !matches!(inner, Node::String(_)) {
                    tags_in(inner, out);
                } else if let Some(value) = text(inner) {
                    out.push((name.to_string(), value));
                }
            } else {
                for (name, value) in entries {
                    if let Some(value) = text(value) {
                        out.push((name.to_string(), value));
                    }
                }
            }
        }
        _ => {}
    }
}

/// The tag keys a removal names: strings, or objects with a key.
fn keys_in(node: &Node, out: &mut Vec<String>) {
    match node {
        Node::String(s) => out.push(s.to_string()),
        Node::Array(items) => items.iter().for_each(|item| keys_in(item, out)),
        Node::Object(entries) => {
            if let Some(key) = field(node, &["key", "tagKey"]).and_then(text) {
                out.push(key);
            } else {
                entries.iter().for_each(|(_, v)| keys_in(v, out));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::LazyRecord;

    fn product() -> TagKey {
        TagKey {
            key: "product".into(),
            case_insensitive: false,
        }
    }

    /// Every example in data/tag-calls.toml gives the change it names.
    #[test]
    fn the_examples_of_the_table_hold() {
        let calls = TagCalls::builtin();
        assert!(calls.tests().len() >= 15);
        for test in calls.tests() {
            let event = Event::parse(&test.event).unwrap();
            let record = LazyRecord::new(&event, &test.event);
            let got = match calls.product_change(&event, &record, &product()) {
                Some(ProductChange::Set(v)) => format!("set:{v}"),
                Some(ProductChange::Unset) => "unset".into(),
                None => "none".into(),
            };
            assert_eq!(got, test.change, "{}", test.name);
        }
    }

    #[test]
    fn a_failed_call_changes_nothing_and_bad_tables_are_refused() {
        let json = r#"{"eventSource":"iam.amazonaws.com","eventName":"TagRole","errorCode":"AccessDenied","requestParameters":{"roleName":"r","tags":[{"key":"product","value":"aaa"}]}}"#;
        let event = Event::parse(json).unwrap();
        let record = LazyRecord::new(&event, json);
        assert_eq!(
            TagCalls::builtin().product_change(&event, &record, &product()),
            None
        );
        for (bad, says) in [
            ("[[call]]\nnames=['X']\nop='add'", "needs paths"),
            (
                "[[call]]\nnames=['X']\nop='clear'\npaths=['requestParameters.a']",
                "takes no paths",
            ),
            (
                "[[call]]\nnames=['X']\nop='add'\npaths=['tags']",
                "must start",
            ),
            ("[[call]]\nnames=['X']\nop='rename'", "unknown variant"),
        ] {
            let err = TagCalls::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
